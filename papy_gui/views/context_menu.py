"""Right-click menus of the canvas: on a node, on a pipe, on the background.

:meth:`ContextMenus.menu_for` builds the menu for what was clicked (tests
inspect and ``invoke`` its entries without posting it); :meth:`popup` posts
it at the pointer. Every entry goes through the canvas controller or the
document, so refusals (a run in progress, a cycle) reach the status line.
"""
from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from typing import Any

from ..model import clipboard
from .canvas_interact import CanvasController


class ContextMenus:
    def __init__(self, ctl: CanvasController, rename: Callable[[str], object],
                 show_doc: Callable[[str], object], auto_layout: Callable[[], object]) -> None:
        self.ctl = ctl
        self.rename = rename
        self.show_doc = show_doc
        self.auto_layout = auto_layout
        self.menu: tk.Menu | None = None
        # posts a menu at screen (x, y); tests replace it to look without a grab
        self.post: Callable[[tk.Menu, int, int], Any] = lambda m, x, y: m.tk_popup(x, y)
        ctl.on_context = self.popup

    @property
    def doc(self):
        return self.ctl.doc

    def popup(self, part: str, what: Any, px: float, py: float, x_root: int, y_root: int) -> None:
        self.post(self.menu_for(part, what, px, py), x_root, y_root)

    def menu_for(self, part: str, what: Any, px: float, py: float) -> tk.Menu:
        """The menu for ``part`` ("node", "edge" or "background") under canvas (px, py)."""
        if self.menu is not None:
            self.menu.destroy()
        menu = self.menu = tk.Menu(self.ctl.canvas, tearoff=False)
        if part == "node":
            self._node_menu(menu, what)
        elif part == "edge":
            a, b = what
            self.ctl.view.select_edge(what)
            menu.add_command(label=f"Delete pipe {a} → {b}", command=lambda: self.ctl.attempt(
                lambda: self.doc.disconnect(a, b), f"deleted the pipe {a} → {b}"))
        else:
            self._canvas_menu(menu, px, py)
        return menu

    def _node_menu(self, menu: tk.Menu, name: str) -> None:
        doc, ctl = self.doc, self.ctl
        if name not in doc.selection:
            doc.select([name])
        targets = list(doc.selection)
        menu.add_command(label="Rename…", command=lambda: self.rename(name))
        menu.add_command(label="Duplicate", command=lambda: self._duplicate(targets))
        menu.add_command(label="Delete" if len(targets) == 1 else f"Delete {len(targets)} nodes",
                         command=ctl.delete_selection)
        pipes = [e for e in doc.edges if name in e]
        sub = tk.Menu(menu, tearoff=False)
        for a, b in pipes:
            sub.add_command(label=f"{a} → {b}", command=lambda a=a, b=b: ctl.attempt(
                lambda: doc.disconnect(a, b), f"disconnected {a} → {b}"))
        if len(pipes) > 1:
            sub.add_separator()
            sub.add_command(label="All its pipes", command=lambda: self._disconnect_all(name))
        menu.add_cascade(label="Disconnect", menu=sub, state="normal" if pipes else "disabled")
        menu.add_separator()
        menu.add_command(label="Show documentation", command=lambda: self.show_doc(name))

    def _canvas_menu(self, menu: tk.Menu, px: float, py: float) -> None:
        ctl = self.ctl
        menu.add_command(label="Add node…", command=lambda: ctl.open_quick_add(px, py))
        menu.add_command(label="Paste", command=ctl.paste,
                         state="normal" if ctl.clip else "disabled")
        menu.add_separator()
        menu.add_command(label="Fit to view", command=ctl.view.fit)
        menu.add_command(label="Auto-layout", command=self.auto_layout)

    def _duplicate(self, names: list[str]) -> None:
        data = clipboard.copy_nodes(self.doc, names)
        new: list[str] = []
        if self.ctl.attempt(lambda: new.extend(clipboard.paste(self.doc, data))):
            self.ctl.message(f"duplicated {', '.join(names)} as {', '.join(new)}", False)

    def _disconnect_all(self, name: str) -> None:
        doc = self.doc

        def edit() -> None:
            with doc.edit(f"disconnect {name}"):
                for a, b in [e for e in doc.edges if name in e]:
                    doc.disconnect(a, b)
        self.ctl.attempt(edit, f"disconnected every pipe of {name}")

    def close(self) -> None:
        if self.menu is not None:
            try:
                self.menu.destroy()
            except tk.TclError:
                pass
            self.menu = None
