"""Results on disk: one JSON-lines file per piper, written as results arrive.

``papy run SCRIPT --results DIR`` (and the editor's "Save results") writes
the results of the tracked pipers -- or of every output piper when none is
tracked -- to ``DIR/<piper>.jsonl``, one record per line, flushed batch by
batch, so a long run's output is on disk while it runs::

    {"i": 0, "v": 42}                          a JSON value, exactly as it was
    {"i": 1, "pickle": "gASV..."}              anything else (tuples, sets, objects), base64
    {"i": 2, "error": {"kind": "WorkerError",  a placeholder
                       "exc_type": ..., "message": ..., "piper": ..., "index": ...}}

``i`` is the result's position in the piper's output.  Values are written as
JSON only when reading them back gives the same value (no tuples, no
non-string keys, no NaN); everything else is pickled.  :func:`read_results`
gives the values back and drops a torn last line (a run killed mid-write).
"""
from __future__ import annotations

import base64
import json
import logging
import math
import os
import pickle
import re
from collections.abc import Callable, Iterable
from json.encoder import encode_basestring_ascii
from pathlib import Path
from typing import IO, Any

from .errors import PiperError, WorkerError, _Placeholder

__all__ = ["ResultsWriter", "read_results", "pipers_to_write", "file_name"]

log = logging.getLogger(__name__)

_PLACEHOLDERS = {"WorkerError": WorkerError, "PiperError": PiperError}
_FIELDS = ("exc_type", "message", "traceback", "function", "piper", "index")


def pipers_to_write(plumber: Any) -> list[str]:
    """The tracked pipers, or every output piper when none is tracked."""
    tracked = [p.name for p in plumber.postorder() if p.track]
    return tracked or [p.name for p in plumber.get_outputs()]


def file_name(piper: str) -> str:
    """``<piper>.jsonl``, with characters unsafe in file names replaced by ``_``."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", piper).lstrip(".") or "piper"
    return f"{safe}.jsonl"


def _jsonable(v: Any, depth: int = 0) -> bool:
    """True when ``json.loads(json.dumps(v)) == v`` with the same types."""
    t = type(v)
    if t is str or t is bool or v is None or t is int:
        return True
    if t is float:
        return math.isfinite(v)
    if depth > 20:
        return False
    if t is list:
        return all(_jsonable(x, depth + 1) for x in v)
    if t is dict:
        return all(type(k) is str and _jsonable(x, depth + 1) for k, x in v.items())
    return False


# What json.dumps writes for these types (ensure_ascii strings, repr of floats).
_SCALARS: dict[type, Callable[[Any], str]] = {
    int: int.__repr__, float: float.__repr__, str: encode_basestring_ascii,
    bool: lambda b: "true" if b else "false", type(None): lambda _: "null"}


def encode(index: int, value: Any, e: int | None = None,
           error_index: Callable[[Any], Any] | None = None) -> str:
    """One record (a line, without its newline) for the result ``value``.

    Args:
        e: the evaluation the result came from, written as ``"e"`` (a durable
            run writes it for pipers whose output order is not determined).
        error_index: for a placeholder, gives the ``index`` to write (a resumed
            run numbers evaluations as an uninterrupted run would).
    """
    t = type(value)
    if t in _SCALARS and (t is not float or math.isfinite(value)):   # the common case, fast
        text = _SCALARS[t](value)
        if e is None:
            return f'{{"i":{index:d},"v":{text}}}'
        return f'{{"i":{index:d},"e":{e:d},"v":{text}}}'
    head: dict[str, Any] = {"i": index} if e is None else {"i": index, "e": e}
    if isinstance(value, _Placeholder):
        err = {"kind": type(value).__name__}
        err.update({f: getattr(value, f) for f in _FIELDS})
        if error_index is not None:
            err["index"] = error_index(value)
        head["error"] = err
    elif _jsonable(value):
        head["v"] = value
    else:
        data = base64.b64encode(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
        head["pickle"] = data.decode("ascii")
    return json.dumps(head, separators=(",", ":"))


def decode(line: str) -> tuple[int, Any]:
    """``(index, value)`` of one record; raises ValueError when it is not one."""
    rec = json.loads(line)
    if not isinstance(rec, dict) or "i" not in rec:
        raise ValueError("not a result record")
    if "v" in rec:
        return rec["i"], rec["v"]
    if "pickle" in rec:
        return rec["i"], pickle.loads(base64.b64decode(rec["pickle"]))
    err = rec["error"]
    cls = _PLACEHOLDERS.get(err.get("kind"), WorkerError)
    ph = cls(err.get("message", ""), exc_type=err.get("exc_type"),
             traceback=err.get("traceback", ""), function=err.get("function"),
             piper=err.get("piper"), index=err.get("index"))
    return rec["i"], ph


def read_results(path: str | os.PathLike) -> list:
    """The results in a ``.jsonl`` file written by :class:`ResultsWriter`, in order.

    A last line without its newline is the torn tail of a run killed while
    writing: it is dropped (and logged).  Any other line that is not a record
    raises ValueError naming the line.
    """
    with open(path, encoding="utf-8") as f:
        text = f.read()
    lines = text.split("\n")
    torn = lines.pop()            # "" when the file ends with a newline
    if torn:
        log.warning("%s: dropping a torn last record (%d characters, no newline)", path,
                    len(torn))
    out: list = []
    for n, line in enumerate(lines, 1):
        try:
            out.append(decode(line)[1])
        except (ValueError, KeyError, pickle.UnpicklingError, EOFError) as exc:
            raise ValueError(f"{path}:{n}: not a result record: {exc}") from exc
    return out


class ResultsWriter:
    """Writes the results of some pipers to ``directory``, one file each."""

    def __init__(self, directory: str | os.PathLike, pipers: Iterable[str]) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.paths: dict[str, Path] = {}
        self._files: dict[str, IO[str]] = {}
        taken: set[str] = set()
        for name in pipers:
            fname, n = file_name(name), 2
            while fname in taken:
                fname, n = file_name(f"{name}_{n}"), n + 1
            taken.add(fname)
            self.paths[name] = self.directory / fname
            self._files[name] = open(self.paths[name], "w", encoding="utf-8")

    def sink(self, name: str):
        """The sink for piper ``name``: ``sink(first_index, results, first_eval)``
        appends the results."""
        f = self._files[name]

        def write(first: int, results: list, first_eval: int = 0) -> None:
            f.write("".join(encode(first + k, r) + "\n" for k, r in enumerate(results)))
            f.flush()
        return write

    def sinks(self) -> dict:
        return {name: self.sink(name) for name in self._files}

    def close(self) -> None:
        """Flush and close every file (safe to repeat)."""
        files, self._files = self._files, {}
        for f in files.values():
            try:
                f.close()
            except OSError:
                log.exception("closing a results file")
