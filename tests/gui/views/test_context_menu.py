"""Right-click menus of nodes, pipes and the canvas."""
from __future__ import annotations

import pytest

from guitools import core, status
from papy_engine.script import FuncRef

pytestmark = [pytest.mark.gui, pytest.mark.timeout(60)]


@pytest.fixture
def pipe(fresh):
    app = fresh
    app.doc.add_node(core("ipasser"), name="a", x=40, y=60)
    doc_src = 'def shout(inbox):\n    """Upper-case the item."""\n    return inbox[0].upper()\n'
    app.doc.add_node(FuncRef("shout", None, "shout", doc_src), name="b", x=320, y=60)
    app.doc.connect("a", "b")
    app.canvas_view.fit()
    app.root.update()
    return app


def labels(menu):
    return [menu.entrycget(i, "label") if menu.type(i) != "separator" else "-"
            for i in range(menu.index("end") + 1)]


def centre(app, tag):
    x0, y0, x1, y1 = app.canvas.bbox(tag)
    return (x0 + x1) // 2, (y0 + y1) // 2


def text_of(window) -> str:
    return next(w for w in window.winfo_children()[0].winfo_children()
                if w.winfo_class() == "Text").get("1.0", "end")


def test_node_menu_rename_duplicate_disconnect_delete_and_docs(pipe):
    app = pipe
    posted = []
    app.context_menus.post = lambda menu, x, y: posted.append(menu)
    x, y = centre(app, "n:b&&func")
    app.canvas.event_generate("<ButtonPress-3>", x=x, y=y)
    app.canvas.event_generate("<ButtonRelease-3>", x=x, y=y)  # a click, no drag: the menu
    app.root.update()
    assert posted and app.doc.selection == ["b"]
    menu = posted[0]
    assert labels(menu) == ["Rename…", "Duplicate", "Delete", "Disconnect", "-",
                            "Show documentation"]
    menu.invoke(labels(menu).index("Show documentation"))
    window = app.help.window
    text = text_of(window)
    assert "Upper-case the item." in text and "def shout" in text
    window.destroy()
    menu.invoke(labels(menu).index("Duplicate"))
    assert "b_2" in app.doc.nodes and "duplicated b as b_2" in status(app)
    menu = app.context_menus.menu_for("node", "b", x, y)
    sub = menu.nametowidget(menu.entrycget(labels(menu).index("Disconnect"), "menu"))
    assert labels(sub) == ["a → b"]
    sub.invoke(0)
    assert app.doc.edges == []
    menu = app.context_menus.menu_for("node", "b", x, y)
    assert menu.entrycget(labels(menu).index("Disconnect"), "state") == "disabled"
    app.canvas.focus_force()  # as after the right click (no window manager here)
    app.root.update()
    menu.invoke(labels(menu).index("Rename…"))
    app.root.update()
    entry = app.props.node_form.widgets["name"]
    assert app.root.focus_get() is entry and entry.selection_present()
    assert status(app) == "type the new name of b, then Return"
    menu.invoke(labels(menu).index("Delete"))
    assert "b" not in app.doc.nodes


def test_pipe_and_canvas_menus(pipe):
    app = pipe
    posted = []
    app.context_menus.post = lambda menu, x, y: posted.append(menu)
    menu = app.context_menus.menu_for("edge", ("a", "b"), 0, 0)
    assert labels(menu) == ["Delete pipe a → b"]
    menu.invoke(0)
    assert app.doc.edges == []
    app.canvas.event_generate("<ButtonPress-3>", x=5, y=5)
    app.canvas.event_generate("<ButtonRelease-3>", x=5, y=5)
    app.root.update()
    menu = posted[-1]
    assert labels(menu) == ["Add node…", "Paste", "-", "Fit to view", "Auto-layout"]
    assert menu.entrycget(1, "state") == "disabled"  # nothing copied yet
    menu.invoke(0)
    assert app.canvas_ctl.quick_add is not None and app.canvas_ctl.quick_add.top.winfo_exists()
    app.canvas_ctl.quick_add.close()
    app.doc.move_nodes({"b": (2000, 900)})
    menu.invoke(labels(menu).index("Auto-layout"))
    assert app.doc.nodes["b"].x < 1000
    drag_from = (5, 5)
    app.canvas.event_generate("<ButtonPress-3>", x=drag_from[0], y=drag_from[1])
    app.canvas.event_generate("<B3-Motion>", x=60, y=40, state=0x400)
    app.canvas.event_generate("<ButtonRelease-3>", x=60, y=40)
    app.root.update()
    assert len(posted) == 1  # a right drag pans: no menu
