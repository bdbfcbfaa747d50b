"""Menu bar, toolbar and keyboard shortcuts of the window."""
from __future__ import annotations

import tkinter as tk
from tkinter import ttk
from typing import TYPE_CHECKING

from . import theme

if TYPE_CHECKING:
    from .app import App


def _undo(app: "App") -> None:
    label = app.doc.undo()
    app.message(f"undid {label}" if label else "nothing to undo", False)


def _redo(app: "App") -> None:
    label = app.doc.redo()
    app.message(f"redid {label}" if label else "nothing to redo", False)


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
    e.add_command(label="Copy", accelerator="Ctrl+C", command=app.canvas_ctl_copy)
    e.add_command(label="Paste", accelerator="Ctrl+V", command=app.canvas_ctl_paste)
    e.add_command(label="Delete", accelerator="Del", command=app.canvas_ctl_delete)
    e.add_command(label="Select all", accelerator="Ctrl+A",
                  command=lambda: app.doc.select(app.doc.nodes))
    bar.add_cascade(label="Edit", menu=e)
    v = tk.Menu(bar)
    v.add_command(label="Zoom in", accelerator="Ctrl++", command=lambda: app.canvas_view.zoom(1.2))
    v.add_command(label="Zoom out", accelerator="Ctrl+-", command=lambda: app.canvas_view.zoom(1 / 1.2))
    v.add_command(label="Fit to view", accelerator="Ctrl+0", command=lambda: app.canvas_view.fit())
    v.add_command(label="Auto-layout", accelerator="Ctrl+L", command=app.auto_layout)
    bar.add_cascade(label="View", menu=v)
    r = app.run_menu = tk.Menu(bar)
    r.add_command(label="Run", accelerator="F5", command=app.runs_run)
    r.add_command(label="Pause / Resume", accelerator="F6", command=app.runs_pause_resume)
    r.add_command(label="Stop", accelerator="Shift+F5", command=app.runs_stop)
    r.add_separator()
    r.add_command(label="Run headless (papy run)", command=app.runs_headless)
    app.run_menu_index = {"run": 0, "pause": 1, "stop": 2}
    bar.add_cascade(label="Run", menu=r)
    root.configure(menu=bar)

    keys = {
        "<Control-n>": app.files.new, "<Control-o>": app.files.open,
        "<Control-s>": app.files.save, "<Control-S>": app.files.save_as,
        "<Control-Shift-S>": app.files.save_as, "<Control-q>": app.close,
        "<F5>": app.runs_run, "<F6>": app.runs_pause_resume, "<Shift-F5>": app.runs_stop,
        "<Control-l>": app.auto_layout, "<Control-0>": lambda: app.canvas_view.fit(),
        "<Control-plus>": lambda: app.canvas_view.zoom(1.2),
        "<Control-equal>": lambda: app.canvas_view.zoom(1.2),
        "<Control-minus>": lambda: app.canvas_view.zoom(1 / 1.2),
    }
    for seq, fn in keys.items():
        root.bind_all(seq, lambda e, fn=fn: (fn(), "break")[1])
    for seq, fn in (("<Control-z>", _undo), ("<Control-y>", _redo), ("<Control-Z>", _redo)):
        root.bind_all(seq, lambda e, fn=fn: None if _in_text(app) else (fn(app), "break")[1])


def build_toolbar(app: "App") -> dict[str, ttk.Button]:
    bar = ttk.Frame(app.root, style="Toolbar.TFrame", padding=(4, 3))
    bar.pack(side="top", fill="x")
    buttons: dict[str, ttk.Button] = {}
    app._toolbar_icons = []
    spec = [("new", "New", app.files.new), ("open", "Open", app.files.open),
            ("save", "Save", app.files.save), None,
            ("undo", "Undo", lambda: _undo(app)), ("redo", "Redo", lambda: _redo(app)), None,
            ("run", "▶ Run", app.runs_run), ("pause", "Pause", app.runs_pause),
            ("resume", "Resume", app.runs_resume), ("stop", "■ Stop", app.runs_stop), None,
            ("fit", "Fit", lambda: app.canvas_view.fit()), ("layout", "Auto-layout", app.auto_layout)]
    for item in spec:
        if item is None:
            ttk.Separator(bar, orient="vertical").pack(side="left", fill="y", padx=6, pady=2)
            continue
        key, text, cmd = item
        icon = theme.toolbar_icon(app.root, key)
        kw = {"image": icon, "compound": "left"} if icon is not None else {}
        if icon is not None:
            app._toolbar_icons.append(icon)
            text = text.split(" ", 1)[-1]
        b = ttk.Button(bar, text=text, command=cmd, style="Toolbutton", **kw)
        b.pack(side="left", padx=1)
        buttons[key] = b
    return buttons
