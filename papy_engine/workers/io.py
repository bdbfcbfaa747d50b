"""Input/output node functions: printing, serializers, streams, direct transfer.

Every function here that takes an ``inbox`` is a node function (see
:class:`~papy_engine.worker.Worker`): it uses ``inbox[0]`` and returns one
object.  ``load_stream`` and ``make_lines`` are not node functions: they build
the *input* iterables of a pipeline from open files.

Direct transfer of large items
------------------------------
By default a result travels from a worker process to the driving process
and on to the next worker process, pickled twice.  ``dump_item`` stores the
item where the next worker can read it directly and returns a small
:class:`ItemLocator` instead; ``load_item`` reads the item back and frees what
held it::

    upstream = Worker((f, io.dump_item), kwargs=({}, {"type": "shm"}))
    downstream = Worker((io.load_item, g))

Transports (``type=``): ``file``, ``fifo``, ``tcp``, ``shm``, ``sqlite``;
serializers: ``pickle`` (default), ``marshal``, ``json``, ``dill``.  See
``docs/transfer.md`` for the lifetimes of stored items and :func:`cleanup`.
"""
from __future__ import annotations

import json
import pickle
import sys
import time
from collections.abc import Iterator
from typing import IO, Any

from ..transfer.frames import SERIALIZERS, check_serializer
from ..transfer.locator import ItemLocator, TransferError
from ..transfer.transports import TRANSPORTS, check_transport
from ..transfer.transports import cleanup as _cleanup
from ..transfer.transports import get as _get
from ..transfer.transports import put as _put

__all__ = [
    "print_", "pickle_dumps", "pickle_loads", "json_dumps", "json_loads",
    "dump_stream", "load_stream", "make_lines", "dump_item", "load_item", "cleanup",
    "ItemLocator", "TransferError", "TRANSPORTS", "SERIALIZERS",
]


def _first(inbox: Any, func: str) -> Any:
    if not isinstance(inbox, (tuple, list)) or not inbox:
        raise TypeError(f"{func}() takes an inbox: a non-empty tuple with one element per "
                        f"input pipe (got {inbox!r} that is a {type(inbox).__name__})")
    return inbox[0]


# -- printing -------------------------------------------------------------------

def print_(inbox: tuple, file: IO[str] | None = None, flush: bool = True) -> Any:
    """Print the first element of the inbox and pass it on unchanged.

    Args:
        file: a text stream; defaults to ``sys.stdout`` at call time.
        flush: flush after each item so output from worker processes shows up.

    Returns:
        ``inbox[0]``, so the printer can sit in the middle of a pipeline.
    """
    item = _first(inbox, "print_")
    print(item, file=file if file is not None else sys.stdout, flush=flush)
    return item


# -- serializers ---------------------------------------------------------------

def pickle_dumps(inbox: tuple, protocol: int = pickle.HIGHEST_PROTOCOL) -> bytes:
    """Serialize ``inbox[0]`` with pickle (the highest protocol by default)."""
    return pickle.dumps(_first(inbox, "pickle_dumps"), protocol=protocol)


def pickle_loads(inbox: tuple) -> Any:
    """Rebuild an object from the pickle in ``inbox[0]`` (trusted data only)."""
    return pickle.loads(_first(inbox, "pickle_loads"))


def json_dumps(inbox: tuple, **kwargs: Any) -> str:
    """Serialize ``inbox[0]`` as JSON text; ``kwargs`` go to :func:`json.dumps`.

    Raises:
        TypeError: ``inbox[0]`` holds a non-JSON object (the message names it).
    """
    obj = _first(inbox, "json_dumps")
    try:
        return json.dumps(obj, **kwargs)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"json_dumps cannot encode an object of type {type(obj).__name__} "
                        f"({exc}); JSON handles dict (str keys), list, tuple, str, int, "
                        "float, bool and None") from exc


