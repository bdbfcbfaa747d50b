"""Pool slots: the worker processes and threads behind an IMap.

A *slot* is one worker (a process or a thread).  The IMap's dispatcher thread
sends it *chunks* (a run of consecutive items of one task) and receives one
result message per chunk::

    dispatcher --("chunk", serial, task_id, start, items)--> slot
    dispatcher <--("done", serial, results, created, busy_s)-- slot

Process slots talk over two one-way pipes.  A reader thread in the child
takes chunks off the pipe as soon as they arrive, so the dispatcher never
blocks on a full pipe while the child is itself blocked writing results (the
classic two-pipe deadlock).  Each slot also owns a tiny shared array written
before every item -- ``[chunk serial, offset, start time]`` -- which tells the
dispatcher which item a dead worker was holding and when a timed-out item
started.  Thread slots use the same runner and a plain queue.

This module imports only the standard library, dill and the engine's value
types, so that spawned worker processes start quickly.
"""
from __future__ import annotations

import logging
import os
import pickle
import queue
import sys
import threading
import time
from multiprocessing import get_context
from multiprocessing.reduction import ForkingPickler
from multiprocessing.sharedctypes import RawArray

from .errors import PiperError, WorkerError, _Placeholder

log = logging.getLogger(__name__)

_dumps = ForkingPickler.dumps   # what Connection.send uses, so fds and sockets still work

# progress array fields
SERIAL, OFFSET, STARTED = 0, 1, 2


class TaskCall:
    """A plain function applied to items: ``func(item, *args, **kwargs)``.

    Used for IMap tasks added directly (not through a Piper); exceptions become
    :class:`WorkerError` placeholders like a Worker's, which also keep the
    original exception (when it pickles) so that the IMap can re-raise it.
    """

    def __init__(self, func, args=(), kwargs=None):
        self.func, self.args, self.kwargs = func, tuple(args), dict(kwargs or {})
        self.name = getattr(func, "__name__", type(func).__name__)
        self.errors_created = 0
        self.debug = False

    def __call__(self, item):
        if isinstance(item, _Placeholder):
            if item.index is None:
                self.errors_created += 1
            return item
        try:
            return self.func(item, *self.args, **self.kwargs)
        except Exception as exc:
            self.errors_created += 1
            err = WorkerError.from_exception(exc, function=self.name)
            try:
                pickle.dumps(exc)
                err.exception = exc
            except Exception:
                pass  # re-raised as the WorkerError itself
            return err

    def map(self, items, boxed=False, progress=None):
        if progress is None:
            return [self(x) for x in items]
        out = []
        for off, x in enumerate(items):
            progress[1] = off
            out.append(self(x))
        return out


class Mode(tuple):
    """How a task's chunks are evaluated: ``(boxed, timed, produce, repeat)``.

    ``boxed``: items arrive bare and are made into 1-tuples in the worker;
    ``timed``: the task has a timeout, so each item's start time is
    published; ``produce``/``repeat``: a piper's produce option, applied in
    the worker so results leave already split into sub-items.
    """

    def __new__(cls, boxed=False, timed=False, produce=1, repeat=False):
        return tuple.__new__(cls, (bool(boxed), bool(timed), int(produce), bool(repeat)))


PLAIN = Mode()


def run_chunk(func, items, start, piper, progress=None, serial=0, mode=PLAIN):
    """Evaluate ``func`` on every item; returns ``(results, created, busy_s)``.

    ``created`` lists the offsets in ``results`` of placeholders made here
    (not passed through); they get their ``piper`` and ``index`` (the item's
    position in the task) filled in.  A placeholder that reaches here without
    an index (an inbox whose input pipe ran short) is attributed here too.
    ``progress`` (shared with the dispatcher) records the chunk and the item
    in progress, and for a timed task when that item started, so that the
    dispatcher can tell which item a worker died on or got stuck with.
    With ``produce > 1`` each result is split into that many sub-items.
    """
    boxed, timed, produce, repeat = mode
    t0 = time.perf_counter()
    before = func.errors_created
    if progress is not None:
        progress[SERIAL] = serial
        progress[STARTED] = time.monotonic() if timed else 0.0
    results = func.map(items, boxed, progress)
    if progress is not None:
        progress[STARTED] = 0.0
    created = []
    if func.errors_created != before:
        for off, r in enumerate(results):
            if isinstance(r, _Placeholder) and r.index is None:
                r.piper, r.index = piper, start + off
                created.append(off)
    if produce > 1:
        results, created = split_produced(results, created, produce, repeat, piper, start)
    return results, created, time.perf_counter() - t0


