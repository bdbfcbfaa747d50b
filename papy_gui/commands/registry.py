"""The editor's commands, registered in one place (after Thonny's ``add_command``).

A command is an action with a home menu, a label, a handler, and optionally
an enabled-state *tester*, window-wide keys, and a toolbar button. Features
register theirs (``register(app)`` in each :mod:`papy_gui.commands` module);
the menu bar, the toolbar and the key bindings are then built from this
registry (:mod:`papy_gui.views.menubar`), and "which buttons are enabled"
is one re-evaluation of the testers. No tkinter here.

Order: menus appear in :data:`MENUS` order; a menu lists its commands in
registration order, with a separator between two ``group`` numbers; the
toolbar lists its buttons in registration order, with a separator between
two home menus.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

#: The menu bar, left to right.
MENUS = ("File", "Edit", "View", "Run", "Help")

_MODIFIERS = {"Control": "Ctrl", "Shift": "Shift", "Alt": "Alt"}
_KEYS = {"plus": "+", "equal": "=", "minus": "-"}


def key_label(sequence: str) -> str:
    """``"<Control-Shift-S>"`` -> ``"Ctrl+Shift+S"`` (how menus and Help spell a key)."""
    parts = sequence.strip("<>").split("-")
    mods = [_MODIFIERS[p] for p in parts[:-1]]
    key = _KEYS.get(parts[-1], parts[-1])
    if len(key) == 1:
        if key.isupper() and "Shift" not in mods:
            mods.append("Shift")
        key = key.upper()
    return "+".join(mods + [key])


@dataclass
class Command:
    """One action of the editor (see :meth:`Commands.add_command`)."""

    id: str
    menu: str
    label: str | Callable[[], str]
    handler: Callable[[], object]
    tester: Callable[[], bool] | None = None
    keys: tuple[str, ...] = ()
    accelerator: str = ""
    toolbar: str | None = None
    tip: str = ""
    group: int = 0
    in_menu: bool = True
    in_text: bool = True

    def enabled(self) -> bool:
        """What the tester says now (no tester: always)."""
        return self.tester is None or bool(self.tester())

    def caption(self) -> str:
        """The menu label now (a callable label is asked each time)."""
        return self.label() if callable(self.label) else self.label


@dataclass
class Cascade:
    """A submenu whose entries its feature lists when the menu opens.

    ``entries()`` gives ``(label, handler)`` pairs; a None handler is shown
    disabled (e.g. "(none)").
    """

    id: str
    menu: str
    label: str
    entries: Callable[[], list[tuple[str, Callable[[], object] | None]]]
    group: int = 0
    in_menu: bool = field(default=True, init=False)


class Commands:
    """The registry: ``add_command`` / ``add_cascade`` while the window is built."""

    def __init__(self) -> None:
        self._items: dict[str, Command | Cascade] = {}

    def add_command(self, id: str, menu: str, label: str | Callable[[], str],
                    handler: Callable[[], object], *, tester: Callable[[], bool] | None = None,
                    keys: tuple[str, ...] = (), accelerator: str | None = None,
                    toolbar: str | None = None, tip: str = "", group: int = 0,
                    in_menu: bool = True, in_text: bool = True) -> Command:
        """Register a command.

        Args:
            id: a unique name (also the toolbar icon's name, see ``theme.toolbar_icon``).
            menu: its home menu, one of :data:`MENUS`.
            label: the menu label, or a callable giving it (e.g. "Undo add node").
            handler: what it does (called without arguments).
            tester: whether it can run now; menu entry and toolbar button are
                disabled when it says no. Keys call ``handler`` anyway (handlers
                check their own preconditions).
            keys: window-wide Tk key sequences (``"<Control-n>"``).
            accelerator: the key shown in the menu; by default the first key's.
            toolbar: the toolbar button's caption; None keeps it off the toolbar.
            tip: the toolbar button's tooltip.
            group: menu section; a separator goes between two groups.
            in_menu: False for a toolbar-only command.
            in_text: False: its keys do nothing while a text field has the focus
                (text widgets keep their own Ctrl+Z).

        Raises:
            ValueError: a taken id or an unknown menu.
        """
        cmd = Command(id, menu, label, handler, tester, tuple(keys),
                      key_label(keys[0]) if accelerator is None and keys else accelerator or "",
                      toolbar, tip, group, in_menu, in_text)
        self._add(cmd)
        return cmd

    def add_cascade(self, id: str, menu: str, label: str,
                    entries: Callable[[], list[tuple[str, Callable[[], object] | None]]],
                    *, group: int = 0) -> Cascade:
        """Register a submenu of ``menu`` filled from ``entries()`` (see :class:`Cascade`)."""
        cascade = Cascade(id, menu, label, entries, group)
        self._add(cascade)
        return cascade

    def _add(self, item: Command | Cascade) -> None:
        if item.id in self._items:
            raise ValueError(f"command id {item.id!r} is already registered")
        if item.menu not in MENUS:
            raise ValueError(f"command {item.id!r}: menu must be one of {', '.join(MENUS)} "
                             f"(got {item.menu!r})")
        self._items[item.id] = item

    def __getitem__(self, id: str) -> Command:
        item = self._items[id]
        if not isinstance(item, Command):
            raise KeyError(f"{id!r} is a submenu, not a command")
        return item

    def __contains__(self, id: object) -> bool:
        return id in self._items

    def commands(self) -> list[Command]:
        return [c for c in self._items.values() if isinstance(c, Command)]

    def menu(self, name: str) -> list[Command | Cascade]:
        """The entries of menu ``name``, in order."""
        return [c for c in self._items.values() if c.menu == name and c.in_menu]

    def toolbar(self) -> list[Command]:
        """The commands with a toolbar button, in order."""
        return [c for c in self.commands() if c.toolbar is not None]

    def keys(self) -> dict[str, Command]:
        """Every window-wide key sequence and its command."""
        bound: dict[str, Command] = {}
        for cmd in self.commands():
            for seq in cmd.keys:
                if seq in bound:
                    raise ValueError(f"key {seq} is bound to both {bound[seq].id!r} "
                                     f"and {cmd.id!r}")
                bound[seq] = cmd
        return bound

    def invoke(self, id: str) -> object:
        """Run command ``id`` if its tester allows it; returns the handler's result
        (None when it is disabled)."""
        cmd = self[id]
        return cmd.handler() if cmd.enabled() else None
