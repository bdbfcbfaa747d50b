"""Where a dumped item is, and the helpers every transport shares.

:class:`ItemLocator` is what ``io.dump_item`` returns and ``io.load_item``
reads; it pickles by reference to this module, so a producer and its
consumers must run the same PaPy version.  :class:`TransferError` is raised
when an item cannot be stored or loaded.
"""
from __future__ import annotations

import dataclasses
import os
import socket
import tempfile
from typing import Any

from ..errors import PapyError
from . import frames

__all__ = ["ItemLocator", "TransferError", "HOST", "gone", "open_or_gone", "item_dir", "unlink",
           "write_frame", "decode_fd"]

HOST = socket.gethostname()


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


def gone(loc: ItemLocator, why: str) -> TransferError:
    remote = loc.host and loc.host != HOST and loc.transport in ("shm", "fifo")
    hint = (f"; it was dumped on host {loc.host!r} and {loc.transport!r} works only "
            "between processes of one host (use 'tcp', or 'file' on a shared filesystem)"
            if remote else
            " (already loaded, or released by its producer: producer-side timeout "
            "expired or producer process exited)")
    return TransferError(f"the data of item {loc} is gone: {why}{hint}")


def open_or_gone(loc: ItemLocator, flags: int, what: str) -> int:
    """``os.open`` the item's path; TransferError (the item is gone) if it does not exist."""
    try:
        return os.open(loc.address, flags)
    except FileNotFoundError:
        raise gone(loc, f"no {what} {loc.address}") from None


def item_dir(dir: str | None) -> str:
    return os.path.abspath(dir if dir is not None else tempfile.gettempdir())


def unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def write_frame(fd: int, frame: frames.Frame) -> None:
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


def decode_fd(fd: int, loc: ItemLocator, base: int = 0) -> Any:
    """Decode the frame stored at ``base`` in the file or segment ``fd``.

    Reading with pread copies each payload once, straight into the object
    the item is rebuilt from, without mapping pages into this process.
    """
    try:
        return frames.decode_from(lambda off, n, ro: _pread_exact(fd, n, base + off, ro))
    except EOFError as exc:
        raise TransferError(f"item {loc} is truncated: {exc}") from None
