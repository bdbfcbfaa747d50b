"""Text: split, search, count and join strings.

Items are ``str`` (a whole text) or lists of ``str`` (lines); results are
plain lists, dicts and strings.
"""
from __future__ import annotations

import re
from collections import Counter

from papy_engine.plugin import node

__all__ = ["split", "grep", "sub", "word_count", "word_frequencies", "join"]

_WORD = re.compile(r"[^\W_]+(?:['\u2019-][^\W_]+)*")


def _lines(item) -> list[str]:
    if isinstance(item, str):
        return item.splitlines()
    if isinstance(item, (list, tuple)):
        return [str(line) for line in item]
    raise TypeError(f"expected a str or a list of lines (got a {type(item).__name__})")


@node(category="text")
def split(inbox, sep: str | None = None, maxsplit: int = -1) -> list[str]:
    """Split the text into a list of parts (``str.split``).

    Args:
        sep: the separator; None splits on runs of white space and drops empty parts.
        maxsplit: at most this many splits (-1: no limit).
    """
    return inbox[0].split(sep, maxsplit)


@node(category="text")
def grep(inbox, pattern: str, ignore_case: bool = False, invert: bool = False) -> list[str]:
    """Keep the lines that match a regular expression (like ``grep``).

    The item is a text (split into lines) or a list of lines.

    Args:
        pattern: a Python regular expression, searched anywhere in the line.
        ignore_case: match regardless of case.
        invert: keep the lines that do *not* match.
    """
    regex = re.compile(pattern, re.IGNORECASE if ignore_case else 0)
    return [line for line in _lines(inbox[0]) if bool(regex.search(line)) != invert]


@node(category="text")
def sub(inbox, pattern: str, repl: str, count: int = 0, ignore_case: bool = False) -> str:
    """Replace the matches of a regular expression in the text (``re.sub``).

    Args:
        pattern: a Python regular expression.
        repl: the replacement; ``\\1`` or ``\\g<name>`` insert groups.
        count: replace at most this many matches (0: all).
        ignore_case: match regardless of case.
    """
    flags = re.IGNORECASE if ignore_case else 0
    return re.sub(pattern, repl, inbox[0], count=count, flags=flags)


@node(category="text")
def word_count(inbox) -> dict[str, int]:
    """Count lines, words and characters of a text, like ``wc``.

    Returns ``{"lines": ..., "words": ..., "chars": ...}``; words are runs of
    non-white-space characters and a last line without a newline counts.
    """
    text = inbox[0]
    return {"lines": len(text.splitlines()), "words": len(text.split()), "chars": len(text)}


@node(category="text")
def word_frequencies(inbox, top: int | None = None,
                     lower: bool = True) -> list[tuple[str, int]]:
    """The most common words of a text, as ``[(word, count), ...]``.

    Words are runs of letters and digits (inner apostrophes and hyphens
    kept); ties are broken alphabetically so that the result is stable.

    Args:
        top: keep only this many words (None: all).
        lower: count words case-insensitively.
    """
    text = inbox[0].lower() if lower else inbox[0]
    counts = Counter(_WORD.findall(text))
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return ranked[:top] if top is not None else ranked


@node(category="text")
def join(inbox, sep: str = "\n", end: str = "") -> str:
    """Join a list of strings into one text.

    To join the inputs of several pipes instead, use the flow plugin's ``njoiner``.

    Args:
        sep: placed between the parts.
        end: appended after the last part (e.g. a final newline).
    """
    return sep.join(str(part) for part in inbox[0]) + end
