"""Shared fixtures: every engine test must leave no worker process behind."""
import multiprocessing

import pytest

from helpers import wait_until


@pytest.fixture
def no_children():
    """Assert the test leaves no live child process (of multiprocessing)."""
    yield
    assert wait_until(lambda: multiprocessing.active_children() == [], 10), \
        multiprocessing.active_children()
