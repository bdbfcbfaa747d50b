"""Fixtures of every test: the engine's logger is left as the test found it.

(The engine's tests also check for leftover worker processes: engine/conftest.py.)
"""
import pytest


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
