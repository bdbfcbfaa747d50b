"""Running from the window: stats, badges, pause/resume/stop, the run lock, one
run state per document, canvas and table agreeing, the toolbar following the run."""
from __future__ import annotations

import logging
import re
import threading
import tkinter as tk
from pathlib import Path

import pytest

from guitools import (DOUBLE, FAIL, SLOW, SLOWER, ScriptedDialogs, build, core, ended, pump,
                      settled, status, type_into)
from papy_gui.views.canvas_view import STATE_FILL

pytestmark = [pytest.mark.gui, pytest.mark.timeout(120)]

ODD = ("def odd(inbox):\n    if inbox[0] % 2:\n        raise ValueError('odd item')\n"
       "    return inbox[0]\n")


def enabled(app, key) -> bool:
    return "disabled" not in app.menubar.buttons[key].state()


def canvas_state(app, name):
    item = app.canvas.find_withtag(f"n:{name}&&counters")[0]
    return app.canvas.itemcget(item, "text").split()[-1] if app.canvas.itemcget(item, "text") \
        else "idle"


def fill(app, name):
    return app.canvas.itemcget(app.canvas.find_withtag(f"n:{name}&&body&&!header")[0], "fill")


def test_run_to_finish_stats_agree(fresh):
    app = fresh
    build(app, SLOW, n=30)
    assert app.runs.run()
    assert pump(app.root, lambda: app.run_state.state == "running" or ended(app), 20)
    assert pump(app.root, lambda: ended(app), 60), app.run_state.state
    app.bridge.refresh_stats()
    app.root.update()
    assert app.run_state.state == "finished", app.run_state.message
    stats = app.bridge.plumber.stats["pipers"]
    assert stats["work"]["out"] == 30
    row = app.stats_view.row("work")
    assert row["in"] == str(stats["work"]["in"]) and row["out"] == "30"
    counters = app.canvas.find_withtag("n:work&&counters")
    assert counters and "out 30" in app.canvas.itemcget(counters[0], "text")
    assert enabled(app, "run")
    assert any("run finished" in line for line in app.log_view.lines())


