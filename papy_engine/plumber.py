"""Plumber: runs a Dagger -- start, run, pause, resume, stop, wait -- and reports.

Threads of a run::

    user iterables -> Gate -> input pipers -> ... -> output pipers -> drain threads
                      (pause/stop)   serial pipers run in the thread that pulls them;
                                     parallel pipers are IMap tasks with their own
                                     feeder threads and the IMap's dispatcher

A drain thread per output piper pulls batches until its stream ends; a
monitor thread waits for the drains and sets the final state.  ``stop()``
never discards work: it ends the inputs at the gate and lets every item that
was already pulled flow out, as a result or a placeholder.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from . import _flow
from ._pool import Mode, run_chunk
from .dagger import Dagger
from .errors import PlumberError, is_placeholder
from .piper import Piper
from .workers import _leases

__all__ = ["Plumber"]

log = logging.getLogger(__name__)

STATES = ("idle", "running", "paused", "stopping", "finished", "stopped", "failed")
TERMINAL = ("finished", "stopped", "failed")
SERIAL_BATCH = 1024
FIRST_PULL = 8          # items pulled before any cost is known
TARGET_PULL_S = 0.25    # by default, pull about this much work at a time


class _Stats:
    __slots__ = ("inp", "out", "errors", "timeouts", "busy", "state", "t0", "t1")

    def __init__(self) -> None:
        self.inp = self.out = self.errors = self.timeouts = 0
        self.busy = 0.0
        self.state = "idle"
        self.t0: float | None = None
        self.t1: float | None = None


class Plumber(Dagger):
    """A runnable pipeline.

    Args:
        pipers, pipes: passed to :class:`Dagger`.
        stride: input items pulled at a time (default: the smallest IMap
            stride, or 1024 for a serial pipeline).
    """

    def __init__(self, pipers: Iterable[Piper] = (), pipes: Iterable = (),
                 stride: int | None = None) -> None:
        self._prepared = False     # start() wired a run (set before the Dagger adds pipers)
        self._state = "idle"
        super().__init__(pipers, pipes)
        self.stride = stride
        self.inputs_source: list[str] | None = None
        self.layout: dict = {}
        self._lock = threading.RLock()
        self._state_cond = threading.Condition(self._lock)
        self._announced = "idle"   # the state once logged and told to listeners
        self._listeners: list[Callable[[dict], Any]] = []
        self._stats: dict[str, _Stats] = {}
        self._stats_pipers: list[tuple[_Stats, Piper]] = []
        self._results: dict[str, list] = {}
        self._gate = _flow.Gate()
        self._imaps: list = []
        self._threads: list[threading.Thread] = []
        self._serial_busy = 0
        self._failure: BaseException | None = None
        self._debug_errors: set[int] = set()  # ids of exceptions raised by debug pipers
        self._stop_requested = False
        self._started_at: float | None = None
        self._t0: float | None = None
        self._t1: float | None = None

    # -- observation -----------------------------------------------------------
    @property
    def state(self) -> str:
        return self._state

    def add_listener(self, fn: Callable[[dict], Any]) -> None:
        """Call ``fn(event)`` on state changes and errors (from engine threads)."""
        if not callable(fn):
            raise PlumberError(f"listener must be callable (got {fn!r})")
        self._listeners.append(fn)

    def remove_listener(self, fn: Callable[[dict], Any]) -> None:
        if fn in self._listeners:
            self._listeners.remove(fn)

    def _emit(self, event: dict) -> None:
        event.setdefault("time", time.time())
        for fn in list(self._listeners):
            try:
                fn(event)
            except Exception:
                log.exception("plumber listener %r failed", fn)

    def _set_state(self, state: str) -> None:
        with self._lock:
            old, self._state = self._state, state
        if old != state:
            log.info("pipeline %s -> %s", old, state)
            self._emit({"event": "state", "state": state, "previous": old})
        # waiters wake after the log record and the listeners saw the change
        with self._lock:
            self._announced = state
            self._state_cond.notify_all()

    @property
    def stats(self) -> dict:
        """A snapshot: state, timing and per-piper counters (see DESIGN.md)."""
        now = time.monotonic()
        with self._lock:
            paused = self._state == "paused"
            elapsed = 0.0 if self._t0 is None else (self._t1 or now) - self._t0
            pipers = {}
            for name, s in self._stats.items():
                span = ((s.t1 or now) - s.t0) if s.t0 is not None else 0.0
                state = s.state
                if paused and state == "running":
                    state = "paused"
                pipers[name] = {"in": s.inp, "out": s.out, "errors": s.errors,
                                "timeouts": s.timeouts, "busy_s": round(s.busy, 6),
                                "throughput": round(s.inp / span, 3) if span > 0 else 0.0,
                                "state": state}
            return {"state": self._state, "started_at": self._started_at,
                    "elapsed_s": round(elapsed, 6), "pipers": pipers,
                    "inputs": dict(self._gate.pulled)}

    @property
    def results(self) -> dict[str, list]:
        """``{name: [results in order]}`` for pipers made with ``track=True``."""
        return self._results

    # -- building the run -----------------------------------------------------
    def _check_editable(self) -> None:
        if self._prepared and self._state not in TERMINAL:
            raise PlumberError(f"the pipeline is {self._state if self._state != 'idle' else 'started'}"
                               "; edit it once it finished or was stopped")

    def start(self, datas: Iterable[Iterable]) -> None:
        """Connect ``datas`` (one iterable per input piper) and start the pools.

        A pipeline that finished or was stopped can be started again (and
        edited before that); its statistics and results start afresh.

        Raises:
            PlumberError: wrong number of inputs, the pipeline is running, or
                one of its IMaps serves another pipeline that is running.
            DaggerError: the graph is empty, cyclic or unbalanced.
        """
        if self._prepared and self._state not in TERMINAL:
            raise PlumberError(f"this pipeline was already started (state {self._state!r}); "
                               "start it again once it finished or was stopped")
        self.validate()
        inputs = self.get_inputs()
        datas = list(datas)
        if len(datas) != len(inputs):
            raise PlumberError(
                f"start() needs one iterable per input piper: expected {len(inputs)} "
                f"({', '.join(p.name for p in inputs)}), got {len(datas)}")
        order = self.postorder()
        imaps = []
        for p in order:
            if p.parallel and p.parallel not in imaps:
                if p.parallel._started and not p.parallel._stopped:
                    raise PlumberError(f"IMap {p.parallel.name!r} of piper {p.name!r} is "
                                       "serving a pipeline that has not finished")
                imaps.append(p.parallel)
        self._new_run(order, imaps)
        streams: dict[Piper, Any] = {}
        fanout: dict[Piper, Any] = {}
        for p in order:
            if p in inputs:
                ups = [self._gate.batches(p.name, datas[inputs.index(p)], self._pull_size)]
                names = ["input"]
            else:
                ups, names = [], []
                for u in self.parents_of(p):
                    ups.append(self._upstream(u, streams, fanout, self._cap))
                    names.append(u.name)
            boxes = _flow.inboxes(ups, p.consume, self._cap, names, p.name)
            mode = Mode(_flow.boxed(ups, p.consume), p.timeout is not None, p.produce, p.repeat)
            streams[p] = self._evaluate(p, boxes, mode)
        self._outputs = [(p, streams[p]) for p in self.get_outputs()]
        for m in imaps:
            m._hold()          # pools stay up until the whole run is over
            m._start_pool()    # fork (when safe) before any thread of ours exists
        for m in imaps:
            m._start_threads()
        self._prepared = True

    def _new_run(self, order: list[Piper], imaps: list) -> None:
        """Fresh per-run state: statistics, results, the input gate."""
        self._imaps = imaps
        self._cap = self.stride or min((m._stride() for m in imaps), default=SERIAL_BATCH)
        self._last_pull = FIRST_PULL // 2
        self._stats = {p.name: _Stats() for p in order}
        self._stats_pipers = [(self._stats[p.name], p) for p in order]
        self._results = {p.name: [] for p in order if p.track}
        self._gate = _flow.Gate()
        self._threads = []
        self._serial_busy = 0
        self._failure = None
        self._debug_errors = set()
        self._stop_requested = False
        self._started_at = self._t0 = self._t1 = None
        with self._lock:
            self._state = self._announced = "idle"

    def _pull_size(self) -> int:
        """Input items to pull next: ``stride``, or adaptive to the slowest piper.

        Pause and stop let pulled items finish, so by default the pipeline
        pulls about TARGET_PULL_S of work at a time -- thousands of items for
        cheap functions, a handful for slow ones.
        """
        if self.stride:
            return self.stride
        worst = 0.0
        with self._lock:  # (called once per input batch: no graph walk here)
            for s, p in self._stats_pipers:
                if not s.inp:
                    continue
                workers = max(1, getattr(p.parallel, "_nslots", 1)) if p.parallel else 1
                worst = max(worst, s.busy / s.inp / workers)
        if worst == 0.0:
            target = FIRST_PULL
        else:
            target = max(1, int(TARGET_PULL_S / worst))
        # Ramp up: at most double the last pull.  A few fast first items must
        # not license pulling thousands when later ones are slow (or hang):
        # everything pulled has to finish before stop() returns.
        size = max(1, min(self._cap, target, 2 * self._last_pull))
        self._last_pull = size
        return size

    def _upstream(self, u: Piper, streams, fanout, size):
        n = len(self.children_of(u))
        if n == 1:
            return streams[u]
        if u not in fanout:
            fanout[u] = [_flow.Broadcast(streams[u], n, 8 * size, u.name), 0]
        b = fanout[u]
        b[1] += 1
        return b[0].consumer(b[1] - 1)

    def _evaluate(self, p: Piper, boxes, mode: Mode):
        if p.parallel:
            imap = p.parallel
            tid = imap._add_batch_task(p.worker, boxes, timeout=p.timeout, name=p.name,
                                       on_chunk=lambda n, created, timeouts, busy, p=p:
                                       self._account(p, n, created, timeouts, busy),
                                       ordered=p.ordered, mode=mode)
            return self._emit_results(p, imap._task_batches(tid))
        return self._emit_results(p, self._serial(p, boxes, mode))

    def _serial(self, p: Piper, boxes, mode: Mode):
        start = 0
        for batch in boxes:
            with self._lock:
                self._serial_busy += 1
            try:
                results, created, busy = run_chunk(p.worker, batch, start, p.name, mode=mode)
            except Exception as exc:  # only a debug=True worker raises
                self._debug_errors.add(id(exc))
                raise
            finally:
                with self._lock:
                    self._serial_busy -= 1
            for off in created:
                log.error("piper %s: item %s became a placeholder: %s", p.name,
                          results[off].index, results[off])
            self._account(p, len(batch), [results[o] for o in created], 0, busy)
            start += len(batch)
            yield results

    def _account(self, p: Piper, n: int, created: list, timeouts: int, busy: float) -> None:
        with self._lock:
            s = self._stats[p.name]
            if s.t0 is None:
                s.t0, s.state = time.monotonic(), "running"
            s.inp += n
            s.errors += len(created)
            s.timeouts += timeouts
            s.busy += busy
        for err in created:
            self._emit({"event": "error", "piper": p.name, "index": err.index,
                        "exc_type": err.exc_type, "message": err.message,
                        "kind": type(err).__name__, "traceback": err.traceback})

    def _emit_results(self, p: Piper, batches):
        s = self._stats[p.name]
        track = self._results.get(p.name)
        try:
            for results in batches:
                if track is not None:
                    track.extend(results)
                with self._lock:
                    s.out += len(results)
                if results:
                    yield results
        except GeneratorExit:
            raise
        except BaseException:
            with self._lock:
                s.state, s.t1 = "failed", time.monotonic()
            raise
        with self._lock:
            if s.t0 is None:
                s.t0 = time.monotonic()
            s.state, s.t1 = "finished", time.monotonic()

    # -- run control ------------------------------------------------------------
    def run(self) -> None:
        """Start pulling input items (after ``start``); returns at once."""
        if not self._prepared:
            raise PlumberError("call start(datas) before run()")
        if self._state != "idle":
            raise PlumberError(f"run() needs an idle pipeline (state is {self._state!r})")
        self._started_at = time.time()
        self._t0 = time.monotonic()
        _leases.begin_run()
        self._gate.set(open=True)
        self._set_state("running")
        for p, stream in self._outputs:
            t = threading.Thread(target=self._drain, args=(p, stream), daemon=True,
                                 name=f"papy-drain-{p.name}")
            self._threads.append(t)
            t.start()
        threading.Thread(target=self._monitor, name="papy-monitor", daemon=True).start()

    def _drain(self, p: Piper, stream) -> None:
        try:
            for _ in stream:
                pass
        except BaseException as exc:
            self._fail(exc, p)

    def _is_debug_error(self, exc: BaseException) -> bool:
        """An error of a ``debug=True`` piper (raised from wait()), not of the engine."""
        if id(exc) in self._debug_errors:
            return True
        return is_placeholder(exc) and any(q.debug and q.name == exc.piper for q in self)

    def _fail(self, exc: BaseException, p: Piper | None = None) -> None:
        with self._lock:
            first = self._failure is None
            if first:
                self._failure = exc
        if first:
            if is_placeholder(exc):
                log.error("piper %s failed in debug mode: %s\n%s", exc.piper, exc,
                          exc.traceback)
            else:
                log.error("pipeline failed at %s", p.name if p else "?", exc_info=exc)
            self._emit({"event": "failure", "piper": getattr(p, "name", None),
                        "exc_type": type(exc).__name__, "message": str(exc)})
        self._gate.set(stopped=True)
        for m in self._imaps:
            m.stop(timeout=1.0)

    def _monitor(self) -> None:
        for t in self._threads:
            t.join()
        for m in self._imaps:
            m.stop()
        _leases.end_run()  # items dumped here and never loaded (pool workers exited)
        with self._lock:
            self._t1 = time.monotonic()
        if self._failure is not None:
            self._set_state("failed")
        elif self._stop_requested:
            self._set_state("stopped")
        else:
            self._set_state("finished")

    def pause(self) -> None:
        """Stop pulling input; return once items in flight have finished."""
        if self._state == "paused":
            return
        if self._state != "running":
            raise PlumberError(f"pause() needs a running pipeline (state is {self._state!r})")
        self._gate.set(open=False)
        while not (self._gate.quiet() and all(m._idle() for m in self._imaps)
                   and self._serial_busy == 0) and self._state == "running":
            with self._state_cond:
                self._state_cond.wait(0.01)
        if self._state == "running":
            self._set_state("paused")

    def resume(self) -> None:
        """Continue after ``pause``."""
        if self._state != "paused":
            raise PlumberError(f"resume() needs a paused pipeline (state is {self._state!r})")
        self._set_state("running")
        self._gate.set(open=True)

    def stop(self) -> None:
        """End the inputs and return once every pulled item has left the pipeline."""
        if self._state in TERMINAL:
            return
        if self._state == "idle":
            self._stop_requested = True
            self._gate.set(stopped=True)
            for m in self._imaps:
                m.stop()
            self._set_state("stopped")
            return
        self._stop_requested = True
        self._set_state("stopping")
        self._gate.set(stopped=True)
        self.wait()

    @property
    def error(self) -> BaseException | None:
        """Why the run failed (state ``failed``), else None."""
        return self._failure

    def wait(self, timeout: float | None = None) -> bool:
        """Block until finished, stopped or failed; False if ``timeout`` passed first.

        A failure of the engine itself (an input iterable that raised, a pool
        whose workers cannot start) ends in state ``failed`` and is kept in
        :attr:`error`; wait() still returns True then, as DESIGN.md specifies.

        Raises:
            The error of a ``debug=True`` piper (a WorkerError carrying the
            remote traceback, or the original exception of a serial piper).
        """
        if self._state == "idle":
            raise PlumberError("wait() needs a pipeline that runs: call start(datas) and "
                               "run() first" if not self._prepared else
                               "wait() needs a pipeline that runs: call run() first")
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._state_cond:
            while self._announced not in TERMINAL:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._state_cond.wait(remaining)
        if (self._state == "failed" and self._failure is not None
                and self._is_debug_error(self._failure)):
            raise self._failure
        return True

    # -- scripts -----------------------------------------------------------------
    def save(self, path, inputs=None, layout=None) -> None:
        """Write this pipeline as an executable Python script (atomically)."""
        from .script import save
        save(self, path, inputs=inputs, layout=layout)

    @classmethod
    def load(cls, path) -> "Plumber":
        """Build a Plumber from a script written by :meth:`save`."""
        from .script import load
        return load(path)

