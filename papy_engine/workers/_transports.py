"""Transports of ``io.dump_item``/``io.load_item``: where a frame is kept.

Each transport has a ``put(frame, opts) -> ItemLocator`` run by the producer
and a ``get(locator, remove, timeout) -> item`` run by the consumer.

* ``file``: a file ``papy_<pid>_<token>.item`` in ``dir``.

``file`` and ``shm`` items are read with ``pread``: each payload is copied
once, straight into the object it is rebuilt from.
* ``shm``: a POSIX shared-memory segment ``/papy_<pid>_<token>``, recycled
  by its producer (see :mod:`._shm`).
* ``sqlite``: a row ``(key, pid, created, data)`` of table ``papy_items`` in
  ``dir/papy_items.sqlite3``, written and read with incremental blob I/O.
* ``fifo``: a named pipe; a daemon thread of the producer writes the frame
  when a reader opens it.
* ``tcp``: a listening socket on an ephemeral port; a daemon thread of the
  producer sends the frame to the first client that presents the locator's
  random token, then closes the socket.
"""
from __future__ import annotations

import dataclasses
import errno
import fcntl
import hmac
import logging
import os
import select
import socket
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable
from typing import Any

from ..errors import PapyError
from . import _frames, _leases, _shm

__all__ = ["ItemLocator", "TransferError", "TRANSPORTS", "put", "get", "cleanup"]

log = logging.getLogger(__name__)

TRANSPORTS = ("file", "fifo", "tcp", "shm", "sqlite")
DB_NAME = "papy_items.sqlite3"
_TABLE = "papy_items"
_HOST = socket.gethostname()


class TransferError(PapyError):
    """An item could not be stored or loaded (its data is gone, truncated...)."""


@dataclasses.dataclass(frozen=True)
class ItemLocator:
    """Where ``dump_item`` left an item, and how to read it back.

    Attributes:
        transport: "file", "fifo", "tcp", "shm" or "sqlite".
        serializer: "pickle", "marshal", "json" or "dill".
        address: a path (file, fifo, sqlite database), a segment name (shm)
            or ``"host:port"`` (tcp).
        size: the stored frame's size in bytes.
        key: the row key (sqlite) or the hex access token (tcp).
        pid, host: the producing process and host.
    """

    transport: str
    serializer: str
    address: str
    size: int
    key: str | None = None
    pid: int = 0
    host: str = ""

    def __str__(self) -> str:
        where = f"{self.address}#{self.key}" if self.transport == "sqlite" else self.address
        return f"{self.transport}:{where} ({self.size} bytes, {self.serializer})"


def _gone(loc: ItemLocator, why: str) -> TransferError:
    remote = loc.host and loc.host != _HOST and loc.transport in ("shm", "fifo")
    hint = (f"; it was dumped on host {loc.host!r} and {loc.transport!r} works only "
            "between processes of one host (use 'tcp', or 'file' on a shared filesystem)"
            if remote else
            " (already loaded, or released by its producer: producer-side timeout "
            "expired or producer process exited)")
    return TransferError(f"the data of item {loc} is gone: {why}{hint}")


def _dir(dir: str | None) -> str:
    return os.path.abspath(dir if dir is not None else tempfile.gettempdir())


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _write_all(fd: int, frame: _frames.Frame) -> None:
    for chunk in frame.chunks():
        view = memoryview(chunk)
        while view.nbytes:
            view = view[os.write(fd, view):]


def _pread_exact(fd: int, n: int, offset: int, readonly: bool):
    """``n`` bytes at ``offset``: immutable bytes (read once) or a bytearray."""
    if readonly:
        data = os.pread(fd, n, offset)
        if len(data) == n:
            return data
    buf = bytearray(n)
    view, pos = memoryview(buf), 0
    while pos < n:
        got = os.preadv(fd, [view[pos:]], offset + pos)
        if not got:
            raise EOFError(f"{pos} of {n} bytes at offset {offset}")
        pos += got
    view.release()
    return bytes(buf) if readonly else buf


def _decode_fd(fd: int, loc: ItemLocator, base: int = 0) -> Any:
    """Decode the frame stored at ``base`` in the file or segment ``fd``.

    Reading with pread copies each payload once, straight into the object
    the item is rebuilt from, without mapping pages into this process.
    """
    try:
        return _frames.decode_from(lambda off, n, ro: _pread_exact(fd, n, base + off, ro))
    except EOFError as exc:
        raise TransferError(f"item {loc} is truncated: {exc}") from None


