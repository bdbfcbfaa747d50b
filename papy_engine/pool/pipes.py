"""The pipes between the pool and its worker processes: size, reading, waiting.

A worker's reply may be a chunk of 1 MiB of pickles.  Two things keep moving
it cheap for a driving process whose serial piper keeps the GIL busy:

* :func:`widen` gives a pipe room for a whole chunk (Linux ``F_SETPIPE_SZ``),
  so it moves in one read instead of sixteen, each of which took the GIL
  back; at most :data:`PIPE_BUDGET` pipes at a time, since past the user's
  ``pipe-user-pages-soft`` (64 MiB) the kernel gives every new pipe one page.
* :class:`Reader` reads a :class:`multiprocessing.connection.Connection`'s
  messages (same framing) into one reusable buffer with ``os.readv``: the
  kernel copies into it with the GIL released, where ``recv_bytes`` maps a
  new buffer per read and copies it again, holding the GIL.
* :class:`Waiter` waits on every worker's pipe and sentinel at once, with
  one ``poll`` object kept from call to call: ``multiprocessing.connection.wait``
  (and ``Connection.poll``) build and fill a new selector each time, which
  the dispatcher did several times per chunk, holding the GIL.
"""
from __future__ import annotations

import math
import os
import select
import struct
import threading
from typing import Any

try:
    import fcntl
except ImportError:   # not POSIX
    fcntl = None  # type: ignore[assignment]

__all__ = ["Reader", "Waiter", "widen", "narrowed", "PIPE_BYTES", "PIPE_BUDGET"]

PIPE_BYTES = 2**20         # a chunk (policy.MAX_CHUNK_BYTES); the default pipe-max-size
PIPE_BUDGET = 16           # pipes widened at a time: 16 MiB of kernel buffers
KEEP_BYTES = 4 * 2**20     # a reader keeps a buffer this large; larger messages get their own
_widened = [0]             # pipes widened and still open
_lock = threading.Lock()


def widen(*conns: Any) -> int:
    """Give each of ``conns`` a PIPE_BYTES buffer while the budget lasts; returns how many."""
    op = getattr(fcntl, "F_SETPIPE_SZ", None) if fcntl else None
    n = 0
    with _lock:
        for c in conns:
            if op is None or _widened[0] >= PIPE_BUDGET:
                break
            try:
                fcntl.fcntl(c.fileno(), op, PIPE_BYTES)
            except OSError:
                break   # above /proc/sys/fs/pipe-max-size: the default will do
            _widened[0] += 1
            n += 1
    return n


def narrowed(n: int) -> None:
    """``n`` widened pipes were closed: give their share of the budget back."""
    with _lock:
        _widened[0] -= n


class Reader:
    """Reads the messages ``Connection.send_bytes`` wrote to ``conn``, one at a time."""

    def __init__(self, conn: Any) -> None:
        self.fd = conn.fileno()
        self.buf = bytearray(64 * 1024)
        self.head = bytearray(8)
        self._poll = select.poll()
        self._poll.register(self.fd, select.POLLIN)

    def ready(self) -> bool:
        """True when a message (or the end of the pipe) can be read without waiting."""
        return bool(self._poll.poll(0))

    def _fill(self, view: memoryview) -> None:
        while len(view):
            n = os.readv(self.fd, [view])
            if n == 0:
                raise EOFError("the worker's pipe was closed during a message")
            view = view[n:]

    def recv(self) -> memoryview:
        """The next message (valid until the next call); EOFError at the end."""
        head = memoryview(self.head)
        self._fill(head[:4])
        size, = struct.unpack("!i", head[:4])
        if size == -1:   # over 2 GiB: a 64-bit size follows
            self._fill(head)
            size, = struct.unpack("!Q", head)
        if size > len(self.buf):
            buf = bytearray(size)
            if size <= KEEP_BYTES:
                self.buf = buf
        else:
            buf = self.buf
        view = memoryview(buf)[:size]
        self._fill(view)
        return view


class Waiter:
    """``multiprocessing.connection.wait`` on the same few objects again and again.

    The objects are file descriptors or have ``fileno()``; registering
    happens only when the set changes, so a call is one ``poll`` system call.
    """

    def __init__(self) -> None:
        self._poll = select.poll()
        self._objs: dict[int, Any] = {}

    def wait(self, objs: list, timeout: float | None) -> list:
        """The objects of ``objs`` ready to read (or closed), waiting up to ``timeout`` s."""
        fds = {(o if isinstance(o, int) else o.fileno()): o for o in objs}
        if fds.keys() != self._objs.keys():
            for fd in self._objs.keys() - fds.keys():
                self._poll.unregister(fd)
            for fd in fds.keys() - self._objs.keys():
                self._poll.register(fd, select.POLLIN)
        self._objs = fds
        ms = None if timeout is None else max(0, math.ceil(timeout * 1000))
        try:
            events = self._poll.poll(ms)
        except InterruptedError:
            return []
        return [fds[fd] for fd, _ in events if fd in fds]
