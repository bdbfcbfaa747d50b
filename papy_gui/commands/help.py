"""The Help menu (keyboard shortcuts, the documentation, About) and the
"Show documentation" text of a node.

:data:`SHORTCUTS` is the one list of keys and gestures the Help window shows;
tests check that every key of the command registry is in it.
"""
from __future__ import annotations

import ast
import platform
import tkinter as tk
import webbrowser
from collections.abc import Callable
from pathlib import Path

import papy_engine

from ..model.document import Document
from ..model.items import func_label
from ..model.palette import Palette
from ..views.text_window import show_text
from .window import Window

SHORTCUTS: list[tuple[str, list[tuple[str, str]]]] = [
    ("File", [("Ctrl+N", "new pipeline"), ("Ctrl+O", "open…"), ("Ctrl+S", "save"),
              ("Ctrl+Shift+S", "save as…"), ("Ctrl+Q", "quit")]),
    ("Edit", [("Ctrl+Z", "undo"), ("Ctrl+Y", "redo"), ("Ctrl+Shift+Z", "redo"),
              ("Ctrl+C", "copy the selected nodes"), ("Ctrl+V", "paste"),
              ("Delete", "delete the selected nodes or pipe"), ("Ctrl+A", "select all nodes")]),
    ("View", [("Ctrl++", "zoom in"), ("Ctrl+=", "zoom in"), ("Ctrl+-", "zoom out"),
              ("Ctrl+0", "fit the pipeline in the view"), ("Ctrl+L", "auto-layout"),
              ("Ctrl+E", "the Script tab: the script's imports and helpers")]),
    ("Run", [("F5", "run"), ("F6", "pause / resume"), ("Shift+F5", "stop")]),
    ("Canvas", [("drag a palette entry", "add a node"),
                ("drag output ▸ to input ●", "connect two nodes"),
                ("double click the background", "quick-add a node by name"),
                ("drop a pipe on the background", "quick-add a node and connect it"),
                ("right click", "menu of the node, pipe or background"),
                ("right or middle drag", "pan"), ("wheel", "zoom about the pointer"),
                ("Shift+click, drag a rectangle", "select several nodes")]),
    ("Console", [("Return", "run the input (a block ends with an empty line)"),
                 ("Up / Down", "history"),
                 ("q (at the (Pdb) prompt)", "leave a Debug in console session")]),
    ("Data tabs", [("select a node or a pipe", "its results or waiting items in Data"),
                   ("double click a Data row", "show the whole value"),
                   ("click an error badge", "that node's errors in Errors")]),
    ("Help", [("F1", "this list")]),
]

def shortcuts_text() -> str:
    lines = []
    for group, keys in SHORTCUTS:
        lines.append(f"# {group}\n")
        width = max(len(k) for k, _ in keys)
        lines += [f"  {k.ljust(width)}   {what}\n" for k, what in keys]
        lines.append("\n")
    return "".join(lines)


def docs_path() -> Path | None:
    """docs/gui.md of a source checkout, if there is one."""
    path = Path(__file__).resolve().parents[2] / "docs" / "gui.md"
    return path if path.exists() else None


def about_text() -> str:
    return (f"# PaPy Studio {papy_engine.__version__}\n"
            "Parallel pipelines in Python: build, run and watch pipelines of Python "
            "functions, and save them as scripts that run headless (papy run).\n\n"
            f"Python {platform.python_version()}, Tk {tk.TkVersion}\n"
            "After PaPy (Cieślik & Mura, SciPy 2009).\n")


def node_documentation(doc: Document, palette: Palette, name: str) -> tuple[str, str | None]:
    """(text, source or None) describing node ``name``: its type's documentation
    and parameters, or a written-out function's docstring and source."""
    node = doc.nodes[name]
    parts, code = [], None
    for func in node.functions:
        ntype = palette.find_for(func)
        parts.append(f"# {func_label(func)}\n")
        if ntype is not None:
            parts.append((ntype.description.strip() or "(no description)") + "\n")
            parts += [f"  • {p.name}: {p.type} " + ("required" if p.required else
                                                     f"= {p.default}") + "\n"
                      for p in ntype.params]
        elif func.source is not None:
            tree = ast.parse(func.source)
            defs = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
            docstring = ast.get_docstring(defs[-1]) if defs else None
            parts.append((docstring or "(no docstring)") + "\n")
            code = func.source
        else:
            parts.append("(no documentation)\n")
        parts.append("\n")
    return "".join(parts), code


class HelpCommands:
    """The Help menu's actions; ``open_url`` is replaced by tests."""

    def __init__(self, app: Window) -> None:
        self.app = app
        self.open_url: Callable[[str], object] = webbrowser.open
        self.window: tk.Toplevel | None = None

    def _show(self, title: str, text: str, code: str | None = None) -> tk.Toplevel:
        if self.window is not None and self.window.winfo_exists():
            self.window.destroy()
        self.window = show_text(self.app.root, title, text, code)
        return self.window

    def shortcuts(self) -> tk.Toplevel:
        return self._show("Keyboard shortcuts — PaPy Studio", shortcuts_text())

    def documentation(self) -> None:
        path = docs_path()
        if path is None:
            self.app.message("the documentation is docs/gui.md in the PaPy Studio sources", True)
            return
        self.open_url(path.as_uri())
        self.app.message(f"opened the documentation: {path}")

    def about(self) -> tk.Toplevel:
        return self._show("About PaPy Studio", about_text())

    def node(self, name: str) -> tk.Toplevel | None:
        if name not in self.app.doc.nodes:
            return None
        text, code = node_documentation(self.app.doc, self.app.palette, name)
        return self._show(f"Documentation of node {name}", text, code)


def register(app: Window) -> HelpCommands:
    """The Help menu."""
    h = HelpCommands(app)
    add = app.commands.add_command
    add("shortcuts", "Help", "Keyboard shortcuts", h.shortcuts, keys=("<F1>",), group=1)
    add("documentation", "Help", "Documentation (docs/gui.md)", h.documentation, group=1)
    add("about", "Help", "About PaPy Studio", h.about, group=2)
    return h
