"""Evaluating a chunk of items: what every slot kind runs, in every worker.

A *chunk* is a run of consecutive items of one task.  :func:`run_chunk`
evaluates the task's function on each item (a :class:`~papy_engine.worker.Worker`
for a piper, a :class:`TaskCall` for a task added to an IMap directly),
splits produced results into sub-items, and reports which placeholders it
created.  It records its progress in a small array (``[chunk serial, item
offset, start time]``, all integers: the start in
``time.monotonic_ns()``) that the dispatcher reads to tell which item a dead
or stuck worker was holding.

This module imports only the standard library and the engine's value types,
so that worker processes start quickly.
"""
from __future__ import annotations

import pickle
import time

from ..errors import ITEM_ERRORS, PapyError, PiperError, WorkerError, _Placeholder
from .capture import captured
from .chain import Chain, attribute

__all__ = ["TaskCall", "Mode", "PLAIN", "run_chunk", "reply_for", "split_produced", "picklable",
           "keep_inbox",
           "SERIAL", "OFFSET", "STARTED", "HOLDING"]

# fields of a progress array
SERIAL, OFFSET, STARTED, HOLDING = 0, 1, 2, 3   # HOLDING: see ProcessSlot.holds_items


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
        except ITEM_ERRORS as exc:
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
    """How a task's chunks are evaluated: ``(boxed, timed, produce, repeat, capture)``.

    ``boxed``: items arrive bare and are made into 1-tuples in the worker;
    ``timed``: the task has a timeout, so each item's start time is
    published; ``produce``/``repeat``: a piper's produce option, applied in
    the worker so results leave already split into sub-items; ``capture``:
    what the functions print is collected and returned with the results.
    """

    def __new__(cls, boxed=False, timed=False, produce=1, repeat=False, capture=False):
        return tuple.__new__(cls, (bool(boxed), bool(timed), int(produce), bool(repeat),
                                   bool(capture)))


PLAIN = Mode()
INBOX_BYTES = 64 * 1024   # a failed item's inbox is kept up to this many bytes pickled


def keep_inbox(err: _Placeholder, inbox) -> None:
    """Attach the inbox ``err`` failed on, if it pickles within INBOX_BYTES."""
    if isinstance(inbox, tuple) and any(x is err for x in inbox):   # a missing input
        inbox = tuple("<missing input>" if x is err else x for x in inbox)
    try:
        size = len(pickle.dumps(inbox, protocol=pickle.HIGHEST_PROTOCOL))
    except Exception as exc:
        err.inbox_note = (f"the inbox could not be kept: it cannot be pickled "
                          f"({type(exc).__name__}: {exc}); it was {_short(inbox)}")
        return
    if size > INBOX_BYTES:
        err.inbox_note = (f"the inbox was not kept: {size} bytes pickled, over the "
                          f"{INBOX_BYTES}-byte cap; it was {_short(inbox)}")
        return
    err.inbox = inbox


def _short(obj) -> str:
    try:
        text = repr(obj)
    except Exception as exc:
        return f"<repr failed: {type(exc).__name__}>"
    return text if len(text) <= 500 else text[:500] + "..."


def run_chunk(func, items, start, piper, progress=None, serial=0, mode=PLAIN):
    """Evaluate ``func`` on every item; returns ``(results, created, busy_s, output)``.

    ``created`` lists the offsets in ``results`` of placeholders made here
    (not passed through); they get their ``piper``, ``index`` (the item's
    position in the task) and ``inbox`` filled in.  A placeholder that
    reaches here without an index (an inbox whose input pipe ran short) is
    attributed here too.  ``progress`` (shared with the dispatcher) records
    the chunk and the item in progress, and for a timed task when that item
    started, so that the dispatcher can tell which item a worker died on or
    got stuck with.  With ``produce > 1`` each result is split into that many
    sub-items; with ``capture``, ``output`` is what the chunk printed.  For a
    :class:`Chain`, ``busy_s`` is a tuple: the seconds of each stage.
    """
    boxed, timed, produce, repeat, capture = mode
    if progress is not None:
        progress[SERIAL] = serial
        progress[STARTED] = time.monotonic_ns() if timed else 0
    created: list[int] = []
    busy: float | tuple
    with captured(capture) as printed:
        t0 = time.perf_counter()
        if func.__class__ is Chain:
            results, created, busy = func.run(items, start, boxed, progress)
        else:
            before = func.errors_created
            results = func.map(items, boxed, progress)
            if func.errors_created != before:
                attribute(results, items, boxed, piper, start, created)
            busy = time.perf_counter() - t0
    if len(results) != len(items):   # never let an item go missing unnoticed
        raise PapyError(f"engine error: piper {piper} gave {len(results)} results for "
                        f"{len(items)} items")
    if progress is not None:
        progress[STARTED] = 0
    if produce > 1:
        t0 = time.perf_counter()
        results, created = split_produced(results, created, produce, repeat, piper, start,
                                          items, boxed)
        if isinstance(busy, float):
            busy += time.perf_counter() - t0
    return results, created, busy, printed[0] if printed else ""


def split_produced(results, created, n, repeat, piper, start, items=None, boxed=False):
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
            if items is not None:
                keep_inbox(err, (items[off],) if boxed else items[off])
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


def send_reply(send, reply, func, name, start, mode):
    """``send(reply)`` (and return what it returns); when a result cannot be
    pickled, send the reply again with such results replaced by placeholders
    that say why (:func:`picklable`)."""
    try:
        return send(reply)
    except Exception:
        _, serial, results, created, busy, output = reply
        results, created = picklable(results, created, func, name, start, mode)
        return send(("done", serial, results, created, busy, output))


def dumps(reply) -> bytes:
    """A reply as bytes, for slots that ship it themselves (remote, Dask)."""
    return pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)


def reply_for(func, name, mode, serial, start, items, progress) -> tuple:
    """Evaluate a chunk and give the reply a slot sends back (see ``slots``).

    ``("done", serial, results, created, busy, output)``, or ``("raise",
    serial, error)`` when a ``debug=True`` function raised (or something no
    item error is, a KeyboardInterrupt): the error is shipped as a WorkerError
    carrying the worker's traceback, with the item's index when it is known
    (not on the fast path, which publishes no offset).
    """
    try:
        results, created, busy, output = run_chunk(func, items, start, name, progress,
                                                   serial, mode)
    except BaseException as exc:
        err = WorkerError.from_exception(exc, function=getattr(func, "name", None))
        off = int(progress[OFFSET]) if progress is not None else -1
        err.piper, err.index = name, (start + off if off >= 0 else None)
        return ("raise", serial, err)
    return ("done", serial, results, created, busy, output)
