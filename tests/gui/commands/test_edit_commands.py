"""Edit commands: undo and redo from the toolbar, Ctrl+A in an entry."""
from __future__ import annotations

import pytest

from guitools import core, status

pytestmark = [pytest.mark.gui, pytest.mark.timeout(60)]


def test_undo_redo_buttons_say_what_they_did(fresh):
    app = fresh
    app.menubar.buttons["undo"].invoke()
    assert status(app) == "nothing to undo"
    app.doc.add_node(core("ipasser"), name="a")
    app.menubar.buttons["undo"].invoke()
    assert not app.doc.nodes and status(app) == "undid add node a"
    app.menubar.buttons["redo"].invoke()
    assert list(app.doc.nodes) == ["a"] and status(app) == "redid add node a"


def test_select_all_and_delete_from_the_menu(fresh):
    app = fresh
    for name in "ab":
        app.doc.add_node(core("ipasser"), name=name)
    edit = app.menubar.menus["Edit"]
    edit.invoke(edit.index("Select all"))
    assert app.doc.selection == ["a", "b"]
    edit.invoke(edit.index("Delete"))
    assert not app.doc.nodes and status(app) == "deleted a, b"


def test_ctrl_a_in_an_entry_selects_all(fresh):
    search = fresh.palette_view.search
    fresh.palette_view.search_var.set("lines")
    search.focus_force()
    search.icursor(2)
    search.event_generate("<Control-a>")
    fresh.root.update()
    assert search.selection_present() and search.index("sel.first") == 0 \
        and search.index("sel.last") == len("lines")


def test_ctrl_a_in_an_entry_tk_made_itself_selects_all(fresh):
    # The file dialogs' entries have no Python widget: the event's widget is a
    # path, and Ctrl+A there was an internal error ('str' has no select_range).
    from types import SimpleNamespace

    from papy_gui.commands.edit import _select_all_text
    tcl = fresh.root.tk
    tcl.eval("ttk::entry .raw; .raw insert 0 pipeline.py; .raw icursor 3")
    try:
        assert _select_all_text(SimpleNamespace(widget=".raw"), tcl) == "break"
        assert tcl.eval(".raw selection present") == "1"
        assert (tcl.eval(".raw index sel.first"), tcl.eval(".raw index sel.last")) == ("0", "11")
        assert tcl.eval(".raw index insert") == "11"
    finally:
        tcl.eval("destroy .raw")
