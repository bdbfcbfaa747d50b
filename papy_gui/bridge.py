"""The one module that talks to the engine while a pipeline runs.

Data flow::

    Tk thread: start(desc, datas, ns) --> runner thread: pipeline(), start, run, wait
    engine threads: listener(event)   --> events.put((gen, event))       (never blocks)
    runner / helper threads           --> events.put((gen, bridge event))
    Tk thread, every 50 ms: poll() takes <= 50 events -> RunState, RunData
                            (printed output); stats ~10x/s -> RunState
    Tk thread, visible views: RunData reads Plumber.peek / errors (bounded)

Runs are started with ``capture_output=True``: what node functions print
reaches the Output tab as ``"output"`` events, never only the terminal. A
run can stream its results to disk (``results``: see
:class:`ResultsTarget`); the runner thread opens and closes the files (the
results factory runs on the Tk thread, and may refuse the run:
:class:`RunRefused`).

Every kind of event on the queue is named in :mod:`papy_gui.model.events`.
Blocking engine calls (``pause``/``stop`` wait for their state) run on short
helper threads so the Tk loop never waits. No tkinter here: tests drive
``poll()`` by hand with a fake pipeline (tests/gui/test_bridge.py).

Every run has a generation number, carried by its events: :meth:`detach`
(a new or opened document) starts a new generation, so the last run's
Plumber is no longer polled and its late events are dropped -- one run
state per document.
"""
from __future__ import annotations

import logging
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any, Protocol

from papy_engine import script
from papy_engine.pool import warm
from papy_engine.script import PipelineDescription

from .model.events import BridgeEvent, RunEvent
from .model.run_data import RunData
from .model.run_state import RunState, consume_of

log = logging.getLogger(__name__)

BATCH = 50
STATS_PERIOD = 0.1
HEADLESS = -1  # the generation of Run headless output: shown whatever the document


class Pipeline(Protocol):
    """What the bridge drives: a ``papy_engine.Plumber`` (tests use a fake)."""

    @property
    def state(self) -> str: ...

    @property
    def stats(self) -> dict[str, Any]: ...

    @property
    def error(self) -> BaseException | None: ...

    def add_listener(self, fn: Callable[[dict], Any]) -> None: ...

    def start(self, datas: Iterable[Iterable], *, capture_output: bool = False,
              sinks: dict[str, Sink] | None = None) -> None: ...

    def peek(self, name: str, n: int = 20, indexed: bool = False) -> list: ...

    def errors(self, name: str) -> list: ...

    def get_piper(self, name: str) -> Any: ...

    def run(self) -> None: ...

    def wait(self) -> object: ...

    def pause(self) -> None: ...

    def resume(self) -> None: ...

    def stop(self) -> None: ...


Builder = Callable[[PipelineDescription, dict], Pipeline]
#: ``sink(first_index, results, first_eval)``: see ``papy_engine.run.Sink``.
Sink = Callable[[int, list, int], None]


class ResultsTarget(Protocol):
    """Where a run writes its results as they arrive (``commands/results.py``).

    Both are called on the runner thread: ``open`` once the Plumber is built,
    with the run's input iterables; it returns the inputs to start the
    Plumber with (a resumed run's skip the items already done; None: nothing
    left to run, a resumed run had finished) and the sinks for
    ``Plumber.start``. ``close`` once the run is over, with the Plumber (None:
    the run failed or never started, leave the folder resumable); what it
    returns ends the run's status message, e.g. where the files are.
    """

    def open(self, plumber: Pipeline, datas: list) -> tuple[list | None, dict[str, Sink]]: ...

    def close(self, plumber: Pipeline | None) -> str: ...


class RunRefused(Exception):
    """Raised by the :attr:`RunBridge.results` factory: do not start this run (why)."""


def default_builder(desc: PipelineDescription, namespace: dict) -> Pipeline:
    """The Plumber of ``namespace``'s ``pipeline()``: ``namespace`` was filled by
    ``script.execute(desc, ...)`` on the Tk thread, so no user code runs again."""
    plumber: Pipeline = script.make_pipeline(namespace, desc)
    return plumber