# -- file ---------------------------------------------------------------------

def _put_file(frame, loc_kw, opts) -> ItemLocator:
    name = _leases.new_name(opts["timeout"] is None)
    path = os.path.join(_dir(opts["dir"]), name + ".item")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0),
                 0o600)
    try:
        _write_all(fd, frame)
    except BaseException:
        os.close(fd)
        _unlink(path)
        raise
    os.close(fd)
    if opts["timeout"] is not None:
        _leases.add(opts["timeout"], lambda: _unlink(path))
    return ItemLocator(address=path, **loc_kw)


def _get_file(loc: ItemLocator, remove: bool, timeout: float | None) -> Any:
    try:
        fd = os.open(loc.address, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise _gone(loc, f"no file {loc.address}") from None
    try:
        if remove:  # the open fd keeps the data readable
            _unlink(loc.address)
        return _decode_fd(fd, loc)
    finally:
        os.close(fd)


# -- shm ----------------------------------------------------------------------

def _need_shm() -> None:
    if _shm._posixshmem is None:  # pragma: no cover
        raise TransferError("transport 'shm' needs POSIX shared memory (not available "
                            "on this platform): use 'file' or 'tcp'")


def _put_shm(frame, loc_kw, opts) -> ItemLocator:
    _need_shm()
    name, gen = _shm.put(frame, opts["timeout"])
    return ItemLocator(address=name, key=str(gen), **loc_kw)


def _get_shm(loc: ItemLocator, remove: bool, timeout: float | None) -> Any:
    _need_shm()
    try:
        fd = _shm.open_item(loc.address)
    except FileNotFoundError:
        raise _gone(loc, f"no shared-memory segment {loc.address!r}") from None
    try:
        gen = int(loc.key or 0)
        if _shm.read_ctrl(fd) != (_shm.BUSY, gen):
            raise _gone(loc, f"segment {loc.address!r} holds no item #{gen} any more")
        item = _decode_fd(fd, loc, _shm.HEADER)
        if _shm.read_ctrl(fd) != (_shm.BUSY, gen):  # recycled while we read
            raise _gone(loc, f"segment {loc.address!r} was recycled while loading")
        if remove:
            if loc.address.startswith(_leases.PREFIX + "keep_"):
                _shm.unlink(loc.address)
            else:
                _shm.write_ctrl(fd, _shm.FREE, gen)  # back to its producer's pool
        return item
    finally:
        os.close(fd)


# -- sqlite -------------------------------------------------------------------

_local = threading.local()


def _db(path: str) -> sqlite3.Connection:
    """This thread's connection to ``path`` (never shared across a fork)."""
    cache = getattr(_local, "cache", None)
    if cache is None or _local.pid != os.getpid():
        cache = _local.cache = {}
        _local.pid = os.getpid()
    con = cache.get(path)
    if con is None:
        con = sqlite3.connect(path, timeout=60.0, isolation_level=None)
        con.execute(f"CREATE TABLE IF NOT EXISTS {_TABLE} (key TEXT PRIMARY KEY, "
                    "pid INTEGER, created REAL NOT NULL, data BLOB NOT NULL)")
        cache[path] = con
    return con


def _db_path(opts) -> str:
    return os.path.abspath(opts["db"]) if opts.get("db") else os.path.join(
        _dir(opts["dir"]), DB_NAME)


def _db_delete(path: str, key: str) -> None:
    if os.path.exists(path):
        _db(path).execute(f"DELETE FROM {_TABLE} WHERE key = ?", (key,))


def _put_sqlite(frame, loc_kw, opts) -> ItemLocator:
    path = _db_path(opts)
    key = _leases.new_name(opts["timeout"] is None)
    pid = _leases.parse_name(key)
    con = _db(path)
    con.execute("BEGIN IMMEDIATE")
    try:
        cur = con.execute(f"INSERT INTO {_TABLE} (key, pid, created, data) "
                          "VALUES (?, ?, ?, zeroblob(?))", (key, pid, time.time(), frame.size))
        rowid = cur.lastrowid
        assert rowid is not None  # set by the INSERT above
        with con.blobopen(_TABLE, "data", rowid) as blob:
            for chunk in frame.chunks():
                blob.write(chunk)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    if opts["timeout"] is not None:
        _leases.add(opts["timeout"], lambda: _db_delete(path, key))
    return ItemLocator(address=path, key=key, **loc_kw)


def _get_sqlite(loc: ItemLocator, remove: bool, timeout: float | None) -> Any:
    if not os.path.exists(loc.address):
        raise _gone(loc, f"no database {loc.address}")
    con = _db(loc.address)
    con.execute("BEGIN IMMEDIATE" if remove else "BEGIN")
    try:
        row = con.execute(f"SELECT rowid FROM {_TABLE} WHERE key = ?", (loc.key,)).fetchone()
        if row is None:
            raise _gone(loc, f"no row with key {loc.key!r} in {loc.address}")
        with con.blobopen(_TABLE, "data", row[0], readonly=True) as blob:
            data = blob.read()
        if remove:
            con.execute(f"DELETE FROM {_TABLE} WHERE rowid = ?", (row[0],))
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    with memoryview(data) as view:
        return _frames.decode(view)


# -- fifo ---------------------------------------------------------------------

class _FifoServer:
    """Writes one frame into a named pipe once a reader opens it."""

    def __init__(self, path: str, frame: _frames.Frame) -> None:
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
                _write_all(fd, self.frame)
            except BrokenPipeError:
                log.warning("reader of %s went away before the item was sent", self.path)
            finally:
                os.close(fd)
        finally:
            _unlink(self.path)
            self.frame.release()
            _leases.drop(self.lease)

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
            _unlink(self.path)
        finally:
            os.close(rfd)


def _put_fifo(frame, loc_kw, opts) -> ItemLocator:
    path = os.path.join(_dir(opts["dir"]), _leases.new_name(False) + ".fifo")
    os.mkfifo(path, 0o600)
    server = _FifoServer(path, frame)
    server.lease = _leases.add(opts["timeout"], server.expire)
    threading.Thread(target=server.serve, daemon=True, name="papy-io-fifo").start()
    return ItemLocator(address=path, **loc_kw)


def _wait_readable(fd: int, loc: ItemLocator, timeout: float | None) -> None:
    """Wait for the producer to open the write end, checking it is alive."""
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLHUP)
    deadline = None if timeout is None else time.monotonic() + timeout
    while not poller.poll(250):
        if loc.host == _HOST and loc.pid and _leases.stale_pid(loc.pid):
            raise _gone(loc, f"its producer process {loc.pid} is gone")
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


