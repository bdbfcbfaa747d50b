"""The Output tab: what node functions printed, in order per node, each line marked
with its node's name.

Lines come from the run's :class:`~papy_gui.model.output_log.OutputLog`
(bounded: the last 5,000 lines). :meth:`OutputView.drain`, called from the
window's tick while the tab is on screen, draws the new ones with one
``insert``; a burst of more than :data:`DRAW_MAX` lines in one tick draws
the last of them and a note, and the whole view is drawn again once the
burst is over (as the Log tab does, benchmarks/gui.md); while lines keep
coming it draws at most every :data:`DRAW_PERIOD`. A node filter shows one
node's lines.
"""
from __future__ import annotations

import time
import tkinter as tk
from tkinter import ttk

from ..model.output_log import LINES
from ..model.run_data import RunData
from .highlight import MONO

DRAW_MAX = 200      # lines drawn at most per draw
DRAW_PERIOD = 0.1   # seconds between two draws while lines keep coming
QUIET_S = 0.5       # after a burst, the whole view is drawn once this long passed
ALL = "(all nodes)"
_NAV_KEYS = {"Up", "Down", "Left", "Right", "Prior", "Next", "Home", "End"}


def _read_only_key(event: tk.Event) -> str | None:
    if event.keysym in _NAV_KEYS or (event.state & 0x4 and event.keysym.lower() in ("c", "a")):
        return None
    return "break"


class OutputView(ttk.Frame):
    """The Output tab (see the module docstring)."""

    def __init__(self, master: tk.Misc, data: RunData) -> None:
        super().__init__(master)
        self.data = data
        self.visible = False
        self._run_id = -1
        self._seq = 0        # the last line of the log drawn (or skipped)
        self._lines = 0      # lines in the Text
        self._gap = False    # a burst was not drawn whole
        self._drawn_at = 0.0
        self._older: list[tuple[int, str, str]] = []  # lines still to draw above (redraw)
        self._node = ALL
        self._nodes: tuple[str, ...] = (ALL,)
        bar = ttk.Frame(self)
        bar.pack(fill="x", pady=2)
        ttk.Label(bar, text="Node").pack(side="left", padx=(4, 2))
        self.node = tk.StringVar(value=ALL)
        self.node_box = ttk.Combobox(bar, textvariable=self.node, values=self._nodes, width=16,
                                     state="readonly")
        self.node_box.pack(side="left")
        self.node_box.bind("<<ComboboxSelected>>", lambda e: self._on_node())
        self.count = ttk.Label(bar, text=f"What node functions print (the last {LINES:,} "
                                         "lines).", style="Hint.TLabel")
        self.count.pack(side="left", padx=10)
        self.text = tk.Text(self, height=8, wrap="none", font=(MONO[0], 9),
                            background="#fbfbfc", padx=6, pady=2)
        self.text.bind("<Key>", _read_only_key)
        for seq in ("<<Paste>>", "<<Cut>>", "<<Clear>>", "<<PasteSelection>>"):
            self.text.bind(seq, lambda e: "break")
        scroll = ttk.Scrollbar(self, command=self.text.yview)
        self.text.configure(yscrollcommand=scroll.set)
        scroll.pack(side="right", fill="y")
        self.text.pack(fill="both", expand=True)
        self.text.tag_configure("node", foreground="#1f78d1")
        self.text.tag_configure("note", foreground="#8a8f98")

    def drain(self) -> int:
        """Draw the lines printed since the last call (if the tab is on screen and
        :data:`DRAW_PERIOD` has passed); returns how many were drawn."""
        out = self.data.output
        if self.data.run_id != self._run_id:
            self._run_id = self.data.run_id
            self._seq, self._gap = 0, False
            self._clear()
        if not self.visible:
            return 0
        if self._older:
            self._draw_older()
        now = time.monotonic()
        if out.seq == self._seq:
            if self._gap and now - self._drawn_at >= QUIET_S:
                self.redraw()  # the burst is over: draw the whole bounded view
            return 0
        if now - self._drawn_at < DRAW_PERIOD:
            return 0
        self._drawn_at = now
        lines, missing = out.since(self._seq, DRAW_MAX)
        self._seq = out.seq
        self._update_nodes()
        if self._node != ALL:
            lines = [line for line in lines if line[1] == self._node]
        if missing:
            self._gap = True
            lines.insert(0, (0, "", f"… {missing:,} lines not drawn while they arrive this "
                                    "fast (the view is drawn whole when they slow down)"))
        self._draw(lines)
        return len(lines)

    @staticmethod
    def _pairs(lines: list[tuple[int, str, str]]) -> list:
        """(text, tags) pairs for one ``Text.insert`` of ``lines``."""
        pairs: list = []
        for _, node, text in lines:
            if node:
                pairs += [f"[{node}] ", "node", text + "\n", ()]
            else:
                pairs += [text + "\n", "note"]
        return pairs

    def _draw(self, lines: list[tuple[int, str, str]]) -> None:
        if not lines:
            return
        t = self.text
        at_end = t.yview()[1] >= 0.999
        t.insert("end", *self._pairs(lines))
        self._lines += len(lines)
        excess = self._lines - LINES
        if excess > 0:
            t.delete("1.0", f"{excess + 1}.0")
            self._lines -= excess
        if at_end:
            t.see("end")

    def _clear(self) -> None:
        self.text.delete("1.0", "end")
        self._lines = 0
        self._older = []

    def redraw(self) -> None:
        """Draw every line the log keeps that passes the node filter: the newest at
        once, the older ones :data:`DRAW_MAX` per drain above them (a full view is
        5,000 lines: one insert of them all would hold the window for a while)."""
        self._gap = False
        self._clear()
        self._seq = self.data.output.seq
        lines = list(self.data.output.lines)
        if self._node != ALL:
            lines = [line for line in lines if line[1] == self._node]
        self._older = lines[:-DRAW_MAX]
        self._draw(lines[-DRAW_MAX:])

    def _draw_older(self) -> None:
        """Draw a chunk of the lines still missing above the view (see redraw)."""
        room = min(DRAW_MAX, LINES - self._lines)
        chunk = self._older[-room:] if room > 0 else []
        self._older = self._older[:-room] if room > 0 and len(self._older) > room else []
        if chunk:
            self.text.insert("1.0", *self._pairs(chunk))
            self._lines += len(chunk)

    def _update_nodes(self) -> None:
        values = (ALL, *self.data.output.nodes)
        if values != self._nodes:
            self._nodes = values
            self.node_box.configure(values=values)

    def _on_node(self) -> None:
        self._node = self.node.get()
        self.redraw()

    def lines(self) -> list[str]:
        return self.text.get("1.0", "end-1c").splitlines()
