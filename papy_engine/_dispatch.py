"""The IMap's moving parts: one feeder thread per task and the dispatcher thread.

Feeders pull input batches while their task has room and queue them; the
dispatcher waits on every worker's result pipe and process sentinel (plus a
wake-up pipe), cuts queued batches into chunks sized to the measured cost
and bytes per item, sends them to slots with room, and stores the results
per task in input order.  A mixin of :class:`papy_engine.imap.IMap`: it
works on the IMap's own state, under the IMap's lock.
"""
from __future__ import annotations

import logging
import os
import pickle
from multiprocessing.connection import wait as mp_wait

from ._imap_state import IMapState
from .errors import IMapError, WorkerError

log = logging.getLogger(__name__)

TARGET_CHUNK_S = 0.01   # aim for this much work per chunk message
MAX_CHUNK_BYTES = 4 * 2**20      # pickled bytes per chunk message
MAX_CHUNK_ITEMS = 4096           # more per message gains nothing, and pipelines worse
MAX_OUTSTANDING = 2     # chunks per slot: one running, one waiting


class Dispatcher(IMapState):
    """Feeding and dispatching, mixed into IMap."""

    def _feed(self, task) -> None:
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
                if all(t.finished() for t in self._tasks) and self._tasks and not self._held:
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
                if slot.outstanding and not self._ends_soon(slot.outstanding[-1]):
                    continue  # never queue an item behind a slow (or unknown) one
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

    def _ends_soon(self, serial: int) -> bool:
        """True when chunk ``serial`` is measured to take at most ~2 chunk targets.

        A second chunk per slot hides the round trip for cheap items; behind a
        slow item it would wait while another worker may fall idle (a few slow
        items must run in parallel, and unordered results leave as they finish).
        """
        task, items = self._chunks[serial][1], self._chunks[serial][3]
        return task.cost is not None and task.cost * len(items) <= 2 * TARGET_CHUNK_S

    def _chunk_size(self, task) -> int:
        if task.timeout is not None:
            return 1
        if task.cost is None:
            # Nothing measured yet: one item per chunk, so that the first items
            # of a task spread over idle workers (a few slow items run in
            # parallel); the first reply sizes the chunks that follow.
            return 1
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
            slot.send_task(task.id, task.name, task.payload, task.mode)
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
        results: list[WorkerError | None] = []  # None: the item pickles
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
        with self._lock:
            if task.ordered:
                task.results[start] = (results, n)
            else:
                task.arrived.append((results, n))
            task.done += n
            self._changed.notify_all()

    def _shutdown_slots(self, timeout: float) -> None:
        slots, self._slots = self._slots, []
        for s in slots:
            try:
                s.stop(timeout)
            except Exception:
                log.exception("IMap %s: stopping worker %s", self.name, s.number)
        if self._remote is not None:
            self._remote.close()  # also slots still reconnecting or not yet joined