class RunBridge:
    """Runs one pipeline at a time off the Tk thread and feeds a :class:`RunState`."""

    def __init__(self, run_state: RunState, builder: Builder = default_builder,
                 data: RunData | None = None, keep_warm: bool = False) -> None:
        """``keep_warm``: keep the local workers of a run for the next one (and
        start the fork server now), until :meth:`close`; a second run with the
        same pool settings then starts no process."""
        self.run_state = run_state
        self.keep_warm = keep_warm
        if keep_warm:
            warm.keep_warm()
            warm.prestart()
        self.builder = builder
        self.data = data if data is not None else RunData(run_state)
        self.events: queue.SimpleQueue[tuple[int, RunEvent]] = queue.SimpleQueue()
        self.plumber: Pipeline | None = None
        self._thread: threading.Thread | None = None
        self._helpers: list[threading.Thread] = []
        self.abandoned: list[threading.Thread] = []   # see abandon(): its helpers
        self._proc: subprocess.Popen[str] | None = None
        self._last_stats = 0.0
        self._generation = 0
        self.on_plumber: Callable[[Pipeline], None] | None = None
        #: where each run started writes its results, if anywhere (Save results)
        self.results: Callable[[], ResultsTarget | None] | None = None

    # -- called on the Tk thread -------------------------------------------------
    @property
    def running(self) -> bool:
        return (self._thread is not None and self._thread.is_alive()) or self.run_state.active

    def start(self, desc: PipelineDescription, datas: list | None, namespace: dict,
              results: ResultsTarget | None = None) -> None:
        """Build and run ``desc`` with input iterables ``datas`` on a runner thread.

        ``namespace`` is the run's own (see ``RunCommands.prepare``): from now on
        only the runner thread uses it. ``results``: stream the results there
        (by default, where :attr:`results` says).

        Raises:
            RunRefused: the results factory refused the run (nothing started).
        """
        if self.running:
            raise RuntimeError("a pipeline is already running")
        if results is None and self.results is not None:
            results = self.results()
        self._generation += 1
        self.plumber = None
        self.run_state.begin(desc.edges, consume_of(desc))
        self.data.reset()
        self.run_state.set_state("building")
        self._thread = threading.Thread(target=self._run,
                                        args=(desc, datas, namespace, self._generation,
                                              results),
                                        name="papy-gui-run", daemon=True)
        self._thread.start()

    def detach(self) -> None:
        """Forget the last run: stop polling its Plumber, drop its queued and late
        events, reset the run state. A run still going is stopped (off the Tk thread)."""
        if self.plumber is not None and self.run_state.active:
            self._call("stop", self.plumber.stop)
        self._generation += 1
        self.plumber = None
        while True:
            try:
                self.events.get_nowait()
            except queue.Empty:
                break
        self.run_state.reset()
        self.data.reset()

    def _run(self, desc: PipelineDescription, datas: list | None, namespace: dict,
             gen: int, results: ResultsTarget | None = None) -> None:
        events = self.events

        def put(event: Any) -> None:  # engine threads only enqueue
            events.put((gen, event))
        opened = False
        try:
            plumber = self.builder(desc, namespace)
            if gen != self._generation:  # the document was replaced while building
                log.info("not starting a pipeline built for a document that was closed")
                return
            plumber.add_listener(put)
            datas, sinks = list(datas or []), None
            if results is not None:
                opened = True
                todo, sinks = results.open(plumber, datas)
                if todo is None:  # a resumed run that had finished: nothing to run
                    opened = False
                    put({"event": "run_ended", "state": "finished",
                         "message": results.close(None)})
                    return
                datas = todo
            plumber.start(datas, capture_output=True, sinks=sinks)
            # polled from now on: a Plumber that failed to start stays "idle", and
            # its stats would turn the run's "failed" back into "idle"
            self.plumber = plumber
            put({"event": "plumber_ready"})
            plumber.run()
            plumber.wait()
            opened = False
            note = results.close(plumber) if results is not None else ""
            error = plumber.error if plumber.state == "failed" else None
            if error is not None:   # why, first: the status line shows it
                note = f"{type(error).__name__}: {error}" + (f"; {note}" if note else "")
            put({"event": "run_ended", "state": plumber.state, "message": note})
        except BaseException as exc:  # report every failure to the window
            log.exception("the pipeline run failed")
            if opened and results is not None:
                self._abandon(results)
            put({"event": "run_ended", "state": "failed",
                 "message": f"{type(exc).__name__}: {exc}"})

    @staticmethod
    def _abandon(results: ResultsTarget) -> None:
        try:
            results.close(None)
        except Exception:  # the run's own failure is what the user is told
            log.exception("closing the results of a failed run failed")

    def _call(self, name: str, method: Callable[[], object]) -> None:
        """``method()`` (a blocking engine call named ``name``) on a helper thread."""
        gen = self._generation

        def call() -> None:
            try:
                method()
            except Exception as exc:
                log.error("%s failed: %s", name, exc)
                failed: BridgeEvent = {"event": "call_failed", "message": f"{name} failed: {exc}"}
                self.events.put((gen, failed))

        t = threading.Thread(target=call, name=f"papy-gui-{name}", daemon=True)
        self._helpers.append(t)
        t.start()

    def pause(self) -> None:
        if self.plumber is not None:
            self._call("pause", self.plumber.pause)

    def resume(self) -> None:
        if self.plumber is not None:
            self._call("resume", self.plumber.resume)

    def stop(self) -> None:
        if self.plumber is not None and self.run_state.active:
            self.run_state.set_state("stopping")
            self._call("stop", self.plumber.stop)

    def poll(self, limit: int = BATCH) -> int:
        """Apply at most ``limit`` queued events and, ~10x/s, a stats snapshot.

        Returns how many events are known to still wait (callers re-arm sooner).
        """
        n = 0
        while n < limit:
            try:
                gen, event = self.events.get_nowait()
            except queue.Empty:
                break
            n += 1
            if gen in (self._generation, HEADLESS):  # else from a run the window has forgotten
                self._handle(event)
        now = time.monotonic()
        if self.plumber is not None and now - self._last_stats >= STATS_PERIOD:
            self._last_stats = now
            self.refresh_stats()
        return 0 if n < limit else 1

    def refresh_stats(self) -> None:
        if self.plumber is not None:
            self.run_state.update_stats(self.plumber.stats)

    def _handle(self, event: RunEvent) -> None:
        if event["event"] == "plumber_ready":
            if self.plumber is not None:
                self.data.attach(self.plumber)
                if self.on_plumber is not None:
                    self.on_plumber(self.plumber)
        elif event["event"] == "output":
            self.data.add_output(event["piper"], event["text"])
        elif event["event"] == "run_ended":
            self.refresh_stats()
            self.data.run_ended()
            self.run_state.set_state(event["state"], event["message"])
        elif event["event"] == "call_failed":
            log.warning("%s", event["message"])
        elif event["event"] == "headless_line":
            log.info("%s", event["line"])
        else:
            self.run_state.handle_event(event)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Join the runner and helper threads (used on close, after stop)."""
        deadline = time.monotonic() + timeout
        for t in [self._thread, *self._helpers]:
            if t is not None:
                t.join(max(0.0, deadline - time.monotonic()))
        return not any(t is not None and t.is_alive() for t in [self._thread, *self._helpers])

    # -- headless run ---------------------------------------------------------------
    def run_headless(self, path: str) -> None:
        """``papy run PATH`` in a subprocess; its output lines go to the log."""
        if self._proc is not None and self._proc.poll() is None:
            raise RuntimeError("a headless run is already going")
        cmd = [sys.executable, "-m", "papy_engine.cli", "run", path]
        proc = self._proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                             stderr=subprocess.STDOUT, text=True, bufsize=1)

        def pump() -> None:  # its lines are log lines, whatever the document
            assert proc.stdout is not None
            for line in proc.stdout:
                self.events.put((HEADLESS, {"event": "headless_line", "line": line.rstrip("\n")}))
            code = proc.wait()
            self.events.put((HEADLESS, {"event": "headless_line",
                                        "line": f"papy run exited with code {code}"}))

        t = threading.Thread(target=pump, name="papy-gui-headless", daemon=True)
        self._helpers.append(t)
        t.start()

    def abandon(self) -> None:
        """Give up on a run that does not stop (a node stuck on an item): its
        pools shut down now, their worker processes killed, and the items in
        flight are lost.  (A function stuck in one of this process's threads
        keeps that thread; the editor exits without waiting for it.)"""
        plumber = self.plumber
        if plumber is None or self.abandoned:
            return
        first = len(self._helpers)
        pools: dict[int, Any] = {}
        for name in list(self.run_state.pipers):
            parallel = getattr(plumber.get_piper(name), "parallel", None)
            if parallel:
                pools[id(parallel)] = parallel
        for pool in pools.values():
            self._call("abandon", partial(pool.stop, 0))
        self.abandoned = self._helpers[first:]
        log.warning("closing without waiting: the items in flight of %d pool(s) are lost",
                    len(pools))

    def close(self) -> None:
        """Stop a run and a headless process; safe to repeat."""
        if self.abandoned:   # nothing more to wait for but the pools' shutdown
            deadline = time.monotonic() + 10.0
            for t in self.abandoned:
                t.join(max(0.0, deadline - time.monotonic()))
        elif self.plumber is not None and self.run_state.active:
            try:
                self.plumber.stop()
            except Exception as exc:
                log.warning("stop on close failed: %s", exc)
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
        self.wait_idle(0.5 if self.abandoned else 10.0)
        if self.keep_warm:
            warm.keep_warm(False)  # stops the workers kept for a next run
