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
  cost per item (aiming at ~20 ms of work per message), and results return
  as one list per chunk.
* Memory is bounded: a task holds at most its share of ``buffer`` items
  (pulled and not yet consumed); its feeder waits for room before pulling.
* Each task has its own feeder, so one task waiting for input (for example
  another task's results) never stalls the others.
* A dead worker costs only the item it held (see ``_on_death``); a timed-out
  item becomes a PiperError and its process is replaced.
"""
from __future__ import annotations

import itertools
import logging
import os
import pickle
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.connection import wait as mp_wait
from typing import Any

import dill

from . import _pool
from .errors import IMapError, PiperError, WorkerError, is_placeholder

__all__ = ["IMap"]

log = logging.getLogger(__name__)

_names = itertools.count()
TARGET_CHUNK_S = 0.01   # aim for this much work per chunk message
TARGET_INFLIGHT_S = 0.5  # default: work held in flight per worker
MAX_INFLIGHT_BYTES = 64 * 2**20  # default: pickled bytes a task holds in flight
MAX_CHUNK_BYTES = 4 * 2**20      # pickled bytes per chunk message
MAX_CHUNK_ITEMS = 4096           # more per message gains nothing, and pipelines worse
MAX_OUTSTANDING = 2     # chunks per slot: one running, one waiting
MAX_STARTUP_DEATHS = 3  # replacements dying before any work: the pool is broken
DEFAULT_STRIDE = 16384


class _Task:
    def __init__(self, tid, func, batches, timeout, name, on_chunk, ordered=True, boxed=False):
        self.id, self.func, self.batches = tid, func, batches
        self.boxed = boxed
        self.ordered = ordered
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
        self.batch_iter = None

    def note_bytes(self, side: str, size: float) -> None:
        old = self._bytes[side]
        self._bytes[side] = size if not old else 0.5 * old + 0.5 * size
        self.item_bytes = max(self._bytes.values())

    def finished(self) -> bool:
        return self.exhausted and self.consumed >= self.pulled


class IMap:
    """Lazy parallel map of one or more tasks over a shared worker pool.

    Args:
        func, iterable: when given, added as task 0 (``IMap(f, xs)`` works like
            ``multiprocessing.Pool.imap``).
        worker_num: local workers (default: the number of CPUs); 0 for a
            purely remote pool.
        worker_type: ``"process"`` or ``"thread"``.
        worker_remote: ``[("host:port", n), ...]`` remote RPyC workers.
        stride: items pulled from a task's input at a time (default 4096).
        buffer: items held at once over all tasks, inputs plus results
            (default ``2 * stride * tasks``; at least ``stride * tasks``).
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
        self._failure: BaseException | None = None
        self._nslots = 0
        self._numbers = itertools.count()
        self._stop_timeout = 10.0
        self._startup_deaths = 0
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
        tid = self._add(call, None, timeout, call.name)
        task = self._tasks[tid]
        task.batches = iter(lambda: list(itertools.islice(it, self._room(task))), [])
        return tid

    def _add_batch_task(self, func, batches: Iterator[list], timeout=None, name=None,
                        on_chunk=None, ordered=None, boxed=False) -> int:
        """Engine API: ``batches`` yields lists of inboxes (of items if ``boxed``)."""
        return self._add(func, batches, timeout, name or getattr(func, "name", "task"),
                         on_chunk, ordered, boxed)

    def _add(self, func, batches, timeout, name, on_chunk=None, ordered=None,
             boxed=False) -> int:
        if self._started:
            raise IMapError(f"IMap {self.name!r}: tasks must be added before start()")
        if timeout is not None and (not isinstance(timeout, (int, float)) or timeout <= 0):
            raise IMapError(f"timeout must be a number > 0 or None (got {timeout!r})")
        try:
            payload = dill.dumps(func, recurse=True)
        except Exception as exc:
            raise IMapError(f"IMap {self.name!r}: task {name!r} cannot be sent to worker "
                            f"processes: {exc}") from exc
        ordered = self.ordered if ordered is None else (ordered and self.ordered)
        task = _Task(len(self._tasks), func, batches, timeout, name, on_chunk, ordered, boxed)
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
        return max(min(task.budget, 4 * n), min(task.budget, want))

    def _room(self, task: _Task) -> int:
        """Items the feeder of ``task`` should pull next."""
        return max(1, min(self._pull_size(), self._limit(task) - task.held))

    # -- lifecycle ------------------------------------------------------------
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
            self._modes = {t.id: (t.boxed, t.timeout is not None) for t in self._tasks}
            for _ in range(n):
                self._slots.append(self._thread_slot())
        if self.worker_remote:  # after forking local workers: connections start threads
            self._start_remote()

    def _start_remote(self) -> None:
        from .remote import RemotePool
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
        """Shut the pool down (safe to repeat).  Results not yet taken are dropped."""
        with self._lock:
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

    # -- feeders --------------------------------------------------------------
    def _feed(self, task: _Task) -> None:
        fixed = self.stride is not None or self.buffer is not None
        stride = self._pull_size()
        try:
            while True:
                with self._lock:
                    while (task.held > 0 and not self._stopping
                           and (task.held + stride > task.budget if fixed
                                else task.held >= self._limit(task))):
                        self._changed.wait()
                    if self._stopping:
                        return
                self._running.wait()
                try:
                    batch = next(task.batches)
                except StopIteration:
                    break
                if not isinstance(batch, list):
                    batch = list(batch)
                if not batch:
                    continue
                with self._lock:
                    if self._stopping:
                        return
                    start = task.pulled
                    task.pulled += len(batch)
                    task.held += len(batch)
                    self._ready.append([task, start, batch, 0])
                self._wake()
        except BaseException as exc:  # the input iterable itself raised
            log.error("IMap %s: the input of task %s raised %s: %s", self.name, task.name,
                      type(exc).__name__, exc)
            task.error = exc
        with self._lock:
            task.exhausted = True
            self._changed.notify_all()
        self._wake()

    # -- dispatcher -----------------------------------------------------------
    def _dispatch_guard(self) -> None:
        try:
            self._dispatch()
        except BaseException as exc:
            log.exception("IMap %s: dispatcher failed", self.name)
            with self._lock:
                self._failure = IMapError(f"IMap {self.name!r} failed: {exc}")
                self._failure.__cause__ = exc
                self._stopping = True
                self._changed.notify_all()
        finally:
            self._shutdown_slots(self._stop_timeout)
            os.close(self._wake_r)
            os.close(self._wake_w)
            with self._lock:
                self._stopped = True
                self._changed.notify_all()

    def _dispatch(self) -> None:
        while True:
            objs = [self._wake_r]
            for s in self._slots:
                objs.extend(s.wait_objects())
            ready = mp_wait(objs, timeout=self._next_deadline())
            if self._wake_r in ready:
                try:
                    os.read(self._wake_r, 65536)
                except BlockingIOError:
                    pass
            while self._inbox:
                slot, reply = self._inbox.popleft()
                if reply[0] in ("dead", "ready", "gone"):
                    self._on_remote_event(slot, reply[0])
                else:
                    self._on_reply(slot, reply)
            for s in list(self._slots):
                if s.kind != "process" or s.dead:
                    continue
                if s.result_r in ready or s.proc.sentinel in ready:
                    if not self._drain(s) or s.proc.sentinel in ready:
                        self._on_death(s)
            self._check_timeouts()
            with self._lock:
                if self._stopping:
                    return
                if all(t.finished() for t in self._tasks) and self._tasks:
                    # every result consumed: nothing more can come
                    return
            self._assign()

    def _drain(self, slot) -> bool:
        """Read every complete reply of a process slot; False on EOF."""
        try:
            while slot.result_r.poll():
                data = slot.result_r.recv_bytes()
                self._on_reply(slot, pickle.loads(data), len(data))
        except (EOFError, OSError):
            return False
        except Exception:
            log.exception("IMap %s: unreadable reply from worker %s", self.name, slot.number)
            return False
        return True

    def _assign(self) -> None:
        """Send ready items to slots with room, idle slots first."""
        if not self._slots:
            self._no_workers_left()
        for room in range(MAX_OUTSTANDING):
            for slot in self._slots:
                if slot.dead or len(slot.outstanding) > room:
                    continue
                with self._lock:
                    if not self._ready:
                        return
                    entry = self._ready[0]
                    task, start, items, off = entry
                    if task.timeout is not None and slot.outstanding:
                        continue  # a timed item starts only on an idle slot
                    size = self._chunk_size(task)
                    chunk = items[off:off + size]
                    if off + size >= len(items):
                        self._ready.popleft()
                    else:
                        entry[3] = off + size
                self._send(slot, task, start + off, chunk)

    def _chunk_size(self, task: _Task) -> int:
        if task.timeout is not None:
            return 1
        if task.cost is None:
            return 4
        n = max(1, self._nslots)
        cap = max(1, min(MAX_CHUNK_ITEMS, self._stride() // n))
        size = max(1, min(cap, int(TARGET_CHUNK_S / max(task.cost, 1e-9))))
        if task.item_bytes:
            size = max(1, min(size, int(MAX_CHUNK_BYTES / task.item_bytes)))
        if size > 1 and size * task.cost > 0.002:
            # guided scheduling: expensive items are shared out more finely as
            # the queue runs low, so that no worker is left with a long tail
            waiting = sum(len(e[2]) - e[3] for e in self._ready if e[0] is task)
            size = max(1, min(size, -(-waiting // (2 * n))))
        return size

    def _send(self, slot, task, start, chunk) -> None:
        serial = next(self._serial)
        if task.id not in slot.tasks:
            slot.send_task(task.id, task.name, task.payload, task.boxed,
                           task.timeout is not None)
        self._chunks[serial] = (slot, task, start, chunk)
        slot.outstanding.append(serial)
        try:
            nbytes = slot.send_chunk(serial, task.id, start, chunk)
            if nbytes and chunk:
                task.note_bytes("in", nbytes / len(chunk))
        except Exception as exc:
            if isinstance(exc, OSError):
                return  # the worker died; its sentinel reports it
            # some item cannot be pickled: answer those here, resend the rest
            slot.outstanding.remove(serial)
            del self._chunks[serial]
            self._unpicklable(task, start, chunk, exc)

    def _unpicklable(self, task, start, chunk, exc) -> None:
        results = []
        for i, item in enumerate(chunk):
            try:
                pickle.dumps(item)
                results.append(None)
            except Exception as e:
                results.append(WorkerError(
                    f"the input item ({type(item).__name__}) cannot be sent to a worker "
                    f"process: {e}", exc_type="PicklingError", piper=task.name,
                    index=start + i))
        # items that pickle go back to the front of the queue, one chunk each run
        with self._lock:
            for i in reversed(range(len(chunk))):
                if results[i] is None:
                    self._ready.appendleft([task, start + i, [chunk[i]], 0])
        for i, r in enumerate(results):
            if r is not None:
                self._store(task, start + i, [r], 1, [0], 0.0)

    def _on_reply(self, slot, reply, nbytes: int = 0) -> None:
        kind, serial = reply[0], reply[1]
        entry = self._chunks.pop(serial, None)
        if entry is None:
            return  # a late reply for a chunk already answered (timeout)
        if serial in slot.outstanding:
            slot.outstanding.remove(serial)
        _, task, start, items = entry
        slot.replies = getattr(slot, "replies", 0) + 1
        self._startup_deaths = 0
        if kind == "raise":
            err = reply[2]
            log.error("piper %s: item %s raised (debug mode): %s", task.name, err.index, err)
            with self._lock:
                task.error = err
                self._failure = err
                self._stopping = True
                self._changed.notify_all()
            return
        _, _, results, created, busy = reply
        n = len(items)
        if n:
            cost = busy / n
            task.cost = cost if task.cost is None else 0.5 * task.cost + 0.5 * cost
            if nbytes:
                task.note_bytes("out", nbytes / n)
        self._store(task, start, results, n, created, busy)

    def _store(self, task, start, results, n, created, busy, timeouts=0) -> None:
        for off in created:
            r = results[off]
            log.error("piper %s: item %s became a placeholder: %s", task.name, r.index, r)
        if task.on_chunk is not None:
            try:
                task.on_chunk(n, [results[o] for o in created], timeouts, busy)
            except Exception:
                log.exception("IMap %s: statistics callback failed", self.name)
        if self.skip:
            results = [r for r in results if not is_placeholder(r)]
        with self._lock:
            if task.ordered:
                task.results[start] = (results, n)
            else:
                task.arrived.append((results, n))
            task.done += n
            self._changed.notify_all()

    def _on_death(self, slot) -> None:
        if slot.kind == "remote" and not slot.timed_out:
            self._on_remote_death(slot)
            return
        if slot.kind == "process":
            slot.proc.join(2.0)  # reap it, so that its exit code is known
        reason = slot.exit_reason()
        if slot in self._slots:
            self._slots.remove(slot)
        slot.dead = True
        timed = slot.timed_out
        began = bool(slot.outstanding) and int(slot.progress[_pool.SERIAL]) == slot.outstanding[0]
        if not timed and not began and not getattr(slot, "replies", 0):
            self._startup_deaths += 1
            if self._startup_deaths >= MAX_STARTUP_DEATHS and not self._stopping:
                self._broken(slot, reason)
                return
        if not self._stopping:
            log.warning("IMap %s: worker %s died (%s)%s", self.name, slot.number, reason,
                        "" if timed else "; starting a replacement")
        for i, serial in enumerate(list(slot.outstanding)):
            _, task, start, items = self._chunks.pop(serial)
            off = slot.current_offset(serial) if i == 0 else -1
            if i == 0 and (timed or slot.started_at(serial) is not None
                           or int(slot.progress[_pool.SERIAL]) == serial):
                with self._lock:  # items before and after the culprit run again
                    if off + 1 < len(items):
                        self._ready.appendleft([task, start + off + 1, items[off + 1:], 0])
                    if off > 0:
                        self._ready.appendleft([task, start, items[:off], 0])
                if timed:
                    err = PiperError(f"no result within the timeout of {task.timeout} s",
                                     exc_type="TimeoutError", piper=task.name,
                                     index=start + off)
                    self._store(task, start + off, [err], 1, [0], task.timeout, timeouts=1)
                else:
                    err = WorkerError(f"the worker process died ({reason}) while "
                                      "processing this item", exc_type="WorkerDied",
                                      function=getattr(task.func, "name", None),
                                      piper=task.name, index=start + off)
                    self._store(task, start + off, [err], 1, [0], 0.0)
            else:
                with self._lock:
                    self._ready.appendleft([task, start, items, 0])
        slot.outstanding.clear()
        try:
            slot.stop(0)
        except Exception:
            log.debug("closing dead worker %s", slot.number, exc_info=True)
        if not self._stopping:
            self._replace(slot)

    def _broken(self, slot, reason: str) -> None:
        """Workers die before running anything: give up instead of looping."""
        msg = (f"IMap {self.name!r}: {self._startup_deaths} worker processes in a row died "
               f"before running any item ({reason}). A spawned worker re-imports the main "
               "module: is the code that starts the pipeline inside an "
               "`if __name__ == '__main__':` block, and can the worker import the functions?")
        log.error("%s", msg)
        slot.outstanding.clear()
        try:
            slot.stop(0)
        except Exception:
            pass
        with self._lock:
            self._failure = IMapError(msg)
            self._stopping = True
            self._changed.notify_all()

    def _replace(self, slot=None) -> None:
        if slot is not None and slot.kind == "remote":
            self._remote.reconnect(slot)
        elif self.worker_type == "process":
            # threads exist now: never fork here
            method = self.start_method if self.start_method in ("spawn", "forkserver") \
                else "spawn"
            self._slots.append(_pool.ProcessSlot(next(self._numbers), method))
        else:
            self._slots.append(self._thread_slot())

    def _next_deadline(self) -> float | None:
        soonest = None
        now = time.monotonic()
        for serial, (slot, task, start, items) in self._chunks.items():
            if task.timeout is None or not slot.outstanding or slot.outstanding[0] != serial:
                continue
            began = slot.started_at(serial)
            due = (began if began else now) + task.timeout - now
            soonest = due if soonest is None else min(soonest, due)
        return None if soonest is None else max(0.005, soonest)

    def _check_timeouts(self) -> None:
        now = time.monotonic()
        for slot in list(self._slots):
            if not slot.outstanding or slot.dead or slot.timed_out:
                continue  # (a killed process is reaped when its sentinel fires)
            serial = slot.outstanding[0]
            _, task, start, items = self._chunks[serial]
            began = slot.started_at(serial)
            if task.timeout is None or began is None or now - began < task.timeout:
                continue
            off = slot.current_offset(serial)
            log.warning("piper %s: item %s timed out after %s s; replacing worker %s",
                        task.name, start + off, task.timeout, slot.number)
            slot.timed_out = (serial, off)
            slot.kill()
            if slot.kind == "thread":
                self._on_death(slot)
            # a process slot is reaped when its sentinel fires

    def _shutdown_slots(self, timeout: float) -> None:
        slots, self._slots = self._slots, []
        for s in slots:
            try:
                s.stop(timeout)
            except Exception:
                log.exception("IMap %s: stopping worker %s", self.name, s.number)
        if self._remote is not None:
            self._remote.close()  # also slots still reconnecting or not yet joined

    # -- remote slots (remote.py) ----------------------------------------------
    def _on_remote_event(self, slot, kind: str) -> None:
        """A remote connection broke ("dead"), came back ("ready") or is given up ("gone")."""
        if kind == "dead":
            if slot in self._slots and not slot.dead:
                self._on_death(slot)
        elif kind == "ready":
            if self._stopping:
                slot.stop(0)
            else:
                self._slots.append(slot)

    def _on_remote_death(self, slot) -> None:
        """Re-run a lost server's items elsewhere, ``retries`` times at most per item.

        A server runs one connection's chunks in order, so only the oldest
        chunk was running: its items count a try and run again one per chunk
        (so that a culprit that kills its server fails alone); chunks queued
        behind it never started and simply go back to the queue.
        """
        self._slots.remove(slot)
        slot.dead = True
        reason = slot.exit_reason()
        for i, serial in enumerate(list(slot.outstanding)):
            _, task, start, items = self._chunks.pop(serial)
            if i > 0:
                with self._lock:
                    self._ready.appendleft([task, start, items, 0])
                continue
            again = []
            for off in range(len(items)):
                key = (task.id, start + off)
                tried = self._reruns.get(key, 0)
                if tried < self.retries:
                    self._reruns[key] = tried + 1
                    again.append(off)
                    continue
                self._reruns.pop(key, None)
                err = WorkerError(f"{reason} while running this item (tried {tried + 1} "
                                  "time(s))", exc_type="RemoteWorkerLost",
                                  function=getattr(task.func, "name", None),
                                  piper=task.name, index=start + off)
                self._store(task, start + off, [err], 1, [0], 0.0)
            with self._lock:
                for off in reversed(again):
                    self._ready.appendleft([task, start + off, items[off:off + 1], 0])
        if slot.outstanding and not self._stopping:
            log.warning("IMap %s: %s; its items run again elsewhere", self.name, reason)
        slot.outstanding.clear()
        slot.stop(0)
        if not self._stopping:
            self._replace(slot)

    def _no_workers_left(self) -> None:
        """Every worker is gone and no reconnection is under way: items become errors."""
        if self._remote is None or self._remote.pending() or self._stopping:
            return
        with self._lock:
            entries, self._ready = list(self._ready), deque()
        why = self._remote.describe_loss()
        for task, start, items, off in entries:
            errs = [WorkerError(f"no worker left to run this item ({why})",
                                exc_type="RemoteWorkerLost", piper=task.name,
                                index=start + off + i) for i in range(len(items) - off)]
            self._store(task, start + off, errs, len(errs), list(range(len(errs))), 0.0)

    # -- results --------------------------------------------------------------
    def _get_batch(self, tid: int, timeout: float | None = None) -> list:
        """Next batch of task ``tid``'s results; StopIteration at the end."""
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
                    if all(t.finished() for t in self._tasks) and self._dispatcher:
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
                    raise StopIteration
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise TimeoutError(f"IMap {self.name!r}: no result of task {tid} "
                                       f"within {timeout} s")
                self._changed.wait(remaining)
        if task.finished() and all(t.finished() for t in self._tasks):
            self._wake()  # let the dispatcher notice and shut the pool down
        return results

    def _task_batches(self, tid: int) -> Iterator[list]:
        while True:
            try:
                batch = self._get_batch(tid)
            except StopIteration:
                return
            if batch:
                yield batch

    def get_task(self, task: int = 0) -> Iterator[Any]:
        """Iterator over the results of ``task``."""
        self._check_task(task)
        return (x for batch in self._task_batches(task) for x in batch)

    def next(self, timeout: float | None = None, task: int = 0) -> Any:
        """The next result of ``task``; TimeoutError if none comes in ``timeout`` s."""
        self._check_task(task)
        t = self._tasks[task]
        while not t.items:
            t.items.extend(self._get_batch(task, timeout))
        return t.items.popleft()

    def _check_task(self, task: int) -> None:
        if not isinstance(task, int) or not 0 <= task < len(self._tasks):
            raise IMapError(f"IMap {self.name!r} has no task {task!r} "
                            f"(tasks: 0..{len(self._tasks) - 1})")

    def __iter__(self):
        return self.get_task(0)

    def __next__(self):
        try:
            return self.next()
        except StopIteration:
            raise

    def __repr__(self) -> str:
        return (f"IMap({self.name!r}, worker_type={self.worker_type!r}, "
                f"worker_num={self.worker_num!r})")
