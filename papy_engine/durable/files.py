"""Result files of a durable run: cut back to what the journal claims, keep complete units.

Records are the lines :func:`papy_engine.results.encode` writes, starting
with ``{"i":N`` and, for a piper whose output order is not determined, the
evaluation it came from, ``,"e":M``.  The unit of a record follows from them
(:mod:`.units`): ``(i // produce) // E`` for an ordered piper, ``e // E``
otherwise.

:func:`compact` is what a resumed run does to each file before it appends:
drop what follows the size the journal claims (records written after the
last commit: torn or not, they are not known to be durable), drop the
records of units that are not complete (they are computed again), and --
when that leaves records out of ``i`` order or with gaps to renumber --
rewrite the file atomically; otherwise it only truncates it.  A crash in
the middle leaves either file valid for the old journal, since compacting
only removes records of incomplete units and never makes a file longer.
"""
from __future__ import annotations

import heapq
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import ResultsError
from .journal import fsync_dir

__all__ = ["compact", "FileState", "record_key"]

_HEAD = re.compile(rb'\{"i":(\d+)(?:,"e":(\d+))?[,}]')


@dataclass
class FileState:
    """A result file after :func:`compact`."""
    size: int          # bytes
    records: int
    last_i: int        # the largest i (-1 for none)
    sorted: bool       # lines in increasing i


def record_key(line: bytes) -> tuple[int, int | None]:
    """``(i, e)`` of a record line (``e`` None when it has none)."""
    m = _HEAD.match(line)
    if m is None:
        raise ValueError(f"not a result record: {line[:60]!r}")
    return int(m.group(1)), (int(m.group(2)) if m.group(2) is not None else None)


def _lines(path: Path, limit: int) -> Iterator[tuple[int, bytes]]:
    """``(offset, line)`` of every whole line in the first ``limit`` bytes."""
    with open(path, "rb") as f:
        pos = 0
        while pos < limit:
            line = f.readline()
            if not line or pos + len(line) > limit or not line.endswith(b"\n"):
                return
            yield pos, line
            pos += len(line)


def compact(path: Path, limit: int, keep: Callable[[int, int | None], bool],
            loose: bool) -> FileState:
    """Cut ``path`` to ``limit`` bytes and to the records ``keep(i, e)`` accepts.

    Args:
        loose: records are numbered in line order (``i`` = line number) rather
            than sorted by ``i``.

    Raises:
        ResultsError: the file is shorter than ``limit`` or holds a line that
            is not a record.
    """
    size = path.stat().st_size if path.exists() else 0
    if size < limit:
        raise ResultsError(f"{path} has {size} bytes, but the journal says {limit} were "
                           "written: the folder was changed by hand; cannot resume")
    cut, n, last, in_order, prefix, end = 0, 0, -1, True, True, 0
    for pos, line in _lines(path, limit):
        try:
            i, e = record_key(line)
        except ValueError as exc:
            raise ResultsError(f"{path}, byte {pos}: {exc}") from None
        if not keep(i, e):
            prefix = False
            continue
        if not prefix or (loose and i != n) or (not loose and i <= last):
            in_order = False
        if not loose:
            last = max(last, i)
        n, end = n + 1, pos + len(line)
        cut = end if in_order else cut
    if in_order:
        with open(path, "r+b") as f:
            f.truncate(cut)
            f.flush()
            os.fsync(f.fileno())
        return FileState(cut, n, n - 1 if loose else last, True)
    return _rewrite(path, limit, keep, loose)


def _rewrite(path: Path, limit: int, keep: Callable[[int, int | None], bool],
             loose: bool) -> FileState:
    tmp = path.with_name(path.name + ".tmp")
    n, last, size = 0, -1, 0
    with open(tmp, "wb") as out:
        if loose:
            for _, line in _lines(path, limit):
                i, e = record_key(line)
                if keep(i, e):
                    m = _HEAD.match(line)
                    line = b'{"i":%d' % n + line[m.end(1):]  # type: ignore[union-attr]
                    out.write(line)
                    n, size = n + 1, size + len(line)
            last = n - 1
        else:
            for i, line in _merged(path, limit, keep):
                out.write(line)
                n, last, size = n + 1, i, size + len(line)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)
    return FileState(size, n, last, True)


def _merged(path: Path, limit: int,
            keep: Callable[[int, int | None], bool]) -> Iterator[tuple[int, bytes]]:
    """The kept records in ``i`` order: a merge of the file's increasing runs."""
    starts, last = [], None
    for pos, line in _lines(path, limit):
        i, e = record_key(line)
        if keep(i, e):
            if last is None or i <= last:
                starts.append(pos)
            last = i
    bounds = list(zip(starts, starts[1:] + [limit]))

    def run(a: int, b: int) -> Iterator[tuple[int, bytes]]:
        with open(path, "rb") as f:
            f.seek(a)
            pos = a
            while pos < b:
                line = f.readline()
                pos += len(line)
                i, e = record_key(line)
                if keep(i, e):
                    yield i, line
    yield from heapq.merge(*(run(a, b) for a, b in bounds), key=lambda r: r[0])


def sort_file(path: Path) -> FileState:
    """Rewrite ``path`` with its records in ``i`` order (the end of a resumed run)."""
    size = path.stat().st_size
    return _rewrite(path, size, lambda i, e: True, loose=False)
