"""The pool's records: a task, items waiting for a worker, a chunk in flight.

A :class:`Task` is one function mapped over one input (an IMap task, or a
parallel piper of a pipeline): its configuration, how much of its input it
holds, what its items cost, and its result store, which reassembles results
in input order (or keeps completion order for an unordered task).
:class:`Pending` is a run of consecutive pulled items waiting for a slot,
:class:`InFlight` a chunk sent to a slot and not yet answered.  All of a
task's counters are read and written under the pool manager's lock.
"""
from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from ..errors import Checked
from .evaluate import PLAIN, Mode

if TYPE_CHECKING:
    from .slots import Slot

__all__ = ["Task", "Pending", "InFlight", "Batch", "ChunkCallback", "cut"]

#: called once per answered chunk: (items, placeholders created, timeouts, busy_s
#: -- a tuple of each stage's seconds for a fused chain)
ChunkCallback = Callable[[int, list, int, Any], None]

MERGE_ITEMS = 4096   # a batch taken may join the next chunks already in, up to
                     # this many items (policy.MAX_CHUNK_ITEMS: a chunk's most)


class Batch(NamedTuple):
    """Results of consecutive evaluations of a task, as the driver takes them.

    ``results[k]`` belongs to evaluation ``start + k // produce``; ``output``
    is what those evaluations printed (when the task captures output).
    """

    results: list
    output: str
    start: int


@dataclass(eq=False)
class Task:
    """One function over one input, with its accounting and result store."""

    id: int
    name: str
    func: Any                       # a Worker or TaskCall (thread slots call it)
    payload: bytes | None           # the function pickled by value (dill); None
                                    # while only threads run it
    batches: Iterator[list] | None  # the input, in batches
    timeout: float | None = None
    on_chunk: ChunkCallback | None = None
    ordered: bool = True
    mode: Mode = PLAIN
    standalone: bool = False        # added by IMap.add_task: errors raise when taken
    # input accounting
    budget: int = 0                 # items this task may hold at most
    held: int = 0                   # items pulled and not yet consumed
    pulled: int = 0                 # items pulled so far (the next input index)
    done: int = 0                   # items whose result is stored or consumed
    consumed: int = 0
    exhausted: bool = False
    error: BaseException | None = None   # the input iterable raised this
    # measured cost
    cost: float | None = None       # seconds per item (moving average, by items)
    _cost_items: int = 0            # what the estimate counts for (note_cost)
    in_bytes: float = 0.0           # pickled bytes per item sent (a moving average)
    out_bytes: float = 0.0          # ... per result
    # the consumer's pace: the time between two takes went on the first one's items
    consumer_cost: float | None = None   # seconds per item (moving average, by items)
    consumer_s: float = 0.0         # seconds of the consumer's the estimate stands on
    take_cap: int = 0               # the most the last take could hold (policy.take_size)
    _consumer_items: int = 0        # what the consumer estimate counts for
    _taken: tuple[float, int] = (0.0, 0)   # (when, items) of the last take
    # results
    results: dict[int, tuple[list, int, str]] = field(default_factory=dict)
    #   start -> (results, n items, printed output)
    arrived: deque = field(default_factory=deque)   # unordered: (results, n, output, start)
    next_out: int = 0
    feeder: threading.Thread | None = None
    items: deque = field(default_factory=deque)     # next(): results taken as a batch
    skip: int = 0                   # results to drop: their next(timeout) timed out

    def __post_init__(self) -> None:
        boxed, _, produce, repeat, capture = Mode(*self.mode)
        self.mode = Mode(boxed, self.timeout is not None, produce, repeat, capture)

    def shipped(self) -> bytes:
        """The function as sent to a worker process (pickled when the pool starts)."""
        if self.payload is None:
            raise RuntimeError(f"engine error: task {self.name!r} was not pickled before "
                               "its pool started")
        return self.payload

    def finished(self) -> bool:
        """Every pulled item's result was taken and the input is exhausted."""
        return self.exhausted and self.consumed >= self.pulled

    def note_cost(self, busy: float, n: int) -> None:
        """Fold a chunk of ``n`` items that took ``busy`` seconds into the cost per item.

        Weighted by items, the old estimate counting for at most as many items
        as the new chunk: a cold worker's first one-item chunk (page faults,
        first calls: 100x the steady cost) no longer holds the estimate up
        while chunks grow, and a change of cost still shows within a chunk.
        """
        if self.cost is None:
            self.cost, self._cost_items = busy / n, n
            return
        w = min(self._cost_items, n)
        self.cost = (self.cost * w + busy) / (w + n)
        self._cost_items = w + n

    def _split(self, results: list, n: int, start: int, m: int) -> list:
        """Store back all but the first ``m`` of the ``n`` evaluations from
        ``start``; return the first ``m``'s results."""
        k = m * self.mode[2]   # each evaluation left as ``produce`` results
        first, rest = results[:k], results[k:]
        if self.ordered:
            self.results[start + m] = (rest, n - m, "")
        else:
            self.arrived.appendleft((rest, n - m, "", start + m))
        return first

    def note_bytes(self, side: str, size: float) -> None:
        """Fold a chunk's pickled bytes per item, ``side`` "in" or "out", into
        its moving average."""
        if side == "in":
            self.in_bytes = _averaged(self.in_bytes, size)
        else:
            self.out_bytes = _averaged(self.out_bytes, size)

    @property
    def item_bytes(self) -> float:
        """Pickled bytes per item: the larger of what is sent and what comes back."""
        return max(self.in_bytes, self.out_bytes)

    def store(self, start: int, results: list, n: int, output: str = "") -> None:
        """Keep the results of the ``n`` items from ``start`` until taken."""
        if self.ordered:
            self.results[start] = (results, n, output)
        else:
            self.arrived.append((results, n, output, start))
        self.done += n

    def note_consumer(self, now: float) -> None:
        """The consumer is back for more: the time since its last take went on
        that take's items (weighted by items, as :meth:`note_cost`)."""
        when, items = self._taken
        if not items:
            return
        spent, self._taken = max(0.0, now - when), (0.0, 0)
        self.consumer_s += spent
        w = min(self._consumer_items, items) if self.consumer_cost is not None else 0
        self.consumer_cost = ((self.consumer_cost or 0.0) * w + spent) / (w + items)
        self._consumer_items = w + items

    def consumer_pace(self, now: float) -> tuple[float, float]:
        """``(seconds per item, seconds observed)`` of the consumer: measured,
        and while it works on a take, at least the time it has spent on it."""
        when, items = self._taken
        pace, seen = self.consumer_cost or 0.0, self.consumer_s
        if items:
            pace, seen = max(pace, (now - when) / items), seen + now - when
        return pace, seen

    def digested(self) -> int:
        """Items whose results the consumer took and is done with (back for more)."""
        return self.consumed - self._taken[1]

    def take(self, join: int = 0, most: int | None = None, now: float = 0.0) -> Batch | None:
        """The next batch of results, in order (or as they came), or None.

        In order, the batch joins the chunks that follow it and are already
        in while it holds at most ``join`` items: the batch a serial piper
        takes then holds what is ready, not one worker's chunk.  ``most``
        caps it, splitting a stored chunk (see ``policy.Limits.take_size``).
        """
        if self.ordered:
            start = self.next_out
            got = self.results.pop(start, None)
            if got is None:
                return None
            results, n, output = got
            if most is not None and n > most:
                results, n = self._split(results, n, start, most), most
            self.next_out += n
            # join the next chunks already in: every batch costs its consumer
            # (a serial piper) a hand-over, whatever its size
            join = join if most is None else min(join, most)
            while (nxt := self.results.get(self.next_out)) and n + nxt[1] <= join:
                del self.results[self.next_out]
                results = _joined(results, nxt[0])
                output, n, self.next_out = output + nxt[2], n + nxt[1], self.next_out + nxt[1]
        else:
            if not self.arrived:
                return None
            results, n, output, start = self.arrived.popleft()
            if most is not None and n > most:
                results, n = self._split(results, n, start, most), most
        self._taken = (now, n)
        if most is not None:
            self.take_cap = most
        self.held -= n
        self.consumed += n
        return Batch(results, output, start)


