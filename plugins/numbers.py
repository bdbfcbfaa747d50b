"""Numbers: sums, means, histograms and running statistics of numeric data.

Items are iterables of numbers (``int``/``float``); the statistics are plain
dicts so that they pickle, print and serialize to JSON.  ``running_stats``
uses Welford's one-pass algorithm and ``merge_stats`` combines partial
statistics (Chan et al.), so a large series can be summarised in parallel
chunks and merged exactly -- see the parallel plugin.
"""
from __future__ import annotations

import math
from typing import Any

from papy_engine.plugin import node

__all__ = ["parse_numbers", "total", "mean", "histogram", "running_stats", "merge_stats"]


def _numbers(item) -> list:
    if isinstance(item, (int, float)) and not isinstance(item, bool):
        return [item]
    values = list(item)
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise TypeError(f"expected numbers (got {v!r} that is a {type(v).__name__}); "
                            f"convert text with parse_numbers first")
    return values


@node(category="numbers")
def parse_numbers(inbox, kind: str = "float", skip_invalid: bool = False) -> list:
    """Convert strings (a list, or a text of white-space separated values) to numbers.

    Args:
        kind: ``float`` or ``int``.
        skip_invalid: drop values that do not parse instead of raising.
    """
    if kind not in ("float", "int"):
        raise ValueError(f"parse_numbers: 'kind' must be 'float' or 'int' (got {kind!r})")
    convert = float if kind == "float" else int
    item = inbox[0]
    parts = item.split() if isinstance(item, str) else list(item)
    out = []
    for part in parts:
        if isinstance(part, str) and not part.strip():
            continue
        try:
            out.append(convert(part))
        except (TypeError, ValueError):
            if not skip_invalid:
                raise
    return out


@node("sum", category="numbers")
def total(inbox, start: float = 0) -> float:
    """The sum of the numbers (exact for floats, via ``math.fsum``).

    Args:
        start: added to the sum.
    """
    values = _numbers(inbox[0])
    if all(isinstance(v, int) for v in values) and isinstance(start, int):
        return sum(values, start)
    return math.fsum(values) + start


@node(category="numbers")
def mean(inbox) -> float:
    """The arithmetic mean of the numbers (an empty series raises ``ValueError``)."""
    values = _numbers(inbox[0])
    if not values:
        raise ValueError("mean of an empty series")
    return math.fsum(values) / len(values)


@node(category="numbers")
def histogram(inbox, bins: int = 10, low: float | None = None,
              high: float | None = None) -> dict[str, list]:
    """Count the numbers in equal-width bins.

    Returns ``{"edges": [bins + 1 numbers], "counts": [bins ints]}``; the last
    bin includes its upper edge and values outside ``[low, high]`` are not counted.

    Args:
        bins: the number of bins.
        low: the lower edge (default: the smallest value).
        high: the upper edge (default: the largest value).
    """
    if isinstance(bins, bool) or not isinstance(bins, int) or bins < 1:
        raise ValueError(f"histogram: 'bins' must be an int >= 1 (got {bins!r})")
    values = _numbers(inbox[0])
    if low is None:
        low = min(values) if values else 0.0
    if high is None:
        high = max(values) if values else 1.0
    if high < low:
        raise ValueError(f"histogram: 'high' ({high}) is below 'low' ({low})")
    if high == low:
        high = low + 1.0
    width = (high - low) / bins
    counts = [0] * bins
    for v in values:
        if low <= v <= high:
            counts[min(int((v - low) / width), bins - 1)] += 1
    return {"edges": [low + i * width for i in range(bins)] + [high], "counts": counts}


def _stats(count: int, mean_: float, m2: float, low: float, high: float,
           sum_: float) -> dict[str, Any]:
    var = m2 / (count - 1) if count > 1 else 0.0
    return {"count": count, "sum": sum_, "mean": mean_ if count else math.nan,
            "variance": var, "stdev": math.sqrt(var), "min": low, "max": high, "m2": m2}


@node(category="numbers")
def running_stats(inbox) -> dict[str, Any]:
    """Count, sum, mean, sample variance, standard deviation, min and max in one pass.

    Uses Welford's numerically stable update, so it works on long or
    streamed series.  The result (with its ``m2`` term) can be combined with
    other partial results by ``merge_stats``.
    """
    count, mean_, m2 = 0, 0.0, 0.0
    low = high = math.nan
    values = _numbers(inbox[0])
    for v in values:
        count += 1
        delta = v - mean_
        mean_ += delta / count
        m2 += delta * (v - mean_)
        low = v if count == 1 or v < low else low
        high = v if count == 1 or v > high else high
    return _stats(count, mean_, m2, low, high, math.fsum(values))


@node(category="numbers", variadic=True)
def merge_stats(inbox) -> dict[str, Any]:
    """Merge partial ``running_stats`` results into the statistics of the whole.

    Takes the statistics from every input pipe; an input that is a list of
    statistics (e.g. from ``consume=N``) is merged too.
    """
    parts: list[dict] = []
    for element in inbox:
        parts.extend(element if isinstance(element, list) else [element])
    count, mean_, m2, sum_ = 0, 0.0, 0.0, 0.0
    low = high = math.nan
    for s in parts:
        n = s["count"]
        if not n:
            continue
        delta = s["mean"] - mean_
        total_n = count + n
        mean_ += delta * n / total_n
        m2 += s["m2"] + delta * delta * count * n / total_n
        low = s["min"] if count == 0 else min(low, s["min"])
        high = s["max"] if count == 0 else max(high, s["max"])
        sum_ += s["sum"]
        count = total_n
    return _stats(count, mean_, m2, low, high, sum_)
