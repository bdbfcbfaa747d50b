"""Edit commands: Undo, Redo (their labels name the edit), Copy, Paste, Delete, Select all.

Undo and redo are window-wide keys except in text fields, which keep their
own Ctrl+Z; copy, paste, delete and select all of nodes are the canvas's own
keys (see :mod:`papy_gui.views.canvas_interact`), listed here for the menu.
"""
from __future__ import annotations

import tkinter as tk
from typing import Any

from ..model.errors import EditError
from .window import Window


def undo(app: Window) -> None:
    try:
        label = app.doc.undo()
    except EditError as exc:  # a run is in progress
        app.message(str(exc), True)
        return
    app.message(f"undid {label}" if label else "nothing to undo", False)


def redo(app: Window) -> None:
    try:
        label = app.doc.redo()
    except EditError as exc:
        app.message(str(exc), True)
        return
    app.message(f"redid {label}" if label else "nothing to redo", False)


def _select_all_text(event: tk.Event, interp: Any) -> str:
    """Ctrl+A in an entry selects all of it (Tk's default moves to the line start).

    Through Tcl, by the entry's path: an entry Tk made itself (the file
    dialogs') has no Python widget, and ``event.widget`` is then that path.
    """
    path = str(event.widget)
    interp.call(path, "selection", "range", 0, "end")
    interp.call(path, "icursor", "end")
    return "break"


def register(app: Window) -> None:
    """The Edit menu and the undo/redo buttons of the toolbar."""
    add = app.commands.add_command

    def undo_label() -> str:
        label = app.doc.undo_stack.undo_label()
        return f"Undo {label}" if label else "Undo"

    def redo_label() -> str:
        label = app.doc.undo_stack.redo_label()
        return f"Redo {label}" if label else "Redo"

    add("undo", "Edit", undo_label, lambda: undo(app), keys=("<Control-z>",), in_text=False,
        group=1, toolbar="Undo", tip="Undo the last edit (Ctrl+Z)")
    add("redo", "Edit", redo_label, lambda: redo(app), keys=("<Control-y>", "<Control-Z>"),
        in_text=False, group=1, toolbar="Redo", tip="Redo (Ctrl+Y)")
    add("copy", "Edit", "Copy", lambda: app.canvas_ctl.copy(), accelerator="Ctrl+C", group=2)
    add("paste", "Edit", "Paste", lambda: app.canvas_ctl.paste(), accelerator="Ctrl+V",
        group=2)
    add("delete", "Edit", "Delete", lambda: app.canvas_ctl.delete_selection(),
        accelerator="Del", group=2)
    add("select_all", "Edit", "Select all", lambda: app.doc.select(app.doc.nodes),
        accelerator="Ctrl+A", group=2)
    app.root.bind_class("TEntry", "<Control-a>",
                        lambda event: _select_all_text(event, app.root.tk))
