"""Statistics of one run: per-piper counters and the snapshot ``Plumber.stats`` gives.

Counters are written by engine threads under the run's lock and read as a
snapshot of plain dicts (see DESIGN.md), cheap enough to poll ten times a
second.  A piper's clock starts when its first inbox is ready for
evaluation and stops when its last result left; its ``throughput`` is the
evaluations per second over that span less the time the run spent paused.
"""
from __future__ import annotations

import time
from typing import Any

__all__ = ["PiperStats", "RunClock", "snapshot", "expected_evaluations", "progress",
           "rate_and_eta"]


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
             inputs: dict[str, int], expected: dict[str, int] | None = None,
             outputs: list[str] | None = None) -> dict:
    """The ``Plumber.stats`` dict (call under the run's lock).

    Besides DESIGN.md's keys: ``inputs`` (items pulled per input piper) and
    ``progress``: ``{"done", "total", "paused_s"}`` -- evaluations done by the
    output pipers, how many there will be (None unless every input has a
    length), and the seconds the run spent paused (see :func:`rate_and_eta`).
    """
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
            "inputs": dict(inputs),
            "progress": progress(pipers, expected, outputs or [], clock.paused_s())}


def expected_evaluations(graph: Any, totals: list[int | None]) -> dict[str, int] | None:
    """How many inboxes each piper will evaluate, when every input's length is known.

    Follows the flow semantics: a piper's upstream streams are padded to the
    longest, cut into groups of ``consume``; each evaluation emits
    ``produce`` items.  None when an input's length is unknown (a generator).
    """
    if any(t is None for t in totals):
        return None
    inputs = graph.get_inputs()
    items_out: dict[Any, int] = {}
    evals: dict[str, int] = {}
    for p in graph.postorder():
        if p in inputs:
            items_in = totals[inputs.index(p)]
        else:
            items_in = max(items_out[u] for u in graph.parents_of(p))
        n = -(-items_in // p.consume)
        evals[p.name] = n
        items_out[p] = n * p.produce
    return evals


def progress(pipers: dict[str, PiperStats], expected: dict[str, int] | None,
             outputs: list[str], paused_s: float) -> dict:
    """How far a run has got, from the output pipers' evaluations."""
    done = sum(pipers[n].inp for n in outputs)
    total = None if expected is None else sum(expected[n] for n in outputs)
    return {"done": done, "total": total, "paused_s": round(paused_s, 6)}


def rate_and_eta(stats: dict) -> tuple[float | None, float, float | None]:
    """``(fraction done or None, evaluations per second, seconds left or None)``.

    From a ``Plumber.stats`` snapshot: the rate leaves out paused time, and
    the fraction and time left are known only when the total is.
    """
    prog = stats.get("progress") or {}
    done, total = prog.get("done", 0), prog.get("total")
    active = max(0.0, stats.get("elapsed_s", 0.0) - prog.get("paused_s", 0.0))
    rate = done / active if active > 0 else 0.0
    if total is None:
        return None, rate, None
    fraction = 1.0 if total == 0 else min(1.0, done / total)
    left = max(0, total - done)
    eta = 0.0 if left == 0 else (left / rate if rate > 0 else None)
    return fraction, rate, eta
