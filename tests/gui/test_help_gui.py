"""Help and discoverability (issue 12, item 9): tooltips, the Help menu, and the
right-click menus of nodes, pipes and the canvas."""
from __future__ import annotations

import pytest

from guitools import pump, screenshot
from papy_gui.help import SHORTCUTS, key_label
from papy_gui.menus import key_bindings
from papy_engine.script import FuncRef as Func

pytestmark = [pytest.mark.gui, pytest.mark.timeout(60)]


def core(name):
    return Func(name, "papy_engine.workers.core", name)


@pytest.fixture
def pipe(app):
    app.files.new()
    app.doc.add_node(core("ipasser"), name="a", x=40, y=60)
    doc_src = 'def shout(inbox):\n    """Upper-case the item."""\n    return inbox[0].upper()\n'
    app.doc.add_node(Func("shout", None, "shout", doc_src), name="b", x=320, y=60)
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


def test_tooltips_on_toolbar_buttons_ports_and_badges(pipe):
    app = pipe
    tips = app.tips
    run = app.toolbar_buttons["run"]
    run.event_generate("<Enter>", x=3, y=3)
    assert pump(app.root, lambda: tips.tip is not None, 5)
    assert tips.text == "Run the pipeline here (F5)"
    run.event_generate("<Leave>")
    app.root.update()
    assert tips.tip is None
    x, y = centre(app, "n:b&&port_in")
    app.canvas.event_generate("<Motion>", x=x, y=y)
    assert pump(app.root, lambda: tips.tip is not None, 5)
    assert tips.text.startswith("input port")
    screenshot(app.root, "gui-tooltip-port")
    app.canvas.event_generate("<Motion>", x=2, y=2)
    app.root.update()
    assert tips.tip is None
    assert "click for the first one's traceback" in app.nodes.badge_tip(("node", "n:b"))


def test_help_menu_lists_every_shortcut_and_about(pipe):
    app = pipe
    listed = {k for _, keys in SHORTCUTS for k, _ in keys}
    missing = {key_label(seq) for seq in key_bindings(app)} - listed
    assert not missing, missing  # a key bound but not in the Help window
    window = app.help.shortcuts()
    text = next(w for w in window.winfo_children()[0].winfo_children()
                if w.winfo_class() == "Text").get("1.0", "end")
    assert "F5" in text and "Shift+F5" in text and "right click" in text
    screenshot(app.root, "gui-help-shortcuts")
    window.destroy()
    about = app.help.about()
    assert about.title() == "About PaPy Studio"
    about.destroy()
    opened = []
    app.help.open_url = opened.append
    app.help.documentation()
    assert opened and opened[0].startswith("file://") and opened[0].endswith("docs/gui.md")


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
    text = next(w for w in window.winfo_children()[0].winfo_children()
                if w.winfo_class() == "Text").get("1.0", "end")
    assert "Upper-case the item." in text and "def shout" in text
    window.destroy()
    menu.invoke(labels(menu).index("Duplicate"))
    assert "b_2" in app.doc.nodes and "duplicated b as b_2" in str(app.status.cget("text"))
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
