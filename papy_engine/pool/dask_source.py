"""The Dask slots of one pool session: the client, and the threads that serve it.

:class:`DaskSource` is the :class:`~.slots.SlotSource` of ``IMap(dask=...)``::

    dispatcher --DaskSlot.send_chunk--> submit_queued (one Dask task per chunk,
                                            queued at the scheduler)
                                            |
    collector thread <-- as_completed(with_results=True) <-- the cluster
        | DaskSlot.finished: submit the slot's next chunk, post Done
        | DaskSlot.failed:   post SlotEvent("dead") (the manager recovers)
    watcher thread  -- every WATCH_S: SLOTS_PER_THREAD per cluster thread ("ready" /
        draining), scheduler connection lost for good or no worker for
        NO_WORKER_WAIT_S: SlotEvent("gone") (waiting items become placeholders)
    admin thread    -- cancels, and pauses then kills a timed-out item's worker
        process through its nanny: network calls, never on the dispatcher's thread
    client's loop   -- start events of timed chunks -> DaskSlot.started

Results are gathered concurrently by ``as_completed`` on the client's event
loop: gathering in a done-callback would block Dask's single callback thread
(a gather from a dying worker hangs it).  Every submitted future is in
``inflight`` until one of the threads answers it, so none is answered twice;
one that ``as_completed`` never yields (its gather failed) is answered by the
watcher once it is seen erred or cancelled for STUCK_S.

A timed-out item's task is cancelled before its worker is killed (else Dask
would run it again elsewhere); the cancel frees the worker's thread in the
scheduler's eyes, so until that worker is gone it is *doomed*: its threads
are not counted, and it is paused in the scheduler's eyes before the cancel,
so that the chunks queued at the scheduler (the other slots') are not handed
to it and killed with it.  Where pausing fails, chunks submitted meanwhile are
steered to other workers instead (a restricted task goes straight to a
worker: not queued at the scheduler, it is lost if that worker dies too).
"""
from __future__ import annotations

import logging
import pickle
import queue
import threading
import time
import uuid
from collections.abc import Callable
from itertools import count
from typing import Any

from ..errors import IMapError
from .dask_cluster import Connection, connect, describe_failure, submit_queued
from .dask_slot import SLOTS_PER_THREAD, DaskSlot
from .dask_worker import kill_worker_process, run_chunk, set_worker_status
from .records import Task
from .slots import SlotEvent

__all__ = ["DaskSource", "WATCH_S", "NO_WORKER_WAIT_S", "START_WAIT_S"]

log = logging.getLogger(__name__)

WATCH_S = 0.5             # how often the watcher looks at the cluster
COLLECT_POLL_S = 0.25     # the collector re-checks for a stop (close() wakes it at once)
NO_WORKER_WAIT_S = 60.0   # a cluster without workers this long: waiting items fail
START_WAIT_S = 30.0       # a new session waits this long for a first worker
STUCK_S = 5.0             # an erred future not yielded this long is answered anyway


