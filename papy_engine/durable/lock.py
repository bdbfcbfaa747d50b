"""One writer per results folder: an advisory lock that dies with its process.

``DIR/.papy-lock`` is locked with ``fcntl.lockf`` (a POSIX record lock):
the kernel releases it when the process ends, however it ends (kill -9
included), and -- unlike ``flock`` -- worker processes forked while it is
held do not inherit it, so a killed run's orphans cannot keep the folder
locked.  A POSIX lock is per process, so a second lock of the same folder in
the same process is refused by a registry of the folders this process holds.
The file holds the holder's pid, host and start time, for the message; it is
removed on release (while still locked, so no one can lock a file that is
about to disappear: a locker checks that the file it locked is still the
one at the path).
"""
from __future__ import annotations

import json
import os
import socket
import threading
import time
from pathlib import Path

from ..errors import ResultsError

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None  # type: ignore[assignment]

__all__ = ["DirLock", "LOCK"]

LOCK = ".papy-lock"
_held: set[str] = set()
_held_lock = threading.Lock()


class DirLock:
    """The lock of one results folder; :meth:`acquire` or ``with`` it."""

    def __init__(self, directory: str | os.PathLike) -> None:
        self.directory = Path(directory)
        self.path = self.directory / LOCK
        self._key = os.path.realpath(self.directory)
        self._fd: int | None = None

    def __enter__(self) -> "DirLock":
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        """Lock the folder (creating it), or raise if another run holds it.

        Raises:
            ResultsError: another run (this process or another) writes there.
        """
        if fcntl is None:  # pragma: no cover
            raise ResultsError("results folders need POSIX file locks (fcntl)")
        self.directory.mkdir(parents=True, exist_ok=True)
        with _held_lock:
            if self._key in _held:
                raise ResultsError(f"{self.directory} is being written by another run in "
                                   "this process")
            _held.add(self._key)
        try:
            self._fd = self._lock()
        except BaseException:
            with _held_lock:
                _held.discard(self._key)
            raise

    def _lock(self) -> int:
        for _ in range(100):
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                holder = _read_holder(fd)
                os.close(fd)
                raise ResultsError(f"{self.directory} is being written by another run "
                                   f"({holder}); wait for it to end, or stop it") from None
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                info = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()}
                os.ftruncate(fd, 0)
                os.pwrite(fd, json.dumps(info).encode(), 0)
                return fd
            os.close(fd)   # the holder removed it as we locked it: try the new one
        raise ResultsError(f"{self.directory}: could not lock {self.path}")

    def release(self) -> None:
        """Unlock and remove the lock file (safe to repeat)."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass
        finally:
            os.close(fd)
            with _held_lock:
                _held.discard(self._key)


def _read_holder(fd: int) -> str:
    try:
        info = json.loads(os.pread(fd, 4096, 0) or b"{}")
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(info["since"]))
        return f"pid {info['pid']} on {info['host']}, since {since}"
    except (OSError, ValueError, KeyError, TypeError):
        return "its process is unknown"
