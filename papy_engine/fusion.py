"""Which pipers of a pipeline run fused: one task in the worker for a linear chain.

Consecutive pipers ``a -> b -> ...`` on the same IMap run as one composed task
(:class:`papy_engine.pool.chain.Chain`) when nothing could tell the
difference but the speed: each is 1:1 (``produce = spawn = consume = 1``,
no ``repeat``), none has a ``timeout`` or ``debug``, they share ``ordered``,
and every link carries its items to one reader only -- ``a`` has no other
downstream piper, ``b`` no other upstream one -- and nobody asks for ``a``'s
results (``track``, a sink).  Intermediate items then never travel back
through the dispatcher.  Statistics stay per piper (counted in the worker)
and placeholders keep the piper that made them.  Fusion is off when a run
captures output (the editor, which shows every node's data and prints) and
with ``Plumber(fuse=False)``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .piper import Piper

if TYPE_CHECKING:
    from .dagger import Dagger

__all__ = ["chains"]


def _alone(p: Piper) -> bool:
    return (p.produce == p.spawn == p.consume == 1 and not p.repeat and p.timeout is None
            and not p.debug)


def chains(graph: Dagger, watched: set[str] | Any = frozenset()) -> list[list[Piper]]:
    """The fused chains of ``graph`` (each of two pipers or more), upstream first.

    ``watched`` names pipers whose own results someone reads (sinks): they
    may end a chain but not sit inside one.
    """
    out: list[list[Piper]] = []
    member: set[int] = set()
    for p in graph.postorder():
        if id(p) in member or not p.parallel or not _alone(p):
            continue
        chain = [p]
        while True:
            last = chain[-1]
            kids = graph.children_of(last)
            if (len(kids) != 1 or last.track or last.name in watched):
                break
            nxt = kids[0]
            if (nxt.parallel is not p.parallel or not _alone(nxt)
                    or nxt.ordered != p.ordered or len(graph.parents_of(nxt)) != 1):
                break
            chain.append(nxt)
        if len(chain) > 1:
            out.append(chain)
            member.update(id(q) for q in chain)
    return out
