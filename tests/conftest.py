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


@pytest.fixture(autouse=True)
def _restore_engine_logger():
    """CLI entry points configure logging for the process; undo it after each test."""
    import logging
    log = logging.getLogger("papy_engine")
    handlers, level = list(log.handlers), log.level
    yield
    for h in list(log.handlers):
        if h not in handlers:
            log.removeHandler(h)
            h.close()
    log.setLevel(level)
