"""IMap: a lazy, buffered, multi-task parallel map over one shared pool.

Data flow::

    task inputs --feeder thread per task--> ready queue --dispatcher--> slots
    (iterables, pulled                     (batches of     (one thread;   (processes
     `stride` items at a time,              consecutive     chunks sized   or threads,
     while the task holds < its budget)     items)          adaptively)    _pool.py)
                                                              |
    consumers <--- per-task result store (reassembled in input order) <--+

* Items move in batches at every hop: the feeder pulls ``stride`` items with
  one ``islice``, the dispatcher cuts chunks whose size adapts to the measured
  cost per item (aiming at ~10 ms of work per message), and results return
  as one list per chunk.
* Memory is bounded: a task holds at most its share of ``buffer`` items
  (pulled and not yet consumed); its feeder waits for room before pulling.
* Each task has its own feeder, so one task waiting for input (for example
  another task's results) never stalls the others.
* A dead worker costs only the item it held; a timed-out item becomes a
  PiperError and its process is replaced.

The class is split by concern: this module holds the public API, the
configuration and the result stores; :mod:`._dispatch` the feeder and
dispatcher threads; :mod:`._recovery` dead workers, timeouts and lost servers.
"""
from __future__ import annotations

import itertools
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import dill

from . import _pool
from ._dispatch import Dispatcher
from ._recovery import Recovery
from .errors import IMapError, PiperError, WorkerError, raise_worker_error

__all__ = ["IMap"]

log = logging.getLogger(__name__)

_names = itertools.count()
TARGET_INFLIGHT_S = 0.5  # default: work held in flight per worker
MAX_INFLIGHT_BYTES = 64 * 2**20  # default: pickled bytes a task holds in flight
DEFAULT_STRIDE = 16384
_PLACEHOLDERS = frozenset({WorkerError, PiperError})


class _Results:
    """Iterator over one task's results; a raised worker error does not end it."""

    __slots__ = ("_imap", "_task")

    def __init__(self, imap: "IMap", task: int) -> None:
        self._imap, self._task = imap, task

    def __iter__(self):
        return self

    def __next__(self):
        return self._imap.next(task=self._task)


class _Task:
    def __init__(self, tid, func, batches, timeout, name, on_chunk, ordered=True,
                 mode=_pool.PLAIN, standalone=False):
        self.id, self.func, self.batches = tid, func, batches
        self.mode = _pool.Mode(mode[0], timeout is not None, mode[2], mode[3])
        self.ordered = ordered
        self.standalone = standalone  # added by add_task: errors raise when taken
        self.timeout, self.name, self.on_chunk = timeout, name, on_chunk
        self.payload: bytes | None = None
        self.held = 0            # items pulled and not yet consumed
        self.budget = 0
        self.pulled = 0          # items pulled so far (next input index)
        self.done = 0            # items whose result is stored or consumed
        self.exhausted = False
        self.error: BaseException | None = None
        self.results: dict[int, tuple[list, int]] = {}   # start -> (results, n_inputs)
        self.arrived: deque = deque()                   # unordered: (results, n_inputs)
        self.next_out = 0
        self.consumed = 0
        self.cost = None         # seconds per item (EMA)
        self.item_bytes = 0.0    # pickled bytes per item: the larger of input and result
        self._bytes = {"in": 0.0, "out": 0.0}  # an EMA of each
        self.feeder: threading.Thread | None = None
        self.items: deque = deque()  # for next(): results already taken as a batch
        self.skip = 0                # results to drop: their next(timeout) timed out

    def note_bytes(self, side: str, size: float) -> None:
        old = self._bytes[side]
        self._bytes[side] = size if not old else 0.5 * old + 0.5 * size
        self.item_bytes = max(self._bytes.values())

    def finished(self) -> bool:
        return self.exhausted and self.consumed >= self.pulled


