"""The menu bar, the toolbar and the window-wide keys, built from the command registry.

Everything here comes from :class:`papy_gui.commands.registry.Commands`: one
menu entry per command (and a submenu per cascade, filled when it opens),
one toolbar button per command with a caption, one ``bind_all`` per key.
:meth:`MenuBar.refresh` re-evaluates every tester and dynamic label and
touches only the entries and buttons that changed (mid-run, each Tcl call
may wait a GIL switch interval: benchmarks/gui.md).
"""
from __future__ import annotations

import tkinter as tk
from tkinter import ttk

from .. import theme
from ..commands.registry import MENUS, Cascade, Command, Commands
from .tooltip import Tooltips


def _in_text(root: tk.Misc) -> bool:
    """Whether a text field has the focus (it keeps its own Ctrl+Z, Ctrl+C...)."""
    return isinstance(root.focus_get(), (tk.Text, tk.Entry, ttk.Entry))


class MenuBar:
    """Builds the window's menus, toolbar and keys from ``commands``.

    Attributes:
        menus: the menu of each name in :data:`MENUS`.
        submenus: the menu of each cascade, by id.
        buttons: the toolbar button of each command that has one, by id.
        icons: the toolbar images (kept alive here).
    """

    def __init__(self, root: tk.Tk, commands: Commands, tips: Tooltips) -> None:
        self.root = root
        self.commands = commands
        self.menus: dict[str, tk.Menu] = {}
        self.submenus: dict[str, tk.Menu] = {}
        self.buttons: dict[str, ttk.Button] = {}
        self.icons: list[tk.PhotoImage] = []
        self._entries: dict[str, tuple[tk.Menu, int]] = {}
        self._cascades: dict[str, Cascade] = {}
        self._shown: dict[str, tuple[bool, str]] = {}  # (enabled, label) now on screen
        self.toolbar = self._build_toolbar(tips)
        self._build_menus()
        for seq, cmd in commands.keys().items():
            root.bind_all(seq, lambda e, cmd=cmd: self._on_key(cmd))

    # -- building -------------------------------------------------------------------
    def _build_toolbar(self, tips: Tooltips) -> ttk.Frame:
        bar = ttk.Frame(self.root, style="Toolbar.TFrame", padding=(4, 3))
        bar.pack(side="top", fill="x")
        home = None
        for cmd in self.commands.toolbar():
            if home is not None and cmd.menu != home:
                ttk.Separator(bar, orient="vertical").pack(side="left", fill="y", padx=6, pady=2)
            home = cmd.menu
            text = cmd.toolbar or ""
            icon = theme.toolbar_icon(self.root, cmd.id)
            if icon is not None:
                self.icons.append(icon)
                text = text.split(" ", 1)[-1]  # the icon replaces "▶" or "■"
                button = ttk.Button(bar, text=text, command=cmd.handler, style="Toolbutton",
                                    image=icon, compound="left")
            else:
                button = ttk.Button(bar, text=text, command=cmd.handler, style="Toolbutton")
            button.pack(side="left", padx=1)
            self._shown[cmd.id] = (cmd.enabled(), cmd.caption())
            if not self._shown[cmd.id][0]:
                button.state(["disabled"])
            if cmd.tip:
                tips.add(button, cmd.tip)
            self.buttons[cmd.id] = button
        return bar

    def _build_menus(self) -> None:
        self.root.option_add("*tearOff", False)
        bar = tk.Menu(self.root)
        for name in MENUS:
            items = self.commands.menu(name)
            if not items:
                continue
            menu = self.menus[name] = tk.Menu(bar)
            group = items[0].group
            for item in items:
                if item.group != group:
                    menu.add_separator()
                group = item.group
                if isinstance(item, Cascade):
                    self._add_cascade(menu, item)
                else:
                    self._add_entry(menu, item)
            bar.add_cascade(label=name, menu=menu)
        self.root.configure(menu=bar)

    def _add_entry(self, menu: tk.Menu, cmd: Command) -> None:
        shown = self._shown[cmd.id] = (cmd.enabled(), cmd.caption())
        menu.add_command(label=shown[1], accelerator=cmd.accelerator, command=cmd.handler,
                         state="normal" if shown[0] else "disabled")
        self._entries[cmd.id] = (menu, int(menu.index("end") or 0))

    def _add_cascade(self, menu: tk.Menu, cascade: Cascade) -> None:
        sub = tk.Menu(menu)
        sub.configure(postcommand=lambda: self.fill(cascade.id))
        self.submenus[cascade.id] = sub
        self._cascades[cascade.id] = cascade
        menu.add_cascade(label=cascade.label, menu=sub)
        self.fill(cascade.id)

    def fill(self, cascade_id: str) -> None:
        """List the cascade's entries anew (done each time it opens)."""
        sub = self.submenus[cascade_id]
        sub.delete(0, "end")
        for label, handler in self._cascades[cascade_id].entries():
            if handler is None:
                sub.add_command(label=label, state="disabled")
            else:
                sub.add_command(label=label, command=handler)

    # -- keys and states ----------------------------------------------------------------
    def _on_key(self, cmd: Command) -> str | None:
        if not cmd.in_text and _in_text(self.root):
            return None  # the text field's own binding applies
        cmd.handler()
        return "break"

    def refresh(self) -> None:
        """Re-evaluate every tester and label; update what changed on screen."""
        for cmd in self.commands.commands():
            if cmd.id not in self._shown:  # keys only: nothing on screen
                continue
            now = (cmd.enabled(), cmd.caption())
            if self._shown[cmd.id] == now:
                continue
            self._shown[cmd.id] = now
            on, label = now
            button = self.buttons.get(cmd.id)
            if button is not None:
                button.state(["!disabled"] if on else ["disabled"])
            entry = self._entries.get(cmd.id)
            if entry is not None:
                menu, index = entry
                menu.entryconfigure(index, label=label, state="normal" if on else "disabled")
