"""Parallel: per-item parallelism with produce, spawn and consume.

A large item is cut into ``n`` chunks that ``n`` replicas of a node process
side by side, and the partial results are gathered back into one::

    scatter (produce=4) -> chunk_stats (spawn=4, parallel) -> gather_stats (consume=4)

``scatter`` returns a list of ``n`` chunks and its piper emits them one by
one (``produce=n``); ``spawn=n`` replicates the next piper so that each
replica takes one chunk; ``consume=n`` hands the ``n`` partial results to
``gather_stats`` as one list.  The counts must agree: upstream
``produce*spawn`` equals downstream ``consume*spawn``.  The hints below use
``n = 4``; change the piper options together with ``n``.
"""
from __future__ import annotations

from typing import Any

from papy_engine.plugin import node

from . import numbers

__all__ = ["scatter", "chunk_stats", "gather", "gather_stats"]


@node(category="parallel", produce=4)
def scatter(inbox, n: int = 4) -> list[list]:
    """Cut a sequence into ``n`` consecutive chunks of near-equal size.

    Always returns exactly ``n`` lists (some empty if the sequence is short),
    so it balances a piper with ``produce=n``.

    Args:
        n: the number of chunks; must equal the piper's ``produce``.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"scatter: 'n' must be an int >= 1 (got {n!r})")
    items = list(inbox[0])
    size, extra = divmod(len(items), n)
    chunks, start = [], 0
    for i in range(n):
        stop = start + size + (1 if i < extra else 0)
        chunks.append(items[start:stop])
        start = stop
    return chunks


@node(category="parallel", spawn=4, parallel=True)
def chunk_stats(inbox) -> dict[str, Any]:
    """Running statistics of one chunk (a ``running_stats`` replica for ``spawn=n``)."""
    return numbers.running_stats(inbox)


@node(category="parallel", consume=4)
def gather(inbox) -> list:
    """Concatenate ``n`` chunks (a list of lists, from ``consume=n``) into one list."""
    out: list = []
    for chunk in inbox[0]:
        out.extend(chunk)
    return out


@node(category="parallel", consume=4)
def gather_stats(inbox) -> dict[str, Any]:
    """Merge ``n`` partial statistics (from ``consume=n``) into those of the whole item."""
    return numbers.merge_stats(inbox)
