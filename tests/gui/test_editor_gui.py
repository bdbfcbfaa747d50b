"""The editor driven through real Tk events under Xvfb."""
from __future__ import annotations

import importlib

import pytest

from guitools import click, drag, pump, screenshot

pytestmark = [pytest.mark.gui, pytest.mark.timeout(60)]


def canvas_xy(app, name, part):
    view = app.canvas_view
    if part == "out":
        return view.port_xy(name, "out")
    if part == "in":
        return view.port_xy(name, "in")
    x, y = view.to_screen(*view.pos(name))
    return x + 60 * view.scale, y + 30 * view.scale


def palette_drop(app, name, px, py):
    """Drag palette entry ``name`` from the tree to canvas pixel (px, py)."""
    pv = app.palette_view
    pv.search_var.set(name)
    iid = pv.item_of(name)
    pv.tree.see(iid)
    app.root.update()
    x, y, w, h = pv.tree.bbox(iid)
    tree = pv.tree
    tree.event_generate("<ButtonPress-1>", x=x + 10, y=y + h // 2)
    tree.event_generate("<Motion>", x=x + 40, y=y + h // 2, state=0x100)
    rx, ry = app.canvas.winfo_rootx() + int(px), app.canvas.winfo_rooty() + int(py)
    tree.event_generate("<ButtonRelease-1>", x=x + 40, y=y + h // 2, rootx=rx, rooty=ry)
    app.root.update()


@pytest.fixture
def fresh(app):
    app.files.new()
    app.doc.undo_stack.clear()
    app.palette_view.search_var.set("")
    app.root.update()
    return app


def test_empty_window_screenshot(fresh):
    assert fresh.root.title() == "untitled — PaPy Studio"
    screenshot(fresh.root, "gui-empty")


def test_palette_search_filters_as_you_type(fresh):
    pv = fresh.palette_view
    everything = len(pv.visible_names())
    pv.search.focus_force()
    for key in "ipas":
        pv.search.event_generate("<KeyPress>", keysym=key)
    pump(fresh.root, lambda: pv.search_var.get() == "ipas", 2)
    assert pv.search_var.get() == "ipas"
    assert "ipasser" in pv.visible_names() and len(pv.visible_names()) < everything
    pv.tree.selection_set(pv.item_of("ipasser"))
    fresh.root.update()
    assert "ipasser" in pv.doc_text.get("1.0", "end")


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
    assert "cycle" in app.status.cget("text")
    assert "●" in app.root.title()
    app.canvas.focus_force()
    app.canvas.event_generate("<Control-z>")
    pump(app.root, lambda: not app.doc.edges, 2)
    assert app.doc.edges == [] and not app.canvas.find_withtag("e:ipasser:func")
    app.canvas.event_generate("<Control-y>")
    pump(app.root, lambda: app.doc.edges, 2)
    assert app.doc.edges == [("ipasser", "func")]
    screenshot(app.root, "gui-two-nodes")


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


def test_property_panel_validates_next_to_field(fresh):
    app = fresh
    palette_drop(app, "ipasser", 200, 150)
    form = app.props.node_form
    assert form is not None and form.vars["name"].get() == "ipasser"
    entry = form.widgets["consume"]
    form.vars["consume"].set("0")
    entry.focus_force()
    entry.event_generate("<Return>")
    app.root.update()
    assert "must be an int >= 1" in form.error_text("consume")
    assert app.doc.nodes["ipasser"].option("consume") == 1
    form.vars["produce"].set("3")
    form.widgets["produce"].focus_force()
    form.widgets["produce"].event_generate("<Return>")
    app.root.update()
    assert app.doc.nodes["ipasser"].option("produce") == 3 and not form.error_text("produce")
    form.vars["name"].set("source")
    form.widgets["name"].focus_force()
    form.widgets["name"].event_generate("<Return>")
    app.root.update()
    assert "source" in app.doc.nodes and app.canvas.find_withtag("n:source")
    app.props._cmd_add_resource()
    app.root.update()
    rform = app.props.res_form
    rform.vars["worker_num"].set("-1")
    rform.widgets["worker_num"].focus_force()
    rform.widgets["worker_num"].event_generate("<Return>")
    app.root.update()
    assert ">= 0" in rform.error_text("worker_num")


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


def test_console_function_added_as_node_and_saved(fresh, tmp_path):
    app = fresh
    con = app.console
    con.text.focus_force()
    for line in ("def triple(inbox):", "    return inbox[0] * 3", ""):
        con.set_input(line)
        con.text.event_generate("<Return>")
        app.root.update()
    assert callable(app.namespace.get("triple"))
    con.set_input("print(triple((2,)))")
    con.text.event_generate("<Return>")
    app.root.update()
    assert "6\n" in con.text.get("1.0", "end")
    con.set_input("1/0")
    con.text.event_generate("<Return>")
    assert "ZeroDivisionError" in con.text.get("1.0", "end")
    name = con.add_function("triple")
    assert name == "triple" and "return inbox[0] * 3" in app.doc.nodes[name].functions[0].source
    importlib.import_module("papy_engine.script")
    path = tmp_path / "tri.py"
    assert app.files._save_to(str(path))
    assert "def triple(inbox):" in path.read_text()
    assert "●" not in app.root.title() and "tri.py" in app.root.title()


def test_save_reopen_same_text_and_screenshot(fresh, tmp_path):
    app = fresh
    palette_drop(app, "ipasser", 200, 150)
    palette_drop(app, "Python function", 520, 260)
    app.canvas_ctl.connect("ipasser", "func")
    app.doc.set_input("ipasser", "range(20)")
    path = tmp_path / "pipe.py"
    assert app.files._save_to(str(path))
    text = path.read_text()
    assert app.files.open(str(path))
    assert list(app.doc.nodes) == ["ipasser", "func"] and app.doc.edges == [("ipasser", "func")]
    assert app.doc.inputs == {"ipasser": "range(20)"} and not app.doc.modified
    assert app.files._save_to(str(path))
    assert path.read_text() == text
    assert str(path) in app.files.recent.items
    app.doc.select(["func"])
    pump(app.root, timeout=0.2)
    screenshot(app.root, "gui-saved-pipeline")


def test_unsaved_prompt_cancel_keeps_document(fresh):
    app = fresh
    palette_drop(app, "ipasser", 200, 150)
    asked = []
    app.files.ask = lambda *a, **k: asked.append(a) or None  # Cancel
    try:
        assert not app.files.new()
        assert "ipasser" in app.doc.nodes and asked
    finally:
        app.files.ask = lambda *a, **k: False


def test_autosave_written_after_edit(fresh):
    from papy_gui.model import files
    app = fresh
    palette_drop(app, "ipasser", 200, 150)
    target = files.autosave_path(app.doc.path)
    assert pump(app.root, target.exists, 5)
    assert "ipasser" in target.read_text()


EXAMPLES = sorted((__import__("pathlib").Path(__file__).resolve().parents[2] / "examples").glob("*.py"))


@pytest.mark.parametrize("example", [p for p in EXAMPLES if p.name != "build_examples.py"],
                         ids=lambda p: p.stem)
def test_open_example_save_same_text_and_screenshot(fresh, example, tmp_path):
    app = fresh
    assert app.files.open(str(example))
    assert app.doc.nodes and not app.doc.modified
    pump(app.root, timeout=0.2)
    screenshot(app.root, f"gui-example-{example.stem}")
    out = tmp_path / example.name
    assert app.files._save_to(str(out))
    assert out.read_text() == example.read_text()
