"""The editor keeps its pools warm: a second run with the same pool settings
starts no process, and closing the window stops the workers it kept."""
from __future__ import annotations

import os

import psutil
import pytest

from guitools import build, ended, make_app, pump
from helpers import wait_until

pytestmark = [pytest.mark.gui, pytest.mark.timeout(120)]
PID = "def pid(inbox):\n    import os, time\n    time.sleep(0.005)\n    return os.getpid()\n"


def run_once(app) -> set[int]:
    """Run the document to its end; the pids of the processes that ran ``pid``."""
    assert app.runs.run()
    assert pump(app.root, lambda: ended(app), 60)
    assert app.run_state.state == "finished"
    pids = app.bridge.plumber.peek("work", 100)
    assert len(pids) == 40
    return set(pids)


def descendants() -> set[int]:
    return {p.pid for p in psutil.Process().children(recursive=True)}


def test_a_second_run_starts_no_new_process(tmp_path_factory):
    app = make_app(tmp_path_factory)
    try:
        build(app, PID, n=40, parallel=True, worker_type="process", worker_num=2)
        first = run_once(app)
        assert os.getpid() not in first
        kept = descendants()
        assert first <= kept          # the run is over, its workers wait for the next
        second = run_once(app)
        assert second <= first        # every item ran in a worker of the first run
        assert descendants() == kept  # and no process came or went
    finally:
        app.close(ask=False)
    # closing the window stops the workers it kept
    assert wait_until(lambda: not first & descendants(), 15), first & descendants()