class IMap(Dispatcher, Recovery):
    """Lazy parallel map of one or more tasks over a shared worker pool.

    Args:
        func, iterable: when given, added as task 0 (``IMap(f, xs)`` works like
            ``multiprocessing.Pool.imap``).
        worker_num: local workers (default: the number of CPUs); 0 for a
            purely remote pool.
        worker_type: ``"process"`` or ``"thread"``.
        worker_remote: ``[("host:port", n), ...]`` remote RPyC workers.
        stride: at most this many items pulled from a task's input at a time
            (default 16384).  Setting ``stride`` or ``buffer`` fixes the limits;
            left at None, they adapt to the measured cost and size of items
            (see ``_limit``) within these maxima.
        buffer: items held at once over all tasks, inputs plus results
            (default ``2 * stride * tasks``; at least the number of tasks).
        ordered: results in input order (False: completion order).
        skip: drop results that are placeholders instead of returning them.
        name: used in logs and scripts (default ``imap_N``).
        start_method: ``"fork"``, ``"spawn"`` or ``"forkserver"``; by default
            fork while the process is single-threaded, else spawn.
        retries: how many times an item in flight on a remote server that
            disconnects is run again elsewhere before it becomes a WorkerError.
        skip_unreachable: warn about remote servers that cannot be reached at
            start (and run without them) instead of raising RemoteError.
    """

    def __init__(self, func: Callable | None = None, iterable: Iterable | None = None,
                 worker_num: int | None = None, worker_type: str = "process",
                 worker_remote: list | None = None, stride: int | None = None,
                 buffer: int | None = None, ordered: bool = True, skip: bool = False,
                 name: str | None = None, start_method: str | None = None,
                 retries: int = 1, skip_unreachable: bool = False) -> None:
        if worker_type not in ("process", "thread"):
            raise IMapError(f"worker_type must be 'process' or 'thread' (got {worker_type!r})")
        for label, value in (("worker_num", worker_num), ("stride", stride), ("buffer", buffer)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                      or value < (0 if label == "worker_num" else 1)):
                raise IMapError(f"{label} must be a positive int or None (got {value!r})")
        if start_method not in (None, "fork", "spawn", "forkserver"):
            raise IMapError(f"start_method must be fork, spawn or forkserver "
                            f"(got {start_method!r})")
        if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
            raise IMapError(f"retries must be an int >= 0 (got {retries!r})")
        if worker_remote:
            from .remote import check_remote
            worker_remote = check_remote(worker_remote)
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
        self._remote = None              # remote.RemotePool with worker_remote
        self._reruns: dict = {}          # (task id, index) -> re-runs after a remote loss
        self._tasks: list[_Task] = []
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)  # results stored / room freed
        self._ready: deque = deque()   # [task, start, items, offset]
        self._slots: list = []
        self._serial = itertools.count(1)
        self._chunks: dict[int, tuple] = {}   # serial -> (slot, task, start, items)
        self._inbox: deque = deque()          # thread-slot replies
        self._wake_r = self._wake_w = -1
        self._dispatcher: threading.Thread | None = None
        self._running = threading.Event()
        self._running.set()
        self._started = self._stopping = self._stopped = False
        self._interrupted = False        # stop() was called: next() raises IMapError
        self._held = False               # a driver (Plumber) shuts the pool down itself
        self._failure: BaseException | None = None
        self._nslots = 0
        self._numbers = itertools.count()
        self._stop_timeout = 10.0
        self._startup_deaths = 0
        self._funcs: dict = {}           # thread slots: task id -> function, name, mode
        self._fnames: dict = {}
        self._modes: dict = {}
        if func is not None:
            self.add_task(func, iterable if iterable is not None else ())

    # -- tasks --------------------------------------------------------------
    def add_task(self, func: Callable, iterable: Iterable, args: tuple = (),
                 kwargs: dict | None = None, timeout: float | None = None) -> int:
        """Add ``func`` over ``iterable`` as a new task; returns the task number."""
        if not callable(func):
            raise IMapError(f"task function must be callable (got {func!r})")
        call = _pool.TaskCall(func, args, kwargs)
        it = iter(iterable)
        tid = self._add(call, None, timeout, call.name, standalone=True)
        task = self._tasks[tid]
        task.batches = iter(lambda: list(itertools.islice(it, self._room(task))), [])
        return tid

    def _add_batch_task(self, func, batches: Iterator[list], timeout=None, name=None,
                        on_chunk=None, ordered=None, mode=_pool.PLAIN) -> int:
        """Engine API: ``batches`` yields lists of inboxes (of items if ``mode`` is boxed)."""
        return self._add(func, batches, timeout, name or getattr(func, "name", "task"),
                         on_chunk, ordered, mode)

    def _add(self, func, batches, timeout, name, on_chunk=None, ordered=None,
             mode=_pool.PLAIN, standalone=False) -> int:
        if self._started and self._stopped:
            self._reset()   # the previous run is over: serve a new one
        if self._started:
            raise IMapError(f"IMap {self.name!r}: tasks must be added before start() "
                            "(or after the previous tasks finished)")
        if timeout is not None and (not isinstance(timeout, (int, float)) or timeout <= 0):
            raise IMapError(f"timeout must be a number > 0 or None (got {timeout!r})")
        try:
            payload = dill.dumps(func, recurse=True)
        except Exception as exc:
            raise IMapError(f"IMap {self.name!r}: task {name!r} cannot be sent to worker "
                            f"processes: {exc}") from exc
        ordered = self.ordered if ordered is None else (ordered and self.ordered)
        task = _Task(len(self._tasks), func, batches, timeout, name, on_chunk, ordered, mode,
                     standalone)
        task.payload = payload
        self._tasks.append(task)
        return task.id

    def _stride(self) -> int:
        return self.stride or DEFAULT_STRIDE

    def _pull_size(self) -> int:
        """Items pulled at a time: the stride, or less when the buffer is small."""
        budget = min((t.budget for t in self._tasks if t.budget), default=0)
        return min(self._stride(), budget) if budget else self._stride()

    def _limit(self, task: _Task) -> int:
        """How many items ``task`` may hold (pulled, not yet consumed).

        With an explicit ``stride``/``buffer`` that is the task's share of the
        buffer.  By default it adapts to the measured cost per item: enough for
        about TARGET_INFLIGHT_S of work per worker, so fast functions stream
        thousands of items while slow ones hold a few -- which keeps pause and
        stop (which let pulled items finish) prompt.
        """
        if self.stride is not None or self.buffer is not None:
            return task.budget
        n = max(1, self._nslots)
        if task.cost is None:
            return min(task.budget, 4 * n)
        want = int(n * TARGET_INFLIGHT_S / max(task.cost, 1e-9))
        if task.item_bytes:  # large items: bound the bytes in flight as well
            want = min(want, int(MAX_INFLIGHT_BYTES / task.item_bytes))
        # slow start: hold at most twice what has completed, so a few fast
        # first items do not license thousands when later ones are slow
        want = min(want, max(4 * n, 2 * task.done))
        return max(min(task.budget, 4 * n), min(task.budget, want))

    def _room(self, task: _Task) -> int:
        """Items the feeder of ``task`` should pull next."""
        return max(1, min(self._pull_size(), self._limit(task) - task.held))

    # -- lifecycle ------------------------------------------------------------
    def _reset(self) -> None:
        """Forget a finished or stopped run's tasks so the IMap can serve a new one."""
        with self._lock:
            self._tasks = []
            self._ready.clear()
            self._chunks.clear()
            self._inbox.clear()
            self._reruns = {}
            self._slots = []
            self._remote = None
            self._dispatcher = None
            self._started = self._stopping = self._stopped = False
            self._interrupted = self._held = False
            self._failure = None
            self._nslots = 0
            self._startup_deaths = 0
        self._running.set()

    def _hold(self) -> None:
        """Engine API: keep the pool up when every task is done, until stop().

        A Plumber holds the IMaps of a run: an item an upstream task dumped
        (``dump_item``) must outlive that task until a downstream one loaded it.
        """
        self._held = True

    def start(self) -> None:
        """Start the pool, the dispatcher and one feeder per task."""
        self._start_pool()
        self._start_threads()

    def _start_pool(self) -> None:
        """Start the workers (before any thread of ours, so fork stays safe)."""
        if self._started:
            return
        if self._stopped:
            raise IMapError(f"IMap {self.name!r} was stopped; make a new one")
        ntasks = max(1, len(self._tasks))
        stride = self._stride()
        buffer = self.buffer if self.buffer is not None else 2 * stride * ntasks
        if buffer < ntasks:
            raise IMapError(f"IMap {self.name!r}: buffer ({buffer}) must be at least the "
                            f"number of tasks ({ntasks})")
        for t in self._tasks:
            t.budget = max(1, buffer // ntasks)
        self._started = True
        self._start_slots()

    def _start_threads(self) -> None:
        if self._dispatcher is not None:
            return
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        self._dispatcher = threading.Thread(target=self._dispatch_guard,
                                            name=f"papy-{self.name}-dispatch", daemon=True)
        self._dispatcher.start()
        for t in self._tasks:
            t.feeder = threading.Thread(target=self._feed, args=(t,), daemon=True,
                                        name=f"papy-{self.name}-feed-{t.name}")
            t.feeder.start()
        log.debug("IMap %s started: %d %s worker(s), stride %d, buffer %s", self.name,
                  len(self._slots), self.worker_type, self._pull_size(), self.buffer)

    def _start_slots(self) -> None:
        n = self.worker_num if self.worker_num is not None else (os.cpu_count() or 1)
        if n == 0 and not self.worker_remote:
            raise IMapError(f"IMap {self.name!r} has no workers (worker_num=0 and no "
                            "worker_remote)")
        self._nslots = n
        if self.worker_type == "process":
            method = self.start_method or _pool.default_start_method()
            for _ in range(n):
                fds = [fd for s in self._slots for fd in s.parent_fds()]
                self._slots.append(_pool.ProcessSlot(next(self._numbers), method, fds))
        else:
            self._funcs = {t.id: t.func for t in self._tasks}
            self._fnames = {t.id: t.name for t in self._tasks}
            self._modes = {t.id: t.mode for t in self._tasks}
            for _ in range(n):
                self._slots.append(self._thread_slot())
        if self.worker_remote:  # after forking local workers: connections start threads
            self._start_remote()

    def _start_remote(self) -> None:
        from .remote import RemotePool
        assert self.worker_remote  # only called for a pool with remote workers
        self._remote = RemotePool(self.name, self.worker_remote, self._post_thread,
                                  self._numbers, self.skip_unreachable)
        try:
            made = self._remote.connect()
            if not made and not self._slots:
                raise IMapError(f"IMap {self.name!r} has no workers: no remote server could "
                                f"be reached ({self._remote.describe_loss()})")
        except BaseException:
            self._shutdown_slots(0)
            self._stopped = True
            raise
        self._slots.extend(made)
        self._nslots += len(made)

    def _thread_slot(self):
        return _pool.ThreadSlot(next(self._numbers), self._funcs, self._fnames, self._modes,
                                self._post_thread)

    def _post_thread(self, slot, reply) -> None:
        self._inbox.append((slot, reply))
        self._wake()

    def _wake(self) -> None:
        try:
            os.write(self._wake_w, b"x")
        except (BlockingIOError, OSError):
            pass  # the pipe is full: the dispatcher is awake anyway

    def _idle(self) -> bool:
        """True when no pulled item waits for or occupies a worker."""
        with self._lock:
            return not self._ready and not self._chunks

    def pause(self) -> None:
        """Stop pulling new input items; work already pulled goes on."""
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Shut the pool down (safe to repeat).  Results not yet taken are dropped.

        Afterwards :meth:`next` raises IMapError (a stopped map never looks
        exhausted) until a new task is added.
        """
        with self._lock:
            self._interrupted = True
            if self._stopped:
                return
            self._stop_timeout = timeout
            self._stopping = True
            self._changed.notify_all()
        self._running.set()
        if self._dispatcher is not None:
            self._wake()
            if self._dispatcher is not threading.current_thread():
                self._dispatcher.join(timeout + 5)
        else:
            self._shutdown_slots(timeout)
        with self._lock:
            self._stopped = True
            self._changed.notify_all()
        for t in self._tasks:
            if t.feeder is not None and t.feeder is not threading.current_thread():
                t.feeder.join(0.5)
        log.debug("IMap %s stopped", self.name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def __del__(self):
        if getattr(self, "_started", False) and not getattr(self, "_stopped", True):
            try:
                self.stop(1.0)
            except Exception:
                pass

    # -- results --------------------------------------------------------------
    def _get_batch(self, tid: int, timeout: float | None = None) -> list:
        """Next batch of task ``tid``'s results; StopIteration at the end.

        Raises:
            IMapError: the IMap was stopped before this task's results were all
                taken (a stopped map never looks exhausted), or it failed.
            TimeoutError: no result within ``timeout`` seconds.
        """
        task = self._tasks[tid]
        if not self._started:
            self.start()
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            while True:
                if task.ordered:
                    got = task.results.pop(task.next_out, None)
                    if got is not None:
                        task.next_out += got[1]
                else:
                    got = task.arrived.popleft() if task.arrived else None
                if got is not None:
                    results, n = got
                    task.held -= n
                    task.consumed += n
                    self._changed.notify_all()
                    break
                if task.finished() or self._stopped or self._stopping:
                    self._end_of(task)
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise TimeoutError(f"IMap {self.name!r}: no result of task {tid} "
                                       f"within {timeout} s")
                self._changed.wait(remaining)
        if task.finished() and all(t.finished() for t in self._tasks):
            self._wake()  # let the dispatcher notice and shut the pool down
        return results

    def _end_of(self, task: _Task) -> None:
        """Raise what ends ``task``'s results (called under the lock, nothing left)."""
        if all(t.finished() for t in self._tasks) and self._dispatcher and not self._held:
            # the pool shuts itself down; return once it is down
            self._wake()
            while not self._stopped:
                self._changed.wait(1.0)
                self._wake()
        if task.error is not None and not isinstance(task.error, StopIteration):
            err, task.error = task.error, None
            raise err
        if self._failure is not None:
            raise self._failure
        if task.finished():
            raise StopIteration
        raise IMapError(f"IMap {self.name!r} was stopped before task {task.id} "
                        f"({task.name}) gave all its results")

    def _task_batches(self, tid: int) -> Iterator[list]:
        """Engine API: task ``tid``'s results in batches (placeholders included)."""
        while True:
            try:
                batch = self._get_batch(tid)
            except StopIteration:
                return
            if batch:
                yield batch

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
            IMapError: the IMap was stopped before the task finished.
            The worker's exception, for a task added with :meth:`add_task`.
        """
        self._check_task(task)
        if self._interrupted:
            raise IMapError(f"IMap {self.name!r} was stopped; add a task to use it again")
        t = self._tasks[task]
        while True:
            while not t.items:
                try:
                    t.items.extend(self._get_batch(task, timeout))
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
        if t.standalone and x.__class__ in _PLACEHOLDERS:
            raise_worker_error(x)
        return x

    def __iter__(self):
        return self.get_task(0)

    def __next__(self):
        return self.next()

    def _check_task(self, task: int) -> None:
        if not isinstance(task, int) or not 0 <= task < len(self._tasks):
            raise IMapError(f"IMap {self.name!r} has no task {task!r} "
                            f"(tasks: 0..{len(self._tasks) - 1})")

    def __repr__(self) -> str:
        return (f"IMap({self.name!r}, worker_type={self.worker_type!r}, "
                f"worker_num={self.worker_num!r})")
