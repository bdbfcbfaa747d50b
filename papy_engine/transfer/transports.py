"""Transports of ``io.dump_item``/``io.load_item``: where a frame is kept.

Each transport has a ``put(frame, loc_kw, opts) -> ItemLocator`` run by the
producer and a ``get(locator, remove, timeout) -> item`` run by the consumer;
:func:`put` and :func:`get` pick one by name.

* ``file``: a file ``papy_<pid>_<token>.item`` in ``dir``.
* ``shm``: a POSIX shared-memory segment ``/papy_<pid>_<token>``, recycled
  by its producer (see :mod:`.shm`).
* ``sqlite``: a row ``(key, pid, created, data)`` of table ``papy_items`` in
  ``dir/papy_items.sqlite3``, written and read with incremental blob I/O.
* ``fifo`` and ``tcp``: streamed once by a producer thread (see :mod:`.streams`).

``file`` and ``shm`` items are read with ``pread``: each payload is copied
once, straight into the object it is rebuilt from.
"""
from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import Any

from . import frames, leases, shm, streams
from .locator import (HOST, ItemLocator, TransferError, decode_fd, gone, item_dir,
                      open_or_gone, unlink, write_frame)

__all__ = ["ItemLocator", "TransferError", "TRANSPORTS", "put", "get", "cleanup",
           "check_transport"]

log = logging.getLogger(__name__)

TRANSPORTS = ("file", "fifo", "tcp", "shm", "sqlite")
DB_NAME = "papy_items.sqlite3"
_TABLE = "papy_items"


# -- file ---------------------------------------------------------------------

def _put_file(frame, loc_kw, opts) -> ItemLocator:
    name = leases.new_name(opts["timeout"] is None)
    path = os.path.join(item_dir(opts["dir"]), name + ".item")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC,
                 0o600)
    try:
        write_frame(fd, frame)
    except BaseException:
        os.close(fd)
        unlink(path)
        raise
    os.close(fd)
    if opts["timeout"] is not None:
        leases.add(opts["timeout"], lambda: unlink(path))
    return ItemLocator(address=path, **loc_kw)


def _get_file(loc: ItemLocator, remove: bool, timeout: float | None) -> Any:
    fd = open_or_gone(loc, os.O_RDONLY | os.O_CLOEXEC, "file")
    try:
        if remove:  # the open fd keeps the data readable
            unlink(loc.address)
        return decode_fd(fd, loc)
    finally:
        os.close(fd)


# -- shm ----------------------------------------------------------------------

def _need_shm() -> None:
    if shm._posixshmem is None:  # pragma: no cover
        raise TransferError("transport 'shm' needs POSIX shared memory (not available "
                            "on this platform): use 'file' or 'tcp'")


def _put_shm(frame, loc_kw, opts) -> ItemLocator:
    _need_shm()
    name, gen = shm.put(frame, opts["timeout"])
    return ItemLocator(address=name, key=str(gen), **loc_kw)


def _get_shm(loc: ItemLocator, remove: bool, timeout: float | None) -> Any:
    _need_shm()
    try:
        fd = shm.open_item(loc.address)
    except FileNotFoundError:
        raise gone(loc, f"no shared-memory segment {loc.address!r}") from None
    try:
        gen = int(loc.key or 0)
        if shm.read_ctrl(fd) != (shm.BUSY, gen):
            raise gone(loc, f"segment {loc.address!r} holds no item #{gen} any more")
        item = decode_fd(fd, loc, shm.HEADER)
        if shm.read_ctrl(fd) != (shm.BUSY, gen):  # recycled while we read
            raise gone(loc, f"segment {loc.address!r} was recycled while loading")
        if remove:
            if loc.address.startswith(leases.PREFIX + "keep_"):
                shm.unlink(loc.address)
            else:
                shm.write_ctrl(fd, shm.FREE, gen)  # back to its producer's pool
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
        item_dir(opts["dir"]), DB_NAME)


def _db_delete(path: str, key: str) -> None:
    if os.path.exists(path):
        _db(path).execute(f"DELETE FROM {_TABLE} WHERE key = ?", (key,))


def _put_sqlite(frame, loc_kw, opts) -> ItemLocator:
    path = _db_path(opts)
    key = leases.new_name(opts["timeout"] is None)
    pid = leases.parse_name(key)
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
        leases.add(opts["timeout"], lambda: _db_delete(path, key))
    return ItemLocator(address=path, key=key, **loc_kw)


def _get_sqlite(loc: ItemLocator, remove: bool, timeout: float | None) -> Any:
    if not os.path.exists(loc.address):
        raise gone(loc, f"no database {loc.address}")
    con = _db(loc.address)
    con.execute("BEGIN IMMEDIATE" if remove else "BEGIN")
    try:
        row = con.execute(f"SELECT rowid FROM {_TABLE} WHERE key = ?", (loc.key,)).fetchone()
        if row is None:
            raise gone(loc, f"no row with key {loc.key!r} in {loc.address}")
        with con.blobopen(_TABLE, "data", row[0], readonly=True) as blob:
            data = blob.read()
        if remove:
            con.execute(f"DELETE FROM {_TABLE} WHERE rowid = ?", (row[0],))
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    with memoryview(data) as view:
        return frames.decode(view)



# -- dispatch -----------------------------------------------------------------

_PUT = {"file": _put_file, "fifo": streams.put_fifo, "tcp": streams.put_tcp, "shm": _put_shm,
        "sqlite": _put_sqlite}
_GET = {"file": _get_file, "fifo": streams.get_fifo, "tcp": streams.get_tcp, "shm": _get_shm,
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
    frame = frames.encode(obj, serializer, oob=True)
    loc_kw = dict(transport=transport, serializer=serializer, size=frame.size,
                  pid=os.getpid(), host=HOST)
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
    d = item_dir(dir)
    places: list[tuple[str, tuple[str, ...], Callable[[str], object]]] = [
        (d, (".item", ".fifo"), unlink)]
    if os.path.isdir("/dev/shm") and shm._posixshmem is not None:
        places.append(("/dev/shm", ("",), lambda p: shm.unlink(os.path.basename(p))))
    for where, suffixes, remove in places:
        try:
            entries = list(os.scandir(where))
        except OSError:
            continue
        for entry in entries:
            name = entry.name
            if not name.startswith(leases.PREFIX) or not name.endswith(suffixes):
                continue
            pid = leases.parse_name(name)
            if pid is None or not leases.stale_pid(pid) or not _owned(entry.path):
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
                if leases.stale_pid(pid):
                    removed += con.execute(f"DELETE FROM {_TABLE} WHERE pid = ?",
                                           (pid,)).rowcount
        except sqlite3.Error as exc:
            log.warning("cannot clean item store %s: %s", path, exc)
    return removed
