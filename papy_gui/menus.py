"""Menu bar, toolbar (with tooltips) and keyboard shortcuts of the window.

The keys bound here are listed for the user by :data:`papy_gui.help.SHORTCUTS`
(a test checks that every one of :func:`key_bindings` is there).
"""
from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from tkinter import ttk
from typing import TYPE_CHECKING

from . import theme
from .help import build_help_menu
from .model.errors import EditError

if TYPE_CHECKING:
    from .app import App


def _undo(app: "App") -> None:
    try:
        label = app.doc.undo()
    except EditError as exc:  # a run is in progress
        app.message(str(exc), True)
        return
    app.message(f"undid {label}" if label else "nothing to undo", False)


def _redo(app: "App") -> None:
    try:
        label = app.doc.redo()
    except EditError as exc:
        app.message(str(exc), True)
        return
    app.message(f"redid {label}" if label else "nothing to redo", False)


def _show_script(app: "App") -> None:
    app.bottom.select(app.script_view)
    app.script_view.code.focus_set()


def _in_text(app: "App") -> bool:
    """Text widgets keep their own Ctrl+Z/Ctrl+C; the canvas ones apply elsewhere."""
    w = app.root.focus_get()
    return isinstance(w, (tk.Text, tk.Entry, ttk.Entry))


def build_menus(app: "App") -> None:
    root = app.root
    root.option_add("*tearOff", False)
    bar = tk.Menu(root)
    f = tk.Menu(bar)
    f.add_command(label="New", accelerator="Ctrl+N", command=app.files.new)
    f.add_command(label="Open…", accelerator="Ctrl+O", command=app.files.open)
    app.recent_menu = tk.Menu(f)
    f.add_cascade(label="Open recent", menu=app.recent_menu)
    f.add_separator()
    f.add_command(label="Save", accelerator="Ctrl+S", command=app.files.save)
    f.add_command(label="Save As…", accelerator="Ctrl+Shift+S", command=app.files.save_as)
    f.add_separator()
    f.add_command(label="Quit", accelerator="Ctrl+Q", command=app.close)
    bar.add_cascade(label="File", menu=f)
    e = app.edit_menu = tk.Menu(bar)
    e.add_command(label="Undo", accelerator="Ctrl+Z", command=lambda: _undo(app))
    e.add_command(label="Redo", accelerator="Ctrl+Y", command=lambda: _redo(app))
    e.add_separator()
    e.add_command(label="Copy", accelerator="Ctrl+C", command=lambda: app.canvas_ctl.copy())
    e.add_command(label="Paste", accelerator="Ctrl+V", command=lambda: app.canvas_ctl.paste())
    e.add_command(label="Delete", accelerator="Del",
                  command=lambda: app.canvas_ctl.delete_selection())
    e.add_command(label="Select all", accelerator="Ctrl+A",
                  command=lambda: app.doc.select(app.doc.nodes))
    bar.add_cascade(label="Edit", menu=e)
    v = tk.Menu(bar)
    v.add_command(label="Zoom in", accelerator="Ctrl++", command=lambda: app.canvas_view.zoom(1.2))
    v.add_command(label="Zoom out", accelerator="Ctrl+-", command=lambda: app.canvas_view.zoom(1 / 1.2))
    v.add_command(label="Fit to view", accelerator="Ctrl+0", command=lambda: app.canvas_view.fit())
    v.add_command(label="Auto-layout", accelerator="Ctrl+L", command=app.nodes.auto_layout)
    v.add_separator()
    v.add_command(label="Script (imports and helpers)", accelerator="Ctrl+E",
                  command=lambda: _show_script(app))
    bar.add_cascade(label="View", menu=v)
    r = app.run_menu = tk.Menu(bar)
    r.add_command(label="Run", accelerator="F5", command=app.runs.run)
    r.add_command(label="Pause / Resume", accelerator="F6", command=app.runs.pause_resume)
    r.add_command(label="Stop", accelerator="Shift+F5", command=app.runs.stop)
    r.add_separator()
    r.add_command(label="Run headless (papy run)", command=app.runs.run_headless)
    app.run_menu_index = {"run": 0, "pause": 1, "stop": 2}
    bar.add_cascade(label="Run", menu=r)
    build_help_menu(app, bar)
    root.configure(menu=bar)

    for seq, fn in key_bindings(app).items():
        root.bind_all(seq, lambda e, fn=fn: (fn(), "break")[1])
    for seq, fn in (("<Control-z>", _undo), ("<Control-y>", _redo), ("<Control-Z>", _redo)):
        root.bind_all(seq, lambda e, fn=fn: None if _in_text(app) else (fn(app), "break")[1])
    # Tk's entries move to the line start on Ctrl+A; select all, as users expect
    root.bind_class("TEntry", "<Control-a>", _select_all)


