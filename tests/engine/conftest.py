"""Every engine test leaves no worker process behind (STYLE.md: "Engine tests end
with ``multiprocessing.active_children() == []``"), checked here for all of them.

Processes a module-scoped fixture started before the test (a shared pool) are
that fixture's to stop; any other child still alive after the test fails it.
"""
import multiprocessing

import pytest

from helpers import wait_until


@pytest.fixture(autouse=True)
def _no_leftover_children():
    before = set(multiprocessing.active_children())
    yield

    def left():
        return [p for p in multiprocessing.active_children() if p not in before]
    assert wait_until(lambda: not left(), 10), f"worker processes left behind: {left()}"
