"""The live log view: a logging.Handler that only enqueues, and a bounded Text.

Any thread may log; ``QueueLogHandler.emit`` puts a plain dict on a
SimpleQueue and returns. The Tk thread calls ``LogView.drain()`` from the
app's ``after`` loop. The view keeps the last ``limit`` records (re-filtered
on demand by level, node and search text), colours them by level, and
autoscrolls unless the user scrolled up. Clicking a record that names a
node selects that node.
"""
from __future__ import annotations

import logging
import queue
import re
import time
import tkinter as tk
from collections import deque
from collections.abc import Callable
from tkinter import ttk

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
COLORS = {"DEBUG": "#8a8f98", "INFO": "#1d2935", "WARNING": "#b36b00", "ERROR": "#c0392b",
          "CRITICAL": "#c0392b"}
_NODE_RE = re.compile(r"piper '([A-Za-z_][\w]*)'|node '([A-Za-z_][\w]*)'")


class QueueLogHandler(logging.Handler):
    """Turns records into plain dicts on a queue (never blocks, never touches Tk)."""

    def __init__(self, level: int = logging.INFO) -> None:
        super().__init__(level)
        self.queue: queue.SimpleQueue = queue.SimpleQueue()
        self.file: str | None = None

    def emit(self, record: logging.LogRecord) -> None:
        try:
            msg = record.getMessage()
            if record.exc_info and record.levelno >= logging.ERROR:
                msg += "\n" + logging.Formatter().formatException(record.exc_info)
            node = getattr(record, "piper", None)
            if node is None:
                m = _NODE_RE.search(msg)
                node = (m.group(1) or m.group(2)) if m else None
            self.queue.put({"time": record.created, "level": record.levelname,
                            "name": record.name, "message": msg, "node": node})
        except Exception:
            self.handleError(record)


class LogView(ttk.Frame):
    def __init__(self, master: tk.Misc, handler: QueueLogHandler, limit: int = 5000,
                 select_node: Callable[[str], None] | None = None) -> None:
        super().__init__(master)
        self.handler = handler
        self.records: deque[dict] = deque(maxlen=limit)
        self.select_node = select_node
        self.file = None
        bar = ttk.Frame(self)
        bar.pack(fill="x", pady=2)
        ttk.Label(bar, text="Level").pack(side="left", padx=(4, 2))
        self.level = tk.StringVar(value="INFO")
        lv = ttk.Combobox(bar, textvariable=self.level, values=LEVELS, width=9, state="readonly")
        lv.pack(side="left")
        lv.bind("<<ComboboxSelected>>", lambda e: self.refilter())
        ttk.Label(bar, text="Node").pack(side="left", padx=(8, 2))
        self.node = tk.StringVar()
        ttk.Entry(bar, textvariable=self.node, width=14).pack(side="left")
        ttk.Label(bar, text="Search").pack(side="left", padx=(8, 2))
        self.search = tk.StringVar()
        ttk.Entry(bar, textvariable=self.search, width=18).pack(side="left")
        for var in (self.node, self.search):
            var.trace_add("write", lambda *_: self.refilter())
        ttk.Button(bar, text="Clear", command=self.clear).pack(side="right", padx=4)
        self.text = tk.Text(self, height=8, wrap="none", font=("DejaVu Sans Mono", 9),
                            background="#fbfbfc", padx=6, pady=2, state="disabled", cursor="arrow")
        scroll = ttk.Scrollbar(self, command=self.text.yview)
        self.text.configure(yscrollcommand=scroll.set)
        scroll.pack(side="right", fill="y")
        self.text.pack(fill="both", expand=True)
        for level, color in COLORS.items():
            self.text.tag_configure(level, foreground=color)
        self.text.tag_configure("node", underline=True)
        self.text.bind("<Button-1>", self._on_click)
        self.shown = 0

    def set_file(self, path: str | None) -> None:
        """Also append every record to ``path`` (None stops)."""
        if self.file:
            self.file.close()
        self.file = open(path, "a", encoding="utf-8") if path else None  # noqa: SIM115

    def _passes(self, r: dict) -> bool:
        lvl = LEVELS.index(r["level"]) if r["level"] in LEVELS else 3
        if lvl < LEVELS.index(self.level.get()):
            return False
        node = self.node.get().strip()
        if node and r.get("node") != node:
            return False
        s = self.search.get().strip().lower()
        return not s or s in r["message"].lower()

    def drain(self, limit: int = 200) -> int:
        """Move up to ``limit`` queued records into the view (Tk thread only)."""
        batch = []
        for _ in range(limit):
            try:
                batch.append(self.handler.queue.get_nowait())
            except queue.Empty:
                break
        if batch:
            self.records.extend(batch)
            if self.file:
                for r in batch:
                    self.file.write(self._line(r))
                self.file.flush()
            self._append([r for r in batch if self._passes(r)])
        return len(batch)

    @staticmethod
    def _line(r: dict) -> str:
        stamp = time.strftime("%H:%M:%S", time.localtime(r["time"]))
        return f"{stamp} {r['level']:<7} {r['message']}\n"

    def _append(self, records: list[dict]) -> None:
        if not records:
            return
        at_end = self.text.yview()[1] >= 0.999
        t = self.text
        t.configure(state="normal")
        for r in records:
            tags = (r["level"], f"rec:{self.shown}") + (("node",) if r.get("node") else ())
            t.insert("end", self._line(r), tags)
            self._node_of = getattr(self, "_node_of", {})
            self._node_of[self.shown] = r.get("node")
            self.shown += 1
        excess = int(t.index("end-1c").split(".")[0]) - 1 - self.records.maxlen
        if excess > 0:
            t.delete("1.0", f"{excess + 1}.0")
        t.configure(state="disabled")
        if at_end:  # autoscroll only if the user had not scrolled up
            t.see("end")

    def refilter(self) -> None:
        self.text.configure(state="normal")
        self.text.delete("1.0", "end")
        self.text.configure(state="disabled")
        self._append([r for r in self.records if self._passes(r)])

    def clear(self) -> None:
        self.records.clear()
        self.refilter()

    def lines(self) -> list[str]:
        return self.text.get("1.0", "end-1c").splitlines()

    def _on_click(self, event: tk.Event) -> None:
        index = self.text.index(f"@{event.x},{event.y}")
        for tag in self.text.tag_names(index):
            if tag.startswith("rec:"):
                node = getattr(self, "_node_of", {}).get(int(tag[4:]))
                if node and self.select_node:
                    self.select_node(node)
