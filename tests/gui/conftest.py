"""Fixtures for the Tk tests: one App per module under Xvfb."""
import pytest
from guitools import make_app


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    app = make_app(tmp_path_factory)
    yield app
    app.close(ask=False)
