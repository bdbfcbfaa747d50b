"""Dask slots: two slots per thread of a Dask cluster, as the pool manager sees it.

A :class:`DaskSlot` is *virtual*: it is not pinned to a worker.  It has one
chunk at a time on the cluster, as one Dask task, wherever Dask's scheduler
puts it; the next chunk the dispatcher sends it waits here, and is submitted
the moment the one on the cluster completes (from the collector thread,
without a round trip through the dispatcher).

Each cluster thread has two slots (:data:`SLOTS_PER_THREAD`), so while one
slot's chunk runs, the other's waits *at the scheduler* and starts the moment
the thread is free, without a worker-client-worker round trip.  Chunks are
submitted as data producers (:func:`~.dask_cluster.submit_queued`), which the
scheduler queues itself with a finite ``worker-saturation``; with 1.0 (the
clusters PaPy starts) a worker holds only the tasks its threads run, so the
cluster *runs* at most one PaPy task per thread: a worker that dies takes
only the chunks it was running with it, never an innocent one queued behind
them, and a slot's oldest chunk is always the one on the cluster (running,
or queued at the scheduler, which loses no task with a worker) -- which is
what :mod:`.recovery` assumes of a slot that is not ``precise``.

Replies come back through its :class:`~.dask_source.DaskSource`'s collector
thread: :meth:`DaskSlot.finished` posts :class:`~.slots.Done`, and
:meth:`DaskSlot.failed` (the cluster lost the chunk: its worker died, the
scheduler connection broke) posts ``SlotEvent("dead")``; the manager then
re-runs the chunk's items one per chunk, up to ``retries`` times, and asks
the source for a replacement.  A timed chunk announces its start (worker
address and pid), so that a hung item is timed from when it started until it
finished on the worker (not while it waits at the scheduler, nor while its
result waits to be fetched) and its worker process can be killed through
its nanny (:meth:`DaskSlot.kill`).
A slot the source no longer needs (the cluster shrank) is *draining*: the
dispatcher sends it nothing more, and it leaves the pool once idle.
"""
from __future__ import annotations

import pickle
import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from .records import Task
from .slots import Done, Post, ProgressReader, Raised, SlotEvent, Unreadable

if TYPE_CHECKING:
    from .dask_source import DaskSource

__all__ = ["DaskSlot", "DASK_CHUNK_S", "SLOTS_PER_THREAD"]

#: Seconds of measured work per chunk on a Dask slot: a Dask task costs a few
#: milliseconds of scheduling, ten times a local worker's message.
DASK_CHUNK_S = 0.1

#: Slots per cluster thread: one chunk running, one queued at the scheduler.
SLOTS_PER_THREAD = 2


