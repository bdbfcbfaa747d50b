"""IMap: a lazy, buffered, multi-task parallel map over one shared pool.

This module is the API: configuration, tasks, results, and the
:class:`Driver` interface a pipeline driver (the Plumber) uses.  The moving
parts -- slots, feeder threads, the dispatcher, recovery -- belong to a
:class:`~.manager.PoolManager`, one per *session*: an IMap whose tasks
finished, or which was stopped, starts a new session when it gets a new task,
so it can serve one pipeline after another.

Used on its own an IMap works like ``multiprocessing.Pool.imap``: iterating
raises a worker's exception at its item (and goes on after it).  Inside a
pipeline, errors are placeholders that flow downstream.
"""
from __future__ import annotations

import itertools
import logging
import os
import weakref
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import dill

from ..errors import PLACEHOLDER_TYPES, IMapError, raise_worker_error
from .evaluate import PLAIN, Mode, TaskCall
from .dask_cluster import check_dask
from .manager import PoolManager
from .policy import Limits
from .records import Batch, ChunkCallback, Task
from .slots import worker_types

__all__ = ["IMap", "Driver"]

log = logging.getLogger(__name__)

_names = itertools.count()


class IMap:
    """Lazy parallel map of one or more tasks over a shared worker pool.

    Args:
        func, iterable: when given, added as task 0 (``IMap(f, xs)`` works like
            ``multiprocessing.Pool.imap``).
        worker_num: local workers (default: the number of CPUs); 0 for a
            purely remote pool.
        worker_type: ``"process"`` or ``"thread"`` (or a kind registered with
            :func:`papy_engine.pool.register`).
        worker_remote: ``[("host:port", n), ...]`` remote RPyC workers.
        stride: at most this many items pulled from a task's input at a time
            (default 16384).  Setting ``stride`` or ``buffer`` fixes the limits;
            left at None, they adapt to the measured cost and size of items
            (see :mod:`papy_engine.pool.policy`) within these maxima.
        buffer: items held at once over all tasks, inputs plus results
            (default ``2 * stride * tasks``; at least the number of tasks).
        ordered: results in input order (False: completion order).
        skip: a result whose ``next(timeout=...)`` timed out is skipped for good.
        name: used in logs and scripts (default ``imap_N``).
        start_method: ``"fork"``, ``"spawn"`` or ``"forkserver"``; by default
            fork while the process is single-threaded, else spawn.
        retries: how many times an item in flight on a remote server that
            disconnects is run again elsewhere before it becomes a WorkerError.
        skip_unreachable: warn about remote servers that cannot be reached at
            start (and run without them) instead of raising RemoteError.
        dask: run on a Dask distributed cluster too: a scheduler address
            (``"tcp://host:8786"``), ``"local:N"`` (a local cluster of N worker
            processes), a cluster object or a ``Client``; two slots per cluster
            thread (see :mod:`papy_engine.pool.dask_cluster` and docs/cluster.md).
            ``worker_num=0`` runs on the cluster alone.  Needs the optional
            extra: ``pip install 'papy-studio[dask]'``.

    Raises:
        IMapError: for invalid options (the message says what was given).
    """

    def __init__(self, func: Callable | None = None, iterable: Iterable | None = None,
                 worker_num: int | None = None, worker_type: str = "process",
                 worker_remote: list | None = None, stride: int | None = None,
                 buffer: int | None = None, ordered: bool = True, skip: bool = False,
                 name: str | None = None, start_method: str | None = None,
                 retries: int = 1, skip_unreachable: bool = False, dask: Any = None) -> None:
        _check_options(worker_type, worker_num, stride, buffer, start_method, retries)
        if worker_remote:
            from ..remote import check_remote
            worker_remote = check_remote(worker_remote)
        self.dask = check_dask(dask)
        self.worker_num = worker_num
        self.worker_type = worker_type
        self.worker_remote = list(worker_remote) if worker_remote else None
        self.stride = stride
        self.buffer = buffer
        self.ordered = ordered
        self.skip = skip
        self.name = name or f"imap_{next(_names)}"
        self.start_method = start_method
        self.retries, self.skip_unreachable = retries, skip_unreachable
        self._mgr = self._new_session()
        self._closed = False      # stop() was called: next() raises until a new task
        if func is not None:
            self.add_task(func, iterable if iterable is not None else ())

    def local_workers(self) -> int:
        """The number of local workers (processes or threads) of this pool."""
        return self.worker_num if self.worker_num is not None else (os.cpu_count() or 1)

    def _kinds(self) -> list[str]:
        kinds = [self.worker_type] if self.local_workers() else []
        if self.worker_remote:
            kinds.append("remote")
        if self.dask is not None:
            check_dask(self.dask)   # it may have been set after construction (papy run --dask)
            kinds.append("dask")
        if not kinds:
            raise IMapError(f"IMap {self.name!r} has no workers (worker_num=0 and no "
                            "worker_remote or dask)")
        return kinds

    def _ships_tasks(self) -> bool:
        """True when some worker runs in another process: tasks travel pickled.

        A pool of threads calls the function itself, so a function holding
        what cannot be pickled (a database connection, a lock) is fine there.
        """
        return bool((self.worker_type != "thread" and self.local_workers())
                    or self.worker_remote or self.dask is not None)

    def _pickled(self, func: Any, name: str) -> bytes:
        try:
            return dill.dumps(func, recurse=True)
        except Exception as exc:
            raise IMapError(f"IMap {self.name!r}: task {name!r} cannot be sent to worker "
                            f"processes: {exc}") from exc

    def _new_session(self) -> PoolManager:
        mgr = PoolManager(self.name, Limits(self.stride, self.buffer), self.retries)
        # the pool goes down with the IMap: the manager never refers back to it
        self._finalizer = weakref.finalize(self, _shutdown, mgr)
        return mgr

    # -- tasks --------------------------------------------------------------------------
    def add_task(self, func: Callable, iterable: Iterable, args: tuple = (),
                 kwargs: dict | None = None, timeout: float | None = None) -> int:
        """Add ``func`` over ``iterable`` as a new task; returns the task number.

        Errors of this task raise when its results are taken (see :meth:`next`).
        """
        if not callable(func):
            raise IMapError(f"task function must be callable (got {func!r})")
        call = TaskCall(func, args, kwargs)
        it = iter(iterable)
        tid = self._add(call, None, timeout, call.name, standalone=True)
        mgr = self._mgr
        task = mgr.tasks[tid]
        task.batches = iter(lambda: list(itertools.islice(it, mgr.room(task))), [])
        return tid

    def _add(self, func: Any, batches: Iterator[list] | None, timeout: float | None,
             name: str, on_chunk: ChunkCallback | None = None, ordered: bool | None = None,
             mode: Mode = PLAIN, standalone: bool = False) -> int:
        if self._mgr.stopped:
            self._finalizer.detach()
            self._mgr = self._new_session()   # the previous run is over: serve a new one
        if self._mgr.started:
            raise IMapError(f"IMap {self.name!r}: tasks must be added before start() "
                            "(or after the previous tasks finished)")
        if timeout is not None and (isinstance(timeout, bool)
                                    or not isinstance(timeout, (int, float)) or timeout <= 0):
            raise IMapError(f"timeout must be a number > 0 or None (got {timeout!r})")
        payload = self._pickled(func, name) if self._ships_tasks() else None
        self._closed = False
        tasks = self._mgr.tasks
        task = Task(len(tasks), name, func, payload, batches, timeout, on_chunk,
                    self.ordered if ordered is None else (ordered and self.ordered),
                    mode, standalone)
        tasks.append(task)
        return task.id

    # -- lifecycle ------------------------------------------------------------------
    def start(self) -> None:
        """Start the pool, the dispatcher and one feeder per task."""
        self._start_workers()
        self._mgr.start_threads()

    def _start_workers(self) -> None:
        """Start the workers (before any thread of ours, so fork stays safe)."""
        if not self._mgr.started:
            if self._ships_tasks():   # (dask= may have been set since the tasks came)
                for t in self._mgr.tasks:
                    if t.payload is None:
                        t.payload = self._pickled(t.func, t.name)
            self._mgr.start_slots(self, self._kinds())

    def pause(self) -> None:
        """Stop pulling new input items; work already pulled goes on."""
        self._mgr.running.clear()

    def resume(self) -> None:
        self._mgr.running.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Shut the pool down (safe to repeat).  Results not yet taken are dropped.

        Afterwards :meth:`next` raises IMapError (a stopped map never looks
        exhausted) until a new task is added.
        """
        self._closed = True
        self._mgr.stop(timeout)
        log.debug("IMap %s stopped", self.name)

    def __enter__(self) -> IMap:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- results --------------------------------------------------------------------
    def get_task(self, task: int = 0) -> Iterator[Any]:
        """Iterator over the results of ``task``.

        For a task added with :meth:`add_task`, a result that is a
        :class:`WorkerError` raises the worker's exception (as
        ``Pool.imap`` does); the iterator goes on after it.
        """
        self._check_task(task)
        return _Results(self, task)

    def next(self, timeout: float | None = None, task: int = 0) -> Any:
        """The next result of ``task``.

        Raises:
            TimeoutError: none came within ``timeout`` seconds (with
                ``skip=True`` that result is then skipped for good).
            StopIteration: the task has no more results.
            IMapError: the IMap was stopped.
            The worker's exception, for a task added with :meth:`add_task`.
        """
        self._check_task(task)
        if self._closed:
            raise IMapError(f"IMap {self.name!r} was stopped; add a task to use it again")
        t = self._mgr.tasks[task]
        self.start()   # (a no-op once the pool and its threads run)
        while True:
            while not t.items:
                try:
                    t.items.extend(self._mgr.take(t, timeout).results)
                except TimeoutError:
                    if self.skip:
                        t.skip += 1
                    raise
            while t.skip and t.items:
                t.items.popleft()
                t.skip -= 1
            if t.items:
                break
        x = t.items.popleft()
        if t.standalone and x.__class__ in PLACEHOLDER_TYPES:
            raise_worker_error(x)
        return x

    def _check_task(self, task: int) -> None:
        n = len(self._mgr.tasks)
        if isinstance(task, bool) or not isinstance(task, int) or not 0 <= task < n:
            raise IMapError(f"IMap {self.name!r} has no task {task!r} (tasks: 0..{n - 1})")

    def __iter__(self) -> Iterator[Any]:
        return self.get_task(0)

    def __next__(self) -> Any:
        return self.next()

    def driver(self) -> Driver:
        """The interface a pipeline driver runs tasks through (see :class:`Driver`)."""
        return Driver(self)

    def __repr__(self) -> str:
        dask = "" if self.dask is None else f", dask={self.dask!r}"
        return (f"IMap({self.name!r}, worker_type={self.worker_type!r}, "
                f"worker_num={self.worker_num!r}{dask})")


class Driver:
    """What a pipeline driver (the Plumber) uses of an IMap, and nothing more.

    A driver adds tasks whose inputs are already batched (lists of inboxes),
    *holds* the pool for the whole run (it stays up when every task is done,
    so an item a task dumped outlives that task until another one loaded
    it), starts the workers before any thread of its own exists, reads
    results in batches with placeholders in place, and stops the pool when
    the run is over.
    """

    def __init__(self, imap: IMap) -> None:
        self.imap = imap

    def in_use(self) -> bool:
        """True while a previous run's session is still up (not stopped)."""
        mgr = self.imap._mgr
        return mgr.started and not mgr.stopped

    def add_task(self, func: Any, batches: Iterator[list], *, name: str,
                 timeout: float | None = None, on_chunk: ChunkCallback | None = None,
                 ordered: bool = True, mode: Mode = PLAIN) -> int:
        """Add a task over ``batches`` (lists of inboxes; items when ``mode`` is boxed)."""
        return self.imap._add(func, batches, timeout, name, on_chunk, ordered, mode)

    def hold(self) -> None:
        """Keep the pool up after its tasks are done, until :meth:`stop`."""
        self.imap._mgr.held = True

    def start_workers(self) -> None:
        """Start the workers (call before starting threads: fork stays safe)."""
        self.imap._start_workers()

    def start_threads(self) -> None:
        """Start the dispatcher and the feeders."""
        self.imap._mgr.start_threads()

    def batches(self, tid: int) -> Iterator[Batch]:
        """Task ``tid``'s results in batches, in order (or as they come for an
        unordered task), placeholders included, each with the index of its
        first evaluation and what its evaluations printed."""
        mgr = self.imap._mgr
        task = mgr.tasks[tid]
        while True:
            try:
                batch = mgr.take(task)
            except StopIteration:
                return
            if batch.results or batch.output:
                yield batch

    def idle(self) -> bool:
        """True when no pulled item waits for or occupies a worker."""
        return self.imap._mgr.idle()

    def workers(self) -> int:
        """The number of slots now (0 before start)."""
        return self.imap._mgr.nslots

    def max_pull(self) -> int:
        """The most items a task pulls at a time (the stride)."""
        return Limits(self.imap.stride, self.imap.buffer).max_pull()

    def stop(self, timeout: float = 10.0) -> None:
        """Shut the pool down at the end of the run."""
        self.imap._mgr.stop(timeout)


