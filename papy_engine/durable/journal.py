"""The journal of a results folder: what is durably written, and which units are complete.

``DIR/.papy-journal`` is a text file of records, one a line, each a compact
JSON object, a tab and the CRC-32 of the JSON text (8 hex digits)::

    {"kind":"header","format":1,"fingerprint":{...},"shape":{...},"files":{...}}\t1a2b3c4d
    {"kind":"session","n":1,"resume":false,"pid":123,"t":1700000000.0}\t...
    {"kind":"commit","files":{"out":[4096,120]},"done":[[0,40]],"inputs":{...}}\t...
    {"kind":"end","state":"finished","exit":0}\t...

A ``commit`` says: these result files were durable up to these byte sizes
(``[bytes, records]``), these units were complete (``done``: ranges, added to
those of earlier commits), these inputs had given ``[items, digest]``.  It is
appended only after every result file was flushed and fsynced up to the sizes
it names, and is itself fsynced before the next one is written: the journal
never claims what is not on disk.  A line without its newline, with a bad CRC
or not a record is a torn tail (a run killed while appending): it and
anything after it are ignored, which can only make the journal claim less.

A session starts by rewriting the journal atomically (temp file, fsync,
rename, fsync of the folder) as a header and one commit holding the whole
state, so it does not grow across sessions.
"""
from __future__ import annotations

import json
import logging
import os
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from .unitset import UnitSet

__all__ = ["JOURNAL", "Journal", "JournalState", "read_journal", "encode_line",
           "decode_line", "fsync_dir", "write_atomic", "append_record"]

log = logging.getLogger(__name__)

JOURNAL = ".papy-journal"
FORMAT = 1


def encode_line(record: dict) -> bytes:
    text = json.dumps(record, separators=(",", ":"), sort_keys=True)
    return f"{text}\t{zlib.crc32(text.encode()):08x}\n".encode()


def decode_line(line: bytes) -> dict | None:
    """The record of a complete line (ending in a newline), or None when it is not one."""
    if not line.endswith(b"\n"):
        return None
    text, tab, crc = line[:-1].rpartition(b"\t")
    if not tab or len(crc) != 8:
        return None
    try:
        if int(crc, 16) != zlib.crc32(text):
            return None
        record = json.loads(text)
    except ValueError:
        return None
    return record if isinstance(record, dict) and "kind" in record else None


@dataclass
class JournalState:
    """What a journal says, its torn tail left out."""
    header: dict
    done: UnitSet = field(default_factory=UnitSet)
    files: dict[str, list[int]] = field(default_factory=dict)   # piper -> [bytes, records]
    inputs: dict[str, list] = field(default_factory=dict)       # input -> [items, digest]
    unchecked: dict[str, str] = field(default_factory=dict)     # input -> why
    sessions: int = 0
    end: dict | None = None        # the last session's end record, if it ended
    torn: int = 0                  # bytes ignored at the end
    compacting: bool = False       # a resume began compacting the files and was cut short

    @property
    def finished(self) -> bool:
        return self.end is not None and self.end.get("state") == "finished"


def read_journal(directory: str | os.PathLike) -> JournalState | None:
    """The state the journal in ``directory`` records, or None when there is none.

    Raises:
        ValueError: the file is there but its first record is not a header.
    """
    path = Path(directory) / JOURNAL
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    state: JournalState | None = None
    pos = 0
    while pos < len(data):
        nl = data.find(b"\n", pos)
        end = len(data) if nl < 0 else nl + 1
        record = decode_line(data[pos:end])
        if record is None:
            break
        if state is None:
            if record["kind"] != "header" or record.get("format") != FORMAT:
                raise ValueError(f"{path}: not a PaPy results journal (format {FORMAT})")
            state = JournalState(header=record)
        else:
            _apply(state, record)
        pos = end
    if state is None:
        raise ValueError(f"{path}: no journal header (the file is empty or torn)")
    state.torn = len(data) - pos
    if state.torn:
        log.warning("%s: ignoring a torn tail of %d bytes", path, state.torn)
    return state


def _apply(state: JournalState, record: dict) -> None:
    kind = record["kind"]
    if kind == "session":
        state.sessions += 1
        state.end = None
    elif kind == "commit":
        for a, b in record.get("done", []):
            state.done.add_range(a, b)
        state.files.update(record.get("files", {}))
        state.inputs.update(record.get("inputs", {}))
        state.unchecked.update(record.get("unchecked", {}))
    elif kind == "end":
        state.end = record
    elif kind == "compact":
        state.compacting = True


def append_record(directory: str | os.PathLike, state: JournalState, record: dict) -> None:
    """Append ``record`` durably to an existing journal, after cutting its torn tail."""
    path = Path(directory) / JOURNAL
    with open(path, "r+b") as f:
        f.seek(0, os.SEEK_END)
        f.truncate(f.tell() - state.torn)
        f.seek(0, os.SEEK_END)
        f.write(encode_line(record))
        f.flush()
        os.fsync(f.fileno())
    state.torn = 0


def fsync_dir(directory: str | os.PathLike) -> None:
    """Make the folder's entries (new and renamed files) durable."""
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:  # e.g. Windows: folders cannot be opened
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data``: temp file, fsync, rename, fsync of the folder."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


class Journal:
    """The journal of one session: rewritten at the start, then appended to."""

    def __init__(self, directory: str | os.PathLike, header: dict, state: dict) -> None:
        """Write the journal afresh: ``header`` and one commit record ``state``."""
        self.path = Path(directory) / JOURNAL
        self.header = dict(header, kind="header", format=FORMAT)
        self._f: IO[bytes] | None = None
        self.lines = 0
        self.rewrite(state)

    def rewrite(self, state: dict) -> None:
        """Replace the journal, atomically, by the header and one commit ``state``."""
        if self._f is not None:
            self._f.close()
        write_atomic(self.path, encode_line(self.header)
                     + encode_line(dict(state, kind="commit")))
        self._f = open(self.path, "ab")
        self.lines = 2

    def append(self, record: dict[str, Any]) -> None:
        """Append one record and make it durable (flush and fsync)."""
        if self._f is None:
            raise ValueError("the journal is closed")
        self._f.write(encode_line(record))
        self._f.flush()
        os.fsync(self._f.fileno())
        self.lines += 1

    def close(self) -> None:
        f, self._f = self._f, None
        if f is not None:
            f.close()
