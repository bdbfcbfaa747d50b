"""The ``shm`` transport: POSIX shared-memory segments recycled by their producer.

Allocating fresh tmpfs pages for every item (and freeing them after each
load) costs more than copying the item, so each producing process keeps its
segments and reuses them.  A segment starts with a 64-byte control block::

    state u8 (0 free, 1 busy) | 7 pad | generation u64 | ... frame at offset 64

Data flow::

    producer: acquire a free segment (or create/grow one), generation += 1,
              state = busy, pwrite frame -> locator(name, generation)
    consumer: shm_open, check busy + generation, pread frame, re-check the
              generation (it was not recycled while reading), state = free
    producer: a free segment idle for IDLE_S is unlinked (a periodic trim
              via the lease reaper); a busy one whose lease expires is marked
              free; everything is unlinked when the producer exits.

Segments are created with ``shm_open`` directly, not through
``multiprocessing.shared_memory``, whose resource tracker (Python < 3.13)
registers every attachment and then reports and unlinks "leaked" segments
that a different process legitimately freed.  ``timeout=None`` items get
their own ``papy_keep_*`` segment, never recycled; the consumer unlinks it.
"""
from __future__ import annotations

import os
import struct
import threading
import time

from . import leases

try:
    import _posixshmem
except ImportError:  # pragma: no cover - Windows
    _posixshmem = None

__all__ = ["put", "open_item", "IDLE_S", "HEADER", "unlink"]

HEADER = 64
FREE, BUSY = 0, 1
_CTRL = struct.Struct("<B7xQ")
IDLE_S = 1.0        # a free segment unused this long goes back to the OS
_TRIM_EVERY = 0.25
_GRAIN = 1 << 20    # capacities are rounded up to whole MiB


def unlink(name: str) -> None:
    try:
        _posixshmem.shm_unlink("/" + name)
    except FileNotFoundError:
        pass


def read_ctrl(fd: int) -> tuple[int, int]:
    data = os.pread(fd, _CTRL.size, 0)
    if len(data) < _CTRL.size:
        return FREE, -1
    return _CTRL.unpack(data)


def write_ctrl(fd: int, state: int, gen: int) -> None:
    os.pwrite(fd, _CTRL.pack(state, gen), 0)


def pwrite_all(fd: int, chunks, offset: int) -> None:
    for chunk in chunks:
        view = memoryview(chunk).cast("B")
        while view.nbytes:
            n = os.pwrite(fd, view, offset)
            offset += n
            view = view[n:]


class _Segment:
    __slots__ = ("name", "fd", "capacity", "gen", "idle_since")

    def __init__(self, name: str, fd: int, capacity: int) -> None:
        self.name, self.fd, self.capacity = name, fd, capacity
        self.gen = 0
        self.idle_since: float | None = None


class _Pool:
    """This process's segments (one pool per process; reset after fork)."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.lock = threading.Lock()
        self.segments: list[_Segment] = []
        self.trimming = False
        leases.add(None, self.close)  # unlink everything at exit

    def acquire(self, size: int) -> tuple[_Segment, int]:
        need = HEADER + size
        with self.lock:
            free = [s for s in self.segments if read_ctrl(s.fd)[0] == FREE]
            fits = [s for s in free if s.capacity >= need]
            if fits:
                seg = min(fits, key=lambda s: s.capacity)
            elif free:  # grow the largest free segment: its pages are kept
                seg = max(free, key=lambda s: s.capacity)
                seg.capacity = -(-need // _GRAIN) * _GRAIN
                os.ftruncate(seg.fd, seg.capacity)
            else:
                seg = self._create(need)
            seg.gen += 1
            seg.idle_since = None
            write_ctrl(seg.fd, BUSY, seg.gen)
            if not self.trimming:
                self.trimming = True
                leases.add(_TRIM_EVERY, self.trim)
            return seg, seg.gen

    def _create(self, need: int) -> _Segment:
        name = leases.new_name(False)
        capacity = -(-need // _GRAIN) * _GRAIN
        fd = _posixshmem.shm_open("/" + name, os.O_RDWR | os.O_CREAT | os.O_EXCL, mode=0o600)
        try:
            os.ftruncate(fd, capacity)
        except BaseException:
            os.close(fd)
            unlink(name)
            raise
        seg = _Segment(name, fd, capacity)
        self.segments.append(seg)
        return seg

    def release(self, seg: _Segment, gen: int) -> None:
        """Lease expired: free the segment if it still holds that item."""
        with self.lock:
            if seg in self.segments and seg.gen == gen and read_ctrl(seg.fd) == (BUSY, gen):
                write_ctrl(seg.fd, FREE, gen)

    def trim(self) -> None:
        now = time.monotonic()
        with self.lock:
            keep = []
            for seg in self.segments:
                if read_ctrl(seg.fd)[0] != FREE:
                    seg.idle_since = None
                elif seg.idle_since is None:
                    seg.idle_since = now
                elif now - seg.idle_since >= IDLE_S:
                    self._drop(seg)
                    continue
                keep.append(seg)
            self.segments = keep
            self.trimming = bool(keep)
            if keep:
                leases.add(_TRIM_EVERY, self.trim)

    def _drop(self, seg: _Segment) -> None:
        unlink(seg.name)
        os.close(seg.fd)

    def close(self) -> None:
        if self.pid != os.getpid():
            return
        with self.lock:
            for seg in self.segments:
                self._drop(seg)
            self.segments = []


_pool: _Pool | None = None
_pool_lock = threading.Lock()


def _get_pool() -> _Pool:
    global _pool
    with _pool_lock:
        if _pool is None or _pool.pid != os.getpid():
            _pool = _Pool()
        return _pool


def put(frame, timeout: float | None) -> tuple[str, int]:
    """Store ``frame``; return the segment name and the item's generation."""
    if timeout is None:  # a segment of its own, kept until loaded
        name = leases.new_name(True)
        fd = _posixshmem.shm_open("/" + name, os.O_RDWR | os.O_CREAT | os.O_EXCL, mode=0o600)
        try:
            write_ctrl(fd, BUSY, 1)
            pwrite_all(fd, frame.chunks(), HEADER)
        except BaseException:
            unlink(name)
            raise
        finally:
            os.close(fd)
        return name, 1
    pool = _get_pool()
    seg, gen = pool.acquire(frame.size)
    try:
        pwrite_all(seg.fd, frame.chunks(), HEADER)
    except BaseException:
        pool.release(seg, gen)
        raise
    leases.add(timeout, lambda: pool.release(seg, gen))
    return seg.name, gen


def open_item(name: str) -> int:
    """Open a segment for loading; FileNotFoundError when it is gone."""
    return _posixshmem.shm_open("/" + name, os.O_RDWR, mode=0o600)


def _reset_after_fork() -> None:
    global _pool, _pool_lock
    _pool = None
    _pool_lock = threading.Lock()


os.register_at_fork(after_in_child=_reset_after_fork)
