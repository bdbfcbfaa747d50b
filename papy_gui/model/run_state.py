"""What the views show about a run: state, per-node statistics and first errors.

Fed on the Tk thread by :mod:`papy_gui.bridge` (engine events and ``stats``
snapshots); observers (canvas badges, statistics table, toolbar) redraw from
it. Plain data, testable without a display or an engine.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

log = logging.getLogger(__name__)

#: Plumber states (DESIGN.md) plus "building" while the bridge builds the Plumber.
STATES = ("idle", "building", "running", "paused", "stopping", "finished", "stopped", "failed")
ACTIVE = ("building", "running", "paused", "stopping")
STAT_KEYS = ("in", "out", "errors", "timeouts", "busy_s", "throughput", "state")


class RunState:
    """The last known run state; ``subscribe(fn)`` gets ``fn(event, data)``."""

    def __init__(self) -> None:
        self.state = "idle"
        self.message = ""
        self.stats: dict[str, Any] = {}
        self.pipers: dict[str, dict[str, Any]] = {}
        self.errors: dict[str, dict[str, Any]] = {}
        self.queued: dict[tuple[str, str], int] = {}
        self._observers: list[Callable[[str, dict], None]] = []

    def subscribe(self, fn: Callable[[str, dict], None]) -> None:
        self._observers.append(fn)

    def _emit(self, event: str, **data: Any) -> None:
        for fn in list(self._observers):
            try:
                fn(event, data)
            except Exception:
                log.exception("run-state observer %r failed on %s", fn, event)

    @property
    def active(self) -> bool:
        return self.state in ACTIVE

    def reset(self) -> None:
        self.state, self.message = "idle", ""
        self.stats, self.pipers, self.errors, self.queued = {}, {}, {}, {}
        self._emit("state", state=self.state)
        self._emit("stats")

    def set_state(self, state: str, message: str = "") -> None:
        if state not in STATES:
            log.warning("unknown run state %r", state)
        if state != self.state or message != self.message:
            self.state, self.message = state, message
            self._emit("state", state=state, message=message)

    def update_stats(self, snapshot: dict[str, Any], edges: Iterable[tuple[str, str]] = (),
                     consume: dict[str, int] | None = None) -> None:
        """Take a ``Plumber.stats`` snapshot.

        Items waiting on a pipe = up.out - down.in x down.consume (``in`` counts
        inboxes, and an inbox of a consume=N node takes N items off each pipe).
        """
        consume = consume or {}
        self.stats = dict(snapshot)
        self.pipers = {name: dict(s) for name, s in (snapshot.get("pipers") or {}).items()}
        self.queued = {}
        for a, b in edges:
            if a in self.pipers and b in self.pipers:
                waiting = self.pipers[a].get("out", 0) - self.pipers[b].get("in", 0) * \
                    consume.get(b, 1)
                self.queued[(a, b)] = max(0, int(waiting))
        if snapshot.get("state") and snapshot["state"] != self.state and self.state != "building":
            self.set_state(snapshot["state"])
        self._emit("stats")

    def handle_event(self, event: dict[str, Any]) -> None:
        """One engine listener event (a plain dict; shapes vary, so read defensively)."""
        kind = event.get("type") or event.get("event") or ""
        piper = event.get("piper")
        is_error = ("error" in str(kind) or event.get("traceback") is not None
                    or event.get("exc_type") is not None)
        if piper and is_error and piper not in self.errors:
            self.errors[piper] = {
                "exc_type": event.get("exc_type", ""),
                "message": str(event.get("message") or event.get("error") or ""),
                "traceback": event.get("traceback") or "",
                "index": event.get("index"),
            }
            self._emit("error", piper=piper)
        state = event.get("state")
        if state and not piper and kind in ("", "state", "state_changed", "run"):
            self.set_state(state, str(event.get("message") or ""))
        elif state and not piper and kind not in ("piper_state",):
            self.set_state(state, str(event.get("message") or ""))

    def node_state(self, name: str) -> str:
        s = self.pipers.get(name, {})
        if name in self.errors or s.get("errors"):
            return "failed" if self.state in ("finished", "stopped", "failed") else s.get("state", self.state)
        return s.get("state") or ("idle" if self.state == "idle" else self.state)
