"""The run's progress as the status area shows it: a fraction and one line of text.

From a ``Plumber.stats`` snapshot through the engine's own
:func:`papy_engine.stats.rate_and_eta` (what ``papy run`` shows too): with
every input's length known, ``42% · 1,234 of 2,938 · 85.2 items/s · ETA
0:20``; otherwise a count and a rate. The rate leaves out time paused.
"""
from __future__ import annotations

from typing import Any

from papy_engine.stats import rate_and_eta


def duration(seconds: float) -> str:
    """``83`` -> ``"1:23"``, ``3723`` -> ``"1:02:03"``."""
    s = int(round(seconds))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else \
        f"{s // 60}:{s % 60:02d}"


def rate_text(rate: float) -> str:
    return f"{rate:,.0f}" if rate >= 100 else f"{rate:.1f}"


def progress(stats: dict[str, Any], active: bool = True) -> tuple[float | None, str]:
    """``(fraction done or None when the total is unknown, text)``; ``(None, "")``
    for a snapshot without progress (no run yet). ``active``: the run is still
    going (an ETA is shown only then)."""
    prog = stats.get("progress")
    if not prog:
        return None, ""
    fraction, rate, eta = rate_and_eta(stats)
    done, total = int(prog.get("done") or 0), prog.get("total")
    speed = f"{rate_text(rate)} items/s"
    if fraction is None:
        return None, f"{done:,} done · {speed}"
    text = f"{100 * fraction:.0f}% · {done:,} of {int(total):,} · {speed}"
    if active and fraction < 1:
        text += " · ETA " + ("--:--" if eta is None else duration(eta))
    return fraction, text
