"""Running a pipeline from the window: state, stats table, badges, log, pause/resume/stop."""
from __future__ import annotations

import pytest

from guitools import pump, screenshot
from papy_engine.script import FuncRef as Func

pytestmark = [pytest.mark.gui, pytest.mark.timeout(90)]

SLOW = "def slow(inbox):\n    import time\n    time.sleep(0.01)\n    return inbox[0]\n"
FAIL = "def picky(inbox):\n    if inbox[0] == 3:\n        raise ValueError('no threes')\n    return inbox[0]\n"


def build(app, second_source, n=50, parallel=False):
    app.files.new()
    doc = app.doc
    doc.add_node(Func("ipasser", "papy_engine.workers.core", "ipasser"), name="src", x=40, y=60)
    fname = second_source.split("(")[0][4:]
    doc.add_node(Func(fname, None, fname, second_source), name="work", x=300, y=60)
    doc.connect("src", "work")
    doc.set_input("src", f"range({n})")
    if parallel:
        pool = doc.add_resource(worker_type="thread", worker_num=2, stride=2, buffer=8)
        doc.set_option("work", "parallel", pool)
    app.canvas_view.fit()
    app.root.update()


def finished(app):
    return app.run_state.state in ("finished", "stopped", "failed") and not app.bridge.running


def test_run_to_finish_stats_agree(app):
    build(app, SLOW, n=30)
    assert app.runs.run()
    assert pump(app.root, lambda: app.run_state.state == "running" or finished(app), 20)
    assert pump(app.root, lambda: finished(app), 60), app.run_state.state
    app.bridge.refresh_stats()
    app.root.update()
    assert app.run_state.state == "finished", app.run_state.message
    stats = app.bridge.plumber.stats["pipers"]
    assert stats["work"]["out"] == 30
    row = app.stats_view.row("work")
    assert row["in"] == str(stats["work"]["in"]) and row["out"] == "30"
    counters = app.canvas.find_withtag("n:work&&counters")
    assert counters and "out 30" in app.canvas.itemcget(counters[0], "text")
    assert str(app.toolbar_buttons["run"].state()) in ("()", "")
    assert any("run finished" in line for line in app.log_view.lines())
    app.bottom.select(app.stats_view)
    screenshot(app.root, "gui-run-finished")


def test_failing_node_gets_badge(app):
    build(app, FAIL, n=10)
    assert app.runs.run()
    assert pump(app.root, lambda: finished(app), 60)
    app.bridge.refresh_stats()
    app.root.update()
    assert app.run_state.pipers["work"]["errors"] == 1
    assert app.canvas.find_withtag("n:work&&badge")
    assert app.run_state.errors["work"]["index"] in (3, None)
    x1, y1, x2, y2 = app.canvas.bbox(app.canvas.find_withtag("n:work&&badge")[-1])
    app.canvas.event_generate("<ButtonPress-1>", x=(x1 + x2) // 2, y=(y1 + y2) // 2)
    app.canvas.event_generate("<ButtonRelease-1>", x=(x1 + x2) // 2, y=(y1 + y2) // 2)
    app.root.update()
    assert app.error_window is not None and app.error_window.winfo_exists()
    pump(app.root, lambda: app.error_window.winfo_viewable(), 5)
    pump(app.root, timeout=0.3)
    screenshot(app.root, "gui-run-error")
    app.error_window.destroy()


def test_pause_resume_stop(app):
    build(app, SLOW, n=100000, parallel=True)
    assert app.runs.run()
    assert pump(app.root, lambda: app.run_state.state == "running", 30), app.run_state.state
    assert pump(app.root, lambda: app.run_state.pipers.get("work", {}).get("out", 0) > 0, 30)
    app.root.update()
    screenshot(app.root, "gui-running")
    app.runs.pause()
    assert pump(app.root, lambda: app.run_state.state == "paused", 30), app.run_state.state
    assert "disabled" not in app.toolbar_buttons["resume"].state()
    app.runs.resume()
    assert pump(app.root, lambda: app.run_state.state == "running", 30), app.run_state.state
    app.runs.stop()
    assert pump(app.root, lambda: finished(app), 60), app.run_state.state
    app.bridge.refresh_stats()
    s = app.bridge.plumber.stats["pipers"]
    assert app.run_state.state == "stopped"
    assert s["src"]["out"] == s["work"]["in"] == s["work"]["out"]  # nothing lost
