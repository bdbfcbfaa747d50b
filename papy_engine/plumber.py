"""Plumber: a Dagger you can run -- start, run, pause, resume, stop, wait -- and watch.

The Plumber keeps the graph (it *is* the :class:`~papy_engine.dagger.Dagger`),
its listeners and its script provenance; each ``start(datas)`` makes a
:class:`~papy_engine.run.Run`, which owns that run's wiring, statistics,
results and state machine.  A finished or stopped pipeline can be edited
and started again; edits while a run is in progress are refused.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from .dagger import Dagger
from .errors import PlumberError
from .piper import Piper
from .run import TERMINAL, Run, RunOptions, Sink

__all__ = ["Plumber"]

log = logging.getLogger(__name__)

STATES = ("idle", "running", "paused", "stopping", "finished", "stopped", "failed")


class Plumber(Dagger):
    """A runnable pipeline.

    Args:
        pipers, pipes: passed to :class:`Dagger`.
        stride: input items pulled at a time (default: adaptive, at most the
            smallest IMap stride, or 1024 for a serial pipeline).
        fuse: run linear chains of 1:1 pipers on one IMap as one task in the
            worker (see :mod:`papy_engine.fusion`); False keeps every piper a
            task of its own, e.g. to peek at the intermediate results.
    """

    def __init__(self, pipers: Iterable[Piper] = (), pipes: Iterable = (),
                 stride: int | None = None, fuse: bool = True) -> None:
        self._run: Run | None = None   # (set before the Dagger adds pipers)
        super().__init__(pipers, pipes)
        self.stride = stride
        self.fuse = fuse
        self.inputs_source: list[str] | None = None
        self.layout: dict = {}
        # what the script it was loaded from looked like (set by papy_engine.script)
        self.script_source: Any = None
        self._listeners: list[Callable[[dict], Any]] = []

    @property
    def stride(self) -> int | None:
        """Input items pulled at a time (None: adapted to the slowest piper)."""
        return self._stride

    @stride.setter
    def stride(self, value: int | None) -> None:
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or value < 1):
            raise PlumberError(f"stride must be an int >= 1 or None (got {value!r})")
        self._stride = value

    # -- observation -----------------------------------------------------------
    @property
    def state(self) -> str:
        """One of ``idle, running, paused, stopping, finished, stopped, failed``."""
        return self._run.state if self._run is not None else "idle"

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

    @property
    def stats(self) -> dict:
        """A snapshot: state, timing and per-piper counters (see DESIGN.md)."""
        if self._run is None:
            return {"state": "idle", "started_at": None, "elapsed_s": 0.0, "pipers": {},
                    "inputs": {}}
        return self._run.snapshot()

    @property
    def results(self) -> dict[str, list]:
        """``{name: [results in order]}`` for pipers made with ``track=True``."""
        return self._run.recorder.results if self._run is not None else {}

    def peek(self, name: str, n: int = 20, indexed: bool = False) -> list:
        """The last ``n`` results of piper ``name``, as they pass (placeholders included).

        Works while the run goes on and after it ended.  At most the last 100
        results of a piper are kept, and at most about 1 MiB of them: a result
        larger than 64 KiB is kept as a :class:`~papy_engine.peek.Truncated`
        stand-in (type, size and the start of its ``repr``), never the object.
        With ``indexed``, gives ``(index, result)`` pairs, ``index`` being the
        result's position in the piper's output.

        Raises:
            DaggerError: no piper has that name.
        """
        self.get_piper(name)
        if self._run is None:
            return []
        pairs = self._run.recorder.peeks[name].last(n)
        return pairs if indexed else [v for _, v in pairs]

    def errors(self, name: str) -> list:
        """The placeholders created at piper ``name`` in the last run (the first 1,000).

        Each keeps the inbox it failed on (``inbox``, or ``inbox_note`` when it
        was too large to keep); ``stats["pipers"][name]["errors"]`` counts them all.

        Raises:
            DaggerError: no piper has that name.
        """
        self.get_piper(name)
        return list(self._run.recorder.errors[name]) if self._run is not None else []

    @property
    def error(self) -> BaseException | None:
        """Why the last run failed (state ``failed``), else None."""
        return self._run.failure if self._run is not None else None

    # -- running ----------------------------------------------------------------
    def _check_editable(self) -> None:
        if self._run is not None and not self._run.editable():
            what = "started" if self._run.state == "idle" else self._run.state
            raise PlumberError(f"the pipeline is {what}; edit it once it finished or was "
                               "stopped")

    def start(self, datas: Iterable[Iterable], *, capture_output: bool = False,
              sinks: dict[str, Sink] | None = None) -> None:
        """Connect ``datas`` (one iterable per input piper) and start the pools.

        A pipeline that finished or was stopped can be started again (and
        edited before that); its statistics and results start afresh.

        Args:
            capture_output: collect what node functions print (in threads and
                worker processes) and report it to listeners as ``{"event":
                "output", "piper": name, "text": ...}`` events, in result order,
                instead of letting it reach this process's stdout.
            sinks: ``{piper name: sink(first_index, results, first_eval)}``,
                called with every batch of results the piper emits (e.g. to
                write them to disk as they arrive); see :data:`papy_engine.record.Sink`.

        Raises:
            PlumberError: wrong number of inputs, the pipeline is running, or
                one of its IMaps serves another pipeline that is running.
            DaggerError: the graph is empty, cyclic or unbalanced.
        """
        if self._run is not None and self._run.state not in TERMINAL:
            raise PlumberError(f"this pipeline was already started (state "
                               f"{self._run.state!r}); start it again once it finished "
                               "or was stopped")
        self.validate()
        inputs = self.get_inputs()
        datas = list(datas)
        if len(datas) != len(inputs):
            raise PlumberError(
                f"start() needs one iterable per input piper: expected {len(inputs)} "
                f"({', '.join(p.name for p in inputs)}), got {len(datas)}")
        unknown = set(sinks or ()) - {p.name for p in self.pipers}
        if unknown:
            raise PlumberError(f"sinks name pipers that are not in the pipeline: "
                               f"{', '.join(sorted(unknown))}")
        self._run = Run(self, datas, RunOptions(self.stride, capture_output, dict(sinks or {}),
                                                self.fuse), self._emit)

    def _current(self, what: str) -> Run:
        if self._run is None:
            raise PlumberError(f"{what} needs a started pipeline: call start(datas) first")
        return self._run

    def run(self) -> None:
        """Start pulling input items (after ``start``); returns at once."""
        self._current("run()").run()

    def pause(self) -> None:
        """Stop pulling input; return once items in flight have finished."""
        self._current("pause()").pause()

    def resume(self) -> None:
        """Continue after ``pause``."""
        self._current("resume()").resume()

    def stop(self) -> None:
        """End the inputs and return once every pulled item has left the pipeline."""
        if self._run is not None:
            self._run.stop()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until finished, stopped or failed; False if ``timeout`` passed first.

        A failure of the engine itself (an input iterable that raised, a pool
        whose workers cannot start) ends in state ``failed`` and is kept in
        :attr:`error`; wait() still returns True then, as DESIGN.md specifies.

        Raises:
            PlumberError: the pipeline was not started and run.
            The error of a ``debug=True`` piper (a WorkerError carrying the
            remote traceback, or the original exception of a serial piper).
        """
        if self._run is None:
            raise PlumberError("wait() needs a pipeline that runs: call start(datas) and "
                               "run() first")
        return self._run.wait(timeout)

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
