"""A fused chain of pipers, evaluated as one task in the worker.

:mod:`papy_engine.fusion` decides which pipers run fused; a :class:`Chain`
holds their Workers and runs in the worker process.  When every stage is a
plain one-function Worker (the common case) and items arrive one per inbox,
the items run through nested ``map(f1, zip(map(f0, zip(items))))``: the
loop, the boxing into inboxes and the calls all happen in C, and each item
goes through every stage before the next one starts;
an item on which a stage raises, or that arrives as a placeholder, is
redone stage by stage so that its placeholder names the piper that made it.
Each stage's time is measured on the first items of the chunk and the rest
of the chunk's time is shared out in the same proportions: statistics stay
per piper at the cost of a few clock readings per chunk.  (A stage function
that *returns* a placeholder object, rather than raising, is not passed
through by the composed call: PaPy's node functions raise.)
"""
from __future__ import annotations

import time
from typing import Any

from ..errors import ITEM_ERRORS, PLACEHOLDER_TYPES, _Placeholder, none_is_placeholder

__all__ = ["Chain", "SAMPLE"]

SAMPLE = 8   # items of each chunk evaluated stage by stage, with the clock


class Chain:
    """Consecutive pipers fused into one task: their Workers applied in turn.

    ``stages`` holds ``(worker, piper name)`` pairs, upstream first.
    """

    def __init__(self, stages: list[tuple[Any, str]]) -> None:
        self.stages = tuple(stages)
        self.name = "+".join(name for _, name in self.stages)
        self.errors_created = 0
        self._fast: Any = None

    def __repr__(self) -> str:
        return f"Chain({self.name})"

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_fast"] = None   # rebuilt where it runs
        return state

    def composed(self) -> Any:
        """The chain's functions, upstream first, or None when a stage is not a
        plain one-function Worker (extra arguments, several functions, debug)."""
        if self._fast is None:
            funcs = []
            for w, _ in self.stages:
                if len(w.functions) != 1 or w.args[0] or w.kwargs[0] or w.debug:
                    self._fast = False
                    return None
                funcs.append(w.functions[0])
            self._fast = tuple(funcs)
        return self._fast or None

    def run(self, items: list, start: int, boxed: bool, progress: Any
            ) -> tuple[list, list[int], tuple]:
        """``(results, created offsets, seconds of each stage)`` for one chunk.

        After the first SAMPLE items (run stage by stage, timed), the rest run
        composed: ``out.extend`` keeps the results appended before a stage
        raises, and the shared iterator ``src`` has then given exactly the
        item that raised, so that item is redone stage by stage and the
        composed run goes on after it.  A StopIteration raised by a stage ends
        the nested maps quietly instead: results that stop short of the span
        mean the same, and the item is redone the same way.  Items are checked
        for placeholders once per chunk, in C; a chunk that has some runs
        composed between them.
        """
        funcs = self.composed() if boxed else None
        if funcs is None or len(items) <= SAMPLE:
            return self.staged(items, start, boxed, progress)
        out, created, shares = self.staged(items[:SAMPLE], start, boxed, progress)
        if progress is not None:
            progress[1] = -1   # not observed item by item from here on
        t0 = time.perf_counter()
        for lo, hi in _plain_runs(items, SAMPLE):
            src = iter(items[lo:hi])
            while len(out) < hi:
                try:
                    out.extend(_nest(funcs, src))
                except ITEM_ERRORS:
                    pass
                if len(out) < hi:   # a stage raised on items[len(out)]: stage by stage
                    self._redo(items, len(out), start, out, created)
            if hi < len(items):     # a placeholder: passed on stage by stage
                self._redo(items, hi, start, out, created)
        rest = time.perf_counter() - t0
        total = sum(shares) or 1.0
        return out, created, tuple(s + rest * s / total for s in shares)

    def _redo(self, items: list, off: int, start: int, out: list, created: list[int]) -> None:
        redo, made, _ = self.staged([items[off]], start + off, True, None)
        out.append(redo[0])
        if made:
            created.append(off)

    def staged(self, items: list, start: int, boxed: bool, progress: Any
               ) -> tuple[list, list[int], tuple]:
        """Every stage on the whole chunk in turn, each timed."""
        created: list[int] = []
        busy = []
        results = items
        for k, (w, name) in enumerate(self.stages):
            t0 = time.perf_counter()
            inboxes, before = results, w.errors_created
            box = boxed if k == 0 else True   # later stages take one item each
            results = w.map(inboxes, box, progress)
            if w.errors_created != before:
                attribute(results, inboxes, box, name, start, created)
            busy.append(time.perf_counter() - t0)
        return results, created, tuple(busy)


def attribute(results: list, inboxes: list, boxed: bool, piper: str, start: int,
              created: list[int]) -> None:
    """Name the placeholders ``piper`` made (index, inbox) and note their offsets."""
    from .evaluate import keep_inbox
    for off, r in enumerate(results):
        if isinstance(r, _Placeholder) and r.index is None:
            r.piper, r.index = piper, start + off
            keep_inbox(r, (inboxes[off],) if boxed else inboxes[off])
            created.append(off)
    created.sort()


def _nest(funcs: tuple, src: Any) -> Any:
    """``f_n(...f1((f0((x,)),))...)`` for each ``x`` of ``src``, lazily, in C."""
    for f in funcs:
        src = map(f, zip(src))
    return src


def _plain_runs(items: list, lo: int) -> list[tuple[int, int]]:
    """The ``(lo, hi)`` spans of ``items[lo:]`` between placeholders."""
    if none_is_placeholder(items):
        return [(lo, len(items))]
    spans = []
    for off in range(lo, len(items)):
        if items[off].__class__ in PLACEHOLDER_TYPES:
            spans.append((lo, off))
            lo = off + 1
    spans.append((lo, len(items)))
    return spans
