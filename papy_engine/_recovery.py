"""What an IMap does when a worker fails: dies, hangs past a timeout, or is lost.

* A dead process costs only the item it held (its shared progress slot says
  which): the item becomes a WorkerError, the rest of its chunk runs again,
  and a replacement starts -- unless replacements keep dying before doing any
  work, which marks the pool broken instead of looping.
* A timed-out item becomes a PiperError; its process is killed and replaced
  (a thread cannot be killed: it is retired and its late result dropped).
* A lost remote server's running chunk is re-run up to ``retries`` times.

A mixin of :class:`papy_engine.imap.IMap`, run on its dispatcher thread.
"""
from __future__ import annotations

import logging
import time
from collections import deque

from . import _pool
from ._imap_state import IMapState
from .errors import IMapError, PiperError, WorkerError

log = logging.getLogger(__name__)

MAX_STARTUP_DEATHS = 3  # replacements dying before any work: the pool is broken


class Recovery(IMapState):
    """Failure handling, mixed into IMap."""

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
            err: PiperError | WorkerError
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
            assert self._remote is not None  # remote slots come from it
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
