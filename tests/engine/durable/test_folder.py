"""``unfinished_run`` and ``exit_status``: what a program that starts its own runs
(the editor's "Save results to...") needs besides ``open_results``."""
import threading

import pytest

from helpers import wait_until

from papy_engine.durable import exit_status, open_results, read_journal, unfinished_run
from papy_engine.results import read_results

pytestmark = pytest.mark.timeout(60)

GATE = threading.Event()


def _gated(inbox):
    if inbox[0] >= 40:
        GATE.wait(20)  # held until the test has seen a commit and stopped the run
    return inbox[0] + 1


def _plumber():
    from papy_engine import Piper, Plumber
    p = Plumber(stride=4)
    p.add_piper(Piper(_gated, name="inc"))
    return p


def _run(directory, resume=False):
    p = _plumber()
    session = open_results(directory, p, [range(100)], resume=resume, interval=0.01)
    p.start(session.datas, sinks=session.sinks)
    p.run()
    return p, session


def test_nothing_to_offer_in_an_empty_folder_or_after_a_finished_run(tmp_path):
    assert unfinished_run(tmp_path / "none") is None
    assert unfinished_run(tmp_path) is None
    GATE.set()
    p, session = _run(tmp_path)
    assert p.wait(30)
    session.close(p.state, exit_status(p.stats))
    assert read_journal(tmp_path).end["exit"] == 0
    assert unfinished_run(tmp_path) is None


def test_a_stopped_run_is_offered_with_how_far_it_got_and_resumes(tmp_path):
    GATE.clear()
    p, session = _run(tmp_path)
    try:
        assert wait_until(lambda: (read_journal(tmp_path).done.ranges() or [[0, 0]])[0][1]
                          >= 40, 20)
        busy = unfinished_run(tmp_path)
        assert busy is not None and "being written by another run" in (busy.busy or "")
        threading.Thread(target=p.stop, daemon=True).start()
        assert wait_until(lambda: p.state == "stopping", 20)
    finally:
        GATE.set()
    assert p.wait(30) and p.state == "stopped"
    session.close(p.state, exit_status(p.stats))
    found = unfinished_run(tmp_path)
    assert found is not None and found.ended == "stopped" and found.busy is None
    assert found.complete["inc"] >= 40 and found.results >= 40
    assert found.describe().startswith(f"the run in {tmp_path} was stopped with the "
                                       "results of ")
    p, session = _run(tmp_path, resume=True)
    assert p.wait(30)
    session.close(p.state, exit_status(p.stats))
    assert unfinished_run(tmp_path) is None
    assert read_results(tmp_path / "inc.jsonl") == list(range(1, 101))


def test_the_lock_probe_changes_nothing(tmp_path):
    from papy_engine.durable import LOCK, DirLock, lock_holder
    assert lock_holder(tmp_path) is None and not (tmp_path / LOCK).exists()
    (tmp_path / LOCK).write_text('{"pid": 1}')   # left by a killed run: not held
    assert lock_holder(tmp_path) is None and (tmp_path / LOCK).read_text() == '{"pid": 1}'
    with DirLock(tmp_path):
        assert "another run in this process" in lock_holder(tmp_path)
        assert "another run in this process" in lock_holder(tmp_path)  # still held
        with pytest.raises(Exception, match="another run in this process"):
            DirLock(tmp_path).acquire()
    assert lock_holder(tmp_path) is None


def test_exit_status_is_papy_runs():
    ok = {"state": "finished", "pipers": {"a": {"errors": 0}}}
    assert exit_status(ok) == 0 and exit_status(ok, failed=True) == 1
    assert exit_status({"state": "finished", "pipers": {"a": {"errors": 2}}}) == 1
    assert exit_status({"state": "stopped", "pipers": {}}) == 130
    assert exit_status({"state": "failed", "pipers": {}}) == 1
