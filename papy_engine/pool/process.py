"""Process slots: worker processes, their pipes, and how they start.

Each worker process talks to the dispatcher over two one-way pipes::

    dispatcher --("task", id, name, dill bytes, mode)--> child   (once per task)
    dispatcher --("chunk", serial, task id, start, items)--> child
    dispatcher <--("done", serial, results, created, busy_s, output)-- child
    dispatcher <--("raise", serial, error)-- child   (debug=True)

A reader thread in the child takes messages off the pipe as soon as they
arrive, so the dispatcher never blocks on a full pipe while the child is
itself blocked writing results (the classic two-pipe deadlock).  Each slot
owns a tiny shared array written before every item, ``[chunk serial, offset,
start time]``, which tells the dispatcher which item a dead worker was
holding and when a timed-out item started.  A dead process is seen through
its sentinel, never a timeout.
"""
from __future__ import annotations

import logging
import multiprocessing.connection  # noqa: F401  (ctx.Pipe() would import it at a first pool)
import os
import pickle
import queue
import signal
import sys
import threading
from itertools import count
from multiprocessing.reduction import ForkingPickler
from multiprocessing.sharedctypes import RawArray
from typing import TYPE_CHECKING, Any

from ..errors import Checked, made_here
from . import pipes, warm
from .evaluate import HOLDING, Mode, reply_for, send_reply
from .slots import TARGET_CHUNK_S, Done, Post, ProgressReader, Raised, Unreadable
from .starting import context, default_start_method, start

if TYPE_CHECKING:
    from .records import Task

__all__ = ["ProcessSlot", "ProcessSource"]

log = logging.getLogger(__name__)

if sys.platform != "win32":   # what starting a forked worker imports: ~2 ms of a first pool
    import multiprocessing.popen_fork  # noqa: F401

_dumps = ForkingPickler.dumps   # what Connection.send uses, so fds and sockets still work


# -- the child ----------------------------------------------------------------------
class _Stdio:
    """The parent's stdout/stderr, handed to a worker made by a fork server.

    A fork server keeps the standard streams it had when it started; a worker
    forked from it takes the parent's current ones instead, as a forked or
    spawned worker would (the pickler duplicates the fds for the child).
    """

    def __reduce__(self):
        from multiprocessing import reduction
        return (_own_stdio, (reduction.DupFd(1), reduction.DupFd(2)))


def _own_stdio(out, err) -> None:
    for fd, target in ((out.detach(), 1), (err.detach(), 2)):
        os.dup2(fd, target)
        os.close(fd)


