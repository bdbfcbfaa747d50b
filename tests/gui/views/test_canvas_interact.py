"""Canvas gestures through real Tk events: add, connect, move, select, delete,
zoom, quick-add, copy and paste."""
from __future__ import annotations

import pytest

from guitools import canvas_xy, core, drag, palette_drop, pump, status
from papy_gui.model.palette import NodeType, Palette

pytestmark = [pytest.mark.gui, pytest.mark.timeout(60)]


def test_drag_create_connect_refuse_cycle_undo_redo(fresh):
    app = fresh
    palette_drop(app, "ipasser", 200, 150)
    palette_drop(app, "Python function", 520, 260)
    assert list(app.doc.nodes) == ["ipasser", "func"]
    assert app.canvas.find_withtag("n:func") and app.canvas.find_withtag("n:ipasser")
    drag(app.canvas, canvas_xy(app, "ipasser", "out"), canvas_xy(app, "func", "in"))
    assert app.doc.edges == [("ipasser", "func")]
    assert app.canvas.find_withtag("e:ipasser:func")
    drag(app.canvas, canvas_xy(app, "func", "out"), canvas_xy(app, "ipasser", "body"))
    assert app.doc.edges == [("ipasser", "func")]
    assert "cycle" in status(app)
    assert "●" in app.root.title()
    app.canvas.focus_force()
    app.canvas.event_generate("<Control-z>")
    pump(app.root, lambda: not app.doc.edges, 2)
    assert app.doc.edges == [] and not app.canvas.find_withtag("e:ipasser:func")
    app.canvas.event_generate("<Control-y>")
    pump(app.root, lambda: app.doc.edges, 2)
    assert app.doc.edges == [("ipasser", "func")]


def test_move_select_delete_zoom_fit(fresh):
    app = fresh
    palette_drop(app, "ipasser", 200, 150)
    palette_drop(app, "npasser", 450, 300)
    x0 = app.doc.nodes["ipasser"].x
    drag(app.canvas, canvas_xy(app, "ipasser", "body"),
         (canvas_xy(app, "ipasser", "body")[0] + 50, canvas_xy(app, "ipasser", "body")[1]))
    assert app.doc.nodes["ipasser"].x == pytest.approx(x0 + 50 / app.canvas_view.scale, abs=1)
    assert app.doc.undo_stack.undo_label() == "move"
    drag(app.canvas, (5, 5), (app.canvas.winfo_width() - 5, app.canvas.winfo_height() - 5))
    assert set(app.doc.selection) == {"ipasser", "npasser"}
    x1, y1, x2, y2 = app.canvas.bbox("n:npasser")
    app.canvas.event_generate("<Button-4>", x=300, y=200)
    app.root.update()
    assert app.canvas_view.scale > 1
    assert (app.canvas.bbox("n:npasser")[2] - app.canvas.bbox("n:npasser")[0]) > (x2 - x1)
    title = app.canvas.find_withtag("n:npasser&&title")[0]
    assert app.canvas.itemcget(title, "font").split()[-2] != "10"
    app.canvas_view.fit()
    cw = app.canvas.winfo_width()
    assert all(0 <= app.canvas.bbox(f"n:{n}")[0] and app.canvas.bbox(f"n:{n}")[2] <= cw + 10
               for n in app.doc.nodes)
    app.canvas.focus_force()
    app.canvas.event_generate("<Delete>")
    app.root.update()
    assert not app.doc.nodes and not app.canvas.find_withtag("node")
    app.canvas.event_generate("<Control-z>")
    app.root.update()
    assert set(app.doc.nodes) == {"ipasser", "npasser"}


def test_quick_add_on_double_click(fresh):
    app = fresh
    for _ in range(2):  # two quick clicks make a double click
        app.canvas.event_generate("<ButtonPress-1>", x=300, y=200)
        app.canvas.event_generate("<ButtonRelease-1>", x=300, y=200)
    app.root.update()
    qa = app.canvas_ctl.quick_add
    assert qa is not None
    qa.var.set("npasser")
    app.root.update()
    qa.entry.focus_force()
    qa.entry.event_generate("<Return>")
    app.root.update()
    assert "npasser" in app.doc.nodes


def test_quick_add_enter_picks_the_exact_name(fresh):
    app = fresh
    qa = app.canvas_ctl.open_quick_add(300, 200)
    qa.var.set("sum")
    app.root.update()
    qa.entry.focus_force()
    qa.entry.event_generate("<Return>")
    app.root.update()
    assert list(app.doc.nodes) == ["sum"]  # was running_stats, a match in its docs


def _types():
    return [NodeType("m.any", "any_in", "t", module="m", qualname="any_in"),
            NodeType("m.source", "source", "t", module="m", qualname="source", inputs=0),
            NodeType("m.pairs", "pairs", "t", module="m", qualname="pairs", hints={"consume": 2}),
            NodeType("m.spawn3", "spawn3", "t", module="m", qualname="spawn3", hints={"spawn": 3})]


def test_dropping_a_pipe_offers_only_nodes_that_can_take_it(fresh):
    app = fresh
    up = app.doc.add_node(core("ipasser"), name="up", options={"produce": 2})
    ctl, saved = app.canvas_ctl, app.canvas_ctl.palette
    ctl.palette = Palette(_types())
    try:
        qa = ctl.open_quick_add(400, 300, connect_from=up)
        assert [t.name for t in qa.types] == ["any_in", "pairs"]
        qa.listbox.selection_clear(0, "end")
        qa.listbox.selection_set(1)
        qa.choose_current()
        app.root.update()
        new = app.doc.selection[0]
        assert (up, new) in app.doc.edges
        assert app.doc.nodes[new].option("consume") == 2
        qa = ctl.open_quick_add(400, 300)  # a plain quick-add offers every type
        assert len(qa.types) == 4
        qa.close()
    finally:
        ctl.palette = saved


def test_paste_says_pasted(fresh):
    app = fresh
    app.doc.add_node(core("ipasser"), name="a")
    app.doc.select(["a"])
    app.canvas_ctl.copy()
    assert "copied 1 node" in status(app)
    app.canvas_ctl.paste()
    assert status(app) == "pasted 1 node(s): a_2"
