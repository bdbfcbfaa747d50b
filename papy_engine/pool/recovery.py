"""What the pool manager does when a worker fails: dies, hangs, or is lost.

* A dead worker whose progress is known (``Slot.precise``: processes,
  threads) costs only the item it held: that item becomes a WorkerError,
  the rest of its chunk runs again, and a replacement starts -- unless
  replacements keep dying before doing any work, which marks the pool broken
  instead of looping.  A chunk evaluated on the fast path publishes no offset
  (-1, see ``Worker.map``): its items run again one per chunk, so the culprit
  is known exactly when it kills a worker again.
* A timed-out item becomes a PiperError; its worker is killed and replaced
  (a thread cannot be killed: it is retired and its late result dropped).
* A lost worker whose progress is not known (a remote server) had only its
  oldest chunk running: those items run again one per chunk, up to
  ``retries`` times each, so that a culprit that kills its server fails alone.
* A reply that cannot be loaded here (a result whose class this process
  cannot import) leaves its worker alone: a chunk of several items runs again
  one item per chunk, and the item whose result cannot be loaded becomes an
  ``UnpicklingError`` WorkerError saying why.
* An input item that cannot be sent becomes a ``PicklingError`` WorkerError;
  the rest of its chunk is sent again.

Runs on the dispatcher thread of the :class:`~.manager.PoolManager` it belongs
to, on the manager's own records.
"""
from __future__ import annotations

import logging
import pickle
import time
from collections import deque
from typing import TYPE_CHECKING

from ..errors import IMapError, PiperError, WorkerError
from .chain import Chain
from .evaluate import keep_inbox
from .records import InFlight, Pending, Task
from .slots import Slot

if TYPE_CHECKING:
    from .manager import PoolManager

__all__ = ["Recovery", "MAX_STARTUP_DEATHS"]

log = logging.getLogger(__name__)

MAX_STARTUP_DEATHS = 3  # replacements dying before any work: the pool is broken
_NO_ITEM = object()