def split_produced(results, created, n, repeat, piper, start):
    """Emit each result as ``n`` sub-items (``repeat``: n copies of it).

    A placeholder is emitted ``n`` times; a result that is not a sequence of
    exactly ``n`` items becomes a ``ProduceError`` placeholder, emitted ``n``
    times and counted once.  Returns ``(sub_items, created)``, ``created``
    holding the offset of the first copy of each placeholder made here.
    """
    out: list = []
    made = set(created)
    new_created = []
    for off, r in enumerate(results):
        if repeat or isinstance(r, _Placeholder):
            if off in made:
                new_created.append(len(out))
            out.extend([r] * n)
            continue
        try:
            parts = list(r)
        except TypeError:
            parts = None
        if parts is None or len(parts) != n:
            got = f"a {type(r).__name__}" if parts is None else f"{len(parts)} sub-items"
            err = PiperError(f"produce={n} needs a sequence of {n} sub-items, got {got}",
                             exc_type="ProduceError", piper=piper, index=start + off)
            new_created.append(len(out))
            out.extend([err] * n)
        else:
            out.extend(parts)
    return out, new_created


def picklable(results, created, func, piper, start, mode=PLAIN):
    """Replace results that cannot be pickled by placeholders saying why.

    Returns ``(results, created)`` with the new placeholders attributed to
    ``piper`` and counted as created (a result of item ``i`` that cannot be
    sent back is an error of that item).
    """
    fname = getattr(func, "name", None)
    produce = mode[2]
    out, made = [], set(created)
    for off, r in enumerate(results):
        try:
            pickle.dumps(r, protocol=pickle.HIGHEST_PROTOCOL)
            out.append(r)
        except Exception as exc:
            err = WorkerError(
                f"the result ({type(r).__name__}) cannot be sent back from the worker "
                f"process: {exc}", exc_type="PicklingError", function=fname,
                piper=piper, index=start + off // produce)
            out.append(err)
            made.add(off)
    return out, sorted(made)


# -- process slots -----------------------------------------------------------

def _child_main(task_r, result_w, progress, close_fds):
    """Entry point of a worker process."""
    for fd in close_fds:
        try:
            os.close(fd)
        except OSError:
            pass
    inbox: queue.SimpleQueue = queue.SimpleQueue()

    def reader():
        try:
            while True:
                msg = task_r.recv()
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
    import dill
    funcs: dict = {}
    names: dict = {}
    modes: dict = {}
    progress = memoryview(progress).cast("B").cast("d")
    while True:
        msg = inbox.get()
        kind = msg[0]
        if kind == "chunk":
            _, serial, tid, start, items = msg
            func = funcs[tid]
            try:
                results, created, busy = run_chunk(func, items, start, names[tid],
                                                   progress, serial, modes[tid])
            except BaseException as exc:  # debug=True: ship the error itself
                err = WorkerError.from_exception(exc, function=getattr(func, "name", None))
                err.piper, err.index = names[tid], start + int(progress[OFFSET])
                result_w.send(("raise", serial, err))
                continue
            try:
                result_w.send(("done", serial, results, created, busy))
            except Exception:
                results, created = picklable(results, created, func, names[tid], start,
                                             modes[tid])
                result_w.send(("done", serial, results, created, busy))
        elif kind == "task":
            _, tid, name, payload, mode = msg
            funcs[tid] = dill.loads(payload)
            names[tid] = name
            modes[tid] = Mode(*mode)
        elif kind == "drop":
            funcs.pop(msg[1], None)
        elif kind == "stop":
            break


class ProcessSlot:
    """One worker process and its pipes."""

    kind = "process"

    def __init__(self, number: int, method: str, close_fds=()):
        ctx = get_context(method)
        task_r, self.task_w = ctx.Pipe(duplex=False)
        self.result_r, result_w = ctx.Pipe(duplex=False)
        self.progress = RawArray("d", 3)
        fds = list(close_fds) if method == "fork" else []
        # Each concrete context has Process; typeshed's BaseContext (what a
        # str method gives) does not declare it.
        self.proc = ctx.Process(  # type: ignore[attr-defined]
            target=_child_main, name=f"papy-worker-{number}",
            args=(task_r, result_w, self.progress, fds), daemon=True)
        self.proc.start()
        task_r.close()
        result_w.close()
        self.number = number
        self.outstanding: list = []  # chunks sent, oldest first
        self.tasks: set[int] = set()
        self.timed_out = None  # (chunk, offset) when we killed it for a timeout
        self.dead = False

    def parent_fds(self) -> list[int]:
        return [self.task_w.fileno(), self.result_r.fileno()]

    def wait_objects(self) -> list:
        return [self.result_r, self.proc.sentinel]

    def send_task(self, tid: int, name: str, payload: bytes, mode: Mode = PLAIN) -> None:
        self.task_w.send(("task", tid, name, payload, tuple(mode)))
        self.tasks.add(tid)

    def send_chunk(self, serial, tid, start, items) -> int:
        """Send a chunk; returns its size in bytes (the IMap bounds bytes in flight)."""
        data = _dumps(("chunk", serial, tid, start, items))
        self.task_w.send_bytes(data)
        return len(data)

    def drop_task(self, tid: int) -> None:
        if tid in self.tasks and not self.dead:
            self.tasks.discard(tid)
            try:
                self.task_w.send(("drop", tid))
            except OSError:
                pass

    def started_at(self, serial) -> float | None:
        """When the item in progress of chunk ``serial`` started (monotonic)."""
        p = self.progress
        if int(p[SERIAL]) == serial and p[STARTED] > 0:
            return p[STARTED]
        return None

    def current_offset(self, serial) -> int:
        p = self.progress
        return int(p[OFFSET]) if int(p[SERIAL]) == serial else 0

    def kill(self) -> None:
        try:
            self.proc.kill()
        except (OSError, ValueError):
            pass

    def exit_reason(self) -> str:
        code = self.proc.exitcode
        if code is None:
            return "it stopped responding"
        if code < 0:
            import signal
            try:
                return f"killed by signal {signal.Signals(-code).name}"
            except ValueError:
                return f"killed by signal {-code}"
        return f"exit code {code}"

    def stop(self, timeout: float) -> None:
        """Ask the process to exit; kill it after ``timeout``; close pipes."""
        if not self.dead and self.proc.is_alive():
            try:
                self.task_w.send(("stop",))
            except (OSError, ValueError):
                pass
            self.proc.join(timeout)
        if self.proc.is_alive():
            self.kill()
            self.proc.join(5)
        self.dead = True
        for c in (self.task_w, self.result_r):
            c.close()
        try:
            self.proc.close()
        except ValueError:
            pass


# -- thread slots --------------------------------------------------------------

class ThreadSlot:
    """One worker thread; results go to the dispatcher's inbox queue."""

    kind = "thread"

    def __init__(self, number: int, funcs: dict, names: dict, modes: dict, post):
        self.number = number
        self.inq: queue.SimpleQueue = queue.SimpleQueue()
        self.progress = [0.0, 0.0, 0.0]
        self.outstanding: list = []
        self.tasks: set[int] = set()
        self.timed_out = None
        self.dead = False
        self.retired = False
        self._funcs, self._names, self._post = funcs, names, post
        self._modes = modes
        self.thread = threading.Thread(target=self._main, name=f"papy-thread-{number}",
                                       daemon=True)
        self.thread.start()

    def _main(self):
        while True:
            msg = self.inq.get()
            if msg is None:
                return
            serial, tid, start, items = msg
            func = self._funcs[tid]
            try:
                results, created, busy = run_chunk(func, items, start, self._names[tid],
                                                   self.progress, serial, self._modes[tid])
                reply: tuple = ("done", serial, results, created, busy)
            except BaseException as exc:
                err = WorkerError.from_exception(exc, function=getattr(func, "name", None))
                err.piper, err.index = self._names[tid], start + int(self.progress[OFFSET])
                reply = ("raise", serial, err)
            if self.retired:  # abandoned after a timeout: the late result is dropped
                return
            self._post(self, reply)

    def wait_objects(self) -> list:
        return []

    def exit_reason(self) -> str:
        return "its item timed out" if self.timed_out else "it was retired"

    def send_task(self, tid, name, payload, mode=PLAIN) -> None:
        self.tasks.add(tid)

    def send_chunk(self, serial, tid, start, items) -> int:
        self.inq.put((serial, tid, start, items))
        return 0

    def drop_task(self, tid) -> None:
        self.tasks.discard(tid)

    started_at = ProcessSlot.started_at
    current_offset = ProcessSlot.current_offset

    def kill(self) -> None:
        # A thread cannot be killed: retire it; it exits when its item returns.
        self.retired = True
        self.inq.put(None)

    def stop(self, timeout: float) -> None:
        self.retired = True
        self.inq.put(None)
        if self.thread is not threading.current_thread():
            self.thread.join(timeout)
        if self.thread.is_alive() and not self.timed_out:
            log.warning("worker thread %s is still busy with an item after stop; "
                        "it is abandoned (a thread cannot be interrupted)", self.thread.name)
        self.dead = True


def default_start_method() -> str:
    """``fork`` only while this process has a single OS thread, else ``spawn``.

    Forking a process that runs other threads (ours, a Tk notifier, a BLAS
    pool) can deadlock the child on a lock held at the time of the fork;
    ``/proc/self/task`` counts every OS thread, not just Python's.
    """
    env = os.environ.get("PAPY_START_METHOD")
    if env:
        return env
    if sys.platform.startswith("linux"):
        try:
            if len(os.listdir("/proc/self/task")) == 1:
                return "fork"
        except OSError:
            pass
    return "spawn"
