"""Thread slots: workers that are threads of the driving process.

A thread slot runs chunks from its own queue and posts each reply to the
pool manager.  Functions are called directly (no pickling).  A thread cannot
be killed: one stuck past its item's timeout is *retired* -- it leaves the
pool, a new thread takes its place, and its late result is dropped.
"""
from __future__ import annotations

import logging
import queue
import threading
from itertools import count
from typing import TYPE_CHECKING, Any

from ..peek import estimate_size
from . import warm
from .evaluate import Mode, reply_for
from .slots import TARGET_CHUNK_S, Done, Post, ProgressReader, Raised

if TYPE_CHECKING:
    from .records import Task

__all__ = ["ThreadSlot", "ThreadSource"]

KEY = ("thread",)   # every worker thread is interchangeable

log = logging.getLogger(__name__)


class ThreadSlot(ProgressReader):
    """One worker thread; replies go to the manager through ``post``."""

    precise = True
    chunk_s = TARGET_CHUNK_S

    def __init__(self, number: int, post: Post) -> None:
        self.number = number
        self.inq: queue.SimpleQueue = queue.SimpleQueue()
        self.progress = [0, 0, 0]
        self.outstanding: list[int] = []
        self.tasks: set[int] = set()
        self.timed_out: tuple[int, int] | None = None
        self.dead = False
        self.replies = 0
        self.retired = False
        self._funcs: dict[int, tuple[Any, str, Mode]] = {}
        self._post = post
        self.thread = threading.Thread(target=self._main, name=f"papy-thread-{number}",
                                       daemon=True)
        self.thread.start()

    def __repr__(self) -> str:
        return f"ThreadSlot({self.number})"

    def _main(self) -> None:
        while True:
            msg = self.inq.get()
            if msg is None:
                return
            serial, tid, start, items = msg
            func, name, mode = self._funcs[tid]
            reply = reply_for(func, name, mode, serial, start, items, self.progress)
            if self.retired:  # abandoned after a timeout: the late result is dropped
                return
            if reply[0] == "done":
                _, serial, results, created, busy, output = reply
                # nothing is pickled between threads: estimate the results' size,
                # so that chunks and what waits stay bounded in bytes too
                size = estimate_size(results[0]) * len(results) if results else 0
                self._post(self, Done(serial, results, created, busy, size, output))
            else:
                self._post(self, Raised(*reply[1:]))

    def alive(self) -> bool:
        return not self.dead and not self.retired and self.thread.is_alive()

    def recycle(self) -> bool:
        """Forget the run this worker served, to wait for another; False if unfit."""
        if self.outstanding or self.timed_out or not self.alive():
            return False
        self.tasks.clear()
        self._funcs.clear()
        self.progress = [0, 0, 0]
        return True

    def attach(self, post: Post) -> None:
        """Send replies to ``post`` (a new pool's manager) from now on."""
        self._post = post

    def wait_objects(self) -> list:
        return []

    def collect(self, ready: list, post: Post) -> bool:
        return not self.dead

    def send_task(self, task: Task) -> None:
        self._funcs[task.id] = (task.func, task.name, task.mode)
        self.tasks.add(task.id)

    def send_chunk(self, serial: int, task: Task, start: int, items: list) -> int:
        self.inq.put((serial, task.id, start, items))
        return 0

    def drop_task(self, tid: int) -> None:
        self.tasks.discard(tid)
        self._funcs.pop(tid, None)

    def kill(self) -> bool:
        # A thread cannot be killed: retire it; it exits when its item returns.
        self.retired = True
        self.inq.put(None)
        return True

    def exit_reason(self) -> str:
        return "its item timed out" if self.timed_out else "it was retired"

    def holds_items(self) -> bool:
        return False   # items dumped in this process live until the run ends (leases)

    def ask_stop(self) -> None:
        if not self.retired:
            self.retired = True
            self.inq.put(None)

    def stop(self, timeout: float) -> None:
        self.ask_stop()
        if self.thread is not threading.current_thread():
            self.thread.join(timeout)
        if self.thread.is_alive() and not self.timed_out:
            log.warning("worker thread %s is still busy with an item after stop; "
                        "it is abandoned (a thread cannot be interrupted)", self.thread.name)
        self.dead = True


class ThreadSource:
    """``worker_num`` threads of this process (``worker_type="thread"``)."""

    def __init__(self, imap: Any, post: Post, numbers: count) -> None:
        self.n = imap.local_workers()
        self.post = post
        self.numbers = numbers

    def start(self) -> list[ThreadSlot]:
        slots: list[ThreadSlot] = warm.take(KEY, self.n)
        for slot in slots:
            slot.number = next(self.numbers)
            slot.attach(self.post)
        return slots + [ThreadSlot(next(self.numbers), self.post)
                        for _ in range(self.n - len(slots))]

    def keep(self, slot: Any) -> bool:
        return slot.recycle() and warm.keep(KEY, slot)

    def replace(self, dead: Any) -> ThreadSlot:
        return ThreadSlot(next(self.numbers), self.post)

    def pending(self) -> bool:
        return False

    def describe_loss(self) -> str:
        return "the worker threads were retired"

    def close(self) -> None:
        pass
