"""Each node's throughput over the run, for the statistics view's sparklines.

The engine's ``throughput`` is an average over a node's whole span, so a node
that stalls keeps a respectable number for a long time. Here successive
statistics snapshots are cut into time buckets and each node's rate in each
bucket (evaluations per second) is kept: a stall is a flat line at the end.

Bounded for any run length: at most ``size`` buckets are kept; when they are
full, neighbours merge pairwise and buckets become twice as long, so the line
always spans the whole run. Time spent paused is left out (no bucket runs
while the run is paused); a node that has not started or has ended has no
rate (None: drawn blank, not as a stall).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

BARS = "▁▂▃▄▅▆▇█"
SIZE = 32
BUCKET_S = 0.5
_ACTIVE = ("running", "paused")


class ThroughputHistory:
    """Rates per node per time bucket, fed with ``Plumber.stats`` snapshots."""

    def __init__(self, size: int = SIZE, bucket_s: float = BUCKET_S) -> None:
        self.size, self.first_bucket_s = size, bucket_s
        self.reset()

    def reset(self) -> None:
        self.bucket_s = self.first_bucket_s
        self.rates: dict[str, list[float | None]] = {}
        self._buckets = 0
        self._start: float | None = None    # the current bucket's start (None: none open)
        self._counts: dict[str, int] = {}   # evaluations at its start
        self._active: set[str] = set()      # nodes that worked during it
        self.closed = False

    def sample(self, now: float, pipers: Mapping[str, Mapping[str, Any]], paused: bool = False,
               ended: bool = False) -> None:
        """Take the snapshot's per-node ``in`` counters at time ``now`` (seconds).

        ``paused``: the run is paused (the open bucket ends, none starts).
        ``ended``: the run is over; the last bucket is closed and later
        snapshots are ignored.
        """
        if self.closed:
            return
        counts = {name: int(s.get("in") or 0) for name, s in pipers.items()}
        self._active |= {name for name, s in pipers.items() if s.get("state") in _ACTIVE}
        if self._start is not None:
            span = now - self._start
            if span >= self.bucket_s or ((paused or ended) and span >= 0.1 * self.bucket_s):
                self._close(span, counts)
        if ended:
            self.closed = True
        elif paused:
            self._start = None
        elif self._start is None:
            self._start, self._counts, self._active = now, counts, set()

    def _close(self, span: float, counts: dict[str, int]) -> None:
        for name in set(counts) | set(self.rates):
            series = self.rates.setdefault(name, [None] * self._buckets)
            done = counts.get(name, 0) - self._counts.get(name, 0)
            series.append(done / span if (done or name in self._active) and span > 0 else None)
        self._buckets += 1
        if self._buckets >= self.size:
            self._halve()
        self._start, self._counts = None, counts

    def _halve(self) -> None:
        for name, series in self.rates.items():
            merged: list[float | None] = []
            for i in range(0, len(series) - 1, 2):
                a, b = series[i], series[i + 1]
                merged.append(None if a is None and b is None else ((a or 0.0) + (b or 0.0)) / 2)
            if len(series) % 2:
                merged.append(series[-1])
            self.rates[name] = merged
        self._buckets = (self._buckets + 1) // 2
        self.bucket_s *= 2

    def sparkline(self, name: str) -> str:
        """Node ``name``'s rates as block characters scaled to its own maximum."""
        return sparkline(self.rates.get(name, []))


def sparkline(rates: list[float | None]) -> str:
    """``[0, 1, 2, None, 4]`` -> ``"▁▂▄ █"``: the lowest bar is a stall, blank no rate."""
    top = max((r for r in rates if r is not None), default=0.0)
    out = []
    for r in rates:
        if r is None:
            out.append(" ")
        elif top <= 0 or r <= 0:
            out.append(BARS[0])
        else:
            out.append(BARS[max(1, min(len(BARS) - 1, round(r / top * (len(BARS) - 1))))])
    return "".join(out)
