"""After the editor dies mid-run, opening the document offers to resume the run
into the same folder; Yes resumes it as ``papy run --resume`` does, No leaves
the folder alone.

The crash is real: a second editor process (:data:`EDITOR`, the same App with
scripted dialogs, on the same display and state directory) opens the
document, saves results to a folder and runs; it is SIGKILLed once the
folder's journal says some items are complete. The resumed files are then
compared with those of an uninterrupted ``papy run --results``.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from guitools import build, ended, pump, status
from helpers import wait_until
from papy_engine.durable import read_journal
from papy_gui.model import last_run

pytestmark = [pytest.mark.gui, pytest.mark.timeout(180)]

WORK = ("def work(inbox):\n    import time\n    time.sleep(0.01)\n"
        "    if inbox[0] % 17 == 3:\n        raise ValueError('bad')\n"
        "    return inbox[0] * 2\n")
N = 600

EDITOR = """\
import sys
import tkinter as tk
sys.path.insert(0, {gui!r})
from guitools import ScriptedDialogs
from papy_gui.app import App

app = App(tk.Tk(), dialogs=ScriptedDialogs())
assert app.files.open({doc!r})
assert app.results.set_directory({out!r})
assert app.runs.run()
app.root.mainloop()
"""


def crash_editor(doc: Path, out: Path) -> None:
    """Run ``doc`` in another editor saving results to ``out``; SIGKILL it mid-run."""
    code = EDITOR.format(gui=str(Path(__file__).resolve().parents[1]), doc=str(doc),
                         out=str(out))
    proc = subprocess.Popen([sys.executable, "-c", code], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def some_done() -> bool:
        try:
            state = read_journal(out)
        except ValueError:
            return False
        return state is not None and len(state.done) > 0
    try:
        assert wait_until(some_done, 60, 0.005), "the editor's run made no progress"
        assert proc.poll() is None, "the run ended before it could be killed"
        assert last_run.recall(str(doc)) == str(out.resolve())
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=30)
    state = read_journal(out)
    assert state.end is None and 0 < len(state.done) < N, state.done.ranges()


def run_ended(app) -> bool:
    """The run is over and its end (where the results are) was reported."""
    return ended(app) and bool(app.run_state.message)


def records(path: Path) -> list[dict]:
    """The records of a result file, placeholders without their traceback text."""
    out = []
    for line in path.read_text().splitlines():
        rec = json.loads(line)
        if "error" in rec:
            rec["error"].pop("traceback", None)
        out.append(rec)
    return out


@pytest.fixture
def saved(fresh, tmp_path):
    """The window with a saved document (src -> work on 2 threads), and the
    results of an uninterrupted ``papy run`` of it."""
    build(fresh, WORK, n=N, parallel=True)
    doc = tmp_path / "pipe.py"
    assert fresh.files.save_to(str(doc))
    ref = tmp_path / "ref"
    proc = subprocess.run([sys.executable, "-m", "papy_engine.cli", "run", str(doc),
                           "--results", str(ref), "--quiet"], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr  # placeholders: exit status 1
    fresh.files.new()
    fresh.results.set_directory(None)
    return fresh, doc, records(ref / "work.jsonl")


def test_opening_the_document_after_a_crash_resumes_its_run(saved, tmp_path):
    app, doc, expected = saved
    out = tmp_path / "out"
    crash_editor(doc, out)
    assert app.files.open(str(doc))
    [question] = app.dialogs.questions("yes_no")
    assert question.startswith("Resume the interrupted run of pipe.py into the same "
                               "folder?\n\nPaPy Studio closed while pipe.py was running: "
                               f"the run in {out.resolve()} was interrupted with the results of ")
    assert app.results.directory == str(out.resolve()) and app.bridge.running
    assert pump(app.root, lambda: run_ended(app), 120), app.run_state.state
    assert app.run_state.state == "finished", status(app)
    assert status(app) == f"run finished: results in {out.resolve()} (work.jsonl)"
    assert read_journal(out).finished
    assert records(out / "work.jsonl") == expected
    assert last_run.recall(str(doc)) is None  # the run ended: nothing to offer
    assert not (out / ".papy-lock").exists()
    assert app.files.open(str(doc)) and not app.dialogs.questions("yes_no")[1:]


def test_declining_leaves_the_folder_alone_and_choosing_it_again_resumes(saved, tmp_path):
    app, doc, expected = saved
    out = tmp_path / "out"
    crash_editor(doc, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    app.dialogs.yes = False
    assert app.files.open(str(doc))
    assert len(app.dialogs.questions("yes_no")) == 1
    assert not app.bridge.running and app.results.directory is None
    assert status(app) == f"not resumed: the interrupted run's results stay in {out.resolve()}"
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert last_run.recall(str(doc)) is None  # not offered again
    # Save results to… the same folder: a run into it asks first; No runs nothing
    app.dialogs.directory = str(out)
    app.commands.invoke("save_results")
    assert app.results.directory is None and "holds an unfinished run" in status(app)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    app.dialogs.yes = True
    app.commands.invoke("save_results")
    assert status(app) == f"the next run resumes the run in {out}"
    assert app.runs.run()
    assert pump(app.root, lambda: run_ended(app), 120), app.run_state.state
    assert app.run_state.state == "finished", status(app)
    assert records(out / "work.jsonl") == expected
    assert read_journal(out).finished


def test_papy_run_resumes_what_the_editor_was_killed_in(saved, tmp_path):
    """The editor runs the document's functions in its console; ``papy run``
    runs the saved script's: the folder's fingerprint is the same for both."""
    _app, doc, expected = saved
    out = tmp_path / "out"
    crash_editor(doc, out)
    proc = subprocess.run([sys.executable, "-m", "papy_engine.cli", "run", str(doc),
                           "--results", str(out), "--resume", "--quiet"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr  # placeholders: exit status 1, not refused (2)
    assert read_journal(out).finished
    assert records(out / "work.jsonl") == expected
