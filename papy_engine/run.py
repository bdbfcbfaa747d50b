"""One run of a pipeline: its wiring, accounting and state machine.

A :class:`Run` is made by ``Plumber.start(datas)`` and lives until the next
start.  Threads of a run::

    user iterables -> Gate -> input pipers -> ... -> output pipers -> drain threads
                      (pause/stop)   serial pipers run in the thread that pulls them;
                                     parallel pipers are IMap tasks with their own
                                     feeder threads and the IMap's dispatcher

A drain thread per output piper pulls batches until its stream ends; a
monitor thread waits for the drains, stops the pools and sets the final
state.  ``stop()`` never discards work: it ends the inputs at the gate and
lets every item that was already pulled flow out, as a result or a
placeholder.  The Plumber keeps the graph and its listeners; the Run reads
the graph once, when it is made.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from functools import partial
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from . import _flow
from .errors import PlumberError, is_placeholder
from .piper import Piper
from .pool import Driver, Mode, run_chunk
from .pool.records import Batch
from .peek import PeekBuffer
from .stats import PiperStats, RunClock, expected_evaluations, snapshot
from .transfer import leases

if TYPE_CHECKING:
    from .dagger import Dagger

__all__ = ["Run", "TERMINAL"]

log = logging.getLogger(__name__)

TERMINAL = ("finished", "stopped", "failed")
SERIAL_BATCH = 1024
FIRST_PULL = 8          # input items pulled before any cost is known
TARGET_PULL_S = 0.25    # by default, pull about this much work at a time
MAX_ERRORS = 1000       # placeholders kept per piper for Plumber.errors()


#: called for every batch a piper emits with (the index of its first result, the
#: results, the index of its first evaluation): results[k] belongs to evaluation
#: first_eval + k // produce -- for an unordered piper, the input it came from
Sink = Callable[[int, list, int], None]


@dataclass(frozen=True)
class RunOptions:
    """How a run goes: ``stride`` (None: adaptive), whether what node functions
    print is captured and reported as "output" events (``capture``), and
    ``sinks``: ``{piper name: sink}`` called with every batch a piper emits."""

    stride: int | None = None
    capture: bool = False
    sinks: dict[str, Sink] = field(default_factory=dict)


class Run:
    """The run of a pipeline, from ``start(datas)`` to its final state."""

    def __init__(self, graph: Dagger, datas: list, options: RunOptions,
                 emit: Callable[[dict], None]) -> None:
        self._emit = emit
        self._options = options
        self.lock = threading.RLock()
        self._cond = threading.Condition(self.lock)
        self.state = "idle"
        self._announced = "idle"   # the state once logged and told to listeners
        self.failure: BaseException | None = None
        self._stop_requested = False
        self._debug_errors: set[int] = set()   # ids of exceptions raised by debug pipers
        self._serial_busy = 0
        self._threads: list[threading.Thread] = []
        self._pipers = graph.postorder()
        self._drivers = self._claim_pools(self._pipers)
        self._workers = {id(p): d for p in self._pipers for d in self._drivers
                         if p.parallel and d.imap is p.parallel}
        self._stride = options.stride
        self._cap = self._stride or min((d.max_pull() for d in self._drivers),
                                        default=SERIAL_BATCH)
        self._last_pull = FIRST_PULL // 2
        self._observe(graph, datas)
        self.gate = _flow.Gate()
        self._outputs = self._wire(graph, datas)
        self._output_names = [p.name for p, _ in self._outputs]
        for d in self._drivers:
            d.hold()            # pools stay up until the whole run is over
            d.start_workers()   # fork (when safe) before any thread of ours exists
        for d in self._drivers:
            d.start_threads()

    def _observe(self, graph: Dagger, datas: list) -> None:
        """What the run records: statistics, tracked results, peeks, errors, progress."""
        names = [p.name for p in self._pipers]
        self.clock = RunClock()
        self.stats = {n: PiperStats() for n in names}
        self._stat_list = [(self.stats[p.name], p) for p in self._pipers]
        self.results: dict[str, list] = {p.name: [] for p in self._pipers if p.track}
        self.peeks = {n: PeekBuffer() for n in names}
        self.errors: dict[str, list] = {n: [] for n in names}
        self.expected = expected_evaluations(graph, [_length(d) for d in datas])

    @staticmethod
    def _claim_pools(pipers: list[Piper]) -> list[Driver]:
        drivers: list[Driver] = []
        for p in pipers:
            if p.parallel and all(d.imap is not p.parallel for d in drivers):
                d = p.parallel.driver()
                if d.in_use():
                    raise PlumberError(f"IMap {p.parallel.name!r} of piper {p.name!r} is "
                                       "serving a pipeline that has not finished")
                drivers.append(d)
        return drivers

    # -- wiring ------------------------------------------------------------------------
    def _wire(self, graph: Dagger, datas: list) -> list[tuple[Piper, Iterator[list]]]:
        """Connect every piper's input streams to its evaluation; returns the outputs."""
        inputs = graph.get_inputs()
        streams: dict[Piper, Iterator[list]] = {}
        fanout: dict[Piper, list] = {}
        for p in self._pipers:
            if p in inputs:
                ups = [self.gate.batches(p.name, datas[inputs.index(p)], self._pull_size)]
                names = ["input"]
            else:
                parents = graph.parents_of(p)
                ups = [self._upstream(u, len(graph.children_of(u)), streams, fanout)
                       for u in parents]
                names = [u.name for u in parents]
            boxes = self._started(p, _flow.inboxes(ups, p.consume, self._cap, names, p.name))
            mode = Mode(_flow.boxed(ups, p.consume), p.timeout is not None, p.produce,
                        p.repeat, self._options.capture)
            streams[p] = self._emit_results(p, self._evaluate(p, boxes, mode))
        return [(p, streams[p]) for p in graph.get_outputs()]

    def _upstream(self, u: Piper, readers: int, streams: dict, fanout: dict) -> Iterator[list]:
        if readers == 1:
            return streams[u]
        if u not in fanout:
            fanout[u] = [_flow.Broadcast(streams[u], readers, 8 * self._cap, u.name), 0]
        entry = fanout[u]
        entry[1] += 1
        return entry[0].consumer(entry[1] - 1)

    def _started(self, p: Piper, boxes: Iterator[list]) -> Iterator[list]:
        """``boxes``, starting ``p``'s clock when its first inbox is ready."""
        s = self.stats[p.name]
        for batch in boxes:
            if s.t0 is None:
                with self.lock:
                    s.begin(self.clock)
            yield batch

    def _pull_size(self) -> int:
        """Input items to pull next: ``stride``, or adaptive to the slowest piper.

        Pause and stop let pulled items finish, so by default the pipeline
        pulls about TARGET_PULL_S of work at a time -- thousands of items for
        cheap functions, a handful for slow ones.
        """
        if self._stride:
            return self._stride
        worst = 0.0
        with self.lock:  # (called once per input batch: no graph walk here)
            for s, p in self._stat_list:
                if s.inp:
                    d = self._workers.get(id(p))
                    worst = max(worst, s.busy / s.inp / (max(1, d.workers()) if d else 1))
        target = FIRST_PULL if worst == 0.0 else max(1, int(TARGET_PULL_S / worst))
        # Ramp up: at most double the last pull.  A few fast first items must
        # not license pulling thousands when later ones are slow (or hang):
        # everything pulled has to finish before stop() returns.
        size = max(1, min(self._cap, target, 2 * self._last_pull))
        self._last_pull = size
        return size

    # -- evaluation ----------------------------------------------------------------------
    def _evaluate(self, p: Piper, boxes: Iterator[list], mode: Mode) -> Iterator[Batch]:
        d = self._workers.get(id(p))
        if d is None:
            return self._serial(p, boxes, mode)
        tid = d.add_task(p.worker, boxes, name=p.name, timeout=p.timeout,
                         ordered=p.ordered, mode=mode, on_chunk=partial(self._account, p))
        return d.batches(tid)

    def _serial(self, p: Piper, boxes: Iterator[list], mode: Mode) -> Iterator[Batch]:
        start = 0
        for batch in boxes:
            with self.lock:
                self._serial_busy += 1
            try:
                results, created, busy, output = run_chunk(p.worker, batch, start, p.name,
                                                           mode=mode)
            except Exception as exc:  # only a debug=True worker raises
                self._debug_errors.add(id(exc))
                raise
            finally:
                with self.lock:
                    self._serial_busy -= 1
            for off in created:
                log.error("piper %s: item %s became a placeholder: %s", p.name,
                          results[off].index, results[off])
            self._account(p, len(batch), [results[o] for o in created], 0, busy)
            yield Batch(results, output, start)
            start += len(batch)

    def _account(self, p: Piper, n: int, created: list, timeouts: int, busy: float) -> None:
        with self.lock:
            s = self.stats[p.name]
            s.begin(self.clock)
            s.inp += n
            s.errors += len(created)
            s.timeouts += timeouts
            s.busy += busy
            kept = self.errors[p.name]
            kept.extend(created[:max(0, MAX_ERRORS - len(kept))])
        for err in created:
            self._emit({"event": "error", "piper": p.name, "index": err.index,
                        "exc_type": err.exc_type, "message": err.message,
                        "kind": type(err).__name__, "traceback": err.traceback})

    def _emit_results(self, p: Piper, batches: Iterator[Batch]) -> Iterator[list]:
        s = self.stats[p.name]
        track = self.results.get(p.name)
        peek = self.peeks[p.name]
        sink = self._options.sinks.get(p.name)
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
            with self.lock:
                s.end(self.clock, "failed")
            raise
        with self.lock:
            s.end(self.clock, "finished" if not self._stop_requested else "stopped")

    # -- control ---------------------------------------------------------------------
    def snapshot(self) -> dict:
        with self.lock:
            return snapshot(self.state, self.clock, self.stats, self.gate.pulled,
                            self.expected, self._output_names)

    def _set_state(self, state: str) -> None:
        with self.lock:
            old, self.state = self.state, state
            if state == "paused":
                self.clock.pause_began()
            elif old == "paused":
                self.clock.pause_ended()
        if old != state:
            log.info("pipeline %s -> %s", old, state)
            self._emit({"event": "state", "state": state, "previous": old})
        # waiters wake after the log record and the listeners saw the change
        with self.lock:
            self._announced = state
            self._cond.notify_all()

    def run(self) -> None:
        if self.state != "idle":
            raise PlumberError(f"run() needs an idle pipeline (state is {self.state!r}); "
                               "start(datas) it again first")
        self.clock.start()
        leases.begin_run()
        self.gate.set(open=True)
        self._set_state("running")
        for p, stream in self._outputs:
            t = threading.Thread(target=self._drain, args=(p, stream), daemon=True,
                                 name=f"papy-drain-{p.name}")
            self._threads.append(t)
            t.start()
        threading.Thread(target=self._monitor, name="papy-monitor", daemon=True).start()

    def _drain(self, p: Piper, stream: Iterator[list]) -> None:
        try:
            for _ in stream:
                pass
        except BaseException as exc:
            self._fail(exc, p)

    def is_debug_error(self, exc: BaseException) -> bool:
        """An error of a ``debug=True`` piper (raised from wait()), not of the engine."""
        if id(exc) in self._debug_errors:
            return True
        return is_placeholder(exc) and any(q.debug and q.name == exc.piper
                                           for q in self._pipers)

    def _fail(self, exc: BaseException, p: Piper | None = None) -> None:
        with self.lock:
            first = self.failure is None
            if first:
                self.failure = exc
        if first:
            if is_placeholder(exc):
                log.error("piper %s failed in debug mode: %s\n%s", exc.piper, exc,
                          exc.traceback)
            else:
                log.error("pipeline failed at %s", p.name if p else "?", exc_info=exc)
            self._emit({"event": "failure", "piper": p.name if p else None,
                        "exc_type": type(exc).__name__, "message": str(exc)})
        self.gate.set(stopped=True)
        for d in self._drivers:
            d.stop(timeout=1.0)

    def _monitor(self) -> None:
        for t in self._threads:
            t.join()
        for d in self._drivers:
            d.stop()
        leases.end_run()  # items dumped here and never loaded (pool workers exited)
        with self.lock:
            self.clock.stop()
        if self.failure is not None:
            self._set_state("failed")
        elif self._stop_requested:
            self._set_state("stopped")
        else:
            self._set_state("finished")

    def pause(self) -> None:
        if self.state == "paused":
            return
        if self.state != "running":
            raise PlumberError(f"pause() needs a running pipeline (state is {self.state!r})")
        self.gate.set(open=False)
        while not (self.gate.quiet() and all(d.idle() for d in self._drivers)
                   and self._serial_busy == 0) and self.state == "running":
            with self._cond:
                self._cond.wait(0.01)
        if self.state == "running":
            self._set_state("paused")

    def resume(self) -> None:
        if self.state != "paused":
            raise PlumberError(f"resume() needs a paused pipeline (state is {self.state!r})")
        self._set_state("running")
        self.gate.set(open=True)

    def stop(self) -> None:
        if self.state in TERMINAL:
            return
        self._stop_requested = True
        self.gate.set(stopped=True)
        if self.state == "idle":   # started, never run: nothing was pulled
            for d in self._drivers:
                d.stop()
            self._set_state("stopped")
            return
        self._set_state("stopping")
        self.wait()

    def wait(self, timeout: float | None = None) -> bool:
        if self.state == "idle":
            raise PlumberError("wait() needs a pipeline that runs: call run() first")
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._announced not in TERMINAL:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._cond.wait(remaining)
        if self.state == "failed" and self.failure is not None \
                and self.is_debug_error(self.failure):
            raise self.failure
        return True

    def editable(self) -> bool:
        return self.state in TERMINAL


def _length(data: Any) -> int | None:
    """How many items an input will give, when it says so without being consumed."""
    try:
        return len(data)
    except TypeError:
        return None
