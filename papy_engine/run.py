"""One run of a pipeline: its wiring, accounting and state machine.

A :class:`Run` is made by ``Plumber.start(datas)`` and lives until the next
start.  Threads of a run::

    user iterables -> Gate -> input pipers -> ... -> output pipers -> drain threads
                      (pause/stop)   serial pipers run in the thread that pulls them;
                                     parallel pipers are IMap tasks with their own
                                     feeder threads and the IMap's dispatcher

A drain thread per output piper pulls batches until its stream ends; the
last one to end stops the pools and sets the final state.  ``stop()`` never
discards work: it ends the inputs at the gate and lets every item that was
already pulled flow out, as a result or a placeholder.  The Plumber keeps
the graph and its listeners; the Run reads the graph once, when it is made.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import PlumberError, is_placeholder
from .piper import Piper
from .pool import Driver
from .record import Recorder, Sink
from .transfer import leases
from .wiring import Wiring

if TYPE_CHECKING:
    from .dagger import Dagger

__all__ = ["Run", "RunOptions", "Sink", "TERMINAL"]

log = logging.getLogger(__name__)

TERMINAL = ("finished", "stopped", "failed")


@dataclass(frozen=True)
class RunOptions:
    """How a run goes: ``stride`` (None: adaptive), whether what node functions
    print is captured and reported as "output" events (``capture``),
    ``sinks``: ``{piper name: sink}`` called with every batch a piper emits,
    and whether linear chains on one pool run fused (``fuse``)."""

    stride: int | None = None
    capture: bool = False
    sinks: dict[str, Sink] = field(default_factory=dict)
    fuse: bool = True


class Run:
    """The run of a pipeline, from ``start(datas)`` to its final state."""

    def __init__(self, graph: Dagger, datas: list, options: RunOptions,
                 emit: Callable[[dict], None]) -> None:
        self._emit = emit
        self.lock = threading.RLock()
        self._cond = threading.Condition(self.lock)
        self.state = "idle"
        self._announced = "idle"   # the state once logged and told to listeners
        self.failure: BaseException | None = None
        self._stop_requested = False
        self._draining = 0   # drain threads not yet ended
        self._pipers = graph.postorder()
        self._drivers = self._claim_pools(self._pipers)
        self.recorder = Recorder(graph, self._pipers, [_length(d) for d in datas],
                                 options.sinks, emit, self.lock)
        self._wiring = Wiring(graph, datas, self._drivers, self.recorder, options.stride,
                              options.capture, options.fuse, set(options.sinks))
        self._output_names = [p.name for p, _ in self._wiring.outputs]
        for d in self._drivers:
            d.hold()            # pools stay up until the whole run is over
            d.start_workers()   # fork (when safe) before any thread of ours exists
        for d in self._drivers:
            d.start_threads()

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

    # -- control ---------------------------------------------------------------------
    def snapshot(self) -> dict:
        return self.recorder.snapshot(self.state, self._wiring.gate.pulled, self._output_names)

    def _set_state(self, state: str) -> None:
        with self.lock:
            old, self.state = self.state, state
            if state == "paused":
                self.recorder.clock.pause_began()
            elif old == "paused":
                self.recorder.clock.pause_ended()
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
        self.recorder.clock.start()
        leases.begin_run()
        self._wiring.gate.set(open=True)
        self._set_state("running")
        self._draining = len(self._wiring.outputs)   # a pipeline has at least one
        for p, stream in self._wiring.outputs:
            threading.Thread(target=self._drain, args=(p, stream), daemon=True,
                             name=f"papy-drain-{p.name}").start()

    def _drain(self, p: Piper, stream: Iterator[list]) -> None:
        try:
            for _ in stream:
                pass
        except BaseException as exc:
            self._fail(exc, p)
        finally:
            with self.lock:
                self._draining -= 1
                last = self._draining == 0
            if last:   # the last drain to end ends the run (a thread less to start)
                self._finish()

    def is_debug_error(self, exc: BaseException) -> bool:
        """An error of a ``debug=True`` piper (raised from wait()), not of the engine."""
        if id(exc) in self._wiring.debug_errors:
            return True
        return is_placeholder(exc) and any(q.debug and q.name == exc.piper
                                           for q in self._pipers)

    def _fail(self, exc: BaseException, p: Piper | None = None) -> None:
        if self._record_failure(exc, p.name if p else None):
            if is_placeholder(exc):
                log.error("piper %s failed%s: %s\n%s", exc.piper,
                          " in debug mode" if self.is_debug_error(exc) else "", exc,
                          exc.traceback)
            else:
                log.error("pipeline failed at %s", p.name if p else "?", exc_info=exc)
        self._wiring.gate.set(stopped=True)
        for d in self._drivers:
            d.stop(timeout=1.0)

    def _record_failure(self, exc: BaseException, piper: str | None) -> bool:
        """Keep ``exc`` as the run's failure and tell the listeners; False if
        the run had failed already."""
        with self.lock:
            if self.failure is not None:
                return False
            self.failure = exc
        self._emit({"event": "failure", "piper": piper, "exc_type": type(exc).__name__,
                    "message": str(exc)})
        return True

    def _input_failed(self) -> None:
        """An input raised (see ``Gate.batches``): what it gave before went through."""
        failed = self._wiring.gate.error
        if failed is not None and self._record_failure(failed[1], failed[0]):
            log.error("the input of piper %s raised after %d item(s); they went through, "
                      "and the run fails", failed[0], self._wiring.gate.pulled.get(failed[0], 0),
                      exc_info=failed[1])

    def _finish(self) -> None:
        """Once every drain ended: stop the pools and set the final state."""
        for d in self._drivers:
            d.stop()
        leases.end_run()  # items dumped here and never loaded (pool workers exited)
        with self.lock:
            self.recorder.clock.stop()
        self._input_failed()
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
        gate = self._wiring.gate
        gate.set(open=False)
        while not (gate.quiet() and all(d.idle() for d in self._drivers)
                   and self._wiring.serial_busy == 0) and self.state == "running":
            with self._cond:
                self._cond.wait(0.01)
        if self.state == "running":
            self._set_state("paused")

    def resume(self) -> None:
        if self.state != "paused":
            raise PlumberError(f"resume() needs a paused pipeline (state is {self.state!r})")
        self._set_state("running")
        self._wiring.gate.set(open=True)

    def stop(self) -> None:
        if self.state in TERMINAL:
            return
        self._stop_requested = self.recorder.stopping = True
        self._wiring.gate.set(stopped=True)
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