def json_loads(inbox: tuple, **kwargs: Any) -> Any:
    """Parse the JSON text (str or bytes) in ``inbox[0]``."""
    return json.loads(_first(inbox, "json_loads"), **kwargs)


# -- streams -------------------------------------------------------------------

def dump_stream(inbox: tuple, handle: IO, delimiter: str | bytes | None = None) -> None:
    """Write ``inbox[0]`` to ``handle`` followed by a delimiter line.

    The item (str for a text handle, bytes for a binary one) is followed by a
    newline and the delimiter on a line of its own (an empty line by default),
    so :func:`load_stream` with the same delimiter gives the items back
    exactly, trailing newlines included.  Items must not contain the
    delimiter line (with the default, no blank line and no empty item).  Only one process may write a handle:
    use it in a serial (non-parallel) piper.
    """
    item = _first(inbox, "dump_stream")
    nl = b"\n" if isinstance(item, (bytes, bytearray)) else "\n"
    delim = delimiter if delimiter is not None else nl[:0]
    if isinstance(delim, str) and isinstance(nl, bytes):
        delim = delim.encode()
    elif isinstance(delim, (bytes, bytearray)) and isinstance(nl, str):
        delim = delim.decode()
    handle.write(item + nl + delim + nl)


def load_stream(handle: IO, delimiter: str | bytes | None = None) -> Iterator:
    """Yield the items written by :func:`dump_stream` to ``handle``, exactly.

    ``dump_stream`` writes each item, a newline and the delimiter line, so an
    item ends at a delimiter line; when several delimiter lines follow each
    other, the last one ends the item and the others belong to it (an item
    that itself ends with a newline, with the default empty delimiter, is
    followed by two blank lines).  The newline ``dump_stream`` added is
    removed, so ``load_stream`` gives back what ``dump_stream`` was given.
    With the default delimiter (a blank line) an item must not be empty nor
    contain a blank line; pick a delimiter such as ``"---"`` for any text.
    """
    def items():
        lines: list[Any] = []
        pending = 0             # delimiter lines seen since the last other line
        delim_line: Any = None  # str or bytes, like the handle's lines
        empty: Any = ""
        for line in handle:
            if delim_line is None:
                delim_line, empty = _delimiter_line(line, delimiter)
            if line == delim_line or line == delim_line[:-1]:
                pending += 1
                continue
            if pending:
                yield _stream_item(lines + [delim_line] * (pending - 1), empty)
                lines, pending = [], 0
            lines.append(line)
        if pending:
            yield _stream_item(lines + [delim_line] * (pending - 1), empty)
        elif lines:  # a last item without its delimiter (a cut-off file)
            yield _stream_item(lines, empty)
    return items()


def _delimiter_line(line: Any, delimiter: str | bytes | None) -> tuple[Any, Any]:
    """The delimiter line, typed like ``line`` (str or bytes), and an empty one."""
    nl: Any = b"\n" if isinstance(line, bytes) else "\n"
    d: Any = delimiter if delimiter is not None else nl[:0]
    if isinstance(d, str) and isinstance(nl, bytes):
        d = d.encode()
    elif isinstance(d, (bytes, bytearray)) and isinstance(nl, str):
        d = d.decode()
    return d + nl, nl[:0]


def _stream_item(lines: list, empty: Any) -> Any:
    text = empty.join(lines)
    return text[:-1] if text[-1:] in ("\n", b"\n") else text


def make_lines(handle: IO, follow: bool = False, wait: float = 0.1) -> Iterator:
    """Yield the lines of ``handle``; with ``follow`` keep waiting like ``tail -f``.

    Args:
        follow: at the end of the file, poll every ``wait`` seconds for more
            lines instead of stopping (stop by closing the pipeline).
        wait: seconds between polls when following.
    """
    while True:
        line = handle.readline()
        if line:
            yield line
        elif follow:
            time.sleep(wait)
        else:
            return