class Recovery:
    """The failure policy of one pool manager."""

    def __init__(self, mgr: PoolManager, retries: int) -> None:
        self.mgr = mgr
        self.retries = retries
        self.reruns: dict[tuple[int, int], int] = {}   # (task id, index) -> re-runs
        self.startup_deaths = 0

    # -- deaths ---------------------------------------------------------------------
    def on_death(self, slot: Slot) -> None:
        """``slot`` died (or was killed for a timeout): account for what it held."""
        mgr = self.mgr
        if not slot.precise and not slot.timed_out:
            self._on_lost(slot)
            return
        reason = slot.exit_reason()
        self._retire(slot)
        timed = slot.timed_out
        began = bool(slot.outstanding) and slot.began(slot.outstanding[0])
        if not timed and not began and not slot.replies:
            self.startup_deaths += 1
            if self.startup_deaths >= MAX_STARTUP_DEATHS and not mgr.stopping:
                self._broken(slot, reason)
                return
        if not mgr.stopping:
            log.warning("IMap %s: worker %s died (%s)%s", mgr.name, slot.number, reason,
                        "" if timed else "; starting a replacement")
        for i, serial in enumerate(list(slot.outstanding)):
            fl = mgr.chunks.pop(serial)
            if i == 0 and (timed or slot.started_at(serial) is not None
                           or slot.began(serial)):
                off = slot.current_offset(serial)
                if off < 0:   # the chunk ran on the fast path: its item is not known
                    self._one_by_one(fl)
                else:
                    self._culprit(fl, off, reason, bool(timed))
            else:
                self._requeue(Pending(fl.task, fl.start, fl.items))
        self._dispose(slot)

    def _one_by_one(self, fl: InFlight) -> None:
        """Run chunk ``fl``'s items again, each alone, so that the one that killed
        its worker is known when it does so again (and fails alone)."""
        with self.mgr.lock:
            for off in reversed(range(len(fl.items))):
                self.mgr.ready.appendleft(Pending(fl.task, fl.start + off,
                                                  fl.items[off:off + 1]))

    def _culprit(self, fl: InFlight, off: int, reason: str, timed: bool) -> None:
        """Item ``off`` of chunk ``fl`` killed its worker: it fails, the others run again."""
        task, start, items = fl.task, fl.start, fl.items
        with self.mgr.lock:
            if off + 1 < len(items):
                self.mgr.ready.appendleft(Pending(task, start + off + 1, items[off + 1:]))
            if off > 0:
                self.mgr.ready.appendleft(Pending(task, start, items[:off]))
        err: PiperError | WorkerError
        if timed:
            err = PiperError(f"no result within the timeout of {task.timeout} s",
                             exc_type="TimeoutError", piper=task.name, index=start + off)
            self.mgr.store(task, start + off, self._produced(task, err, items[off]), 1, [0],
                           task.timeout or 0.0, timeouts=1)
        else:
            err = WorkerError(f"the worker process died ({reason}) while processing this "
                              "item", exc_type="WorkerDied",
                              function=getattr(task.func, "name", None), piper=task.name,
                              index=start + off)
            self.mgr.store(task, start + off, self._produced(task, err, items[off]), 1, [0],
                           0.0)

    @staticmethod
    def _produced(task: Task, err: PiperError | WorkerError, item: object = _NO_ITEM) -> list:
        """The results a placeholder stands for: one per sub-item of a produce>1 task.

        ``item`` (when given) is what failed: it is kept as the placeholder's inbox.
        """
        if item is not _NO_ITEM:
            keep_inbox(err, (item,) if task.mode[0] else item)
        return [err] * task.mode[2]

    def _on_lost(self, slot: Slot) -> None:
        """Re-run a lost worker's running chunk elsewhere, one item per chunk."""
        mgr = self.mgr
        self._retire(slot)
        reason = slot.exit_reason()
        for i, serial in enumerate(list(slot.outstanding)):
            fl = mgr.chunks.pop(serial)
            if i > 0:   # queued behind the running chunk: never started
                self._requeue(Pending(fl.task, fl.start, fl.items))
                continue
            again = []
            for off in range(len(fl.items)):
                key = (fl.task.id, fl.start + off)
                tried = self.reruns.get(key, 0)
                if tried < self.retries:
                    self.reruns[key] = tried + 1
                    again.append(off)
                    continue
                self.reruns.pop(key, None)
                err = WorkerError(f"{reason} while running this item (tried {tried + 1} "
                                  "time(s))", exc_type="RemoteWorkerLost",
                                  function=getattr(fl.task.func, "name", None),
                                  piper=fl.task.name, index=fl.start + off)
                mgr.store(fl.task, fl.start + off,
                          self._produced(fl.task, err, fl.items[off]), 1, [0], 0.0)
            for off in reversed(again):
                self._requeue(Pending(fl.task, fl.start + off, fl.items[off:off + 1]))
        if slot.outstanding and not mgr.stopping:
            log.warning("IMap %s: %s; its items run again elsewhere", mgr.name, reason)
        self._dispose(slot)

    def _retire(self, slot: Slot) -> None:
        self.mgr.remove_slot(slot)
        slot.dead = True

    def _requeue(self, entry: Pending) -> None:
        with self.mgr.lock:
            self.mgr.ready.appendleft(entry)

    def _dispose(self, slot: Slot) -> None:
        slot.outstanding.clear()
        try:
            slot.stop(0)
        except Exception:
            log.debug("closing dead worker %s", slot.number, exc_info=True)
        if not self.mgr.stopping:
            self._replace(slot)

    def _replace(self, slot: Slot) -> None:
        source = self.mgr.source_of.pop(id(slot))
        new = source.replace(slot)
        if new is not None:
            self.mgr.add_slot(new, source)

    def _broken(self, slot: Slot, reason: str) -> None:
        """Workers die before running anything: give up instead of looping."""
        mgr = self.mgr
        msg = (f"IMap {mgr.name!r}: {self.startup_deaths} worker processes in a row died "
               f"before running any item ({reason}). A spawned worker re-imports the main "
               "module: is the code that starts the pipeline inside an "
               "`if __name__ == '__main__':` block, and can the worker import the functions?")
        log.error("%s", msg)
        slot.outstanding.clear()
        try:
            slot.stop(0)
        except Exception:
            pass
        with mgr.lock:
            mgr.failure = IMapError(msg)
            mgr.stopping = True
            mgr.notify_all()

    # -- events from slots and sources ------------------------------------------------
    def on_event(self, slot: Slot, kind: str) -> None:
        """A slot was lost ("dead"), is ready to join ("ready"), or given up ("gone")."""
        if kind == "dead":
            if slot in self.mgr.slots and not slot.dead:
                self.on_death(slot)
        elif kind == "ready":
            if self.mgr.stopping:
                slot.stop(0)
            else:
                self.mgr.add_slot(slot, self.mgr.source_of[id(slot)])

    def no_workers_left(self) -> None:
        """Every worker is gone and none is coming back: pending items become errors."""
        mgr = self.mgr
        if mgr.stopping or any(src.pending() for src in mgr.sources):
            return
        with mgr.lock:
            entries, mgr.ready = list(mgr.ready), deque()
        why = "; ".join(src.describe_loss() for src in mgr.sources)
        for e in entries:
            errs = [WorkerError(f"no worker left to run this item ({why})",
                                exc_type="RemoteWorkerLost", piper=e.task.name,
                                index=e.start + e.offset + i) for i in range(e.left())]
            results = [r for i, err in enumerate(errs)
                       for r in self._produced(e.task, err, e.items[e.offset + i])]
            mgr.store(e.task, e.start + e.offset, results, len(errs),
                      [i * e.task.mode[2] for i in range(len(errs))], 0.0)

    # -- timeouts --------------------------------------------------------------------
    def next_deadline(self) -> float | None:
        """Seconds until the soonest timed item is due, or None."""
        soonest = None
        now = time.monotonic()
        for serial, fl in self.mgr.chunks.items():
            slot = fl.slot
            if fl.task.timeout is None or not slot.outstanding or slot.outstanding[0] != serial:
                continue
            began = slot.started_at(serial)
            due = (began if began else now) + fl.task.timeout - now
            soonest = due if soonest is None else min(soonest, due)
        return None if soonest is None else max(0.005, soonest)

    def check_timeouts(self) -> None:
        now = time.monotonic()
        for slot in list(self.mgr.slots):
            if not slot.outstanding or slot.dead or slot.timed_out:
                continue  # (a killed process is reaped when its sentinel fires)
            serial = slot.outstanding[0]
            fl = self.mgr.chunks[serial]
            began = slot.started_at(serial)
            if fl.task.timeout is None or began is None or now - began < fl.task.timeout:
                continue
            off = slot.current_offset(serial)
            log.warning("piper %s: item %s timed out after %s s; replacing worker %s",
                        fl.task.name, fl.start + off, fl.task.timeout, slot.number)
            slot.timed_out = (serial, off)
            if slot.kill():
                self.on_death(slot)

    # -- replies that cannot be loaded ---------------------------------------------------
    def unreadable(self, slot: Slot, serial: int, why: str) -> None:
        """Chunk ``serial`` was answered, but its reply cannot be loaded here.

        The slot is fine and keeps serving.  A chunk of several items runs
        again one item per chunk, so that the item whose result cannot be
        loaded fails alone, with why; the others come back as usual.
        """
        mgr = self.mgr
        fl = mgr.chunks.pop(serial, None)
        if fl is None:
            return   # answered already (a timeout)
        if serial in slot.outstanding:
            slot.outstanding.remove(serial)
        slot.replies += 1
        if len(fl.items) > 1:
            log.warning("IMap %s: the reply to %d items of %s from worker %s cannot be "
                        "loaded here (%s); running them again one by one", mgr.name,
                        len(fl.items), fl.task.name, slot.number, why)
            self._one_by_one(fl)
            return
        task = fl.task
        piper, func = task.name, task.func
        if isinstance(func, Chain):   # the result is the last stage's
            func, piper = func.stages[-1]
        err = WorkerError(f"the result cannot be loaded in the driving process: {why}",
                          exc_type="UnpicklingError", function=getattr(func, "name", None),
                          piper=piper, index=fl.start)
        mgr.store(task, fl.start, self._produced(task, err, fl.items[0]), 1, [0], 0.0)

    # -- items that cannot be sent ------------------------------------------------------
    def unpicklable(self, task: Task, start: int, chunk: list, exc: Exception) -> None:
        """Answer the items that cannot be pickled here; the others go back in the queue.

        Each item is tried alone with plain pickle.  An item that fails to
        go out alone is answered with the slot's own error even if plain
        pickle takes it (a reducer registered for the pool's pickler only):
        sent back again it would fail again, forever.
        """
        results: list[WorkerError | None] = []  # None: the item pickles
        for i, item in enumerate(chunk):
            error: Exception | None = exc if len(chunk) == 1 else None
            if error is None:
                try:
                    pickle.dumps(item)
                except Exception as e:
                    error = e
            results.append(None if error is None else WorkerError(
                f"the input item ({type(item).__name__}) cannot be sent to a worker "
                f"process: {error}", exc_type="PicklingError", piper=task.name,
                index=start + i))
        for i in reversed(range(len(chunk))):
            if results[i] is None:
                self._requeue(Pending(task, start + i, [chunk[i]]))
        for i, r in enumerate(results):
            if r is not None:
                self.mgr.store(task, start + i, self._produced(task, r, chunk[i]), 1, [0], 0.0)