@dataclass(slots=True)
class Pending:
    """Consecutive pulled items of ``task`` from ``start``; ``offset`` of them sent.

    ``fed``: queued by the task's feeder (a pull), not re-queued by recovery:
    only fed entries are joined into one chunk (see :func:`cut`).
    """

    task: Task
    start: int
    items: list
    offset: int = 0
    fed: bool = False

    def left(self) -> int:
        return len(self.items) - self.offset


def cut(ready: deque[Pending], size: int) -> tuple[int, list]:
    """Take the next chunk of at most ``size`` items from the head of ``ready``.

    Returns its first item's index and the items.  A chunk spans consecutive
    fed entries of one task with contiguous indices (a pull's remainder does
    not go out as a small chunk of its own); an entry recovery re-queued (a
    lost chunk's items, re-run one per chunk to find a culprit) goes alone.
    """
    head = ready[0]
    start = head.start + head.offset
    chunk: list = []
    while ready and len(chunk) < size:
        e = ready[0]
        if chunk and not (e.fed and e.task is head.task
                          and e.start + e.offset == start + len(chunk)):
            break
        need = size - len(chunk)
        part = e.items[e.offset:e.offset + need]
        if chunk:
            chunk.extend(part)   # O(chunk) over many small pulls
        else:
            chunk = part         # a new list: the slice copied it
        if e.offset + need >= len(e.items):
            ready.popleft()
        else:
            e.offset += need
        if not e.fed:
            break
    return start, chunk


@dataclass(slots=True)
class InFlight:
    """A chunk sent to ``slot``: ``items`` of ``task`` from ``start``."""

    slot: Slot
    task: Task
    start: int
    items: list


def _averaged(old: float, new: float) -> float:
    return new if not old else 0.5 * old + 0.5 * new


def _joined(a: list, b: list) -> list:
    """A new list of ``a`` then ``b`` (the stored ones are not ours), still
    :class:`Checked` when both are."""
    if type(a) is Checked and type(b) is Checked:
        joined = Checked(a)
        joined.extend(b)
        return joined
    return a + b
