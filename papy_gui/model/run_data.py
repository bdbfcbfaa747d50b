"""What a run produced, as the Data, Errors and Output views show it.

Data flow::

    engine threads --"output" events--> bridge queue --Tk thread--> RunData.output
    Tk thread, a visible view's drain():  RunData.items(target)  -> Plumber.peek(...)
                                          RunData.sync_errors()  -> Plumber.errors(...)

The Plumber (``source``, attached by the bridge once it is built) is read
only on the Tk thread and only when a view that shows the data is on
screen, and then only when the run's counters say something changed (the
statistics snapshot the bridge polls ~10x/s): a peek at most every
:data:`PEEK_PERIOD` seconds, a node's errors only when its error count grew
(the engine keeps the first :data:`MAX_ERRORS` per node). Nothing here
touches Tk; tests drive it with a fake source.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from .output_log import OutputLog
from .run_state import RunState

log = logging.getLogger(__name__)

ROWS = 50            # results the Data view lists (the engine keeps 100 per piper)
KEEP = 100           # what Plumber.peek can give at most
PEEK_PERIOD = 0.25   # seconds between two peeks of the same target while it changes
MAX_ERRORS = 1000    # placeholders Plumber.errors keeps per piper

#: A node's name, or a pipe ``(upstream, downstream)``.
Target = str | tuple[str, str]


class Source(Protocol):
    """What RunData reads: a ``papy_engine.Plumber``."""

    def peek(self, name: str, n: int = 20, indexed: bool = False) -> list: ...

    def errors(self, name: str) -> list: ...


@dataclass(frozen=True)
class Items:
    """What the Data view shows for a target.

    Attributes:
        target: the node or pipe, or None (nothing selected).
        rows: ``(index, value)`` pairs, oldest first; ``index`` is the value's
            position in the (upstream) node's output.
        note: one line saying what the rows are.
    """

    target: Target | None
    rows: list[tuple[int, Any]] = field(default_factory=list)
    note: str = ""


class RunData:
    """The last run's outputs, errors and printed text (see the module docstring)."""

    def __init__(self, run_state: RunState, clock: Callable[[], float] = time.monotonic) -> None:
        self.run_state = run_state
        self._clock = clock
        self.run_id = 0
        self.reset()

    def reset(self) -> None:
        """Forget the last run (a new run, a new or opened document)."""
        self.source: Source | None = None
        self.run_id += 1
        self.output = OutputLog()
        #: node -> the placeholders created there (a prefix of what the engine
        #: keeps, which only grows during a run)
        self.errors: dict[str, list] = {}
        self._errors_read: dict[str, int] = {}
        self._items: tuple[Any, Items, float] | None = None  # (key, items, when read)

    def attach(self, source: Source) -> None:
        """Read peeks and errors from ``source`` (the run's Plumber) from now on."""
        self.source = source
        self._items = None

    # -- results ----------------------------------------------------------------------
    def items(self, target: Target | None) -> Items:
        """The last results of node ``target``, or the items waiting on pipe ``target``.

        Returns the same :class:`Items` object until something changed, so a
        view redraws only when it gets a new one.
        """
        if target is None:
            return self._cached(None, None, lambda: Items(None, [], ""))
        if self.source is None:
            note = ("The pipeline is being built…" if self.run_state.state == "building"
                    else "Run the pipeline (F5) to see what its nodes produce.")
            return self._cached(("none", target, self.run_state.state), target,
                                lambda: Items(target, [], note))
        pipers = self.run_state.pipers
        if isinstance(target, tuple):
            up, down = target
            key: tuple = (target, pipers.get(up, {}).get("out"), pipers.get(down, {}).get("in"))
            return self._cached(key, target, lambda: self._waiting(up, down))
        key = (target, pipers.get(target, {}).get("out"))
        return self._cached(key, target, lambda: self._results(target))

    def _cached(self, key: Any, target: Target | None, read: Callable[[], Items]) -> Items:
        now = self._clock()
        if self._items is not None:
            old_key, items, when = self._items
            if old_key == key:
                return items
            # the same target, changing: read it again at most every PEEK_PERIOD
            if items.target == target and key is not None and now - when < PEEK_PERIOD:
                return items
        try:
            items = read()
        except Exception as exc:  # a node added after the run, a source gone away
            log.debug("peek of %s failed: %s", target, exc)
            items = Items(target, [], f"{_label(target)} was not part of the last run.")
        self._items = (key, items, now)
        return items

    def _results(self, name: str) -> Items:
        assert self.source is not None
        rows = self.source.peek(name, ROWS, indexed=True)
        out = int(self.run_state.pipers.get(name, {}).get("out") or 0)
        if name not in self.run_state.pipers and not rows:
            return Items(name, [], f"{name}: no results yet.")
        total = max(out, rows[-1][0] + 1 if rows else 0)
        if not rows:
            note = f"{name}: no results yet." if not total else \
                f"{name}: {total:,} results, none kept (too large to keep)."
        else:
            note = f"{name}: the last {len(rows)} of {total:,} results"
        return Items(name, rows, note)

    def _waiting(self, up: str, down: str) -> Items:
        """The results of ``up`` that ``down`` has not taken yet (the most recent
        ones the engine still keeps)."""
        assert self.source is not None
        rs = self.run_state
        label = f"pipe {up} → {down}"
        if up not in rs.pipers or down not in rs.pipers:
            return Items((up, down), [], f"{label}: not part of the last run.")
        taken = int(rs.pipers[down].get("in") or 0) * rs.consume.get(down, 1)
        waiting = rs.queued.get((up, down), 0)
        rows = [(i, v) for i, v in self.source.peek(up, KEEP, indexed=True) if i >= taken]
        rows = rows[-ROWS:]
        if not waiting:
            return Items((up, down), [], f"{label}: no items waiting.")
        note = f"{label}: {waiting:,} item(s) of {up} waiting for {down}"
        if len(rows) < waiting:
            note += f" (the last {len(rows)} shown)"
        return Items((up, down), rows, note)

    # -- errors -----------------------------------------------------------------------
    def error_total(self, name: str) -> int:
        """How many placeholders were created at node ``name`` (kept or not)."""
        return int(self.run_state.pipers.get(name, {}).get("errors") or 0)

    def sync_errors(self) -> list[str]:
        """Read the errors of the nodes whose error count grew; returns their names."""
        changed: list[str] = []
        if self.source is None:
            return changed
        for name, stats in self.run_state.pipers.items():
            total = int(stats.get("errors") or 0)
            kept = len(self.errors.get(name, ()))
            if total <= kept or kept >= MAX_ERRORS or self._errors_read.get(name) == total:
                continue
            try:
                errors = list(self.source.errors(name))
            except Exception as exc:
                log.warning("could not read the errors of %s: %s", name, exc)
                continue
            self._errors_read[name] = total
            if len(errors) > kept:
                self.errors[name] = errors
                changed.append(name)
        return changed

    # -- printed output -----------------------------------------------------------------
    def add_output(self, piper: str, text: str) -> None:
        self.output.add(piper, text)

    def run_ended(self) -> None:
        self.output.flush()


def _label(target: Target | None) -> str:
    if isinstance(target, tuple):
        return f"pipe {target[0]} → {target[1]}"
    return f"node {target}"