# -- direct transfer -----------------------------------------------------------

def dump_item(inbox: tuple, type: str = "file", serializer: str = "pickle",
              dir: str | None = None, *, timeout: float | None = 60.0,
              host: str = "127.0.0.1", advertise: str | None = None,
              db: str | None = None) -> ItemLocator:
    """Store ``inbox[0]`` for a later :func:`load_item`; return its locator.

    Args:
        type: the transport: ``"file"`` (a file in ``dir``; works across hosts
            over a shared filesystem), ``"fifo"`` (a named pipe in ``dir``),
            ``"tcp"`` (served from an ephemeral port), ``"shm"`` (POSIX shared
            memory) or ``"sqlite"`` (a row of the database ``dir/papy_items.sqlite3``).
        serializer: ``"pickle"``, ``"marshal"``, ``"json"`` or ``"dill"``.
            ``pickle`` and ``dill`` send large bytes/bytearray/array payloads
            out of band (pickle protocol 5), without copying them into a stream.
        dir: directory of ``file``/``fifo`` items and of the sqlite store
            (default: the temporary directory).
        timeout: seconds the item is kept for its consumer; after that the
            producer process frees it (and it frees the rest when it exits).
            ``None`` keeps file/shm/sqlite items until loaded (named
            ``papy_keep_*``, never touched by :func:`cleanup`) and lets
            fifo/tcp servers wait for as long as the producer process lives.
        host: the address the ``tcp`` server binds (loopback by default; use
            ``"0.0.0.0"`` to serve other hosts).
        advertise: the host name written in a ``tcp`` locator (default: ``host``,
            or this machine's FQDN for a wildcard address).
        db: the sqlite database file (default ``dir/papy_items.sqlite3``).

    Returns:
        An :class:`ItemLocator`: small, picklable, the input of ``load_item``.

    Raises:
        ValueError: an unknown transport or serializer, or a bad timeout.
        TypeError: the serializer cannot encode the item.
        OSError: the object could not be created (directory missing, full...).
    """
    item = _first(inbox, "dump_item")
    check_transport(type)
    check_serializer(serializer)
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(
            timeout, (int, float)) or timeout <= 0):
        raise ValueError(f"dump_item timeout must be a number > 0 or None (got {timeout!r})")
    opts = {"dir": dir, "timeout": timeout, "host": host, "advertise": advertise, "db": db}
    return _put(item, type, serializer, opts)


def load_item(inbox: tuple, remove: bool = True, timeout: float | None = 60.0) -> Any:
    """Return the item whose :class:`ItemLocator` is ``inbox[0]``.

    Args:
        remove: free the stored object after reading (always so for ``fifo``
            and ``tcp``, which are served once; ``remove=False`` raises there).
        timeout: seconds to wait for a ``fifo``/``tcp`` producer to send.

    Raises:
        TransferError: the data is gone (already loaded, expired, producer
            died, other host), truncated, or the producer did not send in time.
        TypeError: ``inbox[0]`` is not an ItemLocator.
    """
    loc = _first(inbox, "load_item")
    if not isinstance(loc, ItemLocator):
        raise TypeError(f"load_item expects an ItemLocator made by dump_item in inbox[0] "
                        f"(got {loc!r:.80} that is a {type(loc).__name__})")
    return _get(loc, bool(remove), timeout)


def cleanup(dir: str | None = None, db: str | None = None) -> int:
    """Remove items left by dead producer processes of this user.

    Safe to call at any time: only objects whose producing process no longer
    runs are removed (files and fifos ``papy_<pid>_*`` in ``dir``, shared-memory
    segments ``/dev/shm/papy_<pid>_*``, rows of the sqlite store).

    Args:
        dir: the directory given to ``dump_item`` (default: the temporary one).
        db: the sqlite database, when ``dump_item`` was given ``db=``.

    Returns:
        The number of objects removed.
    """
    return _cleanup(dir, db)
