"""The per-node statistics table (a Treeview fed by RunState snapshots).

State and items/s come from ``RunState.node_state`` / ``throughput``, the
same calls the canvas uses, so the two never disagree. The last column is
each node's throughput over the run as a sparkline of block characters
(``RunState.history``: a stall is a flat ``▁`` line, a node not working yet
or any more is blank) -- text in the row itself, so it scrolls and sorts
with it and costs no drawing of its own."""
from __future__ import annotations

import tkinter as tk
from tkinter import ttk

from ..model.events import RunStateEvent
from ..model.run_state import RunState

COLUMNS = (("in", "In", 60), ("out", "Out", 60), ("errors", "Errors", 60),
           ("timeouts", "Timeouts", 70), ("busy_s", "Busy s", 70),
           ("throughput", "Items/s", 80), ("state", "State", 90),
           ("trend", "Items/s over the run", 240))


class StatsView(ttk.Frame):
    def __init__(self, master: tk.Misc, run_state: RunState) -> None:
        super().__init__(master)
        self.run_state = run_state
        self.summary = ttk.Label(self, text="Not run yet.", style="Hint.TLabel")
        self.summary.pack(anchor="w", padx=6, pady=2)
        self.tree = ttk.Treeview(self, columns=[c for c, _, _ in COLUMNS], height=6)
        self.tree.heading("#0", text="Node")
        self.tree.column("#0", width=160)
        for key, title, width in COLUMNS:
            self.tree.heading(key, text=title)
            self.tree.column(key, width=width, anchor="w" if key == "trend" else "e",
                             stretch=key == "trend")
        self.tree.pack(fill="both", expand=True)
        self.tree.tag_configure("errors", foreground="#c0392b")
        self._shown: dict[str, tuple] = {}  # row values drawn, so unchanged rows cost no Tcl call
        self._summary = ""
        run_state.subscribe(self._on_run)

    def _on_run(self, event: RunStateEvent, data: dict) -> None:
        if event in ("stats", "state", "error"):
            self.refresh()

    @staticmethod
    def _fmt(key: str, value) -> str:
        if isinstance(value, float):
            return f"{value:.2f}" if key != "throughput" else f"{value:.1f}"
        return "" if value is None else str(value)

    def refresh(self) -> None:
        rs = self.run_state
        elapsed = rs.stats.get("elapsed_s")
        text = f"State: {rs.state}"
        if isinstance(elapsed, (int, float)):
            text += f"   elapsed {elapsed:.1f} s"
            paused = rs.paused_s
            if paused >= 0.05:
                text += f" (paused {paused:.1f} s)"
        if rs.message:
            text += f"   {rs.message}"
        if text != self._summary:
            self._summary = text
            self.summary.configure(text=text)
        shown = self._shown
        for name, s in rs.pipers.items():
            shown_now = dict(s, state=rs.node_state(name), throughput=rs.throughput(name),
                             trend=rs.history.sparkline(name))
            values = tuple(self._fmt(k, shown_now.get(k)) for k, _, _ in COLUMNS)
            tags = ("errors",) if s.get("errors") else ()
            if name not in shown:
                self.tree.insert("", "end", iid=name, text=name, values=values, tags=tags)
            elif shown[name] != (values, tags):
                self.tree.item(name, values=values, tags=tags)
            shown[name] = (values, tags)
        for iid in [n for n in shown if n not in rs.pipers]:
            self.tree.delete(iid)
            del shown[iid]

    def row(self, name: str) -> dict:
        values = self.tree.item(name, "values")
        return {k: v for (k, _, _), v in zip(COLUMNS, values)}
