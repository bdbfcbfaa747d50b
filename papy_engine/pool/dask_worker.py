"""What runs on the Dask cluster: one PaPy chunk per task, the kill of a stuck one.

Data flow (the client side is :mod:`.dask_slot`)::

    client --submit(run_chunk, token, tid, name, payload, mode, serial, start,
                    pickled items, topic)--> Dask worker thread
    worker: the task's function is loaded once per (token, tid) (a small LRU),
            a timed chunk logs a start event on ``topic``,
            the chunk is evaluated like on any other worker (:mod:`.evaluate`)
    client <--pickled ("done", serial, results, created, busy_s, output)--

Items arrive and replies leave as pickled *bytes*: Dask walks list arguments
looking for keys of other tasks, which costs about 60 times more than bytes.
The function travels inline with every chunk (a few kB, loaded only once per
worker): data scattered to workers is lost with them and never reaches
their replacements.  :func:`kill_worker_process` runs on a worker's *nanny*
to SIGKILL the worker process whose item timed out (``Future.cancel()``
never stops a running task); the nanny then starts a new one.  Before that,
:func:`set_worker_status` runs on the *scheduler* to pause that worker in
the scheduler's eyes, so that the chunks queued there are not handed to it
once its task is cancelled.

Only the standard library and the engine's value types are imported here;
``distributed`` only when a timed chunk announces its start.
"""
from __future__ import annotations

import logging
import os
import pickle
import signal
import threading
import time
from collections import OrderedDict
from typing import Any

from ..errors import WorkerError
from . import evaluate

__all__ = ["run_chunk", "kill_worker_process", "set_worker_status"]

log = logging.getLogger(__name__)

CACHE_SIZE = 64   # task functions kept per worker process
FLUSH_S = 0.1     # a timed chunk waits at most this long for its start event to leave
_cache: OrderedDict[tuple[str, int], Any] = OrderedDict()
_cache_lock = threading.Lock()   # a worker may run several chunks at once (threads)


def run_chunk(token: str, tid: int, name: str, payload: bytes, mode: tuple, serial: int,
              start: int, data: bytes, topic: str | None = None) -> bytes:
    """Evaluate one chunk on a Dask worker; returns the pickled reply.

    Args:
        token: the pool session's id (task ids restart at 0 in every session).
        tid, name, payload, mode: the task: its id, piper name, dill bytes, Mode.
        serial, start: the chunk's serial and the index of its first item.
        data: the items, pickled.
        topic: for a timed chunk, the event topic its start is announced on.
    """
    items = pickle.loads(data)
    m = evaluate.Mode(*mode)
    try:
        func = _load(token, tid, payload)
    except Exception as exc:
        log.error("task %s could not be loaded on this Dask worker: %s: %s", name,
                  type(exc).__name__, exc)
        return pickle.dumps(_unloaded(serial, start, len(items), name, exc, m[2]))
    if topic:
        _announce(topic, serial)
    reply = evaluate.reply_for(func, name, m, serial, start, items, [0, 0, 0])
    out: bytes = evaluate.send_reply(evaluate.dumps, reply, func, name, start, m)
    return out


def _load(token: str, tid: int, payload: bytes) -> Any:
    key = (token, tid)
    with _cache_lock:
        func = _cache.get(key)
        if func is not None:
            _cache.move_to_end(key)
            return func
    import dill
    func = dill.loads(payload)
    with _cache_lock:
        _cache[key] = func
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return func


def _unloaded(serial: int, start: int, n: int, name: str, why: Exception,
              produce: int) -> tuple:
    """The reply for a chunk whose function cannot be loaded here: one error per item."""
    msg = (f"the task function could not be loaded on this Dask worker: "
           f"{type(why).__name__}: {why}")
    errors = [WorkerError(msg, exc_type="RemoteLoadError", piper=name, index=start + i)
              for i in range(n)]
    results = [e for e in errors for _ in range(produce)]   # one per sub-item
    return ("done", serial, results, [i * produce for i in range(n)], 0.0, "")


def _announce(topic: str, serial: int) -> None:
    """Tell the client that chunk ``serial`` starts now, and where (for a hard timeout).

    An item that holds the GIL (a C loop) starves the worker's event loop, so
    an event merely queued would leave only after the item: the event is put
    in the worker's next batch on the loop thread, and the item waits (at
    most FLUSH_S) until that batch is written.
    """
    from distributed import get_worker
    try:
        worker = get_worker()
    except ValueError:   # not on a Dask worker (a test calling this directly)
        return
    msg = {"serial": serial, "worker": worker.address, "pid": os.getpid()}
    queued = threading.Event()
    mark: list = []

    def on_loop() -> None:
        worker.log_event(topic, msg)   # on the loop thread: into the batch now
        mark.append(getattr(worker.batched_stream, "batch_count", None))
        queued.set()
    worker.loop.add_callback(on_loop)
    deadline = time.monotonic() + FLUSH_S
    if not queued.wait(FLUSH_S) or mark[0] is None:
        return
    stream = worker.batched_stream
    written = getattr(stream, "recent_message_log", None)

    def sent() -> bool:
        # A batch is counted before it is written: an item that wins the GIL in
        # between keeps it unsent, so wait until it is in the log of written ones.
        if written is None:
            return stream.batch_count > mark[0]
        return any(isinstance(m, dict) and m.get("msg") is msg
                   for batch in list(written)[-4:] if isinstance(batch, list) for m in batch)
    while not sent() and time.monotonic() < deadline:
        time.sleep(0.0005)   # the batch interval is 2 ms


def kill_worker_process(pid: int, dask_worker: Any = None) -> bool:
    """Run on a nanny: SIGKILL its worker process if it is still ``pid``.

    The nanny starts a replacement.  Returns False when the nanny's worker
    is another process by now (the stuck one already died).
    """
    if dask_worker is not None and getattr(dask_worker, "pid", None) != pid:
        return False
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return False
    return True


def set_worker_status(address: str, status: str, dask_scheduler: Any = None) -> bool:
    """Run on the scheduler: mark worker ``address`` ``"paused"`` (the scheduler
    gives it no more tasks) or ``"running"`` again.  False: no such worker."""
    if dask_scheduler is None or address not in dask_scheduler.workers:
        return False
    dask_scheduler.handle_worker_status_change(status, address,
                                               stimulus_id=f"papy-{status}-{time.time()}")
    return True
