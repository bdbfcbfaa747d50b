"""The pipes between the pool and its worker processes: size, reading, waiting.

A chunk sent to a worker may hold 1 MiB of pickles, its reply 2 MiB.  These
keep moving them cheap for a driving process whose serial piper keeps the
GIL busy:

* :func:`widen` gives a pipe room for a whole chunk, or half a reply (Linux
  ``F_SETPIPE_SZ``), so a chunk moves in one read instead of sixteen, each
  of which took the GIL back; at most :data:`PIPE_BUDGET` pipes at a time,
  since past the user's ``pipe-user-pages-soft`` (64 MiB) the kernel gives
  every new pipe one page.
* :class:`Reader` reads a :class:`multiprocessing.connection.Connection`'s
  messages (same framing) into one reusable buffer with ``os.readv``: the
  kernel copies into it with the GIL released, where ``recv_bytes`` maps a
  new buffer per read and copies it again, holding the GIL; and it reads
  what the pipe holds at once, several messages in one system call.
* :func:`send_bytes` writes a message's header and data in one system call.
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
from collections.abc import Iterator
from typing import Any

try:
    import fcntl
except ImportError:   # not POSIX
    fcntl = None  # type: ignore[assignment]

__all__ = ["Reader", "Waiter", "send_bytes", "widen", "narrowed", "PIPE_BYTES", "PIPE_BUDGET"]

PIPE_BYTES = 2**20         # a chunk sent (policy.MAX_CHUNK_BYTES); the default pipe-max-size
PIPE_BUDGET = 16           # pipes widened at a time: 16 MiB of kernel buffers
KEEP_BYTES = 4 * 2**20     # a reader keeps a buffer this large; larger messages get their own
_widened = [0]             # pipes widened and still open
_HEAD, _HUGE = struct.Struct("!i"), struct.Struct("!Q")   # Connection's framing
_WRITEV = hasattr(os, "writev")
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
    """Reads the messages ``Connection.send_bytes`` wrote to ``conn``.

    Bytes are read into one reusable buffer, as many as the pipe holds at a
    time, and messages are cut from it: a reply and the next one's start
    cost one read, not three (header, body, and a check for more), and every
    read is a system call after which the dispatcher must take the GIL back
    from a serial piper that may hold it for a switch interval (5 ms).
    """

    def __init__(self, conn: Any) -> None:
        self.fd = conn.fileno()
        self.buf = bytearray(64 * 1024)
        self.lo = self.hi = 0          # unread bytes: buf[lo:hi]
        self._poll = select.poll()
        self._poll.register(self.fd, select.POLLIN)

    def ready(self) -> bool:
        """True when a message (or the end of the pipe) can be read without waiting."""
        return self.lo < self.hi or bool(self._poll.poll(0))

    def messages(self) -> Iterator[memoryview]:
        """The messages the pipe holds now, read in one system call (more only
        to complete a message cut in two); each view is valid until the next.
        EOFError at the end of the pipe."""
        if self.lo == self.hi:
            self.lo = self.hi = 0
            self._read()
        while self.lo < self.hi:
            yield self.recv()

    def recv(self) -> memoryview:
        """The next message (valid until the next call); EOFError at the end."""
        self._want(4)
        size, = _HEAD.unpack_from(self.buf, self.lo)
        head = 4
        if size == -1:   # over 2 GiB: a 64-bit size follows
            self._want(12)
            size, = _HUGE.unpack_from(self.buf, self.lo + 4)
            head = 12
        if head + size > max(len(self.buf), KEEP_BYTES):
            return self._alone(head, size)
        self._want(head + size)
        lo = self.lo + head
        self.lo = lo + size
        return memoryview(self.buf)[lo:lo + size]

    def _want(self, n: int) -> None:
        """Read until ``n`` unread bytes are buffered (room made for them)."""
        if self.hi - self.lo >= n:
            return
        if self.lo + n > len(self.buf):     # move the unread bytes to the front
            if n > len(self.buf):
                grown = bytearray(n)
                grown[:self.hi - self.lo] = self.buf[self.lo:self.hi]
                self.buf = grown
            else:
                self.buf[:self.hi - self.lo] = self.buf[self.lo:self.hi]
            self.lo, self.hi = 0, self.hi - self.lo
        while self.hi - self.lo < n:
            self._read()

    def _read(self) -> None:
        """One read of what the pipe holds, into the free end of the buffer."""
        with memoryview(self.buf) as view:
            got = os.readv(self.fd, [view[self.hi:]])
        if got == 0:
            raise EOFError("the worker's pipe is closed" if self.lo == self.hi else
                           "the worker's pipe was closed during a message")
        self.hi += got

    def _alone(self, head: int, size: int) -> memoryview:
        """A message larger than the buffer may grow to: a buffer of its own."""
        own = bytearray(size)
        have = min(size, self.hi - self.lo - head)
        own[:have] = self.buf[self.lo + head:self.lo + head + have]
        self.lo = self.hi = 0
        view = memoryview(own)
        while have < size:
            got = os.readv(self.fd, [view[have:]])
            if got == 0:
                raise EOFError("the worker's pipe was closed during a message")
            have += got
        return view


def send_bytes(conn: Any, data: Any) -> None:
    """``conn.send_bytes(data)`` in one system call: the header and the data
    together, so that the reader wakes once for the whole message (``send_bytes``
    writes them apart when the data is over 16 KiB)."""
    n = len(data)
    if not _WRITEV:
        conn.send_bytes(data)
        return
    head = _HEAD.pack(n) if n <= 0x7fffffff else _HEAD.pack(-1) + _HUGE.pack(n)
    fd = conn.fileno()
    sent = os.writev(fd, [head, data])
    if sent < len(head) + n:   # cut short (a signal): write the rest
        rest = memoryview(head + bytes(data))[sent:]
        while len(rest):
            rest = rest[os.write(fd, rest):]


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
