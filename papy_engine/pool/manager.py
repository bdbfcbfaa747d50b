"""The pool manager: one object owning a pool's slots, queues and threads.

Data flow::

    task inputs --feeder thread per task--> ready queue --dispatcher thread--> slots
    (pulled in batches while the                (Pending)    cuts chunks,     (process,
     task holds less than its budget)                        sends, recovers)  thread, remote)
                                                                   |
    consumers <-- Task.take() <-- per-task result store <-- replies+

One dispatcher thread waits on every slot's pipes and sentinels and on a
wake-up pipe (feeders, thread slots and remote connections write to it),
handles replies, deaths and timeouts, and assigns ready items to slots with
room.  Every record (:mod:`.records`) is read and written under ``lock``;
``changed`` wakes consumers (results stored, the pool stops) and
``can_pull`` wakes feeders, only once one may pull: a feeder woken for
nothing takes the GIL from a busy consumer (a serial piper) just to sleep
again.  What to do when a worker fails lives in :mod:`.recovery`: a dead
process costs only the item it held, a timed-out item becomes a PiperError
and its worker is replaced, a lost remote server's running chunk runs again
one item per chunk, up to ``retries`` times.  How the workers leave -- all
asked at once, kept warm, or early once every item is evaluated -- lives in
:mod:`.leaving`.

The manager holds no reference to its IMap, so an IMap nobody uses any more
is collected and its finalizer shuts the pool down.
"""
from __future__ import annotations

import itertools
import logging
import os
import threading
import time
from collections import deque
from typing import Any

from ..errors import IMapError
from . import leaving
from .feeding import feed
from .pipes import Waiter
from .policy import MAX_OUTSTANDING, Limits, ends_soon
from .records import MERGE_ITEMS, Batch, InFlight, Pending, Task, cut
from .recovery import Recovery
from .slots import Done, Message, Raised, Slot, SlotEvent, SlotSource, Unreadable, source_for

__all__ = ["PoolManager"]

log = logging.getLogger(__name__)


