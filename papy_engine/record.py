"""What a run records as items pass: statistics, tracked results, peeks, errors.

A :class:`Recorder` belongs to one :class:`~papy_engine.run.Run`.  Engine
threads call :meth:`Recorder.account` once per evaluated batch (in a worker's
chunk order) and pass every piper's result stream through
:meth:`Recorder.emit_results` (in result order), which keeps tracked results,
feeds the peek buffer and the sinks, and reports captured output.  A fused
chain of pipers (:mod:`papy_engine.fusion`) is accounted stage by stage, so
statistics stay per piper.  Everything is read and written under the run's
lock; :meth:`Recorder.snapshot` gives ``Plumber.stats``.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from .peek import PeekBuffer
from .piper import Piper
from .pool.records import Batch
from .stats import PiperStats, RunClock, expected_evaluations, snapshot

__all__ = ["Recorder", "Sink", "MAX_ERRORS"]

log = logging.getLogger(__name__)

MAX_ERRORS = 1000       # placeholders kept per piper for Plumber.errors()

#: called for every batch a piper emits with (the index of its first result, the
#: results, the index of its first evaluation): results[k] belongs to evaluation
#: first_eval + k // produce -- for an unordered piper, the input it came from
Sink = Callable[[int, list, int], None]


class Recorder:
    """The observations of one run."""

    def __init__(self, graph: Any, pipers: list[Piper], totals: list[int | None],
                 sinks: dict[str, Sink], emit: Callable[[dict], None],
                 lock: threading.RLock) -> None:
        names = [p.name for p in pipers]
        self.lock = lock
        self.clock = RunClock()
        self.stats = {n: PiperStats() for n in names}
        self.results: dict[str, list] = {p.name: [] for p in pipers if p.track}
        self.peeks = {n: PeekBuffer() for n in names}
        self.errors: dict[str, list] = {n: [] for n in names}
        self.expected = expected_evaluations(graph, totals)
        self.stopping = False      # the run was asked to stop: pipers that end "stopped"
        self._sinks = sinks
        self._emit = emit

    def started(self, chain: Sequence[Piper], boxes: Iterator[list]) -> Iterator[list]:
        """``boxes``, starting the pipers' clocks when the first inbox is ready."""
        first = self.stats[chain[0].name]
        for batch in boxes:
            if first.t0 is None:
                with self.lock:
                    for p in chain:
                        self.stats[p.name].begin(self.clock)
            yield batch

    def account(self, chain: Sequence[Piper], n: int, created: list, timeouts: int,
                busy: float | tuple) -> None:
        """``n`` inboxes were evaluated by ``chain`` (one piper, or a fused chain)."""
        stages = busy if isinstance(busy, tuple) else (busy,)
        with self.lock:
            for k, p in enumerate(chain):
                s = self.stats[p.name]
                s.begin(self.clock)
                s.inp += n
                s.busy += stages[k] if k < len(stages) else 0.0
                if k < len(chain) - 1:
                    s.out += n         # a fused piper's items go on inside the worker
            self.stats[chain[0].name].timeouts += timeouts
            for err in created:
                name = err.piper if err.piper in self.stats else chain[0].name
                self.stats[name].errors += 1
                kept = self.errors[name]
                if len(kept) < MAX_ERRORS:
                    kept.append(err)
        for err in created:
            self._emit({"event": "error", "piper": err.piper or chain[0].name,
                        "index": err.index, "exc_type": err.exc_type, "message": err.message,
                        "kind": type(err).__name__, "traceback": err.traceback})

    def emit_results(self, chain: Sequence[Piper], batches: Iterator[Batch]
                     ) -> Iterator[list]:
        """The last piper's results, as they leave: tracked, peeked, sunk, counted."""
        p = chain[-1]
        s = self.stats[p.name]
        track = self.results.get(p.name)
        peek = self.peeks[p.name]
        sink = self._sinks.get(p.name)
        try:
            for results, output, first_eval in batches:
                if output:
                    self._emit({"event": "output", "piper": p.name, "text": output})
                first = s.out
                if track is not None:
                    track.extend(results)
                if sink is not None:
                    sink(first, results, first_eval)
                peek.add(first, results)
                with self.lock:
                    s.out += len(results)
                if results:
                    yield results
        except GeneratorExit:
            raise
        except BaseException:
            self._end(chain, "failed")
            raise
        self._end(chain, "stopped" if self.stopping else "finished")

    def _end(self, chain: Sequence[Piper], state: str) -> None:
        with self.lock:
            for q in chain:
                self.stats[q.name].end(self.clock, state)

    def slowest(self, pipers: Sequence[Piper], workers: Callable[[Piper], int]) -> float:
        """The longest measured time per evaluation, spread over a piper's workers."""
        worst = 0.0
        with self.lock:
            for p in pipers:
                s = self.stats[p.name]
                if s.inp:
                    worst = max(worst, s.busy / s.inp / max(1, workers(p)))
        return worst

    def snapshot(self, state: str, pulled: dict[str, int], outputs: list[str]) -> dict:
        with self.lock:
            return snapshot(state, self.clock, self.stats, pulled, self.expected, outputs)
