"""A bounded look at what a piper produced: the last results, as they pass.

Every piper of a run keeps its last :data:`KEEP` results in a
:class:`PeekBuffer`, so ``Plumber.peek(name, n)`` can show them while the run
goes on and after it ended.  Memory is bounded by count and by bytes: an
item larger than :data:`ITEM_BYTES` (estimated without pickling it) is kept
as a :class:`Truncated` stand-in -- its type, estimated size and a shortened
``repr`` -- never as the object; and the buffer as a whole keeps at most
:data:`TOTAL_BYTES` of items.  Recording costs a bounded amount per batch
(only the last items of a batch are looked at), so it is cheap whether or
not anybody watches.
"""
from __future__ import annotations

import reprlib
import sys
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

__all__ = ["PeekBuffer", "Truncated", "estimate_size", "KEEP", "ITEM_BYTES", "TOTAL_BYTES"]

KEEP = 100                 # results kept per piper
ITEM_BYTES = 64 * 1024     # a larger item is kept as a Truncated stand-in
TOTAL_BYTES = 1024 * 1024  # bytes of kept items per piper, at most
REPR_CHARS = 2000          # length of a stand-in's repr

_repr = reprlib.Repr()
_repr.maxstring = REPR_CHARS
_repr.maxother = REPR_CHARS
_repr.maxlist = _repr.maxtuple = _repr.maxdict = _repr.maxset = 50


@dataclass(frozen=True)
class Truncated:
    """Stands for a result too large to keep: its type, size and the start of its repr."""

    type_name: str
    size: int
    text: str

    def __repr__(self) -> str:
        return f"<{self.type_name} of about {self.size} bytes: {self.text}>"


SCALAR_SIZE = 32   # what a kept number, bool or None counts for
TEXT_HEAD = 49     # what a str or bytes counts for over its length


def estimate_size(obj: Any, depth: int = 0) -> int:
    """A cheap estimate of the memory ``obj`` holds (never pickles it)."""
    if isinstance(obj, (str, bytes, bytearray)):
        return len(obj) + TEXT_HEAD
    nbytes = getattr(obj, "nbytes", None)   # numpy arrays, memoryview, array-likes
    if isinstance(nbytes, int):
        return nbytes
    size = sys.getsizeof(obj, 64)
    if depth < 2 and isinstance(obj, (list, tuple, set, frozenset, dict)):
        items = list(obj.items() if isinstance(obj, dict) else obj)
        sample = items[:16]
        if sample:
            part = sum(estimate_size(x, depth + 1) for x in sample)
            size += part * len(items) // len(sample)
    return size


_SCALARS = frozenset({int, float, bool, complex, type(None)})
_TEXT = frozenset({str, bytes})


def _keepable(item: Any) -> tuple[Any, int]:
    t = type(item)
    if t in _SCALARS:                  # the common case, first and cheap
        return item, SCALAR_SIZE
    if t in _TEXT:
        size = len(item) + TEXT_HEAD
        if size <= ITEM_BYTES:
            return item, size
    size = estimate_size(item)
    if size <= ITEM_BYTES:
        return item, size
    try:
        text = _repr.repr(item)
    except Exception as exc:   # a repr that fails must not break the run
        text = f"<repr failed: {type(exc).__name__}>"
    return Truncated(type(item).__name__, size, text[:REPR_CHARS]), len(text) + 100


def _keep_all(tail: list) -> tuple[list, list[int]]:
    """What to keep of each item of ``tail`` and its size; scalars, and strings
    or bytes small enough, without a Python call per item."""
    kinds = set(map(type, tail))
    if kinds <= _SCALARS:
        return tail, [SCALAR_SIZE] * len(tail)
    if kinds <= _TEXT:
        sizes = [n + TEXT_HEAD for n in map(len, tail)]
        if max(sizes) <= ITEM_BYTES:
            return tail, sizes
    pairs = list(map(_keepable, tail))
    return [p[0] for p in pairs], [p[1] for p in pairs]


class PeekBuffer:
    """The last results of one piper, bounded by count and bytes (thread-safe)."""

    def __init__(self, keep: int = KEEP, total_bytes: int = TOTAL_BYTES) -> None:
        self._items: deque[tuple[int, Any, int]] = deque()   # (index, item, size)
        self._keep, self._total = keep, total_bytes
        self._bytes = 0
        self._lock = threading.Lock()

    def add(self, first_index: int, batch: list) -> None:
        """Record ``batch``, whose first item is the piper's result ``first_index``."""
        tail = batch[-self._keep:]
        if not tail:
            return
        items, sizes = _keep_all(tail)
        start = first_index + len(batch) - len(tail)
        kept = zip(range(start, start + len(tail)), items, sizes)
        nbytes = sum(sizes)
        with self._lock:
            if len(tail) == self._keep and nbytes <= self._total:
                self._items, self._bytes = deque(kept), nbytes   # the batch's tail is all
                return
            queue = self._items
            queue.extend(kept)
            self._bytes += nbytes
            while queue and (len(queue) > self._keep or self._bytes > self._total):
                self._bytes -= queue.popleft()[2]

    def last(self, n: int) -> list[tuple[int, Any]]:
        """Up to ``n`` most recent ``(index, result)`` pairs, oldest first."""
        with self._lock:
            items = list(self._items)[-n:] if n > 0 else []
        return [(i, v) for i, v, _ in items]
