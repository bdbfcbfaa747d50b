"""What the views show about a run: state, per-node statistics and first errors.

Fed on the Tk thread by :mod:`papy_gui.bridge` (engine events and ``stats``
snapshots); observers (canvas badges, statistics table, toolbar) redraw from
it. Plain data, testable without a display or an engine.

The canvas and the statistics table both read a node's state from
:meth:`RunState.node_state` and its rate from :meth:`RunState.throughput`,
so they cannot disagree (issue 12): a node that never ran has no run state;
after Stop, nodes that had not finished before it say ``stopped``; items/s
leaves out the time spent paused.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from papy_engine.script import PipelineDescription

from .events import EngineEvent, RunStateEvent
from .throughput import ThroughputHistory

log = logging.getLogger(__name__)

#: Plumber states (DESIGN.md) plus "building" while the bridge builds the Plumber.
STATES = ("idle", "building", "running", "paused", "stopping", "finished", "stopped", "failed")
ACTIVE = ("building", "running", "paused", "stopping")
STAT_KEYS = ("in", "out", "errors", "timeouts", "busy_s", "throughput", "state")
ENDED = ("finished", "stopped", "failed")

Observer = Callable[[RunStateEvent, dict], None]


def consume_of(desc: PipelineDescription) -> dict[str, int]:
    """Each node's ``consume``: an inbox of a consume=N node takes N items off
    each of its pipes (what :meth:`RunState.update_stats` counts as waiting)."""
    return {n.name: int(n.options.get("consume") or 1) for n in desc.nodes}


class RunState:
    """The last known run state; ``subscribe(fn)`` gets ``fn(event, data)``."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._observers: list[Observer] = []
        self._clear()

    def _clear(self) -> None:
        self.state = "idle"
        self.message = ""
        self.stats: dict[str, Any] = {}
        self.pipers: dict[str, dict[str, Any]] = {}
        self.errors: dict[str, dict[str, Any]] = {}
        self.queued: dict[tuple[str, str], int] = {}
        self.edges: list[tuple[str, str]] = []  # the pipes of the run (see begin())
        self.consume: dict[str, int] = {}
        self._paused_s = 0.0                 # closed pause intervals
        self._paused_at: float | None = None  # start of the current pause
        self._ended_paused: dict[str, float] = {}  # piper -> paused seconds when it ended
        self._finished_before_stop: set[str] | None = None
        #: each node's items/s over the run (the statistics view's sparklines)
        self.history = ThroughputHistory()

    def subscribe(self, fn: Observer) -> None:
        self._observers.append(fn)

    def _emit(self, event: RunStateEvent, **data: Any) -> None:
        for fn in list(self._observers):
            try:
                fn(event, data)
            except Exception:
                log.exception("run-state observer %r failed on %s", fn, event)

    @property
    def active(self) -> bool:
        return self.state in ACTIVE

    def reset(self) -> None:
        """Forget the last run (a new run, a new or opened document)."""
        self._clear()
        self._emit("state", state=self.state)
        self._emit("stats")

    def begin(self, edges: Iterable[tuple[str, str]] = (),
              consume: dict[str, int] | None = None) -> None:
        """Forget the last run; the next one is of a pipeline with these pipes
        (``consume``: see :func:`consume_of`)."""
        self.reset()
        self.edges = [(a, b) for a, b in edges]
        self.consume = dict(consume or {})

    def set_state(self, state: str, message: str = "") -> None:
        if state not in STATES:
            log.warning("unknown run state %r", state)
        if state != self.state:
            self._time_pauses(state)
            if state == "stopping" and self._finished_before_stop is None:
                self._finished_before_stop = {n for n, s in self.pipers.items()
                                              if s.get("state") == "finished"}
        if state != self.state or message != self.message:
            self.state, self.message = state, message
            self._emit("state", state=state, message=message)

    def _time_pauses(self, state: str) -> None:
        now = self._clock()
        if state == "paused" and self._paused_at is None:
            self._paused_at = now
        elif state != "paused" and self._paused_at is not None:
            self._paused_s += now - self._paused_at
            self._paused_at = None

    @property
    def paused_s(self) -> float:
        """Seconds this run has spent paused (the current pause included)."""
        current = self._clock() - self._paused_at if self._paused_at is not None else 0.0
        return self._paused_s + current

    def update_stats(self, snapshot: dict[str, Any]) -> None:
        """Take a ``Plumber.stats`` snapshot.

        Items waiting on a pipe of the run (:meth:`begin`) = up.out - down.in x
        down.consume (``in`` counts inboxes, and an inbox of a consume=N node
        takes N items off each pipe).
        """
        consume = self.consume
        self.stats = dict(snapshot)
        self.pipers = {name: dict(s) for name, s in (snapshot.get("pipers") or {}).items()}
        self.queued = {}
        for a, b in self.edges:
            if a in self.pipers and b in self.pipers:
                waiting = self.pipers[a].get("out", 0) - self.pipers[b].get("in", 0) * \
                    consume.get(b, 1)
                self.queued[(a, b)] = max(0, int(waiting))
        for name, s in self.pipers.items():
            if s.get("state") in ("finished", "failed") and name not in self._ended_paused:
                self._ended_paused[name] = self.paused_s  # later pauses are not its time
        if snapshot.get("state") and snapshot["state"] != self.state and self.state != "building":
            self.set_state(snapshot["state"])
        self.history.sample(self._clock(), self.pipers, paused=snapshot.get("state") == "paused",
                            ended=snapshot.get("state") in ENDED)
        self._emit("stats")

    def handle_event(self, event: EngineEvent) -> None:
        """One engine listener event: a state change, or an item's error or the
        run's failure (the first one per node is kept for its badge)."""
        if event["event"] == "state":
            self.set_state(event["state"])
            return
        if event["event"] == "output":  # printed text: the bridge gives it to RunData
            return
        piper = event["piper"]
        if piper is None or piper in self.errors:
            return
        if event["event"] == "error":
            first = {"exc_type": event["exc_type"], "message": event["message"],
                     "traceback": event["traceback"] or "", "index": event["index"]}
        else:  # a failure: no item, no traceback (the log has it)
            first = {"exc_type": event["exc_type"], "message": event["message"],
                     "traceback": "", "index": None}
        self.errors[piper] = first
        self._emit("error", piper=piper)

    def failure_at(self, name: str) -> dict | None:
        """The run's own failure when it is all node ``name`` has to show (none of
        its items became an error): ``{"exc_type", "message", ...}``, else None."""
        first = self.errors.get(name)
        if first is None or first["index"] is not None or \
                self.pipers.get(name, {}).get("errors", 0):
            return None
        return first

    def node_state(self, name: str) -> str:
        """The state both the canvas and the statistics table show for node ``name``.

        ``idle`` for a node that has no statistics (it never ran, or was added
        after the run); after Stop, ``stopped`` for every node that had not
        finished before the stop; after a failed run, ``failed`` for those that
        did not finish; otherwise the engine's state for the piper.
        """
        s = self.pipers.get(name)
        if s is None or self.state == "idle":
            return "idle"
        state = s.get("state") or "idle"
        if self.state == "stopped":
            return "finished" if name in (self._finished_before_stop or ()) else "stopped"
        if self.state == "failed" and state != "finished":
            return "failed"
        return state

    def throughput(self, name: str) -> float:
        """Items/s of node ``name`` over the time it was not paused.

        The engine's rate is ``in`` over the piper's whole span; a pause holds
        every piper, so the span less the time paused (up to when the piper
        ended) is the time it could work.
        """
        s = self.pipers.get(name) or {}
        rate, n = float(s.get("throughput") or 0.0), int(s.get("in") or 0)
        if rate <= 0 or n <= 0:
            return rate
        active = n / rate - self._ended_paused.get(name, self.paused_s)
        return n / active if active > 0 else rate
