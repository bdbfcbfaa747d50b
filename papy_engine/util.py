"""Small helpers shared by the engine, the plugins and the editor."""
from __future__ import annotations

import os
import tempfile
from typing import IO, Any

__all__ = ["atomic_write"]


def atomic_write(path: str | os.PathLike, data: str | bytes, *, fsync: bool = True,
                 encoding: str = "utf-8") -> None:
    """Write ``data`` to ``path`` so that a crash leaves the old file or the new one.

    The data goes to a temporary file in the same folder, which then replaces
    ``path`` (``os.replace`` is atomic on one filesystem).  An existing file's
    execute bits are kept, so a saved script that was ``chmod +x`` stays so.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=folder)
    try:
        if isinstance(data, str):
            handle: IO[Any] = os.fdopen(fd, "w", encoding=encoding, newline="")
        else:
            handle = os.fdopen(fd, "wb")
        with handle:
            handle.write(data)
            handle.flush()
            if fsync:
                os.fsync(handle.fileno())
        mode = 0o644
        try:
            mode |= os.stat(path).st_mode & 0o111
        except OSError:
            pass
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