def test_failing_node_gets_badge(fresh):
    app = fresh
    build(app, FAIL, n=10)
    assert app.runs.run()
    assert pump(app.root, lambda: ended(app), 60)
    app.bridge.refresh_stats()
    app.root.update()
    assert app.run_state.pipers["work"]["errors"] == 1
    assert app.canvas.find_withtag("n:work&&badge")
    assert app.run_state.errors["work"]["index"] == 3
    x1, y1, x2, y2 = app.canvas.bbox(app.canvas.find_withtag("n:work&&badge")[-1])
    app.canvas.event_generate("<ButtonPress-1>", x=(x1 + x2) // 2, y=(y1 + y2) // 2)
    app.canvas.event_generate("<ButtonRelease-1>", x=(x1 + x2) // 2, y=(y1 + y2) // 2)
    app.root.update()
    # the badge opens the Errors tab filtered to the node, its first error selected
    assert app.bottom.select() == str(app.errors_view)
    ev = app.errors_view
    assert ev.node.get() == "work"
    err = ev.selected_error()
    assert err is not None and err.index == 3 and err.inbox == (3,)
    detail = ev.detail.get("1.0", "end")
    assert "ValueError: no threes" in detail and "raise ValueError" in detail


def test_a_badge_without_details_says_so(fresh):
    app = fresh
    app.doc.add_node(core("ipasser"), name="a")
    app.data.show_errors("a")
    assert "No error details of a reached the editor" in app.errors_view.count.cget("text")


def test_pause_resume_stop_and_the_toolbar_follows(fresh):
    app = fresh
    build(app, SLOW, n=100000, parallel=True, stride=2, buffer=8)
    assert app.runs.run()
    assert pump(app.root, lambda: app.run_state.state == "running", 30), app.run_state.state
    assert pump(app.root, lambda: app.run_state.pipers.get("work", {}).get("out", 0) > 0, 30)
    assert not enabled(app, "run") and enabled(app, "pause") and not enabled(app, "resume")
    app.runs.pause()
    assert pump(app.root, lambda: app.run_state.state == "paused", 30), app.run_state.state
    assert enabled(app, "resume") and not enabled(app, "pause") and enabled(app, "stop")
    app.runs.resume()
    assert pump(app.root, lambda: app.run_state.state == "running", 30), app.run_state.state
    app.runs.stop()
    assert pump(app.root, lambda: ended(app), 60), app.run_state.state
    app.bridge.refresh_stats()
    s = app.bridge.plumber.stats["pipers"]
    assert app.run_state.state == "stopped"
    assert s["src"]["out"] == s["work"]["in"] == s["work"]["out"]  # nothing lost
    assert enabled(app, "run") and not enabled(app, "stop")


def test_new_and_open_start_without_the_last_run(fresh, tmp_path):
    app = fresh
    build(app, SLOWER, n=5)
    path = tmp_path / "five.py"
    assert app.files.save_to(str(path))
    assert app.runs.run()
    assert pump(app.root, lambda: ended(app), 60), app.run_state.state
    app.bridge.refresh_stats()
    app.root.update()
    assert app.stats_view.tree.get_children() and fill(app, "work") == STATE_FILL["finished"]
    assert app.files.open(str(path))  # the same graph, a new document
    app.root.update()
    assert app.bridge.plumber is None  # not polled any more
    assert app.stats_view.tree.get_children() == ()
    assert str(app.stats_view.summary.cget("text")).startswith("State: idle")
    assert fill(app, "work") == STATE_FILL["idle"] and canvas_state(app, "work") == "idle"
    assert "run finished" not in status(app)
    assert app.files.new()
    app.doc.add_node(core("ipasser"), name="fresh")
    app.root.update()
    assert fill(app, "fresh") == STATE_FILL["idle"] and canvas_state(app, "fresh") == "idle"
    assert status(app).startswith("new pipeline")
    assert not app.doc.locked


def test_the_graph_is_locked_while_a_run_is_in_progress(fresh):
    app = fresh
    build(app, SLOWER, n=100000, parallel=True)
    assert app.runs.run()
    assert pump(app.root, lambda: app.run_state.pipers.get("work", {}).get("out", 0) > 0, 30)
    assert app.doc.locked
    app.doc.select(["work"])
    app.canvas.focus_force()
    app.canvas.event_generate("<Delete>")
    app.root.update()
    assert "work" in app.doc.nodes and app.canvas.find_withtag("n:work")
    assert "cannot delete work: a run is in progress" in status(app)
    form = app.props.node_form
    type_into(form, "timeout", "5")
    assert "a run is in progress" in form.error_text("timeout")
    assert app.doc.nodes["work"].option("timeout") is None
    app.canvas.focus_force()
    app.canvas.event_generate("<Control-z>")  # undo would change the graph too
    app.root.update()
    assert "cannot undo" in status(app)
    assert app.doc.nodes["work"].option("parallel") == "pool"
    assert "locked" in str(app.props.title.cget("text"))
    app.runs.stop()
    assert pump(app.root, lambda: ended(app), 60), app.run_state.state
    assert not app.doc.locked
    assert app.props.title.cget("text") == "Node work"   # not "(locked: running)" still
    app.canvas_ctl.delete_selection()
    assert "work" not in app.doc.nodes  # editable again


def test_pause_stop_and_the_views_agree(fresh):
    app = fresh
    build(app, SLOWER, n=100000, parallel=True)
    assert app.runs.run()
    assert pump(app.root, lambda: app.run_state.pipers.get("work", {}).get("out", 0) > 0, 30)
    app.runs.pause()
    assert pump(app.root, lambda: app.run_state.state == "paused", 30), app.run_state.state
    assert status(app).startswith("paused")
    app.runs.resume()
    assert pump(app.root, lambda: app.run_state.state == "running", 30)
    assert status(app).startswith("running")
    app.runs.stop()
    assert pump(app.root, lambda: ended(app), 60), app.run_state.state
    app.bridge.refresh_stats()
    app.root.update()
    assert app.run_state.state == "stopped"
    for name in ("src", "work"):
        table = app.stats_view.row(name)["state"]
        assert table == canvas_state(app, name) == "stopped", (name, table)
    assert fill(app, "work") == STATE_FILL["stopped"]
    assert "paused" in str(app.stats_view.summary.cget("text"))


def test_errors_badge_fits_and_states_agree(fresh):
    app = fresh
    build(app, ODD, n=2400)
    assert app.runs.run()
    assert pump(app.root, lambda: ended(app), 60), app.run_state.state
    app.bridge.refresh_stats()
    app.root.update()
    assert app.run_state.pipers["work"]["errors"] == 1200
    for name in ("src", "work"):
        assert app.stats_view.row(name)["state"] == canvas_state(app, name) == "finished"
    text = app.canvas.find_withtag("n:work&&badge_text")[0]
    shape = app.canvas.find_withtag("n:work&&badge_shape")[0]
    assert app.canvas.itemcget(text, "text") == "999+"
    tx0, _, tx1, _ = app.canvas.bbox(text)
    sx0, _, sx1, _ = app.canvas.bbox(shape)
    assert sx0 < tx0 and tx1 < sx1  # the count is inside the badge


def test_run_refuses_a_node_with_an_empty_required_parameter(fresh):
    app = fresh
    ntype = app.palette.get("papy_plugins.text.grep")
    assert ntype is not None, "the bundled node papy_plugins.text.grep is missing"
    src = app.doc.add_node(core("ipasser"), name="src")
    app.doc.set_input(src, "['a', 'b']")
    grep = app.canvas_ctl.add_type_at(ntype, 300, 200)
    app.doc.connect(src, grep)
    app.doc.select([src])
    app.root.update()
    assert app.runs.run() is False
    assert f"'{grep}'" in status(app) and "'pattern'" in status(app)
    assert app.doc.selection == [grep] and app.run_state.state != "running"
    assert "'pattern'" in app.props.node_form.error_text("0:param:pattern")


def test_run_refuses_an_input_node_without_input_or_with_a_broken_one(fresh):
    app = fresh
    app.doc.add_node(core("ipasser"), name="src")
    assert app.runs.run() is False
    assert status(app).startswith("input node 'src' has no input")
    app.doc.set_input("src", "range(undefined_name)")  # the script's INPUTS fail
    assert app.runs.run() is False
    assert re.fullmatch(r"the pipeline's code failed: <papy-script-\d+>:20: running the "
                        r"script failed: NameError: name 'undefined_name' is not defined",
                        status(app)), status(app)
    assert app.run_state.state == "idle" and not app.doc.locked


def test_sys_exit_in_the_documents_code_is_refused_and_the_editor_stays(fresh):
    # SystemExit is no Exception: Run used to close the whole editor, silently.
    app = fresh
    build(app, DOUBLE, n=5)
    app.doc.set_preamble("import sys\nsys.exit(3)\n")
    assert app.runs.run() is False
    assert status(app) == ("the pipeline's code called sys.exit(3); the editor runs that "
                           "code and stays open"), status(app)
    assert app.run_state.state == "idle" and not app.doc.locked
    app.doc.set_preamble("")
    assert app.runs.run()
    assert pump(app.root, lambda: ended(app), 30) and app.run_state.state == "finished"


def test_an_input_that_raises_fails_the_run_at_its_node_saying_why(fresh):
    # The status line said only "run failed", the badge went to the last node
    # with "0 item(s) became errors", and the items before the error were lost.
    app = fresh
    build(app, DOUBLE, n=5)
    app.doc.set_input("src", "(12 // (5 - i) for i in range(10))")
    assert app.runs.run()
    assert pump(app.root, lambda: ended(app), 30)
    assert app.run_state.state == "failed"
    assert status(app).startswith("run failed: ZeroDivisionError: integer division"), status(app)
    assert app.run_state.failure_at("src")["exc_type"] == "ZeroDivisionError"
    assert app.run_state.failure_at("work") is None and "work" not in app.run_state.errors
    assert app.canvas_tips.badge_tip(("badge", "n:src")) == (
        "the run failed at src: ZeroDivisionError: integer division or modulo by zero "
        "(the Log tab has the traceback)")
    app.errors_view.show_node("src")
    assert app.errors_view.count.cget("text").startswith(
        "No item of src became an error: the run itself failed there (ZeroDivisionError")
    app.bridge.refresh_stats()
    assert app.run_state.pipers["work"]["out"] == 5   # the items before the error
    assert app.run_state.pipers["work"]["errors"] == 0


class Records(logging.Handler):
    def __init__(self):
        super().__init__()
        self.records = []

    def emit(self, record):
        self.records.append(record)


def test_the_documents_code_runs_once_per_run_on_the_tk_thread(fresh):
    app = fresh
    build(app, DOUBLE, n=5)
    app.doc.set_preamble("import logging\nlogging.getLogger('user.script').info('module code ran')\n")
    seen = Records()
    logger = logging.getLogger("user.script")
    logger.addHandler(seen)
    try:
        assert app.runs.run()
        assert pump(app.root, lambda: ended(app), 30), app.run_state.state
    finally:
        logger.removeHandler(seen)
    assert app.run_state.state == "finished", app.run_state.message
    # it ran twice: on the Tk thread (for the inputs), then again on the runner thread
    assert [r.threadName for r in seen.records] == [threading.main_thread().name]
    assert callable(app.namespace["double"])  # the console has the script's names, as before
    app.bridge.refresh_stats()
    assert app.run_state.pipers["work"]["out"] == 5


def test_a_console_name_the_script_cannot_hold_still_runs_here(fresh):
    app = fresh
    app.console.run_source("import threading\nlock = threading.Lock()\n")  # cannot be saved
    build(app, "def locked(inbox):\n    with lock:\n        return inbox[0] * 3\n", n=4)
    assert app.runs.run()
    assert pump(app.root, lambda: ended(app), 30), app.run_state.state
    assert app.run_state.state == "finished", app.run_state.message
    app.bridge.refresh_stats()
    assert app.run_state.pipers["work"]["out"] == 4 and app.run_state.pipers["work"]["errors"] == 0
    assert "lock" not in app.doc.preamble
    assert pump(app.root, lambda: settled(app), 10)
    assert any("cannot save the console's 'lock'" in line for line in app.log_view.lines())


# -- entry points: papy gui SCRIPT --run, Run headless, the status line ------------------
def test_papy_gui_script_run_opens_and_runs(fresh, tmp_path):
    from papy_gui.launch import open_app
    app = fresh
    build(app, DOUBLE, n=25)
    path = str(tmp_path / "double.py")
    assert app.files.save_to(path)
    other = open_app([path, "--run"], dialogs=ScriptedDialogs())
    assert not isinstance(other, int)
    try:
        assert other.doc.path == path and set(other.doc.nodes) == {"src", "work"}
        assert pump(other.root, lambda: settled(other) and other.bridge.plumber is not None, 30)
        assert other.run_state.state == "finished", other.run_state.message
        other.bridge.refresh_stats()
        assert other.run_state.pipers["work"]["out"] == 25
    finally:
        other.close(ask=False)


def test_run_headless_streams_papy_run_output(fresh, tmp_path):
    app = fresh
    build(app, DOUBLE, n=7)
    path = str(tmp_path / "headless.py")
    assert app.files.save_to(path)
    app.log_view.clear()
    app.runs.run_headless()
    assert "headless" in status(app)
    assert app.bottom.select() == str(app.log_view)
    exited = lambda: any("papy run exited with code" in ln for ln in app.log_view.lines())  # noqa: E731
    assert pump(app.root, exited, 45), app.log_view.lines()
    lines = app.log_view.lines()
    assert any("papy run exited with code 0" in ln for ln in lines), lines
    assert len(lines) > 1  # papy run's own output came through, not only the exit line


def test_run_headless_saves_an_unsaved_document_first(fresh, tmp_path):
    app = fresh
    build(app, DOUBLE, n=3)
    app.log_view.clear()
    app.dialogs.save_path = ""  # Save As cancelled: nothing runs
    app.runs.run_headless()
    assert app.doc.path is None and app.doc.modified
    assert not pump(app.root, lambda: any("papy run" in ln for ln in app.log_view.lines()), 1)
    app.dialogs.save_path = str(tmp_path / "first.py")
    app.runs.run_headless()
    assert app.doc.path == str(tmp_path / "first.py") and not app.doc.modified
    assert pump(app.root, lambda: any("exited with code 0" in ln
                                      for ln in app.log_view.lines()), 45)


def test_new_run_clears_the_status_line(fresh):
    app = fresh
    app.message("connect refused: something old", True)
    build(app, DOUBLE, n=3)
    assert app.runs.run()
    assert "refused" not in status(app) and status(app).startswith("running")
    assert str(app.status.cget("style")) == "Status.TLabel"
    assert pump(app.root, lambda: settled(app), 30)
    assert "run finished" in status(app)


def test_example_with_script_level_names_runs_and_is_fitted(fresh):
    """wordfreq's input uses HERE from its preamble; opened from the command line
    (before the window has a size) its nodes must still be drawn at a readable zoom."""
    from papy_gui.launch import open_app
    example = str(Path(__file__).resolve().parents[3] / "examples" / "wordfreq.py")
    other = open_app([example, "--run"], dialogs=ScriptedDialogs())
    assert not isinstance(other, int)
    try:
        assert pump(other.root, lambda: settled(other) and other.bridge.plumber is not None, 30)
        assert other.run_state.state == "finished", other.run_state.message
        other.bridge.refresh_stats()
        assert other.run_state.pipers["report"]["out"] == 4
        view = other.canvas_view
        assert view.scale >= 0.5 * view.ui, (view.scale, view.ui)  # was 0.25: fitted to 1 px
    finally:
        other.close(ask=False)
