"""The one-shot transports ``fifo`` and ``tcp``: a producer thread streams the frame.

Unlike ``file``, ``shm`` and ``sqlite`` (see :mod:`.transports`), nothing is
stored: a daemon thread of the producer holds the frame and writes it to the
first reader, then releases it.  So an item is served once
(``load_item(remove=False)`` is refused) and lives until it is read or its
lease expires.

* ``fifo``: a named pipe; the thread writes the frame when a reader opens it.
* ``tcp``: a listening socket on an ephemeral port; the thread sends the frame
  to the first client that presents the locator's random token, then closes
  the socket.
"""
from __future__ import annotations

import fcntl
import hmac
import logging
import os
import select
import socket
import threading
import time
from typing import Any

from . import frames, leases
from .locator import (HOST, ItemLocator, TransferError, gone, item_dir, open_or_gone, unlink,
                      write_frame)

__all__ = ["put_fifo", "get_fifo", "put_tcp", "get_tcp"]

log = logging.getLogger(__name__)


# -- fifo ---------------------------------------------------------------------

class _FifoServer:
    """Writes one frame into a named pipe once a reader opens it."""

    def __init__(self, path: str, frame: frames.Frame) -> None:
        self.path, self.frame = path, frame
        self.lock = threading.Lock()
        self.state = "waiting"  # -> "serving" | "expired"
        self.lease = -1

    def serve(self) -> None:
        try:
            try:
                fd = os.open(self.path, os.O_WRONLY)  # blocks until a reader opens
            except FileNotFoundError:
                return  # expired before we got here
            try:
                with self.lock:
                    if self.state == "expired":
                        return
                    self.state = "serving"
                try:
                    fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
                except OSError:
                    pass
                write_frame(fd, self.frame)
            except BrokenPipeError:
                log.warning("reader of %s went away before the item was sent", self.path)
            finally:
                os.close(fd)
        finally:
            unlink(self.path)
            self.frame.release()
            leases.drop(self.lease)

    def expire(self) -> None:
        with self.lock:
            if self.state != "waiting":
                return
            self.state = "expired"
        # Opening a read end wakes a writer blocked in open(); it then sees
        # "expired" and gives up.  Unlinking makes a late consumer fail fast.
        try:
            rfd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK)
        except FileNotFoundError:
            return
        try:
            unlink(self.path)
        finally:
            os.close(rfd)


def put_fifo(frame, loc_kw, opts) -> ItemLocator:
    path = os.path.join(item_dir(opts["dir"]), leases.new_name(False) + ".fifo")
    os.mkfifo(path, 0o600)
    server = _FifoServer(path, frame)
    server.lease = leases.add(opts["timeout"], server.expire)
    threading.Thread(target=server.serve, daemon=True, name="papy-io-fifo").start()
    return ItemLocator(address=path, **loc_kw)


def _wait_readable(fd: int, loc: ItemLocator, timeout: float | None) -> None:
    """Wait for the producer to open the write end, checking it is alive."""
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLHUP)
    deadline = None if timeout is None else time.monotonic() + timeout
    while not poller.poll(250):
        if loc.host == HOST and loc.pid and leases.stale_pid(loc.pid):
            raise gone(loc, f"its producer process {loc.pid} is gone")
        if deadline is not None and time.monotonic() > deadline:
            raise TransferError(f"timed out after {timeout} s waiting for the producer of "
                                f"item {loc} to write it")


def _read_exactly(read_into, loc: ItemLocator) -> bytearray:
    buf = bytearray(loc.size)
    view = memoryview(buf)
    pos = 0
    while pos < loc.size:
        n = read_into(view[pos:])
        if not n:
            raise TransferError(f"item {loc} is truncated: the producer closed the "
                                f"connection after {pos} of {loc.size} bytes")
        pos += n
    view.release()
    return buf


def get_fifo(loc: ItemLocator, remove: bool, timeout: float | None) -> Any:
    fd = open_or_gone(loc, os.O_RDONLY | os.O_NONBLOCK, "fifo")
    try:
        _wait_readable(fd, loc, timeout)
        unlink(loc.address)  # a fifo is read once; the writer has it open now
        os.set_blocking(fd, True)
        buf = _read_exactly(lambda v: os.readv(fd, [v]), loc)
    finally:
        os.close(fd)
    with memoryview(buf) as view:
        return frames.decode(view)


# -- tcp ----------------------------------------------------------------------

_WILDCARDS = ("", "0.0.0.0", "::")


def _serve_tcp(srv: socket.socket, frame: frames.Frame, token: bytes,
               timeout: float | None, lease: int) -> None:
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        while True:
            if deadline is not None:
                srv.settimeout(max(0.0, deadline - time.monotonic()))
            try:
                conn, _ = srv.accept()
            except (TimeoutError, socket.timeout):
                return  # nobody came: the port closes below
            with conn:
                conn.settimeout(60.0)
                try:
                    got = b""
                    while len(got) < len(token):
                        more = conn.recv(len(token) - len(got))
                        if not more:
                            break
                        got += more
                    if not hmac.compare_digest(got, token):
                        continue  # a stranger (port scan, wrong item): keep waiting
                    for chunk in frame.chunks():
                        conn.sendall(chunk)
                    conn.shutdown(socket.SHUT_WR)
                    conn.recv(1)  # let the consumer close first (its side keeps TIME_WAIT)
                except OSError as exc:
                    log.warning("sending item to %s failed: %s", conn, exc)
                return
    finally:
        srv.close()
        frame.release()
        leases.drop(lease)


def _close_listener(srv: socket.socket) -> None:
    """Stop serving: wakes the thread blocked in accept() (a plain close does not)."""
    try:
        srv.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    srv.close()


def put_tcp(frame, loc_kw, opts) -> ItemLocator:
    host = opts["host"]
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    srv = socket.create_server((host, 0), family=family, backlog=4)
    port = srv.getsockname()[1]
    advertise = opts["advertise"] or (socket.getfqdn() if host in _WILDCARDS else host)
    token = os.urandom(16)
    # the serving thread keeps its own deadline; the lease says the process serves
    # an item (it must outlive its run's pool) and closes the port at exit
    lease = leases.add(None, lambda: _close_listener(srv))
    threading.Thread(target=_serve_tcp, args=(srv, frame, token, opts["timeout"], lease),
                     daemon=True, name="papy-io-tcp").start()
    addr = f"[{advertise}]:{port}" if ":" in advertise else f"{advertise}:{port}"
    return ItemLocator(address=addr, key=token.hex(), **loc_kw)


def get_tcp(loc: ItemLocator, remove: bool, timeout: float | None) -> Any:
    host, _, port = loc.address.rpartition(":")
    host = host.strip("[]")
    try:
        conn = socket.create_connection((host, int(port)), timeout=timeout)
    except ConnectionRefusedError:
        raise gone(loc, f"nothing listens on {loc.address}") from None
    try:
        with conn:
            conn.sendall(bytes.fromhex(loc.key or ""))
            buf = _read_exactly(conn.recv_into, loc)
    except (ConnectionResetError, ConnectionAbortedError, BrokenPipeError) as exc:
        # the producer's one-shot server closed while our connection still sat
        # in its listen backlog: the item was served already (or expired)
        raise gone(loc, f"{loc.address} closed the connection ({exc})") from None
    with memoryview(buf) as view:
        return frames.decode(view)

