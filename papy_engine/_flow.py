"""Batch streams between pipers: input gates, fan-out, fan-in and regrouping.

Every pipe carries an iterator of *batches* (lists of items) so that moving
an item costs a share of one Python operation, not several.  The pieces:

* :class:`Gate` -- wraps the user's input iterables; pausing closes it (no new
  item is pulled) and stopping ends every input, which then drains the graph.
* :class:`Broadcast` -- one upstream stream read by several downstream pipers,
  thread-safe (each consumer may be a different feeder thread) and bounded.
* :func:`inboxes` -- zips the upstream streams of a piper into batches of
  inboxes, grouping ``consume`` items per pipe into one list.
"""
from __future__ import annotations

import itertools
import logging
import threading
from collections import deque
from collections.abc import Iterable, Iterator

from .errors import PiperError, _Placeholder

log = logging.getLogger(__name__)


class Gate:
    """Admission control for every input of one run."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.open = False      # closed until run(); pause() closes it again
        self.stopped = False
        self.pulling = 0       # threads inside an input iterable right now
        self.pulled: dict[str, int] = {}
        self.error: tuple[str, Exception] | None = None   # (input piper, what it raised)

    def set(self, *, open: bool | None = None, stopped: bool | None = None) -> None:
        with self._cond:
            if open is not None:
                self.open = open
            if stopped is not None:
                self.stopped = stopped
            self._cond.notify_all()

    def quiet(self) -> bool:
        with self._cond:
            return self.pulling == 0

    def batches(self, name: str, iterable: Iterable, size) -> Iterator[list]:
        """``iterable`` in lists of ``size()`` items at most, honouring pause/stop.

        An input that raises ends every input, as stop does, and is kept in
        :attr:`error` (the first one): the items it gave before the error go
        on through the pipeline, and the run then fails with it.
        """
        it = iter(iterable)
        self.pulled.setdefault(name, 0)
        while True:
            with self._cond:
                while not self.open and not self.stopped:
                    self._cond.wait()
                if self.stopped:
                    return
                self.pulling += 1
            batch: list = []
            failed = None
            try:
                batch.extend(itertools.islice(it, size()))   # keeps what came before a raise
            except Exception as exc:
                failed = exc
            finally:
                with self._cond:
                    self.pulling -= 1
                    if failed is not None:
                        self.error = self.error or (name, failed)
                        self.stopped = True
                    self._cond.notify_all()
            if batch:
                self.pulled[name] += len(batch)
                yield batch
            if failed is not None or not batch:
                return


class Broadcast:
    """Hand every batch of ``source`` to ``n`` consumers.

    A consumer that is ``limit`` items ahead of the slowest one waits; since
    balanced graphs move items along every branch at the same rate, the wait
    is short.  If nothing moves for a second the limit is relaxed with a
    warning rather than risking a deadlock.
    """

    def __init__(self, source: Iterator[list], n: int, limit: int, name: str) -> None:
        self._source, self._limit, self._name = source, limit, name
        self._queues: list[deque] = [deque() for _ in range(n)]
        self._sizes = [0] * n
        self._cond = threading.Condition()
        self._pulling = False
        self._done = False
        self._error: BaseException | None = None

    def consumer(self, i: int) -> Iterator[list]:
        q = self._queues[i]
        while True:
            with self._cond:
                stalled = 0
                while True:
                    if q:
                        batch = q.popleft()
                        self._sizes[i] -= len(batch)
                        self._cond.notify_all()
                        break
                    if self._done:
                        if self._error is not None:
                            raise self._error
                        return
                    if not self._pulling and (max(self._sizes) < self._limit or stalled):
                        self._pulling = True
                        batch = None
                        break
                    if not self._cond.wait(1.0) and not self._pulling:
                        stalled += 1
                        log.warning("fan-out of %s: one branch is %d items behind; "
                                    "relaxing the buffer limit", self._name, max(self._sizes))
            if batch is not None:
                yield batch
                continue
            try:
                got = next(self._source)
            except StopIteration:
                got = None
            except BaseException as exc:
                got = None
                self._error = exc
            with self._cond:
                self._pulling = False
                if got is None:
                    self._done = True
                else:
                    for j, other in enumerate(self._queues):
                        other.append(got)
                        self._sizes[j] += len(got)
                self._cond.notify_all()


class _Reader:
    """Takes exactly ``n`` items at a time from a batch stream."""

    def __init__(self, stream: Iterator[list]) -> None:
        self._stream = stream
        self._buf: list = []
        self._pos = 0

    def take(self, n: int | None) -> list:
        """``n`` items (fewer only at the end); ``None``: what the next batch holds."""
        out: list
        if n is None:
            if self._pos < len(self._buf):
                out = self._buf[self._pos:]
                self._buf, self._pos = [], 0
                return out
            return next(self._stream, [])
        out = []
        while len(out) < n:
            if self._pos >= len(self._buf):
                nxt = next(self._stream, None)
                if nxt is None:
                    break
                self._buf, self._pos = nxt, 0
                continue
            want = n - len(out)
            chunk = self._buf[self._pos:self._pos + want]
            self._pos += len(chunk)
            out.extend(chunk)
        return out

    def unread(self, items: list) -> None:
        """Put ``items`` back in front of what is left to read."""
        if items:
            self._buf, self._pos = items + self._buf[self._pos:], 0


def _group(items: list, consume: int) -> list:
    """Group items by ``consume``; a group holding a placeholder becomes the first one."""
    groups: list[list | _Placeholder] = []
    for i in range(0, len(items), consume):
        chunk = items[i:i + consume]
        g: list | _Placeholder = chunk
        for x in chunk:
            if isinstance(x, _Placeholder):
                g = x
                break
        groups.append(g)
    return groups


def boxed(streams: list, consume: int) -> bool:
    """True when inboxes are 1-tuples of the items: workers then box them."""
    return len(streams) == 1 and consume == 1


def inboxes(streams: list[Iterator[list]], consume: int, max_batch: int,
            names: list[str], piper: str) -> Iterator[list]:
    """Batches of inboxes (tuples, one element per upstream stream).

    Semantics: every stream is padded to the length of the longest with
    ``MissingInput`` placeholders, then cut into groups of ``consume``
    consecutive items (the last group may be shorter); with ``consume > 1``
    an inbox element is its group as a list, or the group's first
    placeholder.  The missing-input placeholders carry no index: the worker
    that evaluates the inbox attributes them (see ``_pool.run_chunk``).

    In the common single-input case (see :func:`boxed`) the batches are the
    items themselves, re-cut to at most ``max_batch``; making the 1-tuples is
    left to the worker, which saves building and pickling them here.
    """
    if boxed(streams, consume):
        for batch in streams[0]:
            if len(batch) <= max_batch:
                yield batch
            else:
                for i in range(0, len(batch), max_batch):
                    yield batch[i:i + max_batch]
        return
    readers = [_Reader(s) for s in streams]
    step = max(consume, (max_batch // consume) * consume)
    while True:
        # Size this round by what the first input has at hand, in whole groups.
        first = readers[0].take(None)
        n = min(step, -(-len(first) // consume) * consume) if first else step
        readers[0].unread(first[n:])
        cols = [first[:n] + readers[0].take(n - len(first[:n]))]
        cols += [r.take(n) for r in readers[1:]]
        m = max(len(c) for c in cols)   # m < n only when every input ended
        if m == 0:
            return
        groups = []
        for k, col in enumerate(cols):
            if len(col) < m:  # this input ran out before the others
                col = col + [_missing(names[k], piper) for _ in range(m - len(col))]
            groups.append(_group(col, consume) if consume > 1 else col)
        yield list(zip(*groups))


def _missing(name: str, piper: str) -> PiperError:
    return PiperError(f"input pipe from {name!r} ended before the others",
                      exc_type="MissingInput", piper=piper)
