"""Producer-side lifetimes of dumped items, and discovery of stale leftovers.

Every object that ``io.dump_item`` creates (a file, fifo, listening socket,
shared-memory segment or database row) gets a *lease* in the producing
process.  The lease is released -- the object destroyed -- by the first of:

* the consumer loading it (``load_item(..., remove=True)``), which removes
  the object itself; the lease's later release then finds nothing to do;
* the lease's deadline (``dump_item(timeout=...)``): one daemon "reaper"
  thread per process sleeps until the nearest deadline;
* the producing process exiting normally (a ``multiprocessing.util.Finalize``
  runs in pool workers as well as in the main process);
* the end of the pipeline run during which it was made, for objects made in
  the driving process itself (serial pipers, thread pools): a Plumber calls
  :func:`begin_run` and :func:`end_run`, and the end of the last run in
  progress releases them.  (Pool worker processes exit at the end of a run.)

A process that is killed releases nothing; its objects keep its pid in their
name (``papy_<pid>_<token>``) so :func:`stale_pid` lets ``io.cleanup`` find
objects whose producer is gone.  ``timeout=None`` objects are named
``papy_keep_<token>``: they live until loaded and cleanup never touches them.

Data flow::

    dump_item --add(deadline, release)--> heap --reaper thread--> release()
                                           \\--at exit---------> release()
"""
from __future__ import annotations

import heapq
import itertools
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable
from multiprocessing import util as _mp_util

__all__ = ["PREFIX", "add", "begin_run", "holding", "release_all", "drop", "end_run",
           "new_name", "parse_name", "stale_pid"]

log = logging.getLogger(__name__)

PREFIX = "papy_"


def new_name(persistent: bool) -> str:
    """A fresh object name: ``papy_<pid>_<token>`` or ``papy_keep_<token>``."""
    owner = "keep" if persistent else str(os.getpid())
    return f"{PREFIX}{owner}_{secrets.token_hex(6)}"


def parse_name(name: str) -> int | None:
    """The producer pid in a leased object's name, or None (kept or foreign)."""
    if not name.startswith(PREFIX):
        return None
    owner = name[len(PREFIX):].split("_", 1)[0]
    return int(owner) if owner.isdigit() else None


def stale_pid(pid: int) -> bool:
    """True when no live process has ``pid`` (zombies count as dead)."""
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] == b"Z"
    except OSError:
        return False


class _Reaper:
    """One process's leases: a heap of deadlines served by a daemon thread."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.cond = threading.Condition()
        self.heap: list[tuple[float, int]] = []
        self.live: dict[int, Callable[[], None]] = {}
        self.in_run: set[int] = set()   # leases made while a run was in progress
        self.runs = 0                   # pipeline runs in progress in this process
        self.ids = itertools.count()
        self.thread: threading.Thread | None = None
        # exitpriority: run before multiprocessing's own queue/pool finalizers.
        _mp_util.Finalize(self, _release_all, args=(self,), exitpriority=20)

    def add(self, timeout: float | None, release: Callable[[], None]) -> int:
        lid = next(self.ids)
        with self.cond:
            self.live[lid] = release
            if self.runs:
                self.in_run.add(lid)
            if timeout is not None:
                heapq.heappush(self.heap, (time.monotonic() + timeout, lid))
                if self.thread is None:
                    self.thread = threading.Thread(target=self._run, daemon=True,
                                                   name="papy-io-reaper")
                    self.thread.start()
                self.cond.notify()
        return lid

    def drop(self, lid: int) -> None:
        with self.cond:
            self.live.pop(lid, None)
            self.in_run.discard(lid)

    def end_run(self) -> list[Callable[[], None]]:
        """One run ended; with none left, hand back the releases of run-made leases."""
        with self.cond:
            self.runs = max(0, self.runs - 1)
            if self.runs:
                return []
            done = [self.live.pop(lid) for lid in self.in_run if lid in self.live]
            self.in_run.clear()
        return done

    def _run(self) -> None:
        while True:
            with self.cond:
                while not self.heap or self.heap[0][0] > time.monotonic():
                    wait = self.heap[0][0] - time.monotonic() if self.heap else None
                    self.cond.wait(wait)
                _, lid = heapq.heappop(self.heap)
                release = self.live.pop(lid, None)
            if release is not None:
                _safe(release)


def _safe(release: Callable[[], None]) -> None:
    try:
        release()
    except Exception:  # a release must never kill the reaper or the exit path
        log.exception("releasing a dumped item failed")


def _release_all(reaper: _Reaper) -> None:
    if reaper.pid != os.getpid():
        return
    with reaper.cond:
        pending = list(reaper.live.values())
        reaper.live.clear()
        reaper.heap.clear()
    for release in pending:
        _safe(release)


_reaper: _Reaper | None = None
_reaper_lock = threading.Lock()


def _get() -> _Reaper:
    global _reaper
    r = _reaper
    if r is None or r.pid != os.getpid():  # first use, or first use after a fork
        with _reaper_lock:
            if _reaper is None or _reaper.pid != os.getpid():
                _reaper = _Reaper()
            r = _reaper
    return r


def add(timeout: float | None, release: Callable[[], None]) -> int:
    """Release ``release`` after ``timeout`` seconds or at process exit.

    With ``timeout=None`` the object is released only at process exit.
    Returns an id for :func:`drop`.
    """
    return _get().add(timeout, release)


def drop(lid: int) -> None:
    """Forget a lease whose object is already gone (served or removed)."""
    _get().drop(lid)


def holding() -> bool:
    """True when this process holds an object it dumped that may still be read."""
    r = _reaper
    return r is not None and r.pid == os.getpid() and bool(r.live)


def release_all() -> None:
    """Free every item this process still holds (a warm worker between runs)."""
    _release_all(_get())


def begin_run() -> None:
    """A pipeline run starts in this process (see :func:`end_run`)."""
    r = _get()
    with r.cond:
        r.runs += 1


def end_run() -> None:
    """A pipeline run ended: once no run is left, free what runs made here."""
    for release in _get().end_run():
        _safe(release)


def _reset_after_fork() -> None:
    global _reaper, _reaper_lock
    _reaper = None
    _reaper_lock = threading.Lock()


os.register_at_fork(after_in_child=_reset_after_fork)
