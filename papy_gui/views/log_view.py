"""The live log view: a logging.Handler that only enqueues, and a bounded Text.

Any thread may log; ``QueueLogHandler.emit`` puts a plain dict on a
SimpleQueue and returns. The Tk thread calls ``LogView.drain()`` from the
app's ``after`` loop. The view keeps the last ``limit`` records (re-filtered
on demand by level, node and search text), colours them by level, and
autoscrolls unless the user scrolled up. Clicking a record that names a
node selects that node. "Log to file…" writes every record the view holds
to a file, then appends each new one until stopped.

Why drain() looks the way it does (benchmarks/gui.md): while engine threads
run Python code, every Tcl call made from the Tk thread releases the GIL and
may wait a whole switch interval (5 ms) to get it back. A drain that made a
few Tcl calls per record lagged the event loop by hundreds of ms, so a tick
takes the whole backlog in Python, keeps only what the bounded view can show,
and draws it with one ``insert`` of many (text, tags) pairs.
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

from .dialogs import Dialogs
from .text_window import log_text

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
COLORS = {"DEBUG": "#8a8f98", "INFO": "#1d2935", "WARNING": "#b36b00", "ERROR": "#c0392b",
          "CRITICAL": "#c0392b"}
_NODE_RE = re.compile(r"piper '([A-Za-z_][\w]*)'|node '([A-Za-z_][\w]*)'")
#: Records taken off the queue per drain: a bound on one tick's Python work.
DRAIN_MAX = 5000
#: Records drawn per drain; more than this in one tick leaves a gap line until
#: the queue has been quiet for QUIET_S, when the whole view is redrawn once.
DRAW_MAX = 400
QUIET_S = 0.5


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
    """The Log tab: filters, the bounded record view, "Log to file…"."""

    def __init__(self, master: tk.Misc, handler: QueueLogHandler, dialogs: Dialogs,
                 limit: int = 5000, select_node: Callable[[str], None] | None = None) -> None:
        super().__init__(master)
        self.handler = handler
        self.dialogs = dialogs
        self.limit = limit
        self.records: deque[dict] = deque(maxlen=limit)
        self.select_node = select_node
        self.file = None
        self.file_path: str | None = None
        # one entry per line of the Text: the node its record names (or None)
        self._line_nodes: deque[str | None] = deque()
        self._gap = False
        self._last_batch = 0.0
        self._stamp = (-1, "")
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
        self.file_button = ttk.Button(bar, text="Log to file…", command=self._cmd_log_file)
        self.file_button.pack(side="right", padx=4)
        self.file_label = ttk.Label(bar, text="", style="Hint.TLabel")
        self.file_label.pack(side="right", padx=4)
        self.text = log_text(self, cursor="arrow")
        for level, color in COLORS.items():
            self.text.tag_configure(level, foreground=color)
        self.text.tag_configure("node", underline=True)
        self.text.bind("<Button-1>", self._on_click)

    # -- log file -------------------------------------------------------------------
    def set_file(self, path: str | None) -> None:
        """Write the records held so far to ``path``, then append each new one
        (None stops). Records still queued are drawn first, so none is lost."""
        if self.file:
            self.file.close()
            self.file = None
        if path:
            while self.drain():  # what was logged before the click belongs to "so far"
                pass
        # "w": the save dialog asked before replacing an existing file
        self.file = open(path, "w", encoding="utf-8") if path else None  # noqa: SIM115
        if self.file is not None and self.records:
            self.file.write("".join(map(self._line, self.records)))
            self.file.flush()
        self.file_path = path or None
        self.file_label.configure(text=f"→ {path}" if path else "")
        self.file_button.configure(text="Stop logging to file" if path else "Log to file…")

    def _cmd_log_file(self) -> None:
        if self.file is not None:
            self.set_file(None)
            return
        path = self.dialogs.ask_save_path("Write the whole log to",
                                          [("Log files", "*.log"), ("All files", "*")],
                                          defaultextension=".log")
        if path:
            self.set_file(path)

    # -- records --------------------------------------------------------------------
    def _predicate(self) -> Callable[[dict], bool]:
        """The current level / node / search filter (Tk variables read once)."""
        min_level = LEVELS.index(self.level.get())
        node = self.node.get().strip()
        search = self.search.get().strip().lower()

        def passes(r: dict) -> bool:
            lvl = LEVELS.index(r["level"]) if r["level"] in LEVELS else 3
            return (lvl >= min_level and (not node or r.get("node") == node)
                    and (not search or search in r["message"].lower()))
        return passes

    def drain(self, limit: int = DRAIN_MAX) -> int:
        """Move up to ``limit`` queued records into the view (Tk thread only).

        Only the last ``self.limit`` records that pass the filters are drawn
        (older ones would scroll out of the bounded view anyway); the file,
        if any, gets them all.
        """
        get = self.handler.queue.get_nowait
        batch = []
        try:
            for _ in range(limit):
                batch.append(get())
        except queue.Empty:
            pass
        now = time.monotonic()
        if not batch:
            if self._gap and now - self._last_batch >= QUIET_S:
                self.refilter()  # the burst is over: draw the whole bounded view again
            return 0
        self._last_batch = now
        self.records.extend(batch)
        if self.file:
            self.file.write("".join(map(self._line, batch)))
            self.file.flush()
        shown = deque(filter(self._predicate(), batch), maxlen=self.limit)
        skipped = len(shown) - DRAW_MAX
        if skipped > 0:
            for _ in range(skipped):
                shown.popleft()
            self._gap = True
            shown.appendleft({"time": shown[0]["time"], "level": "DEBUG", "node": None,
                              "message": f"… {skipped} records not drawn while they arrive "
                                         "this fast (the view is redrawn when they slow down)"})
        self._append(shown)
        return len(batch)

    def _line(self, r: dict) -> str:
        sec = int(r["time"])
        if sec != self._stamp[0]:  # strftime per record is a third of a drain's cost
            self._stamp = (sec, time.strftime("%H:%M:%S", time.localtime(sec)))
        stamp = self._stamp[1]
        return f"{stamp} {r['level']:<7} {r['message']}\n"

    def _append(self, records) -> None:
        """Draw ``records`` at the end with one insert, then trim to ``limit`` lines."""
        if not records:
            return
        t = self.text
        at_end = t.yview()[1] >= 0.999
        pairs: list = []
        nodes = self._line_nodes
        for r in records:
            line, node = self._line(r), r.get("node")
            pairs += [line, (r["level"], "node") if node else r["level"]]
            nodes.extend([node] * line.count("\n"))
        t.insert("end", *pairs)
        excess = len(nodes) - self.limit
        if excess > 0:
            t.delete("1.0", f"{excess + 1}.0")
            for _ in range(excess):
                nodes.popleft()
        if at_end:  # autoscroll only if the user had not scrolled up
            t.see("end")

    def refilter(self) -> None:
        self._gap = False
        self.text.delete("1.0", "end")
        self._line_nodes.clear()
        self._append(list(filter(self._predicate(), self.records)))

    def clear(self) -> None:
        self.records.clear()
        self.refilter()

    @property
    def settled(self) -> bool:
        """Nothing waits on the queue and the view shows every kept record."""
        return self.handler.queue.empty() and not self._gap

    def lines(self) -> list[str]:
        return self.text.get("1.0", "end-1c").splitlines()

    def node_at(self, line: int) -> str | None:
        """The node named by the record drawn on text line ``line`` (1-based)."""
        return self._line_nodes[line - 1] if 0 < line <= len(self._line_nodes) else None

    def _on_click(self, event: tk.Event) -> None:
        line = int(self.text.index(f"@{event.x},{event.y}").split(".")[0])
        node = self.node_at(line)
        if node and self.select_node:
            self.select_node(node)