def _get_fifo(loc: ItemLocator, remove: bool, timeout: float | None) -> Any:
    try:
        fd = os.open(loc.address, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise _gone(loc, f"no fifo {loc.address}") from None
    try:
        _wait_readable(fd, loc, timeout)
        _unlink(loc.address)  # a fifo is read once; the writer has it open now
        os.set_blocking(fd, True)
        buf = _read_exactly(lambda v: os.readv(fd, [v]), loc)
    finally:
        os.close(fd)
    with memoryview(buf) as view:
        return _frames.decode(view)


# -- tcp ----------------------------------------------------------------------

_WILDCARDS = ("", "0.0.0.0", "::")


def _serve_tcp(srv: socket.socket, frame: _frames.Frame, token: bytes,
               timeout: float | None) -> None:
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


def _put_tcp(frame, loc_kw, opts) -> ItemLocator:
    host = opts["host"]
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    srv = socket.create_server((host, 0), family=family, backlog=4)
    port = srv.getsockname()[1]
    advertise = opts["advertise"] or (socket.getfqdn() if host in _WILDCARDS else host)
    token = os.urandom(16)
    threading.Thread(target=_serve_tcp, args=(srv, frame, token, opts["timeout"]),
                     daemon=True, name="papy-io-tcp").start()
    addr = f"[{advertise}]:{port}" if ":" in advertise else f"{advertise}:{port}"
    return ItemLocator(address=addr, key=token.hex(), **loc_kw)


def _get_tcp(loc: ItemLocator, remove: bool, timeout: float | None) -> Any:
    host, _, port = loc.address.rpartition(":")
    host = host.strip("[]")
    try:
        conn = socket.create_connection((host, int(port)), timeout=timeout)
    except ConnectionRefusedError:
        raise _gone(loc, f"nothing listens on {loc.address}") from None
    try:
        with conn:
            conn.sendall(bytes.fromhex(loc.key or ""))
            buf = _read_exactly(conn.recv_into, loc)
    except (ConnectionResetError, ConnectionAbortedError, BrokenPipeError) as exc:
        # the producer's one-shot server closed while our connection still sat
        # in its listen backlog: the item was served already (or expired)
        raise _gone(loc, f"{loc.address} closed the connection ({exc})") from None
    with memoryview(buf) as view:
        return _frames.decode(view)


# -- dispatch -----------------------------------------------------------------

_PUT = {"file": _put_file, "fifo": _put_fifo, "tcp": _put_tcp, "shm": _put_shm,
        "sqlite": _put_sqlite}
_GET = {"file": _get_file, "fifo": _get_fifo, "tcp": _get_tcp, "shm": _get_shm,
        "sqlite": _get_sqlite}
_ONE_SHOT = ("fifo", "tcp")


def check_transport(transport: Any) -> str:
    if transport not in _PUT:
        raise ValueError(f"unknown transport {transport!r}: expected one of "
                         f"{', '.join(repr(t) for t in TRANSPORTS)}")
    return transport


def put(obj: Any, transport: str, serializer: str, opts: dict) -> ItemLocator:
    """Store ``obj`` with ``transport``; return its locator."""
    check_transport(transport)
    frame = _frames.encode(obj, serializer, oob=True)
    loc_kw = dict(transport=transport, serializer=serializer, size=frame.size,
                  pid=os.getpid(), host=_HOST)
    if transport in _ONE_SHOT:
        return _PUT[transport](frame, loc_kw, opts)  # the server thread owns the frame
    try:
        return _PUT[transport](frame, loc_kw, opts)
    finally:
        frame.release()


def get(loc: ItemLocator, remove: bool, timeout: float | None) -> Any:
    """Load (and with ``remove`` free) the item ``loc`` points at."""
    check_transport(loc.transport)
    if not remove and loc.transport in _ONE_SHOT:
        raise ValueError(f"load_item(remove=False) is impossible for transport "
                         f"{loc.transport!r}: it is served once; use 'file', 'shm' or "
                         "'sqlite' to keep an item")
    return _GET[loc.transport](loc, remove, timeout)


# -- cleanup ------------------------------------------------------------------

def _owned(path: str) -> bool:
    try:
        return os.lstat(path).st_uid == os.geteuid()
    except OSError:
        return False


def cleanup(dir: str | None = None, db: str | None = None) -> int:
    """Remove objects left by dead producer processes of this user.

    Scans ``dir`` (default: the temporary directory) for ``papy_<pid>_*.item``
    files and ``.fifo`` pipes, ``/dev/shm`` for ``papy_<pid>_*`` segments and
    the sqlite store ``dir/papy_items.sqlite3`` (or ``db``) for rows, and
    removes those whose producer ``pid`` is no longer running.  Objects of
    live processes and ``papy_keep_*`` objects (``timeout=None``) are kept.

    Returns:
        The number of objects removed.
    """
    removed = 0
    d = _dir(dir)
    places: list[tuple[str, tuple[str, ...], Callable[[str], object]]] = [
        (d, (".item", ".fifo"), _unlink)]
    if os.path.isdir("/dev/shm") and _shm._posixshmem is not None:
        places.append(("/dev/shm", ("",), lambda p: _shm.unlink(os.path.basename(p))))
    for where, suffixes, remove in places:
        try:
            entries = list(os.scandir(where))
        except OSError:
            continue
        for entry in entries:
            name = entry.name
            if not name.startswith(_leases.PREFIX) or not name.endswith(suffixes):
                continue
            pid = _leases.parse_name(name)
            if pid is None or not _leases.stale_pid(pid) or not _owned(entry.path):
                continue
            try:
                remove(entry.path)
                removed += 1
            except OSError as exc:
                log.warning("cannot remove stale item %s: %s", entry.path, exc)
    path = os.path.abspath(db) if db else os.path.join(d, DB_NAME)
    if os.path.exists(path) and _owned(path):
        try:
            con = _db(path)
            pids = [p for (p,) in con.execute(
                f"SELECT DISTINCT pid FROM {_TABLE} WHERE pid IS NOT NULL")]
            for pid in pids:
                if _leases.stale_pid(pid):
                    removed += con.execute(f"DELETE FROM {_TABLE} WHERE pid = ?",
                                           (pid,)).rowcount
        except sqlite3.Error as exc:
            log.warning("cannot clean item store %s: %s", path, exc)
    return removed
