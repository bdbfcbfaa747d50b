"""Progress display and run summary for headless runs (``papy run``).

Both only read :attr:`Plumber.stats` snapshots (plain dicts), so they never
touch the engine's threads.  On a terminal :class:`Progress` redraws a small
table in place; elsewhere (a pipe, a log file, CI) it writes one plain line
every ``interval`` seconds, so logs stay readable.
"""
from __future__ import annotations

import time
from typing import TextIO

from ..stats import rate_and_eta

__all__ = ["Progress", "summary", "first_error_line", "progress_text"]

CLEAR_DOWN = "\x1b[J"


def _up(n: int) -> str:
    return f"\x1b[{n}F" if n else "\r"


def _rate(p: dict, elapsed: float) -> float:
    return p.get("throughput") or (p["in"] / elapsed if elapsed > 0 else 0.0)


def _fmt_rate(r: float) -> str:
    return f"{r:,.0f}" if r >= 100 else f"{r:.1f}"


def _fmt_duration(s: float) -> str:
    s = int(round(s))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


def progress_text(stats: dict, width: int = 24) -> str:
    """``[######----]  42.0%  1,234 items/s  ETA 0:01:23`` when the total is
    known (every input has a length); else ``1,234 done  56.7 items/s``."""
    fraction, rate, eta = rate_and_eta(stats)
    done = (stats.get("progress") or {}).get("done", 0)
    if fraction is None:
        return f"{done:,} done  {_fmt_rate(rate)} items/s"
    filled = int(round(fraction * width))
    left = "ETA --:--:--" if eta is None else f"ETA {_fmt_duration(eta)}"
    return (f"[{'#' * filled}{'-' * (width - filled)}] {100 * fraction:5.1f}%  "
            f"{_fmt_rate(rate)} items/s  {left}")


class Progress:
    """Write progress of a run to ``stream``.

    Args:
        stream: usually ``sys.stderr``.
        tty: redraw a live table (True) or write plain periodic lines (False).
        interval: seconds between plain lines (the table redraws ~5 times a second).
        quiet: write nothing until :func:`summary`.
        label: the script's name, shown in the header.
    """

    def __init__(self, stream: TextIO, tty: bool, interval: float = 2.0,
                 quiet: bool = False, label: str = "") -> None:
        self.stream, self.tty, self.quiet, self.label = stream, tty, quiet, label
        self.interval = 0.2 if tty else interval
        self._last = 0.0
        self._drawn = 0
        self._note = ""

    def note(self, message: str) -> None:
        """Show ``message`` (e.g. "stopping...") with the next update."""
        self._note = message
        if not self.tty and not self.quiet:
            self._write(f"papy: {message}\n")

    def update(self, stats: dict, force: bool = False) -> None:
        """Show ``stats`` if the interval has passed (or ``force``)."""
        if self.quiet:
            return
        now = time.monotonic()
        if not force and now - self._last < self.interval:
            return
        self._last = now
        if self.tty:
            lines = self.table(stats)
            text = _up(self._drawn) + CLEAR_DOWN + "\n".join(lines) + "\n"
            self._drawn = len(lines)
            self._write(text)
        else:
            self._write(self.line(stats) + "\n")

    def close(self, stats: dict) -> None:
        """Clear the live table: the summary that follows shows the final numbers."""
        if self.tty and not self.quiet and self._drawn:
            self._write(_up(self._drawn) + CLEAR_DOWN)
            self._drawn = 0

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # closed pipe: progress is best effort
            pass

    @staticmethod
    def line(stats: dict) -> str:
        """One plain line: state, elapsed, inputs pulled, then per piper in>out."""
        el = stats.get("elapsed_s", 0.0)
        parts = [f"papy: [{el:7.1f}s] {stats.get('state', '?'):<8}", progress_text(stats, 10)]
        inputs = stats.get("inputs") or {}
        if inputs:
            parts.append("pulled " + " ".join(f"{k}={v}" for k, v in inputs.items()))
        for name, p in stats.get("pipers", {}).items():
            err = f" !{p['errors']}" if p["errors"] else ""
            parts.append(f"{name} {p['in']}>{p['out']}{err} {_fmt_rate(_rate(p, el))}/s")
        return " | ".join(parts)

    def table(self, stats: dict) -> list[str]:
        el = stats.get("elapsed_s", 0.0)
        pipers = stats.get("pipers", {})
        width = max([len(n) for n in pipers] + [5])
        head = f"papy run {self.label}  {stats.get('state', '?')}  {el:.1f}s"
        if self._note:
            head += f"  -- {self._note}"
        lines = [head, "  " + progress_text(stats)]
        inputs = stats.get("inputs") or {}
        if inputs:
            lines.append("  inputs pulled: " + ", ".join(f"{k} {v}" for k, v in inputs.items()))
        lines.append(f"  {'piper':<{width}}  {'state':<9} {'in':>8} {'out':>8} {'errors':>7} "
                     f"{'items/s':>9}")
        for name, p in pipers.items():
            lines.append(f"  {name:<{width}}  {p.get('state', ''):<9} {p['in']:>8} {p['out']:>8} "
                         f"{p['errors']:>7} {_fmt_rate(_rate(p, el)):>9}")
        return lines


def first_error_line(event: dict) -> str:
    """``ValueError: message (item 3)`` from a plumber ``error`` event."""
    text = f"{event.get('exc_type') or event.get('kind') or 'Error'}: {event.get('message', '')}"
    if event.get("index") is not None:
        text += f" (item {event['index']})"
    return text


def summary(stats: dict, first_errors: dict[str, dict], label: str = "",
            brief: bool = False) -> str:
    """The end-of-run report: a per-piper table and the first error of each piper.

    Args:
        stats: the final :attr:`Plumber.stats`.
        first_errors: piper name -> its first ``error`` event.
        brief: only the totals line and the errors (``--quiet``).
    """
    pipers = stats.get("pipers", {})
    errors = sum(p["errors"] for p in pipers.values())
    state = stats.get("state", "?")
    el = stats.get("elapsed_s", 0.0)
    pulled = sum((stats.get("inputs") or {}).values())
    head = (f"papy: {label + ' ' if label else ''}{state} in {el:.2f} s: {pulled} input "
            f"item(s), {len(pipers)} piper(s), {errors} error(s)")
    lines = [head]
    if not brief and pipers:
        width = max([len(n) for n in pipers] + [5])
        lines.append(f"  {'piper':<{width}}  {'state':<9} {'in':>8} {'out':>8} {'errors':>7} "
                     f"{'timeouts':>8} {'busy_s':>8} {'items/s':>9}")
        for name, p in pipers.items():
            lines.append(f"  {name:<{width}}  {p.get('state', ''):<9} {p['in']:>8} {p['out']:>8} "
                         f"{p['errors']:>7} {p['timeouts']:>8} {p['busy_s']:>8.2f} "
                         f"{_fmt_rate(_rate(p, el)):>9}")
    bad = [(n, p) for n, p in pipers.items() if p["errors"]]
    if bad:
        lines.append("errors (the first of each piper):")
        for name, p in bad:
            first = first_errors.get(name)
            detail = f"; first: {first_error_line(first)}" if first else ""
            lines.append(f"  {name}: {p['errors']} placeholder(s){detail}")
    return "\n".join(lines) + "\n"
