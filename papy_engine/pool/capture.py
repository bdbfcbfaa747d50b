"""Capturing what node functions print, per thread, so it reaches the editor.

When a run asks for it (``Mode.capture``), the worker evaluating a chunk
collects what the chunk's functions write to ``sys.stdout`` and
``sys.stderr``; the text travels back with the chunk's results and the run
reports it, in result order, as an ``"output"`` event.  ``sys.stdout`` and
``sys.stderr`` are replaced once per process by a :class:`_Router` that
sends a thread's writes to that thread's capture while one is open, and to
the original stream otherwise -- so thread pools and serial pipers in the
driving process capture only their own prints, and everything else (the
editor's own console, other threads) is untouched.
"""
from __future__ import annotations

import sys
import threading
from contextlib import contextmanager
from collections.abc import Iterator
from typing import Any, TextIO

__all__ = ["captured", "MAX_CHARS"]

MAX_CHARS = 1 << 20   # text kept per chunk; the rest is counted, not kept

_local = threading.local()
_install_lock = threading.Lock()


class _Router:
    """A stream that writes to the current thread's capture, else to ``original``."""

    def __init__(self, original: TextIO) -> None:
        self.original = original

    def write(self, text: str) -> int:
        buf = getattr(_local, "buf", None)
        if buf is None:
            return self.original.write(text)
        if buf.size < MAX_CHARS:
            buf.parts.append(text[:MAX_CHARS - buf.size])
        buf.size += len(text)
        return len(text)

    def flush(self) -> None:
        if getattr(_local, "buf", None) is None:
            self.original.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.original, name)


class _Buffer:
    __slots__ = ("parts", "size")

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.size = 0

    def text(self) -> str:
        out = "".join(self.parts)
        if self.size > MAX_CHARS:
            out += f"\n[... {self.size - MAX_CHARS} more characters not kept]\n"
        return out


def _install() -> None:
    with _install_lock:
        if not isinstance(sys.stdout, _Router):
            sys.stdout = _Router(sys.stdout)
        if not isinstance(sys.stderr, _Router):
            sys.stderr = _Router(sys.stderr)


@contextmanager
def captured(on: bool) -> Iterator[list[str]]:
    """Collect this thread's prints while open; the text is in the list afterwards."""
    out: list[str] = []
    if not on:
        yield out
        return
    _install()
    buf = _Buffer()
    _local.buf = buf
    try:
        yield out
    finally:
        _local.buf = None
        out.append(buf.text())
