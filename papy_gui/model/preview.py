"""How the Data view shows one value: its type, size, a one-line preview, its parts.

Plain functions over any Python object (no tkinter): a result kept by the
engine's peek buffer (``Plumber.peek``), a placeholder, or the
:class:`~papy_engine.peek.Truncated` stand-in of a result too large to keep.
Strings and numbers read as text, sequences and dicts open as a tree
(:func:`children`), and everything is bounded: a preview is at most
:data:`PREVIEW_CHARS` characters (``reprlib``, so a long list is never
formatted whole), a value opens into at most :data:`CHILDREN` parts, and the
"Show all" text (:func:`full_text`) is at most :data:`FULL_CHARS`.

The values are the engine's own objects, read on the Tk thread while a run
may still go on; a value that changes under us (a dict a later node mutates)
must not break the view, so every function here turns a failure into text.
"""
from __future__ import annotations

import collections
import pprint
import reprlib
from collections.abc import Mapping
from typing import Any

from papy_engine import is_placeholder
from papy_engine.peek import Truncated, estimate_size

PREVIEW_CHARS = 160
CHILDREN = 200
FULL_CHARS = 1_000_000

_repr = reprlib.Repr()
_repr.maxstring = PREVIEW_CHARS
_repr.maxother = PREVIEW_CHARS
_repr.maxlist = _repr.maxtuple = _repr.maxdict = _repr.maxset = 12
_repr.maxlevel = 3

#: Containers that open into parts (a str or bytes is shown as text instead).
_CONTAINERS = (list, tuple, set, frozenset, collections.deque, Mapping)


def _shorten(text: str, limit: int = PREVIEW_CHARS) -> str:
    text = text.replace("\r\n", "\n").replace("\n", " ⏎ ").replace("\t", " ")
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _failed(exc: BaseException) -> str:
    return f"<cannot show: {type(exc).__name__}: {exc}>"


def type_name(value: Any) -> str:
    """The type shown for ``value``: a stand-in shows the type it stands for."""
    if isinstance(value, Truncated):
        return value.type_name
    return type(value).__name__


def human_bytes(n: int) -> str:
    """``1536`` -> ``"1.5 KiB"``."""
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"  # pragma: no cover


def size_text(value: Any) -> str:
    """How big ``value`` is: a length for text and containers, else its memory."""
    try:
        if isinstance(value, Truncated):
            return f"~{human_bytes(value.size)}"
        if is_placeholder(value):
            return ""
        if isinstance(value, str):
            return f"{len(value):,} chars"
        if isinstance(value, (bytes, bytearray)):
            return f"{len(value):,} bytes"
        if isinstance(value, _CONTAINERS):
            return f"{len(value):,} items"
        if isinstance(value, (int, float, complex, bool)) or value is None:
            return ""
        return human_bytes(estimate_size(value))
    except Exception as exc:
        return _failed(exc)


def preview(value: Any, limit: int = PREVIEW_CHARS) -> str:
    """One line for ``value``: strings and numbers as text, a placeholder as its
    error, a stand-in as the start of its repr, anything else as a short repr."""
    try:
        if is_placeholder(value):
            return _shorten(f"{value.exc_type}: {value.message}", limit)
        if isinstance(value, Truncated):
            return _shorten(value.text, limit)
        if isinstance(value, str):
            return _shorten(value[:limit * 2], limit)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return _shorten(str(value), limit)
        return _shorten(_repr.repr(value), limit)
    except Exception as exc:
        return _failed(exc)


def expandable(value: Any) -> bool:
    """Whether ``value`` opens into parts in the tree."""
    try:
        return isinstance(value, _CONTAINERS) and len(value) > 0
    except Exception:
        return False


def children(value: Any, limit: int = CHILDREN) -> tuple[list[tuple[str, Any]], int]:
    """The parts of a container as ``(label, part)`` pairs, at most ``limit`` of
    them, and how many more there are: ``[0]`` ``[1]``... for a sequence, the
    key's repr for a mapping, ``•`` for a set's members."""
    try:
        if isinstance(value, Mapping):
            pairs = [(_shorten(repr(k), 60), v) for k, v in _first(value.items(), limit)]
        elif isinstance(value, (set, frozenset)):
            pairs = [("•", v) for v in _first(value, limit)]
        elif isinstance(value, _CONTAINERS):
            pairs = [(f"[{i}]", v) for i, v in enumerate(_first(value, limit))]
        else:
            return [], 0
        return pairs, max(0, len(value) - len(pairs))
    except Exception as exc:  # changed while we looked
        return [(_failed(exc), None)], 0


def _first(iterable: Any, n: int) -> list:
    out: list = []
    for x in iterable:
        if len(out) >= n:
            break
        out.append(x)
    return out


def full_text(value: Any, limit: int = FULL_CHARS) -> str:
    """The whole of ``value`` for "Show all" (at most ``limit`` characters)."""
    try:
        if isinstance(value, Truncated):
            text = (f"(Only the start of this {value.type_name} was kept: it is about "
                    f"{human_bytes(value.size)}, above what the engine keeps per item.)\n\n"
                    f"{value.text}")
        elif is_placeholder(value):
            where = f"item {value.index}" if value.index is not None else "an item"
            text = (f"{value.exc_type}: {value.message}\n({type(value).__name__} at "
                    f"{value.piper or '?'}, {where})\n\n{value.traceback or '(no traceback)'}")
        elif isinstance(value, str):
            text = value
        else:
            text = pprint.pformat(value, width=100, sort_dicts=False)
    except Exception as exc:
        return _failed(exc)
    if len(text) > limit:
        text = text[:limit] + f"\n… ({len(text) - limit:,} more characters not shown)"
    return text