def _select_all(event: tk.Event) -> str:
    event.widget.select_range(0, "end")
    event.widget.icursor("end")
    return "break"


def key_bindings(app: "App") -> dict[str, Callable[[], object]]:
    """The window-wide keys (undo and redo, which text widgets keep, aside)."""
    return {
        "<Control-n>": app.files.new, "<Control-o>": app.files.open,
        "<Control-s>": app.files.save, "<Control-S>": app.files.save_as,
        "<Control-Shift-S>": app.files.save_as, "<Control-q>": app.close,
        "<F5>": app.runs.run, "<F6>": app.runs.pause_resume, "<Shift-F5>": app.runs.stop,
        "<Control-l>": app.nodes.auto_layout, "<Control-0>": lambda: app.canvas_view.fit(),
        "<Control-plus>": lambda: app.canvas_view.zoom(1.2),
        "<Control-equal>": lambda: app.canvas_view.zoom(1.2),
        "<Control-minus>": lambda: app.canvas_view.zoom(1 / 1.2),
        "<Control-e>": lambda: _show_script(app), "<F1>": app.help.shortcuts,
    }


def build_toolbar(app: "App") -> dict[str, ttk.Button]:
    bar = ttk.Frame(app.root, style="Toolbar.TFrame", padding=(4, 3))
    bar.pack(side="top", fill="x")
    buttons: dict[str, ttk.Button] = {}
    app._toolbar_icons = []
    spec = [("new", "New", app.files.new, "New pipeline (Ctrl+N)"),
            ("open", "Open", app.files.open, "Open a pipeline script (Ctrl+O)"),
            ("save", "Save", app.files.save, "Save as a runnable script (Ctrl+S)"), None,
            ("undo", "Undo", lambda: _undo(app), "Undo the last edit (Ctrl+Z)"),
            ("redo", "Redo", lambda: _redo(app), "Redo (Ctrl+Y)"), None,
            ("run", "▶ Run", app.runs.run, "Run the pipeline here (F5)"),
            ("pause", "Pause", app.runs.pause, "Pause: no new input is pulled (F6)"),
            ("resume", "Resume", app.runs.resume, "Resume the paused run (F6)"),
            ("stop", "■ Stop", app.runs.stop,
             "Stop: the items already pulled finish, nothing is lost (Shift+F5)"), None,
            ("fit", "Fit", lambda: app.canvas_view.fit(), "Fit the pipeline in the view (Ctrl+0)"),
            ("layout", "Auto-layout", app.nodes.auto_layout,
             "Arrange the nodes left to right (Ctrl+L)")]
    for item in spec:
        if item is None:
            ttk.Separator(bar, orient="vertical").pack(side="left", fill="y", padx=6, pady=2)
            continue
        key, text, cmd, tip = item
        icon = theme.toolbar_icon(app.root, key)
        kw = {"image": icon, "compound": "left"} if icon is not None else {}
        if icon is not None:
            app._toolbar_icons.append(icon)
            text = text.split(" ", 1)[-1]
        b = ttk.Button(bar, text=text, command=cmd, style="Toolbutton", **kw)
        b.pack(side="left", padx=1)
        app.tips.add(b, tip)
        buttons[key] = b
    return buttons
