"""A set of units (non-negative ints) kept as sorted, disjoint half-open ranges.

Units complete roughly in order, so the completed set of a long run is a
handful of ranges, whatever the number of units; :meth:`UnitSet.nth_missing`
maps the n-th unit a resumed run still has to do back to its number.
"""
from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator

__all__ = ["UnitSet", "compress"]


class UnitSet:
    """Sorted disjoint ranges ``[start, stop)`` of units."""

    def __init__(self, ranges: Iterable[Iterable[int]] = ()) -> None:
        self._starts: list[int] = []
        self._stops: list[int] = []
        self._cum: list[int] | None = None   # units covered before range k (lazy)
        for a, b in ranges:
            self.add_range(a, b)

    def __len__(self) -> int:
        return sum(b - a for a, b in zip(self._starts, self._stops))

    def __bool__(self) -> bool:
        return bool(self._starts)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, UnitSet) and self.ranges() == other.ranges()

    def __repr__(self) -> str:
        return f"UnitSet({self.ranges()!r})"

    def __contains__(self, unit: int) -> bool:
        k = bisect.bisect_right(self._starts, unit) - 1
        return k >= 0 and unit < self._stops[k]

    def ranges(self) -> list[list[int]]:
        """``[[start, stop], ...]`` in order (JSON-ready)."""
        return [[a, b] for a, b in zip(self._starts, self._stops)]

    def add(self, unit: int) -> None:
        self.add_range(unit, unit + 1)

    def add_range(self, a: int, b: int) -> None:
        """Add ``[a, b)``, merging with the ranges it touches."""
        if b <= a:
            return
        self._cum = None
        starts, stops = self._starts, self._stops
        if not starts or a > stops[-1]:          # the common case: past the end
            starts.append(a)
            stops.append(b)
            return
        if a >= starts[-1]:                       # touches or overlaps the last range
            stops[-1] = max(stops[-1], b)
            return
        lo = bisect.bisect_left(stops, a)         # first range ending at or after a
        hi = bisect.bisect_right(starts, b)       # ranges starting at or before b
        if lo < hi:
            a, b = min(a, starts[lo]), max(b, stops[hi - 1])
        starts[lo:hi] = [a]
        stops[lo:hi] = [b]

    def update(self, other: "UnitSet") -> None:
        for a, b in other.ranges():
            self.add_range(a, b)

    def first_missing(self) -> int:
        """The smallest unit not in the set."""
        return self._stops[0] if self._starts and self._starts[0] == 0 else 0

    def nth_missing(self, j: int) -> int:
        """The ``j``-th (from 0) unit that is *not* in the set."""
        if self._cum is None:
            cum, total = [], 0
            for a, b in zip(self._starts, self._stops):
                cum.append(total)
                total += b - a
            cum.append(total)
            self._cum = cum
        cum = self._cum
        # m_k = units missing before range k = start_k - cum_k (non-decreasing);
        # the answer lies after every range with m_k <= j.
        lo, hi = 0, len(self._starts)
        while lo < hi:
            mid = (lo + hi) // 2
            if self._starts[mid] - cum[mid] <= j:
                lo = mid + 1
            else:
                hi = mid
        return j + cum[lo]

    def missing_below(self, unit: int) -> int:
        """How many units below ``unit`` are not in the set."""
        covered = 0
        for a, b in zip(self._starts, self._stops):
            if a >= unit:
                break
            covered += min(b, unit) - a
        return unit - covered

    def walk(self) -> Iterator[tuple[int, int]]:
        return iter(zip(self._starts, self._stops))


def compress(units: Iterable[int]) -> list[list[int]]:
    """Ranges ``[[a, b], ...]`` covering the given units (any order, repeats allowed)."""
    s = UnitSet()
    for u in sorted(set(units)):
        s.add(u)
    return s.ranges()
