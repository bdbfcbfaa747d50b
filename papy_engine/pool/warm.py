"""Warm workers: idle local workers kept between runs, so the next pool starts none.

A long-lived program that runs pipeline after pipeline -- the editor -- calls
:func:`keep_warm` once.  From then on, when a pool's run is over, its local
workers (processes and threads) that are healthy and idle are kept here
instead of being stopped, keyed by what makes them interchangeable (their
kind and start method); the next pool with the same settings takes them
instead of starting new ones.  Before a worker waits here it forgets the
tasks of the run it served and frees the items it dumped that nobody loaded
(as its exit would have).  :func:`close` stops every waiting worker; it runs
at interpreter exit as well.  Without :func:`keep_warm` nothing is kept and
pools stop their workers when their run ends.  :func:`prestart` starts the
fork server early, so even the first pool starts fast.
"""
from __future__ import annotations

import atexit
import logging
import threading
from typing import Any

__all__ = ["keep_warm", "prestart", "take", "keep", "close", "idle_count"]

log = logging.getLogger(__name__)

_lock = threading.Lock()
_idle: dict[tuple, list[Any]] = {}
_enabled = False


def keep_warm(on: bool = True) -> None:
    """Keep idle local workers between runs (``on=False``: stop keeping, and stop them)."""
    global _enabled
    with _lock:
        _enabled = on
    if not on:
        close()


def prestart() -> threading.Thread:
    """Start the fork server on a daemon thread (see ``starting.start_fork_server``),
    so the first pool of a program that already runs threads starts like a
    later one; returns the thread (join it to wait)."""
    from .starting import start_fork_server

    def start() -> None:
        try:
            start_fork_server()
        except Exception:
            log.warning("could not start the fork server early", exc_info=True)
    t = threading.Thread(target=start, name="papy-forkserver-start", daemon=True)
    t.start()
    return t


def take(key: tuple, n: int) -> list[Any]:
    """Up to ``n`` idle workers of ``key``, still alive, ready for a new pool."""
    with _lock:
        pool = _idle.get(key, [])
        got: list[Any] = []
        while pool and len(got) < n:
            slot = pool.pop()
            if slot.alive():
                got.append(slot)
            else:
                slot.stop(0)
    if got:
        log.debug("reusing %d warm worker(s) %s", len(got), key)
    return got


def keep(key: tuple, slot: Any) -> bool:
    """Keep ``slot`` for a later pool; False when warm workers are not wanted."""
    with _lock:
        if not _enabled:
            return False
        _idle.setdefault(key, []).append(slot)
    return True


def idle_count() -> int:
    """How many workers wait here."""
    with _lock:
        return sum(len(v) for v in _idle.values())


def close() -> None:
    """Stop every waiting worker (safe to repeat)."""
    with _lock:
        slots = [s for pool in _idle.values() for s in pool]
        _idle.clear()
    for s in slots:
        try:
            s.ask_stop()   # they exit together; then wait for each
        except Exception:
            log.debug("stopping a warm worker", exc_info=True)
    for s in slots:
        try:
            s.stop(2.0)
        except Exception:
            log.debug("stopping a warm worker", exc_info=True)


atexit.register(close)
