"""The menu bar, toolbar and keys built from the command registry."""
from __future__ import annotations

import pytest

from guitools import core, status

pytestmark = [pytest.mark.gui, pytest.mark.timeout(60)]


def labels(menu):
    return [menu.entrycget(i, "label") if menu.type(i) != "separator" else "-"
            for i in range(menu.index("end") + 1)]


def test_every_menu_lists_its_commands_with_their_keys(fresh):
    menus = fresh.menubar.menus
    assert list(menus) == ["File", "Edit", "View", "Run", "Help"]
    assert labels(menus["File"]) == ["New", "Open…", "Open recent", "-", "Save", "Save As…",
                                     "-", "Quit"]
    assert labels(menus["Run"]) == ["Run", "Pause / Resume", "Stop", "-",
                                    "Run headless (papy run)", "Save results…", "-",
                                    "Debug selected error in console"]
    assert labels(menus["View"])[-4:] == ["-", "Data (results of the selected node)", "Errors",
                                          "Output (what nodes print)"]
    assert menus["File"].entrycget(5, "accelerator") == "Ctrl+Shift+S"
    assert menus["Edit"].entrycget(5, "accelerator") == "Del"
    assert list(fresh.menubar.buttons) == ["new", "open", "save", "undo", "redo", "run",
                                           "pause", "resume", "stop", "fit", "layout"]


def test_undo_labels_name_the_edit_and_follow_undo(fresh):
    app = fresh
    edit = app.menubar.menus["Edit"]
    assert labels(edit)[:2] == ["Undo", "Redo"]
    app.doc.add_node(core("ipasser"), name="a")
    assert labels(edit)[:2] == ["Undo add node a", "Redo"]
    edit.invoke(0)
    assert labels(edit)[:2] == ["Undo", "Redo add node a"] and not app.doc.nodes
    assert status(app) == "undid add node a"


def test_keys_run_their_command_but_leave_text_fields_theirs(fresh):
    app = fresh
    app.doc.add_node(core("ipasser"), name="a")
    app.canvas.focus_force()
    app.canvas.event_generate("<Control-l>")  # auto-layout, window-wide
    app.root.update()
    assert app.doc.undo_stack.undo_label() == "auto-layout"
    entry = app.palette_view.search
    entry.focus_force()
    app.root.update()
    entry.event_generate("<Control-z>")  # the entry's own undo: the document keeps it
    app.root.update()
    assert app.doc.undo_stack.undo_label() == "auto-layout"
    app.canvas.focus_force()
    app.root.update()
    app.canvas.event_generate("<Control-z>")
    app.root.update()
    assert app.doc.undo_stack.undo_label() == "add node a"


def test_open_recent_lists_the_files_when_it_opens(fresh, tmp_path):
    app = fresh
    recent = app.menubar.submenus["open_recent"]
    app.doc.add_node(core("ipasser"), name="a")
    path = tmp_path / "listed.py"
    assert app.files.save_to(str(path))
    recent.tk.call(recent, "post", 0, 0)  # as when the File menu opens it
    try:
        assert recent.entrycget(0, "label") == str(path)
    finally:
        recent.unpost()