class _Results:
    """Iterator over one task's results; a raised worker error does not end it.

    Results already taken as a batch are handed out straight from the task's
    queue (the per-item cost of ``for x in imap``); everything else --
    waiting, the end, a stopped map, skipping -- goes through :meth:`IMap.next`.
    """

    __slots__ = ("_imap", "_task", "_items", "_raises")

    def __init__(self, imap: IMap, task: int) -> None:
        self._imap, self._task = imap, task
        t = imap._mgr.tasks[task]
        self._items, self._raises = t.items, t.standalone

    def __iter__(self) -> _Results:
        return self

    def __next__(self) -> Any:
        items = self._items
        if items and not self._imap._closed:
            x = items.popleft()
            if self._raises and x.__class__ in PLACEHOLDER_TYPES:
                raise_worker_error(x)
            return x
        return self._imap.next(task=self._task)


def _shutdown(mgr: PoolManager) -> None:
    """Finalizer of an IMap: stop its pool if it still runs."""
    if mgr.started and not mgr.stopped:
        try:
            mgr.stop(1.0)
        except Exception:
            log.debug("stopping an abandoned IMap's pool", exc_info=True)


def _check_options(worker_type: str, worker_num: int | None, stride: int | None,
                   buffer: int | None, start_method: str | None, retries: int) -> None:
    if worker_type not in worker_types():
        raise IMapError(f"worker_type must be one of {', '.join(map(repr, worker_types()))} "
                        f"(got {worker_type!r})")
    for label, value in (("worker_num", worker_num), ("stride", stride), ("buffer", buffer)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or value < (0 if label == "worker_num" else 1)):
            raise IMapError(f"{label} must be a positive int or None (got {value!r})")
    if start_method not in (None, "fork", "spawn", "forkserver"):
        raise IMapError(f"start_method must be fork, spawn or forkserver "
                        f"(got {start_method!r})")
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise IMapError(f"retries must be an int >= 0 (got {retries!r})")
