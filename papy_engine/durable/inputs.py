"""The inputs of a durable run: skip the units already done, check the items are the same.

:class:`InputFeed` wraps one input iterable.  It reads every item (so items
keep their numbers from the first run), yields those of units not yet
complete, and keeps a running digest of all the items it read.  The journal
records ``(items read, digest)`` with every commit; a resumed run compares its
own digest when it has read as many items, and a difference means the input
no longer gives the same items in the same order (a set, an unsorted
directory listing, a file that changed): the feed then raises
:class:`~papy_engine.errors.ResultsError` and the run fails, before a result
of a changed item can be claimed complete.

Data flow: the run's gate pulls ``next(feed)`` in an input thread; the
results writer reads :meth:`InputFeed.checkpoint` from its commit thread
(both under the feed's lock).
"""
from __future__ import annotations

import hashlib
import logging
import pickle
import struct
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ..errors import ResultsError
from .unitset import UnitSet

__all__ = ["InputFeed", "item_bytes"]

log = logging.getLogger(__name__)

_SCALAR = {str: b"s", int: b"i", float: b"f", bool: b"?", type(None): b"N", bytes: b"b"}


class Unpicklable(Exception):
    pass


def item_bytes(x: Any, depth: int = 0) -> bytes:
    """Bytes that are equal for equal items in any process (hash seed aside).

    Plain data is encoded field by field (a set by its sorted elements, since
    its iteration order depends on the hash seed); anything else is pickled.

    Raises:
        Unpicklable: the item is of a type that cannot be compared across runs.
    """
    t = type(x)
    if t is int:                       # (the common cases first: no struct, no lookup)
        return b"i%d;" % x
    if t is str:
        body = x.encode("utf-8", "surrogatepass")
        return b"s%d:" % len(body) + body
    tag = _SCALAR.get(t)
    if tag is not None:
        if t is str:
            body = x.encode("utf-8", "surrogatepass")
        elif t is bytes:
            body = x
        else:
            body = repr(x).encode()
        return tag + struct.pack("<I", len(body)) + body
    if depth < 50:
        if t is tuple or t is list:
            parts = [item_bytes(v, depth + 1) for v in x]
            return (b"(" if t is tuple else b"[") + struct.pack("<I", len(parts)) + b"".join(parts)
        if t is dict:
            parts = [item_bytes(k, depth + 1) + item_bytes(v, depth + 1) for k, v in x.items()]
            return b"{" + struct.pack("<I", len(parts)) + b"".join(parts)
        if t is set or t is frozenset:
            parts = sorted(item_bytes(v, depth + 1) for v in x)
            return b"<" + struct.pack("<I", len(parts)) + b"".join(parts)
    try:
        body = pickle.dumps(x, protocol=4)
    except Exception as exc:
        raise Unpicklable(f"{t.__module__}.{t.__qualname__}: {exc}") from None
    return b"p" + struct.pack("<Q", len(body)) + body


class InputFeed:
    """One input of a durable run (see the module docstring).

    Args:
        name: the input piper.
        iterable: the script's input iterable.
        per_unit: items per unit (None: the input feeds no written piper; nothing
            is skipped).
        skip: units to skip.
        expect: ``(items, digest)`` the interrupted run recorded, to compare
            with, or None.
        on_end: called with the number of items read when the input ends.
    """

    def __init__(self, name: str, iterable: Iterable, per_unit: int | None,
                 skip: UnitSet | None = None, expect: tuple[int, str] | None = None,
                 on_end: Callable[[str, int], None] | None = None) -> None:
        self.name = name
        self._iterable = iterable
        self._it: Iterator | None = None
        self._per = per_unit
        self._skip = list(skip.walk()) if (skip and per_unit) else []
        self._k = 0                      # the next skip range that may apply
        self._expect = expect
        self._on_end = on_end
        self._hash = hashlib.blake2b(digest_size=16)
        self._lock = threading.Lock()
        self.read = 0                    # items read from the iterable
        self.skipped = 0
        self.unchecked: str | None = None   # why some items could not be digested
        self.verified = expect is None or expect[0] == 0
        self.ended = False

    def __len__(self) -> int:
        """Items this run will yield, when the input has a length (else TypeError)."""
        n = len(self._iterable)  # type: ignore[arg-type]
        if not self._per:
            return n
        skipped = sum(max(0, min(b * self._per, n) - a * self._per) for a, b in self._skip)
        return n - skipped

    def __iter__(self):
        return self

    def __next__(self) -> Any:
        it = self._it
        if it is None:
            it = self._it = iter(self._iterable)
        while True:
            try:
                item = next(it)
            except StopIteration:
                self._end()
                raise
            with self._lock:
                n = self.read
                self._digest(item)
                self.read = n + 1
                if not self.verified and self.read == self._expect[0]:  # type: ignore[index]
                    self._verify()
            if not self._skipping(n):
                return item
            self.skipped += 1

    def _skipping(self, n: int) -> bool:
        if not self._skip:
            return False
        unit = n // self._per  # type: ignore[operator]
        while self._k < len(self._skip) and unit >= self._skip[self._k][1]:
            self._k += 1
        return self._k < len(self._skip) and unit >= self._skip[self._k][0]

    def _digest(self, item: Any) -> None:
        try:
            data = item_bytes(item)
        except Unpicklable as exc:
            if self.unchecked is None:
                self.unchecked = str(exc)
                log.warning("input %s: items of type %s cannot be compared if the run is "
                            "resumed", self.name, exc)
            data = b"?" + type(item).__qualname__.encode()
        self._hash.update(data)

    def _verify(self) -> None:
        n, want = self._expect  # type: ignore[misc]
        if self._hash.hexdigest() != want:
            raise ResultsError(
                f"input {self.name!r} does not give the same items as in the interrupted run "
                f"(its first {n} items differ: a different order or different contents); "
                "resuming would mix results of different items.  Start a new run into an "
                "empty folder, or resume with --force if you know the finished results "
                "are still right")
        self.verified = True

    def _end(self) -> None:
        with self._lock:
            if self.ended:
                return
            self.ended = True
            if not self.verified:
                raise ResultsError(
                    f"input {self.name!r} ended after {self.read} items, but the interrupted "
                    f"run had read {self._expect[0]} of it: it does not give the same items "  # type: ignore[index]
                    "again, so the run cannot be resumed (start a new run, or resume with "
                    "--force)")
        if self._on_end is not None:
            self._on_end(self.name, self.read)

    def checkpoint(self) -> tuple[int, str]:
        """``(items read, digest of them)``; while not verified yet, what is expected."""
        with self._lock:
            if not self.verified:
                return self._expect  # type: ignore[return-value]
            return self.read, self._hash.hexdigest()