class PoolManager:
    """The moving parts of one IMap session: slots, feeders, the dispatcher."""

    def __init__(self, name: str, limits: Limits, retries: int) -> None:
        self.name = name
        self.limits = limits
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)   # results stored, or stopping
        self.can_pull = threading.Condition(self.lock)  # a feeder may pull, or stopping
        self.running = threading.Event()                 # cleared while paused
        self.running.set()
        self.tasks: list[Task] = []
        self.ready: deque[Pending] = deque()
        self.chunks: dict[int, InFlight] = {}
        self.slots: list[Slot] = []
        self.sources: list[SlotSource] = []
        self.source_of: dict[int, SlotSource] = {}       # id(slot) -> its source
        self.inbox: deque[tuple[Slot, Message]] = deque()
        self.serials = itertools.count(1)
        self.numbers = itertools.count()
        self.nslots = 0
        self.nworkers = 0   # what the slots stand for: a Dask slot is half a thread
        self.started = self.stopping = self.stopped = False
        self.left = False             # every item evaluated: the workers already left
        self.held = False             # a driver shuts the pool down itself
        self.failure: BaseException | None = None
        self.stop_timeout = 10.0
        self.recovery = Recovery(self, retries)
        self._wake_r = self._wake_w = -1
        self._dispatcher: threading.Thread | None = None
        self._waiter = Waiter()

    # -- starting ----------------------------------------------------------------------
    def start_slots(self, imap: Any, kinds: list[str]) -> None:
        """Start the workers of every kind (before any thread of ours: fork stays safe).

        The IMap's options are read now, so that they can be changed until
        the pool starts (``papy run --stride``, ``--workers``).
        """
        self.limits = Limits(imap.stride, imap.buffer)
        self.recovery.retries = imap.retries
        self.limits.set_budgets(self.tasks, self.name)
        self.started = True
        try:
            for kind in kinds:
                holder: list[SlotSource] = []
                src = source_for(kind, imap, self._poster(holder), self.numbers)
                holder.append(src)
                self.sources.append(src)
                for slot in src.start():
                    self.add_slot(slot, src)
        except BaseException:
            self.shutdown_slots(0)
            self.stopped = True
            raise
        if not self.slots:
            self.stopped = True
            raise IMapError(f"IMap {self.name!r} has no workers: "
                            f"{'; '.join(s.describe_loss() for s in self.sources)}")

    def _poster(self, holder: list[SlotSource]):
        def post(slot: Slot, msg: Message) -> None:
            if isinstance(msg, SlotEvent) and msg.kind == "ready":
                self.source_of[id(slot)] = holder[0]
            self.inbox.append((slot, msg))
            self.wake()
        return post

    def add_slot(self, slot: Slot, source: SlotSource) -> None:
        self.slots.append(slot)
        self.source_of[id(slot)] = source
        self._recount()

    def remove_slot(self, slot: Slot) -> None:
        """``slot`` left the pool (dead, or drained): budgets follow the slots left."""
        if slot in self.slots:
            self.slots.remove(slot)
            self._recount()

    def _recount(self) -> None:
        if self.slots:
            self.nslots = len(self.slots)
            self.nworkers = max(1, round(sum(getattr(s, "share", 1.0) for s in self.slots)))
            self.limits.chunk_s = sum(s.chunk_s for s in self.slots) / self.nslots

    def start_threads(self) -> None:
        if self._dispatcher is not None:
            return
        self._send_tasks()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        self._dispatcher = threading.Thread(target=self._dispatch_guard, daemon=True,
                                            name=f"papy-{self.name}-dispatch")
        self._dispatcher.start()
        for t in self.tasks:
            t.feeder = threading.Thread(target=feed, args=(self, t), daemon=True,
                                        name=f"papy-{self.name}-feed-{t.name}")
            t.feeder.start()

    def _send_tasks(self) -> None:
        """Give every worker every task's function now: a worker loads it while
        the pool's threads start, not when its first chunk is waiting."""
        for slot in self.slots:
            for task in self.tasks:
                if task.id not in slot.tasks:
                    try:
                        slot.send_task(task)
                    except OSError:
                        pass   # the worker died: its death is reported

    def wake(self) -> None:
        try:
            os.write(self._wake_w, b"x")
        except (BlockingIOError, OSError):
            pass  # the pipe is full (the dispatcher is awake anyway), or not open yet

    # -- feeding (the feeder threads run feeding.feed) ---------------------------------
    def may_pull(self, task: Task) -> bool:
        """True when ``task``'s feeder may pull its next batch (under the lock)."""
        return self.limits.may_pull(task, self.nslots, self.limits.pull_size(self.tasks))

    def _room_for(self, task: Task) -> None:
        """Wake the feeders if the one of ``task`` may pull now (under the lock)."""
        if task.feeder is not None and self.may_pull(task):
            self.can_pull.notify_all()

    def notify_all(self) -> None:
        """Wake every consumer and feeder: the pool stops or failed (under the lock)."""
        self.changed.notify_all()
        self.can_pull.notify_all()

    def room(self, task: Task) -> int:
        """Items a standalone task's input should pull next."""
        return self.limits.room(task, self.nslots, self.tasks)

    # -- the dispatcher -----------------------------------------------------------------
    def _dispatch_guard(self) -> None:
        try:
            self._dispatch()
        except BaseException as exc:
            log.exception("IMap %s: dispatcher failed", self.name)
            with self.lock:
                self.failure = IMapError(f"IMap {self.name!r} failed: {exc}")
                self.failure.__cause__ = exc
                self.stopping = True
                self.notify_all()
        finally:
            self.shutdown_slots(self.stop_timeout)
            os.close(self._wake_r)
            os.close(self._wake_w)
            with self.lock:
                self.stopped = True
                self.notify_all()

    def _dispatch(self) -> None:
        while True:
            objs: list = [self._wake_r]
            for s in self.slots:
                objs.extend(s.wait_objects())
            ready = self._waiter.wait(objs, self.recovery.next_deadline())
            if self._wake_r in ready:
                try:
                    os.read(self._wake_r, 65536)
                except BlockingIOError:
                    pass
            while self.inbox:
                self._handle(*self.inbox.popleft())
            for s in list(self.slots):
                if not s.dead and not s.collect(ready, self._handle):
                    self.recovery.on_death(s)
            self.recovery.check_timeouts()
            with self.lock:
                if self.stopping:
                    return
                if self.tasks and not self.held and all(t.finished() for t in self.tasks):
                    return   # every result consumed: nothing more can come
            if not self.left:
                self.left = leaving.early(self)
                self._assign()

    def _handle(self, slot: Slot, msg: Message) -> None:
        if isinstance(msg, SlotEvent):
            self.recovery.on_event(slot, msg.kind)
        elif isinstance(msg, Unreadable):
            self.recovery.unreadable(slot, msg.serial, msg.error)
        else:
            self._on_reply(slot, msg)

    def _assign(self) -> None:
        """Send ready items to slots with room, idle slots first."""
        if not self.slots:
            self.recovery.no_workers_left()
        for room in range(MAX_OUTSTANDING):
            for slot in self.slots:
                if slot.dead or len(slot.outstanding) > room or \
                        getattr(slot, "draining", False):   # leaving: see Slot
                    continue
                if slot.outstanding:  # never queue behind a slow (or unmeasured) chunk
                    last = self.chunks[slot.outstanding[-1]]
                    if not ends_soon(last.task, len(last.items), slot.chunk_s):
                        continue
                with self.lock:
                    if not self.ready:
                        return
                    entry = self.ready[0]
                    task = entry.task
                    if task.timeout is not None and slot.outstanding:
                        continue  # a timed item starts only on an idle slot
                    waiting = sum(e.left() for e in self.ready if e.task is task)
                    size = self.limits.chunk_size(task, self.nworkers, waiting,
                                                  slot.chunk_s)
                    start, chunk = cut(self.ready, size)
                self._send(slot, task, start, chunk)

    def _send(self, slot: Slot, task: Task, start: int, chunk: list) -> None:
        serial = next(self.serials)
        if task.id not in slot.tasks:
            slot.send_task(task)
        self.chunks[serial] = InFlight(slot, task, start, chunk)
        slot.outstanding.append(serial)
        try:
            nbytes = slot.send_chunk(serial, task, start, chunk)
            if nbytes and chunk:
                task.note_bytes("in", nbytes / len(chunk))
        except OSError:
            return  # the worker died: its death is reported
        except Exception as exc:
            # some item cannot be pickled: answer those here, resend the rest
            slot.outstanding.remove(serial)
            del self.chunks[serial]
            self.recovery.unpicklable(task, start, chunk, exc)

    def _on_reply(self, slot: Slot, reply: Done | Raised) -> None:
        fl = self.chunks.pop(reply.serial, None)
        if fl is None:
            return  # a late reply for a chunk already answered (timeout)
        if reply.serial in slot.outstanding:
            slot.outstanding.remove(reply.serial)
        slot.replies += 1
        self.recovery.startup_deaths = 0
        task = fl.task
        if isinstance(reply, Raised):
            err = reply.error
            log.error("piper %s: item %s raised%s: %s", task.name,
                      "?" if err.index is None else err.index,
                      " (debug mode)" if getattr(task.func, "debug", False) else "", err)
            with self.lock:
                task.error = err
                self.failure = err
                self.stopping = True
                self.notify_all()
            return
        n = len(fl.items)
        if n:
            busy = reply.busy
            task.note_cost(sum(busy) if isinstance(busy, tuple) else busy, n)
            if reply.nbytes:
                task.note_bytes("out", reply.nbytes / n)
        self.store(task, fl.start, reply.results, n, reply.created, reply.busy,
                   output=reply.output)

    def store(self, task: Task, start: int, results: list, n: int, created: list[int],
              busy: float | tuple, timeouts: int = 0, output: str = "") -> None:
        """Keep the results of ``n`` items and report the chunk to the task's driver."""
        for off in created:
            r = results[off]
            log.error("piper %s: item %s became a placeholder: %s", r.piper or task.name,
                      r.index, r)
        if task.on_chunk is not None:
            try:
                task.on_chunk(n, [results[o] for o in created], timeouts, busy)
            except Exception:
                log.exception("IMap %s: statistics callback failed", self.name)
        with self.lock:
            task.store(start, results, n, output)
            self.changed.notify_all()
            self._room_for(task)

    # -- results --------------------------------------------------------------------
    def take(self, task: Task, timeout: float | None = None) -> Batch:
        """The next batch of ``task``'s results; StopIteration at the end.

        Raises:
            IMapError: the pool was stopped before this task's results were
                all taken (a stopped map never looks exhausted), or it failed.
            TimeoutError: no result within ``timeout`` seconds.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        with self.lock:
            task.note_consumer(time.perf_counter())
            most = self.limits.take_size(task)
            while True:
                # joined batches, unless the user fixed what a task may hold:
                # taken results no longer count against its buffer
                got = task.take(0 if self.limits.fixed else MERGE_ITEMS, most,
                                time.perf_counter())
                if got is not None:
                    self._room_for(task)
                    break
                if task.finished() or self.stopped or self.stopping:
                    self._end_of(task)
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise TimeoutError(f"IMap {self.name!r}: no result of task {task.id} "
                                       f"within {timeout} s")
                self.changed.wait(remaining)
        if task.finished() and self.all_finished():
            self.wake()  # let the dispatcher notice and shut the pool down
        return got

    def _end_of(self, task: Task) -> None:
        """Raise what ends ``task``'s results (under the lock, nothing left to take)."""
        if self.all_finished() and self._dispatcher and not self.held:
            self.wake()   # the pool shuts itself down: return once it is down
            while not self.stopped:
                self.changed.wait(1.0)
                self.wake()
        if task.error is not None:
            err, task.error = task.error, None
            raise err
        if self.failure is not None:
            raise self.failure
        if task.finished():
            raise StopIteration
        raise IMapError(f"IMap {self.name!r} was stopped before task {task.id} "
                        f"({task.name}) gave all its results")

    def idle(self) -> bool:
        """True when no pulled item waits for or occupies a worker."""
        with self.lock:
            return not self.ready and not self.chunks

    def all_finished(self) -> bool:
        return all(t.finished() for t in self.tasks)

    # -- stopping ---------------------------------------------------------------------
    def stop(self, timeout: float) -> None:
        """Shut the pool down (safe to repeat); results not yet taken are dropped."""
        with self.lock:
            if self.stopped:
                return
            self.stop_timeout = timeout
            self.stopping = True
            self.notify_all()
        self.running.set()
        if self._dispatcher is not None:
            self.wake()
            if self._dispatcher is not threading.current_thread():
                self._dispatcher.join(timeout + 5)
        else:
            self.shutdown_slots(timeout)
        with self.lock:
            self.stopped = True
            self.notify_all()
        for t in self.tasks:
            if t.feeder is not None and t.feeder is not threading.current_thread():
                t.feeder.join(0.5)

    def shutdown_slots(self, timeout: float) -> None:
        """Stop the workers -- or hand healthy idle ones back to be kept warm."""
        leaving.shutdown(self, timeout)