def _child_main(task_r, result_w, progress, close_fds, stdio=None):
    """Entry point of a worker process.

    Ctrl-C in a terminal signals the whole process group: the driving process
    decides what it means (``papy run``: stop gracefully, then abort), so a
    worker ignores SIGINT instead of failing the item it is running.  It
    still goes when asked, or when the driving process's pipe closes.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for fd in close_fds:
        try:
            os.close(fd)
        except OSError:
            pass
    inbox: queue.SimpleQueue = queue.SimpleQueue()

    def reader():
        try:
            while True:
                made = made_here()
                msg = task_r.recv()
                if msg[0] == "chunk" and made_here() == made:   # no placeholder in it
                    msg = (*msg[:4], Checked(msg[4]))
                inbox.put(msg)
                if msg[0] == "stop":
                    return
        except (EOFError, OSError):
            inbox.put(("stop",))

    threading.Thread(target=reader, name="papy-reader", daemon=True).start()
    try:
        _serve(inbox, result_w, progress)
    except (BrokenPipeError, EOFError, OSError):
        pass  # the parent went away or closed our pipe: nobody wants the results
    finally:
        result_w.close()


def _serve(inbox, result_w, progress):
    # A task comes pickled by dill; plain pickle reads it, importing dill only
    # when the pickle needs it (a lambda, a closure): workers start faster.
    tasks: dict[int, tuple[Any, str, Mode]] = {}
    progress = memoryview(progress).cast("B").cast("q")

    def send(reply: tuple) -> None:
        pipes.send_bytes(result_w, _dumps(reply))
    while True:
        msg = inbox.get()
        kind = msg[0]
        if kind == "chunk":
            _, serial, tid, start, items = msg
            func, name, mode = tasks[tid]
            reply = reply_for(func, name, mode, serial, start, items, progress)
            progress[HOLDING] = _holding()   # known to the parent with the reply
            send_reply(send, reply, func, name, start, mode)
        elif kind == "task":
            _, tid, name, payload, mode = msg
            tasks[tid] = (pickle.loads(payload), name, Mode(*mode))
        elif kind == "drop":
            tasks.pop(msg[1], None)
        elif kind == "recycle":   # kept warm between runs: as fresh as a new worker
            tasks.clear()
            leases = _leases()
            if leases is not None:
                leases.release_all()
            progress[HOLDING] = 0
        elif kind == "stop":
            break


def _leases() -> Any:
    """The leases module, once something in this worker dumped an item; else None."""
    return sys.modules.get("papy_engine.transfer.leases")


def _holding() -> int:
    """1 when this worker holds an item it dumped (direct transfer) that may still
    be read: it must then stay up until the run ends."""
    leases = _leases()
    return int(leases is not None and leases.holding())


# -- the parent's side ------------------------------------------------------------------
class ProcessSlot(ProgressReader):
    """One worker process and its pipes."""

    precise = True
    chunk_s = TARGET_CHUNK_S

    def __init__(self, number: int, method: str, close_fds=()):
        ctx = context(method)
        task_r, self.task_w = ctx.Pipe(duplex=False)
        self.result_r, result_w = ctx.Pipe(duplex=False)
        self._widened = pipes.widen(self.result_r, self.task_w)
        self._reader = pipes.Reader(self.result_r)
        self.progress = RawArray("q", 4)   # int64: an offset is stored without converting it
        # a forked child inherits the parent's ends of its own pipes too: it must
        # close them, or it never sees the end of its input when the parent dies
        fds = [*close_fds, *self.parent_fds()] if method == "fork" else []
        self.proc = ctx.Process(
            target=_child_main, name=f"papy-worker-{number}",
            args=(task_r, result_w, self.progress, fds,
                  _Stdio() if method == "forkserver" else None), daemon=True)
        start(self.proc, method)
        task_r.close()
        result_w.close()
        self.number = number
        self.outstanding: list[int] = []
        self.tasks: set[int] = set()
        self.timed_out: tuple[int, int] | None = None
        self.dead = False
        self.asked_stop = False
        self.replies = 0

    def __repr__(self) -> str:
        return f"ProcessSlot({self.number}, pid={self.proc.pid})"

    def parent_fds(self) -> list[int]:
        return [self.task_w.fileno(), self.result_r.fileno()]

    def wait_objects(self) -> list:
        return [self.result_r, self.proc.sentinel]

    def collect(self, ready: list, post: Post) -> bool:
        died = self.proc.sentinel in ready
        if self.result_r not in ready and not died:
            return True
        try:
            if died:   # what it sent before it died, then the end of the pipe
                while self._reader.ready():
                    self._post(self._reader.recv(), post)
            else:      # one read for what the pipe holds
                for data in self._reader.messages():
                    self._post(data, post)
        except (EOFError, OSError):
            return False
        except Exception:
            log.exception("unreadable reply from worker %s", self.number)
            return False
        return not died

    def _post(self, data: memoryview, post: Post) -> None:
        made = made_here()
        with data:
            try:
                msg, nbytes = pickle.loads(data), len(data)
            except Exception as exc:   # a worker answers its chunks in the order sent
                if not self.outstanding:
                    raise
                post(self, Unreadable(self.outstanding[0], f"{type(exc).__name__}: {exc}"))
                return
        if msg[0] == "done":
            results = Checked(msg[2]) if made_here() == made else msg[2]
            post(self, Done(msg[1], results, msg[3], msg[4], nbytes, msg[5]))
        else:
            post(self, Raised(msg[1], msg[2]))

    def send_task(self, task: Task) -> None:
        self.task_w.send(("task", task.id, task.name, task.shipped(), tuple(task.mode)))
        self.tasks.add(task.id)

    def send_chunk(self, serial: int, task: Task, start: int, items: list) -> int:
        data = _dumps(("chunk", serial, task.id, start, items))
        pipes.send_bytes(self.task_w, data)
        return len(data)

    def alive(self) -> bool:
        return not self.dead and self.proc.is_alive()

    def recycle(self) -> bool:
        """Forget the run this worker served, to wait for another; False if unfit."""
        if self.outstanding or self.timed_out or not self.alive():
            return False
        try:
            self.task_w.send(("recycle",))
        except (OSError, ValueError):
            return False
        self.tasks.clear()
        self.progress[0] = self.progress[1] = self.progress[2] = self.progress[3] = 0
        return True

    def drop_task(self, tid: int) -> None:
        if tid in self.tasks and not self.dead:
            self.tasks.discard(tid)
            try:
                self.task_w.send(("drop", tid))
            except OSError:
                pass

    def kill(self) -> bool:
        try:
            self.proc.kill()
        except (OSError, ValueError):
            pass
        return False   # its sentinel reports the death

    def exit_reason(self) -> str:
        if self.proc.exitcode is None:
            self.proc.join(2.0)   # reap it, so that its exit code is known
        code = self.proc.exitcode
        if code is None:
            return "it stopped responding"
        if code < 0:
            try:
                return f"killed by signal {signal.Signals(-code).name}"
            except ValueError:
                return f"killed by signal {-code}"
        return f"exit code {code}"

    def holds_items(self) -> bool:
        return bool(self.progress[HOLDING])

    def ask_stop(self) -> None:
        if not self.asked_stop and not self.dead:
            self.asked_stop = True
            try:
                self.task_w.send(("stop",))
            except (OSError, ValueError):
                pass   # gone already: stop() sees it

    def stop(self, timeout: float) -> None:
        """Ask the process to exit; kill it after ``timeout``; close pipes."""
        if not self.dead and self.proc.is_alive():
            self.ask_stop()
            self.proc.join(timeout)
        if self.proc.is_alive():
            self.kill()
            self.proc.join(5)
        self.dead = True
        for c in (self.task_w, self.result_r):
            c.close()
        pipes.narrowed(self._widened)
        self._widened = 0
        try:
            self.proc.close()
        except ValueError:
            pass


class ProcessSource:
    """``worker_num`` local worker processes (``worker_type="process"``)."""

    def __init__(self, imap: Any, post: Post, numbers: count) -> None:
        self.n = imap.local_workers()
        self.key = ("process", imap.start_method)   # interchangeable warm workers
        self.method = imap.start_method or default_start_method()
        # threads exist by the time a worker is replaced: never fork then
        self.replace_method = (self.method if self.method in ("spawn", "forkserver")
                               else "forkserver" if sys.platform.startswith("linux")
                               else "spawn")
        self.numbers = numbers

    def start(self) -> list[ProcessSlot]:
        slots: list[ProcessSlot] = warm.take(self.key, self.n)
        for slot in slots:
            slot.number = next(self.numbers)
        for _ in range(self.n - len(slots)):
            fds = [fd for s in slots for fd in s.parent_fds()]
            slots.append(ProcessSlot(next(self.numbers), self.method, fds))
        return slots

    def replace(self, dead: Any) -> ProcessSlot:
        return ProcessSlot(next(self.numbers), self.replace_method)

    def keep(self, slot: Any) -> bool:
        return slot.recycle() and warm.keep(self.key, slot)

    def pending(self) -> bool:
        return False

    def describe_loss(self) -> str:
        return "the worker processes died"

    def close(self) -> None:
        pass
