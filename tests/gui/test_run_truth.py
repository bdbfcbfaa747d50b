"""What the window shows about runs is true (issue 12, items 3, 4 and 7): one run
state per document, a locked graph while running, canvas and table agree."""
from __future__ import annotations

import pytest

from guitools import pump, screenshot
from papy_engine.script import FuncRef as Func
from papy_gui.views.canvas_view import STATE_FILL

pytestmark = [pytest.mark.gui, pytest.mark.timeout(120)]

SLOW = "def slow(inbox):\n    import time\n    time.sleep(0.02)\n    return inbox[0]\n"
ODD = ("def odd(inbox):\n    if inbox[0] % 2:\n        raise ValueError('odd item')\n"
       "    return inbox[0]\n")


def build(app, source, n, parallel=False):
    app.files.new()
    doc = app.doc
    doc.add_node(Func("ipasser", "papy_engine.workers.core", "ipasser"), name="src", x=40, y=60)
    fname = source.split("(")[0][4:]
    doc.add_node(Func(fname, None, fname, source), name="work", x=300, y=60)
    doc.connect("src", "work")
    doc.set_input("src", f"range({n})")
    if parallel:
        pool = doc.add_resource(worker_type="thread", worker_num=2)
        doc.set_option("work", "parallel", pool)
    app.canvas_view.fit()
    app.root.update()


def ended(app):
    return app.run_state.state in ("finished", "stopped", "failed") and not app.bridge.running


def canvas_state(app, name):
    item = app.canvas.find_withtag(f"n:{name}&&counters")[0]
    return app.canvas.itemcget(item, "text").split()[-1] if app.canvas.itemcget(item, "text") \
        else "idle"


def fill(app, name):
    return app.canvas.itemcget(app.canvas.find_withtag(f"n:{name}&&body&&!header")[0], "fill")


def test_new_and_open_start_without_the_last_run(app, tmp_path):
    build(app, SLOW, n=5)
    path = tmp_path / "five.py"
    assert app.files._save_to(str(path))
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
    assert "run finished" not in str(app.status.cget("text"))
    assert app.files.new()
    app.doc.add_node(Func("ipasser", "papy_engine.workers.core", "ipasser"), name="fresh")
    app.root.update()
    assert fill(app, "fresh") == STATE_FILL["idle"] and canvas_state(app, "fresh") == "idle"
    assert str(app.status.cget("text")).startswith("new pipeline")
    assert not app.doc.locked


def test_the_graph_is_locked_while_a_run_is_in_progress(app):
    build(app, SLOW, n=100000, parallel=True)
    assert app.runs.run()
    assert pump(app.root, lambda: app.run_state.pipers.get("work", {}).get("out", 0) > 0, 30)
    assert app.doc.locked
    app.doc.select(["work"])
    app.canvas.focus_force()
    app.canvas.event_generate("<Delete>")
    app.root.update()
    assert "work" in app.doc.nodes and app.canvas.find_withtag("n:work")
    assert "cannot delete work: a run is in progress" in str(app.status.cget("text"))
    form = app.props.node_form
    form.vars["timeout"].set("5")
    form.widgets["timeout"].focus_force()
    form.widgets["timeout"].event_generate("<Return>")
    app.root.update()
    assert "a run is in progress" in form.error_text("timeout")
    assert app.doc.nodes["work"].option("timeout") is None
    app.canvas.focus_force()
    app.canvas.event_generate("<Control-z>")  # undo would change the graph too
    app.root.update()
    assert "cannot undo" in str(app.status.cget("text"))
    assert app.doc.nodes["work"].option("parallel") == "pool"
    assert "locked" in str(app.props.title.cget("text"))
    screenshot(app.root, "gui-locked-during-run")
    app.runs.stop()
    assert pump(app.root, lambda: ended(app), 60), app.run_state.state
    assert not app.doc.locked
    app.canvas_ctl.delete_selection()
    assert "work" not in app.doc.nodes  # editable again


def test_pause_stop_and_the_views_agree(app):
    build(app, SLOW, n=100000, parallel=True)
    assert app.runs.run()
    assert pump(app.root, lambda: app.run_state.pipers.get("work", {}).get("out", 0) > 0, 30)
    app.runs.pause()
    assert pump(app.root, lambda: app.run_state.state == "paused", 30), app.run_state.state
    assert str(app.status.cget("text")).startswith("paused")
    app.runs.resume()
    assert pump(app.root, lambda: app.run_state.state == "running", 30)
    assert str(app.status.cget("text")).startswith("running")
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


def test_errors_badge_fits_and_states_agree(app):
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
    screenshot(app.root, "gui-badge-999")