class DaskSource:
    """Two slots per thread of a Dask cluster, for one pool session (see the module)."""

    def __init__(self, imap: Any, post: Callable[..., None], numbers: count) -> None:
        self.name, self.spec = imap.name, imap.dask
        self.post = post
        self.numbers = numbers
        self.token = uuid.uuid4().hex[:12]
        self.topic = f"papy-start-{self.token}"
        self.where = str(self.spec) if isinstance(self.spec, str) else "?"
        self.lock = threading.Lock()
        self.slots: list[DaskSlot] = []
        self.inflight: dict[str, list] = {}      # key -> [slot, future, seen failed at]
        self.payloads: dict[int, tuple[str, bytes]] = {}  # task id -> (name, dill bytes)
        self.threads = 0
        self.workers: dict[str, int] = {}        # address -> threads, as last seen
        self.doomed: set[str] = set()            # workers being killed (timed-out items)
        self.steer: set[str] = set()             # doomed ones that could not be paused
        self.closed = self.gave_up = False
        self.lost = ""
        self._no_workers_since: float | None = None
        self._conn: Connection | None = None
        self._ac: Any = None
        self._admin: queue.SimpleQueue = queue.SimpleQueue()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    # -- slot-source protocol -----------------------------------------------------------
    def start(self) -> list[DaskSlot]:
        """Connect (or start the local cluster), then SLOTS_PER_THREAD per cluster thread.

        Raises:
            IMapError: no scheduler, no cluster, or no worker within START_WAIT_S.
        """
        from distributed import as_completed
        self._conn = conn = connect(self.spec)
        self.where = conn.where
        client = conn.client
        try:
            self.threads = self._count_threads() or 0
            if not self.threads:
                client.wait_for_workers(1, timeout=START_WAIT_S)
                self.threads = self._count_threads() or 0
            client.subscribe_topic(self.topic, self._on_event)
            self._ac = as_completed(loop=client.loop, with_results=True, raise_errors=False)
        except Exception as exc:
            conn.release()
            raise IMapError(f"IMap {self.name!r}: the Dask cluster at {self.where} has no "
                            f"workers ({type(exc).__name__}: {exc})") from exc
        for target, what in ((self._collect, "collect"), (self._watch, "watch"),
                             (self._administer, "admin")):
            t = threading.Thread(target=self._guard, args=(target,), daemon=True,
                                 name=f"papy-{self.name}-dask-{what}")
            t.start()
            self._threads.append(t)
        with self.lock:
            self.slots = [DaskSlot(next(self.numbers), self)
                          for _ in range(SLOTS_PER_THREAD * self.threads)]
            made = list(self.slots)
        log.info("IMap %s: %d Dask slot(s) on %s", self.name, len(made), self.where)
        return made

    def replace(self, dead: Any) -> DaskSlot | None:
        """A new slot at once while the cluster has the threads for it, else None
        (the watcher adds slots as threads come back)."""
        with self.lock:
            self.slots = [s for s in self.slots if not s.dead]
            if isinstance(dead, DaskSlot) and dead._lost:
                self.lost = dead._lost
            if (self.closed or self.gave_up or dead.draining
                    or self._status() != "running"
                    or sum(not s.draining for s in self.slots)
                    >= SLOTS_PER_THREAD * self.threads):
                return None
            slot = DaskSlot(next(self.numbers), self)
            self.slots.append(slot)
            return slot

    def keep(self, slot: Any) -> bool:
        return False   # never kept warm: the session's client and cluster close with it

    def pending(self) -> bool:
        """True until the source gives up: slots may come while the client is
        connected (or reconnecting) and the cluster had a worker recently."""
        return not (self.closed or self.gave_up)

    def describe_loss(self) -> str:
        return self.lost or f"the Dask cluster at {self.where} has no workers"

    def close(self) -> None:
        """Cancel what runs, stop the threads, close what this session opened (safe to repeat)."""
        with self.lock:
            if self.closed:
                return
            self.closed = True
            futures = [entry[1] for entry in self.inflight.values()]
            self.inflight.clear()
            slots, self.slots = self.slots, []
        for s in slots:
            s.stop(0)
        if futures:
            self._admin.put(("cancel", futures))
        self._admin.put(None)
        self._stop.set()
        if self._ac is not None:   # the collector may be waiting for a result: wake it
            with self._ac.thread_condition:
                self._ac.thread_condition.notify_all()
        for t in self._threads:
            if t is not threading.current_thread():
                t.join(10)
                if t.is_alive():
                    log.warning("IMap %s: thread %s did not stop", self.name, t.name)
        if self._conn is not None:
            try:
                if self._status() == "running":
                    self._conn.client.unsubscribe_topic(self.topic)
            except Exception:
                log.debug("unsubscribing %s", self.topic, exc_info=True)
            self._conn.release()

    # -- what the slots use ------------------------------------------------------------
    def add_task(self, task: Task) -> None:
        self.payloads[task.id] = (task.name, task.shipped())

    def submit(self, slot: DaskSlot, call: tuple) -> Any:
        """Submit one chunk as a Dask task (from the dispatcher or the collector)."""
        tid, name, mode, serial, start, data, timed = call
        assert self._conn is not None and self._ac is not None
        key = f"papy-chunk-{self.token}-{serial}"
        with self.lock:   # not onto a doomed worker not paused (loosely: never a stall)
            others = [a for a in self.workers if a not in self.steer] if self.steer else None
        fut = submit_queued(self._conn.client, key, run_chunk, self.token, tid, name,
                            self.payloads[tid][1], mode, serial, start, data,
                            self.topic if timed else None, workers=others or None)
        with self.lock:
            self.inflight[key] = [slot, fut, None]
        if timed:   # no more timed once done on the cluster (a trivial Dask callback)
            fut.add_done_callback(slot.done_on_cluster)
        self._ac.add(fut)
        return fut

    def cancel(self, fut: Any) -> None:
        """Forget ``fut`` and cancel its task (in the background)."""
        with self.lock:
            self.inflight.pop(fut.key, None)
        self._admin.put(("cancel", [fut]))

    def kill(self, fut: Any, where: tuple[str, int] | None) -> None:
        """Cancel a timed-out task, then kill its worker process (in the background)."""
        with self.lock:
            self.inflight.pop(fut.key, None)
            if where is not None and where[0] not in self.doomed:
                self.doomed.add(where[0])   # no replacement slot until a new worker joins
                self.threads -= self.workers.get(where[0], 0)
        self._admin.put(("kill", fut, where))

    # -- threads -----------------------------------------------------------------------
    def _guard(self, target: Callable[[], None]) -> None:
        try:
            target()
        except Exception:
            log.exception("IMap %s: Dask %s failed", self.name, target.__name__)
            with self.lock:
                self.gave_up = True
                self.lost = f"the Dask client of IMap {self.name!r} failed"
            self._fail_inflight(self.lost)
            self.post(None, SlotEvent("gone"))

    def _collect(self) -> None:
        """Answer each future as ``as_completed`` yields it, with its result."""
        ac = self._ac
        cond = ac.thread_condition   # notified when a result is queued (its own __next__
        while True:                  # waits on it too); the timeout re-checks _stop
            with cond:
                if not ac.has_ready() and not self._stop.is_set():
                    cond.wait(COLLECT_POLL_S)
            batch = ac.next_batch(block=False)
            for fut, outcome in batch:
                self._answer(fut, outcome)
            if self._stop.is_set() and not batch:
                return

    def _answer(self, fut: Any, outcome: Any) -> None:
        with self.lock:
            entry = self.inflight.pop(fut.key, None)
        if entry is None:
            return   # cancelled by us, or answered already
        slot = entry[0]
        if fut.status == "finished" and isinstance(outcome, bytes):
            try:
                reply = pickle.loads(outcome)
            except Exception as exc:   # the cluster is fine: the manager retries the items
                serial = int(fut.key.rsplit("-", 1)[1])   # see submit()
                reply = ("unreadable", serial, f"{type(exc).__name__}: {exc}")
            slot.finished(fut, reply, len(outcome))
        else:
            slot.failed(fut, describe_failure(outcome))

    def _on_event(self, event: tuple) -> None:
        """A timed chunk started (on the client's event loop: never block here)."""
        msg = event[1]
        with self.lock:
            entry = self.inflight.get(f"papy-chunk-{self.token}-{msg['serial']}")
        if entry is not None:
            entry[0].started(entry[1], msg["worker"], msg["pid"])

    def _watch(self) -> None:
        while not self._stop.wait(WATCH_S):
            status = self._status()
            threads = self._count_threads() if status == "running" else None
            if threads is not None:
                self._follow(threads)
            self._check_alive(status, threads)
            self._unstick()

    def _follow(self, threads: int) -> None:
        """SLOTS_PER_THREAD per cluster thread: add slots, or drain the least busy ones."""
        now = time.monotonic()
        with self.lock:
            if self.closed or self.gave_up:
                return
            self.threads = threads
            self._no_workers_since = None if threads else (self._no_workers_since or now)
            self.slots = [s for s in self.slots if not s.dead]
            live = [s for s in self.slots if not s.draining]
            want = SLOTS_PER_THREAD * threads
            new = [DaskSlot(next(self.numbers), self) for _ in range(want - len(live))]
            self.slots.extend(new)
            drain = sorted(live, key=lambda s: len(s.outstanding))[:max(0, len(live) - want)]
            for s in drain:
                s.draining = True
        if new or drain:
            log.info("IMap %s: the Dask cluster has %d thread(s) now", self.name, threads)
        for s in new:
            self.post(s, SlotEvent("ready"))
        for s in drain:
            self.post(s, SlotEvent("gone"))   # wakes the dispatcher: it retires s once idle

    def _check_alive(self, status: str, threads: int | None) -> None:
        """Give up when the client closed, or the cluster had no worker for too long."""
        why = None
        if status not in ("running", "connecting", "newly-created"):
            why = f"the connection to the Dask scheduler at {self.where} was lost ({status})"
        elif self._no_workers_since is not None and \
                time.monotonic() - self._no_workers_since > NO_WORKER_WAIT_S:
            why = f"the Dask cluster at {self.where} had no worker for {NO_WORKER_WAIT_S:.0f} s"
        if why is None or self.gave_up:
            return
        log.error("IMap %s: %s", self.name, why)
        with self.lock:
            self.gave_up = True
            self.lost = why
        self._fail_inflight(why)
        self.post(None, SlotEvent("gone"))   # pending items become placeholders

    def _unstick(self) -> None:
        """Answer futures seen erred or cancelled for STUCK_S that were never yielded."""
        now = time.monotonic()
        stuck = []
        with self.lock:
            for key, entry in list(self.inflight.items()):
                if entry[1].status not in ("error", "cancelled"):
                    entry[2] = None
                elif entry[2] is None:
                    entry[2] = now
                elif now - entry[2] > STUCK_S:
                    stuck.append(self.inflight.pop(key))
        for slot, fut, _ in stuck:
            log.warning("IMap %s: Dask task %s ended (%s) without a result", self.name,
                        fut.key, fut.status)
            slot.failed(fut, f"the Dask cluster gave no result ({fut.status})")

    def _fail_inflight(self, why: str) -> None:
        with self.lock:
            entries, self.inflight = list(self.inflight.values()), {}
        for slot, fut, _ in entries:
            slot.failed(fut, why)

    def _administer(self) -> None:
        """Cancels and kills, in order: the network calls the dispatcher must not wait for."""
        while True:
            op = self._admin.get()
            if op is None:
                return
            client = self._conn.client if self._conn is not None else None
            if client is None or self._status() != "running":
                continue   # the client cancelled everything when it lost the scheduler
            try:
                if op[0] == "kill" and op[2] is not None:
                    self._pause(client, op[2][0])   # before the cancel frees its thread
                client.cancel(op[1])
                if op[0] == "kill":
                    self._kill_worker(client, op[2])
            except Exception as exc:
                log.warning("IMap %s: Dask %s failed: %s: %s", self.name, op[0],
                            type(exc).__name__, exc)
                if op[0] == "kill" and op[2] is not None:
                    self._spare(client, op[2][0])

    def _pause(self, client: Any, address: str, status: str = "paused") -> None:
        """Pause a doomed worker in the scheduler's eyes (failing that, steer chunks
        away from it: see the module docstring), or resume it ("running")."""
        try:
            if client.run_on_scheduler(set_worker_status, address, status):
                return
        except Exception as exc:
            log.debug("IMap %s: %s %s failed: %s", self.name, status, address, exc)
        if status == "paused":
            with self.lock:
                self.steer.add(address)

    def _spare(self, client: Any, address: str) -> None:
        """A doomed worker lives on after all: it may take chunks again."""
        with self.lock:
            self.doomed.discard(address)
            self.steer.discard(address)
        self._pause(client, address, "running")

    def _kill_worker(self, client: Any, where: tuple[str, int] | None) -> None:
        if where is None:
            return
        address, pid = where
        done = client.run(kill_worker_process, pid, nanny=True, workers=[address])
        if not any(done.values()):
            self._spare(client, address)   # it lives on: its thread frees up eventually
            log.warning("IMap %s: the Dask worker %s that runs a timed-out item cannot be "
                        "killed (no nanny, or it is gone); the item keeps its thread busy "
                        "until it returns", self.name, address)
        else:
            log.warning("IMap %s: killed the Dask worker process %s (pid %d) of a timed-out "
                        "item; its nanny starts a new one", self.name, address, pid)

    # -- cluster state -----------------------------------------------------------------
    def _status(self) -> str:
        return str(self._conn.client.status) if self._conn is not None else "closed"

    def _count_threads(self) -> int | None:
        """The cluster's threads, but those of doomed workers (None: unknown now)."""
        assert self._conn is not None
        try:
            nthreads = self._conn.client.nthreads()
        except Exception as exc:
            log.debug("IMap %s: nthreads failed: %s", self.name, exc)
            return None
        with self.lock:
            self.workers = dict(nthreads)
            self.doomed &= set(nthreads)   # a killed worker that is gone is no more doomed
            self.steer &= self.doomed
            return sum(n for a, n in nthreads.items() if a not in self.doomed)
