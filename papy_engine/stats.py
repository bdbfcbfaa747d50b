"""Statistics of one run: per-piper counters and the snapshot ``Plumber.stats`` gives.

Counters are written by engine threads under the run's lock and read as a
snapshot of plain dicts (see DESIGN.md), cheap enough to poll ten times a
second.  A piper's clock starts when its first inbox is ready for
evaluation and stops when its last result left; its ``throughput`` is the
evaluations per second over that span less the time the run spent paused.
"""
from __future__ import annotations

import time

__all__ = ["PiperStats", "RunClock", "snapshot"]


class PiperStats:
    """What one piper did in this run (see DESIGN.md, "Statistics")."""

    __slots__ = ("inp", "out", "errors", "timeouts", "busy", "state", "t0", "t1",
                 "paused0", "paused1")

    def __init__(self) -> None:
        self.inp = self.out = self.errors = self.timeouts = 0
        self.busy = 0.0
        self.state = "idle"
        self.t0: float | None = None      # first inbox ready (monotonic)
        self.t1: float | None = None      # last result out
        self.paused0 = 0.0                # the run's paused seconds at t0 and at t1
        self.paused1: float | None = None

    def begin(self, clock: RunClock) -> None:
        if self.t0 is None:
            self.t0, self.state = time.monotonic(), "running"
            self.paused0 = clock.paused_s()

    def end(self, clock: RunClock, state: str) -> None:
        if self.t0 is None:
            self.begin(clock)
        self.state, self.t1 = state, time.monotonic()
        self.paused1 = clock.paused_s()

    def active_s(self, clock: RunClock, now: float) -> float:
        """Seconds this piper ran, less the run's pauses in that span."""
        if self.t0 is None:
            return 0.0
        paused = (self.paused1 if self.paused1 is not None else clock.paused_s())
        return max(0.0, (self.t1 or now) - self.t0 - (paused - self.paused0))


class RunClock:
    """When a run started and ended, and how long it was paused."""

    def __init__(self) -> None:
        self.started_at: float | None = None   # Unix time of run()
        self.t0: float | None = None           # monotonic, run()
        self.t1: float | None = None           # monotonic, the end
        self._paused = 0.0
        self._paused_at: float | None = None

    def start(self) -> None:
        self.started_at, self.t0 = time.time(), time.monotonic()

    def stop(self) -> None:
        self.pause_ended()
        self.t1 = time.monotonic()

    def pause_began(self) -> None:
        if self._paused_at is None:
            self._paused_at = time.monotonic()

    def pause_ended(self) -> None:
        if self._paused_at is not None:
            self._paused += time.monotonic() - self._paused_at
            self._paused_at = None

    def paused_s(self) -> float:
        now = time.monotonic()
        return self._paused + (now - self._paused_at if self._paused_at is not None else 0.0)

    def elapsed_s(self, now: float) -> float:
        return 0.0 if self.t0 is None else (self.t1 or now) - self.t0


def snapshot(state: str, clock: RunClock, pipers: dict[str, PiperStats],
             inputs: dict[str, int]) -> dict:
    """The ``Plumber.stats`` dict (call under the run's lock)."""
    now = time.monotonic()
    paused = state == "paused"
    out = {}
    for name, s in pipers.items():
        active = s.active_s(clock, now)
        pstate = "paused" if paused and s.state == "running" else s.state
        out[name] = {"in": s.inp, "out": s.out, "errors": s.errors, "timeouts": s.timeouts,
                     "busy_s": round(s.busy, 6),
                     "throughput": round(s.inp / active, 3) if active > 0 else 0.0,
                     "state": pstate}
    return {"state": state, "started_at": clock.started_at,
            "elapsed_s": round(clock.elapsed_s(now), 6), "pipers": out,
            "inputs": dict(inputs)}
