"""The Data tab: the last results of the selected node, or the items waiting on a pipe.

Rows come from :meth:`papy_gui.model.run_data.RunData.items` (the engine's
peek buffer), newest last: index, type, size and a one-line preview
(:mod:`papy_gui.model.preview`); placeholders are red; a list, tuple, set
or dict opens into its parts (filled when opened, at most 200 per level);
"Show all" (or a double click) shows one value whole in a window.

Drawn from the window's tick (:meth:`DataView.drain`) only while the tab is
on screen, and only when RunData hands over a new :class:`Items`: rows
that stay are left alone, gone ones deleted with one call, new ones
appended with one call (:func:`tree_rows.insert_rows`: each Tcl call may
wait a GIL switch interval mid-run).
"""
from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from tkinter import ttk
from typing import Any

from papy_engine import is_placeholder

from ..model import preview
from ..model.run_data import Items, RunData, Target
from .highlight import MONO
from .tree_rows import Row, insert_rows

COLUMNS = (("type", "Type", 110), ("size", "Size", 90), ("value", "Value", 520))
HINT = "Select a node on the canvas to see its last results, or a pipe for the items on it."
_DUMMY = "…"  # the child that makes a closed container show its open arrow


class DataView(ttk.Frame):
    """The Data tab (see the module docstring); ``target()`` is what the canvas selects."""

    def __init__(self, master: tk.Misc, data: RunData,
                 target: Callable[[], Target | None]) -> None:
        super().__init__(master)
        self.data = data
        self.target = target
        self.visible = False
        self._items: Items | None = None
        self._run_id = -1
        self._shown: list[int] = []               # the indexes of the rows drawn, in order
        self._values: dict[str, Any] = {}          # tree item -> the value it shows
        bar = ttk.Frame(self)
        bar.pack(fill="x", pady=2)
        self.note = ttk.Label(bar, text=HINT, style="Hint.TLabel")
        self.note.pack(side="left", padx=6)
        self.show_all_button = ttk.Button(bar, text="Show all", command=self._cmd_show_all)
        self.show_all_button.pack(side="right", padx=4)
        self.tree = ttk.Treeview(self, columns=[c for c, _, _ in COLUMNS], height=6)
        self.tree.heading("#0", text="#")
        self.tree.column("#0", width=110, stretch=False)
        for key, title, width in COLUMNS:
            self.tree.heading(key, text=title, anchor="w")
            self.tree.column(key, width=width, anchor="w", stretch=key == "value")
        scroll = ttk.Scrollbar(self, command=self.tree.yview)
        self.tree.configure(yscrollcommand=scroll.set)
        scroll.pack(side="right", fill="y")
        self.tree.pack(fill="both", expand=True)
        self.tree.tag_configure("error", foreground="#c0392b")
        self.tree.tag_configure("more", foreground="#8a8f98")
        self.tree.bind("<<TreeviewOpen>>", self._on_open)
        self.tree.bind("<Double-Button-1>", self._on_double)

    # -- drawing ------------------------------------------------------------------------
    def drain(self) -> None:
        """Show what the selected node or pipe holds now (if the tab is on screen)."""
        if not self.visible:
            return
        items = self.data.items(self.target())
        if items is self._items and self._run_id == self.data.run_id:
            return
        old, self._items = self._items, items
        if old is None or old.target != items.target or self._run_id != self.data.run_id:
            self._run_id = self.data.run_id
            self.tree.delete(*self.tree.get_children())
            self._shown, self._values = [], {}
        self.note.configure(text=items.note or HINT)
        self._update_rows(items.rows)

    def _update_rows(self, rows: list[tuple[int, Any]]) -> None:
        """Keep the rows still there, delete the older ones, append the new ones."""
        keep = {i for i, _ in rows}
        gone = [i for i in self._shown if i not in keep]
        last = self._shown[-1] if self._shown else -1
        if any(i < last and i not in self._shown for i in keep):
            gone, last = list(self._shown), -1  # not a sliding window: draw them all again
        if gone:
            self.tree.delete(*(f"r{i}" for i in gone))
            dropped = set(gone)
            self._shown = [i for i in self._shown if i not in dropped]
            self._values = {k: v for k, v in self._values.items()
                            if int(k[1:].split("/")[0]) not in dropped}
        new = [(index, value) for index, value in rows if index > last]
        if not new:
            return
        # follow the newest rows, unless the user scrolled up to read older ones
        follow = not self._shown or self.tree.yview()[1] >= 0.999
        insert_rows(self.tree, [self._row("", f"r{index}", str(index), value)
                                for index, value in new])
        self._shown += [index for index, _ in new]
        if follow:
            self.tree.see(f"r{new[-1][0]}")

    def _row(self, parent: str, iid: str, label: str, value: Any) -> Row:
        """The tree row of ``value`` (and remember the value for Show all)."""
        self._values[iid] = value
        return (parent, "end", iid, label,
                (preview.type_name(value), preview.size_text(value), preview.preview(value)),
                ("error",) if is_placeholder(value) else (),
                f"{iid}/{_DUMMY}" if preview.expandable(value) else "")

    def _on_open(self, _event: tk.Event) -> None:
        iid = self.tree.focus()
        dummy = f"{iid}/{_DUMMY}"
        if not iid or not self.tree.exists(dummy):
            return
        self.tree.delete(dummy)
        parts, more = preview.children(self._values.get(iid))
        insert_rows(self.tree, [self._row(iid, f"{iid}/{k}", label, part)
                                for k, (label, part) in enumerate(parts)])
        if more:
            self.tree.insert(iid, "end", iid=f"{iid}/more", text="…", tags=("more",),
                             values=("", "", f"{more:,} more not listed (Show all shows "
                                             "the whole value)"))

    # -- show all -------------------------------------------------------------------------
    def selected_value(self) -> tuple[str, Any] | None:
        """(what it is, the value) of the selected row, or None."""
        iid = self.tree.focus() or next(iter(self.tree.selection()), "")
        if iid not in self._values:
            return None
        path = [self.tree.item(iid, "text")]
        parent = self.tree.parent(iid)
        while parent:
            path.insert(0, self.tree.item(parent, "text"))
            parent = self.tree.parent(parent)
        where = self._items.target if self._items is not None else None
        name = where if isinstance(where, str) else f"{where[0]} → {where[1]}" if where else ""
        return f"{name} result {path[0]}" + "".join(path[1:]), self._values[iid]

    def _cmd_show_all(self) -> tk.Toplevel | None:
        chosen = self.selected_value()
        if chosen is None:
            self.note.configure(text="Select a row first, then Show all.")
            return None
        title, value = chosen
        return show_value(self, title, preview.full_text(value))

    def _on_double(self, event: tk.Event) -> str | None:
        if self.tree.identify_region(event.x, event.y) in ("cell", "tree"):
            self.tree.focus(self.tree.identify_row(event.y))
            self._cmd_show_all()
            return "break"
        return None


def show_value(master: tk.Misc, title: str, text: str) -> tk.Toplevel:
    """A window showing ``text`` whole (monospaced, read-only); Escape closes it."""
    top = tk.Toplevel(master)
    top.title(title)
    top.transient(master.winfo_toplevel())
    frame = ttk.Frame(top, padding=8)
    frame.pack(fill="both", expand=True)
    body = tk.Text(frame, width=100, height=28, wrap="char", font=MONO, background="#fbfbfc")
    bar = ttk.Scrollbar(frame, command=body.yview)
    body.configure(yscrollcommand=bar.set)
    ttk.Button(frame, text="Close", command=top.destroy).pack(side="bottom", anchor="e",
                                                               pady=(6, 0))
    bar.pack(side="right", fill="y")
    body.pack(fill="both", expand=True)
    body.insert("1.0", text)
    body.configure(state="disabled")
    top.bind("<Escape>", lambda e: top.destroy())
    top.focus_set()
    return top
