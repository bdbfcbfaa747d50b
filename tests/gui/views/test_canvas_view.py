"""The canvas drawing: header colours, run counters changed in place, error badges."""
from __future__ import annotations

import pytest

from guitools import CountingTk, core
from papy_gui.views.canvas_view import HEADER, HEADER_INPUT, badge_text

pytestmark = [pytest.mark.gui, pytest.mark.timeout(60)]


def header(app, name):
    return app.canvas.itemcget(app.canvas.find_withtag(f"n:{name}&&header")[0], "fill")


def test_header_colours_follow_connect_and_undo(fresh):
    app = fresh
    app.doc.add_node(core("ipasser"), name="a", x=40, y=40)
    app.doc.add_node(core("ipasser"), name="b", x=300, y=40)
    app.root.update()
    assert header(app, "b") == HEADER_INPUT
    assert app.canvas_ctl.connect("a", "b")
    app.root.update()
    assert header(app, "b") == HEADER  # no longer an input node, at once
    app.doc.undo()
    app.root.update()
    assert header(app, "b") == HEADER_INPUT


def test_stats_tick_changes_counters_in_place(fresh):
    app = fresh
    doc = app.doc
    for i, name in enumerate(("a", "b", "c")):
        doc.add_node(core("ipasser"), name=name, x=220 * i)
    doc.connect("a", "b")
    doc.connect("b", "c")
    rs = app.run_state
    rs.begin(doc.edges)
    rs.set_state("running")
    snap = {"state": "running", "pipers": {n: {"in": 1, "out": 3, "errors": 0, "state": "running"}
                                           for n in "abc"}}  # 2 waiting on each pipe
    rs.update_stats(snap)
    app.root.update()
    ids = app.canvas.find_withtag("n:b")
    real = app.canvas.tk
    counting = app.canvas.tk = CountingTk(real)
    try:
        snap["pipers"]["a"].update({"in": 10, "out": 9})
        snap["pipers"]["b"].update({"in": 5, "out": 4})
        rs.update_stats(snap)
        calls = counting.calls
    finally:
        app.canvas.tk = real
    assert app.canvas.find_withtag("n:b") == ids  # not redrawn
    text = app.canvas.itemcget(app.canvas.find_withtag("n:b&&counters")[0], "text")
    assert text.startswith("in 5  out 4")
    # two counters and two "waiting" labels changed: one itemconfigure each
    assert calls <= 4, calls
    assert app.canvas.itemcget(app.canvas.find_withtag("e:a:b&&queue")[0], "text") == "4 waiting"
    rs.reset()
    app.root.update()
    assert app.canvas.itemcget(app.canvas.find_withtag("n:b&&counters")[0], "text") == ""


def test_badge_text_fits_any_count():
    assert [badge_text(n) for n in (1, 99, 999, 1000, 123456)] == \
        ["1", "99", "999", "999+", "999+"]