class DaskSlot(ProgressReader):
    """Half a thread's worth of a Dask cluster; see the module docstring."""

    precise = False   # a lost chunk is re-run item by item (Dask says no more)
    chunk_s = DASK_CHUNK_S
    share = 1 / SLOTS_PER_THREAD   # of a worker thread: chunks are cut for threads

    def __init__(self, number: int, source: DaskSource) -> None:
        self.number = number
        self.source = source
        self.outstanding: list[int] = []
        self.tasks: set[int] = set()
        self.timed_out: tuple[int, int] | None = None
        self.dead = False
        self.draining = False
        self.replies = 0
        self.progress = [0, 0, 0]          # [serial, 0, started] of the running chunk
        self._lock = threading.Lock()
        self._running: Any = None                # the running chunk's Dask future
        self._held: deque[tuple[int, tuple]] = deque()   # (serial, call) waiting to run
        self._where: tuple[str, int] | None = None       # its worker and pid, once started
        self._lost: str | None = None            # why the cluster lost the running chunk
        self._done: Any = None                   # the running future, once done on the cluster

    def __repr__(self) -> str:
        return f"DaskSlot({self.number}, {self.source.where})"

    # -- the dispatcher's side ---------------------------------------------------------
    def wait_objects(self) -> list:
        return []   # replies come through post, from the source's collector thread

    def collect(self, ready: list, post: Post) -> bool:
        # A draining slot leaves once idle: "dead" with nothing to recover, and
        # the source gives no replacement.
        return not (self.draining and not self.outstanding)

    def send_task(self, task: Task) -> None:
        self.source.add_task(task)
        self.tasks.add(task.id)

    def send_chunk(self, serial: int, task: Task, start: int, items: list) -> int:
        data = pickle.dumps(items, protocol=pickle.HIGHEST_PROTOCOL)  # may raise: unpicklable
        call = (task.id, task.name, tuple(task.mode), serial, start, data, task.mode[1])
        with self._lock:
            if self.dead or self._lost is not None:
                raise OSError(f"Dask slot {self.number} is gone: {self.exit_reason()}")
            if self._running is None:
                self._submit(serial, call)
            else:
                self._held.append((serial, call))
        if self._lost is not None:
            raise OSError(f"Dask slot {self.number}: {self._lost}")
        return len(data)

    def drop_task(self, tid: int) -> None:
        self.tasks.discard(tid)

    def started_at(self, serial: int) -> float | None:
        """When chunk ``serial`` started on a worker; None (not timed) before that,
        and once it is done there: its result is on its way, which the next task
        on that worker (queued at the scheduler) may delay -- one that holds the
        GIL starves the worker's event loop until it is killed, and then Dask
        computes the lost result again (untimed: it finished once)."""
        fut = self._running
        if fut is not None and (fut is self._done or fut.status == "finished"):
            self._done = fut
            return None
        return super().started_at(serial)

    def kill(self) -> bool:
        """A timed-out item: cancel its task, then kill its worker process (through
        the nanny, in the background).  The slot is dead at once: True."""
        with self._lock:
            fut, where = self._running, self._where
            self._running = None
            self._held.clear()
        if fut is not None:
            self.source.kill(fut, where)
        return True

    def exit_reason(self) -> str:
        if self.timed_out:
            return "its item timed out"
        if self._lost:
            return self._lost
        if self.draining:
            return f"the Dask cluster at {self.source.where} has fewer threads now"
        return f"the Dask slot {self.number} was closed"

    def holds_items(self) -> bool:
        return True   # a Dask worker may: keep the slots until the run ends

    def ask_stop(self) -> None:
        pass   # stop() only cancels futures: nothing to wait for

    def stop(self, timeout: float) -> None:
        """Cancel the running chunk's task and forget the waiting ones (safe to repeat).

        A running task cannot be interrupted by Dask: on a cluster that is not
        closed with the pool, it finishes in the background.
        """
        with self._lock:
            self.dead = True
            fut, self._running = self._running, None
            self._held.clear()
        if fut is not None:
            self.source.cancel(fut)

    # -- the collector's side ----------------------------------------------------------
    def _submit(self, serial: int, call: tuple) -> None:
        """Submit ``call`` (under the lock); a failure loses the chunk."""
        try:
            self._running = self.source.submit(self, call)
        except Exception as exc:
            self._lost = (f"the Dask client cannot submit work "
                          f"({type(exc).__name__}: {exc})")
            self.source.post(self, SlotEvent("dead"))
            return
        self._where = None
        self.progress = [serial, 0, 0]

    def finished(self, fut: Any, reply: tuple, nbytes: int) -> None:
        """Chunk ``fut`` completed: run the next one, then hand over the reply."""
        with self._lock:
            if fut is self._running:
                self._running = None
                if self._held and not self.dead and self._lost is None:
                    self._submit(*self._held.popleft())
        if reply[0] == "done":
            _, serial, results, created, busy, output = reply
            self.source.post(self, Done(serial, results, created, busy, nbytes, output))
        elif reply[0] == "unreadable":
            self.source.post(self, Unreadable(reply[1], reply[2]))
        else:
            self.source.post(self, Raised(reply[1], reply[2]))

    def failed(self, fut: Any, why: str) -> None:
        """The cluster lost chunk ``fut``: the slot is dead (the manager recovers)."""
        with self._lock:
            if fut is not self._running or self.dead:
                return
            self._running = None
            self._lost = why
        self.source.post(self, SlotEvent("dead"))

    def started(self, fut: Any, worker: str, pid: int) -> None:
        """Timed chunk ``fut`` started on ``worker`` (process ``pid``): time it from now."""
        with self._lock:
            if fut is self._running and fut is not self._done:
                self._where = (worker, pid)
                self.progress = [self.progress[0], 0, time.monotonic_ns()]

    def done_on_cluster(self, fut: Any) -> None:
        """Timed chunk ``fut`` is done on the cluster (a Dask callback): no more timed."""
        with self._lock:
            if fut is self._running:
                self._done = fut
