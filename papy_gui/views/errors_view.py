"""The Errors tab: every error of the run, by node, filterable; a traceback per error.

The rows are the placeholders the engine kept per node (``Plumber.errors``,
the first 1,000 of each; read through :class:`~papy_gui.model.run_data.RunData`
when their count grows): one group per node, one row per error (item
index, exception, message). Node and text filters narrow them; selecting
one shows its traceback and the inbox it failed on. "Debug in console"
(``debug``) reruns that item under pdb in the console.

Drawn from the window's tick (:meth:`ErrorsView.drain`) while the tab is on
screen, at most :data:`DRAW_MAX` new rows per tick; the lists only grow
during a run, so new rows are appended and nothing is redrawn.
"""
from __future__ import annotations

import bisect
import tkinter as tk
from collections.abc import Callable
from tkinter import ttk
from typing import Any

from ..model import preview
from ..model.run_data import MAX_ERRORS, RunData
from .highlight import MONO, TRACEBACK, highlight, setup_tags
from .tree_rows import Row, insert_rows

DRAW_MAX = 300
ALL = "(all nodes)"
COLUMNS = (("exception", "Exception", 130), ("message", "Message", 360))


class ErrorsView(ttk.Frame):
    """The Errors tab (see the module docstring)."""

    def __init__(self, master: tk.Misc, data: RunData, debug: Callable[[], object]) -> None:
        super().__init__(master)
        self.data = data
        self.visible = False
        self._run_id = -1
        self._scanned: dict[str, int] = {}   # node -> errors looked at (drawn if they pass)
        self._rows: dict[str, Any] = {}      # row iid -> the placeholder
        self._order: dict[str, list[int]] = {}  # node -> item indexes of its rows, sorted
        self._filter = (ALL, "")            # (node, search text) the rows were drawn with
        self._nodes: tuple[str, ...] = (ALL,)  # the node box's values
        bar = ttk.Frame(self)
        bar.pack(fill="x", pady=2)
        ttk.Label(bar, text="Node").pack(side="left", padx=(4, 2))
        self.node = tk.StringVar(value=ALL)
        self.node_box = ttk.Combobox(bar, textvariable=self.node, values=(ALL,), width=16,
                                     state="readonly")
        self.node_box.pack(side="left")
        self.node_box.bind("<<ComboboxSelected>>", lambda e: self.refilter())
        ttk.Label(bar, text="Search").pack(side="left", padx=(8, 2))
        self.search = tk.StringVar()
        ttk.Entry(bar, textvariable=self.search, width=22).pack(side="left")
        self.search.trace_add("write", lambda *_: self.refilter())
        self.debug_button = ttk.Button(bar, text="Debug in console", command=debug,
                                       state="disabled")
        self.debug_button.pack(side="right", padx=4)
        self.count = ttk.Label(bar, text="No errors.", style="Hint.TLabel")
        self.count.pack(side="left", padx=10)
        pane = ttk.PanedWindow(self, orient="horizontal")
        pane.pack(fill="both", expand=True)
        left = ttk.Frame(pane)
        self.tree = ttk.Treeview(left, columns=[c for c, _, _ in COLUMNS], height=6)
        self.tree.heading("#0", text="Node / item", anchor="w")
        self.tree.column("#0", width=150, stretch=False)
        for key, title, width in COLUMNS:
            self.tree.heading(key, text=title, anchor="w")
            self.tree.column(key, width=width, anchor="w", stretch=key == "message")
        self.tree.tag_configure("error", foreground="#c0392b")
        scroll = ttk.Scrollbar(left, command=self.tree.yview)
        self.tree.configure(yscrollcommand=scroll.set)
        scroll.pack(side="right", fill="y")
        self.tree.pack(fill="both", expand=True)
        self.tree.bind("<<TreeviewSelect>>", self._on_select)
        pane.add(left, weight=1)
        self.detail = tk.Text(pane, height=8, width=60, wrap="none", font=(MONO[0], 9),
                              background="#fbfbfc", padx=6, pady=4)
        setup_tags(self.detail)
        self.detail.tag_configure("heading", font=(MONO[0], 9, "bold"))
        pane.add(self.detail, weight=1)
        self._set_detail(None)

    # -- rows -----------------------------------------------------------------------------
    def _passes(self, node: str, err: Any, node_filter: str, search: str) -> bool:
        if node_filter not in (ALL, "", node):
            return False
        if not search:
            return True
        text = f"{node} {err.index} {err.exc_type} {err.message}".lower()
        return search in text

    def drain(self) -> None:
        """Append the errors read since the last call (if the tab is on screen)."""
        if self.data.run_id != self._run_id:
            self._run_id = self.data.run_id
            self._clear()
        if not self.visible:
            return
        self.data.sync_errors()
        self._append(DRAW_MAX)

    def _append(self, budget: int) -> None:
        node_filter, search = self._filter
        changed = False
        rows: list[Row] = []  # inserted in one Tcl call, in this order
        groups: list[str] = []  # nodes whose group row is new
        for node, errors in self.data.errors.items():
            start = self._scanned.get(node, 0)
            if start >= len(errors) or budget <= 0:
                continue
            end = min(len(errors), start + budget)
            for k in range(start, end):
                err = errors[k]
                if not self._passes(node, err, node_filter, search):
                    continue
                if node not in self._order:
                    self._order[node] = []
                    groups.append(node)
                    rows.append(("", "end", node, node, (), ("error",), ""))
                # rows in item order: a parallel node's errors arrive in completion order
                key = -1 if err.index is None else err.index
                order = self._order[node]
                at = bisect.bisect(order, key)
                order.insert(at, key)
                iid = f"{node}#{k}"
                rows.append((node, at, iid, f"item {'?' if key < 0 else key}",
                             (err.exc_type, preview.preview(err.message, 200)), (), ""))
                self._rows[iid] = err
                budget -= 1
            self._scanned[node] = end
            changed = True
        insert_rows(self.tree, rows)
        for node in groups:
            self.tree.item(node, open=True)
        if changed:
            self._update_counts()

    def _update_counts(self) -> None:
        names = [n for n, errs in self.data.errors.items() if errs]
        values = (ALL, *names)
        if self._nodes != values:
            self._nodes = values
            self.node_box.configure(values=values)
        total = sum(self.data.error_total(n) for n in names)
        kept = sum(len(self.data.errors[n]) for n in names)
        text = f"{total:,} error(s) at {len(names)} node(s)"
        if kept < total:
            text += f"; the first {MAX_ERRORS:,} of each node are listed"
        self.count.configure(text=text if names else "No errors.")

    def _clear(self) -> None:
        self.tree.delete(*self.tree.get_children())
        self._scanned, self._rows, self._order = {}, {}, {}
        self._nodes = (ALL,)
        self.node_box.configure(values=self._nodes)
        self.count.configure(text="No errors.")
        self._set_detail(None)

    def refilter(self) -> None:
        """Draw the rows again under the current filters."""
        self._filter = (self.node.get(), self.search.get().strip().lower())
        self.tree.delete(*self.tree.get_children())
        self._scanned, self._rows, self._order = {}, {}, {}
        self._set_detail(None)
        self._append(MAX_ERRORS * max(1, len(self.data.errors)))

    def show_node(self, node: str | None) -> None:
        """Filter to ``node`` (None: all) and select its first error."""
        self.data.sync_errors()
        self.search.set("")
        self.node.set(node or ALL)
        self.refilter()
        first = self.tree.get_children(node) if node and self.tree.exists(node) else ()
        if first:
            self.tree.selection_set(first[0])
            self.tree.focus(first[0])
            self.tree.see(first[0])
        elif node and (failed := self.data.run_state.failure_at(node)) is not None:
            self.count.configure(text=f"No item of {node} became an error: the run itself "
                                      f"failed there ({failed['exc_type']}: "
                                      f"{failed['message']}); the Log tab has the traceback.")
        elif node:
            self.count.configure(text=f"No error details of {node} reached the editor "
                                      "(its count is in the Statistics tab).")

    # -- the selected error -------------------------------------------------------------
    def selected_error(self) -> Any:
        """The placeholder of the selected row, or None."""
        sel = self.tree.selection()
        return self._rows.get(sel[0]) if sel else None

    def _on_select(self, _event: tk.Event | None = None) -> None:
        err = self.selected_error()
        self._set_detail(err)
        self.debug_button.state(["!disabled"] if err is not None and err.inbox is not None
                                else ["disabled"])

    def _set_detail(self, err: Any) -> None:
        if err is None:
            self.debug_button.state(["disabled"])
        t = self.detail
        t.configure(state="normal")
        t.delete("1.0", "end")
        if err is None:
            t.insert("1.0", "Select an error to see its traceback and the inbox it failed on.")
        else:
            where = f"item {err.index}" if err.index is not None else "an item"
            func = f", function {err.function}" if err.function else ""
            t.insert("end", f"{err.exc_type}: {err.message}\n", ("heading",))
            t.insert("end", f"{type(err).__name__} at {err.piper}, {where}{func}\n")
            if err.inbox is not None:
                t.insert("end", f"inbox: {preview.preview(err.inbox, 300)}\n")
            else:
                t.insert("end", f"inbox not kept: {err.inbox_note or 'unknown'}\n")
            t.insert("end", "\n")
            start = t.index("end-1c")
            t.insert("end", err.traceback or "(no traceback)")
            highlight(t, start, "end-1c", TRACEBACK)
        t.configure(state="disabled")
