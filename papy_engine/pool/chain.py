"""A fused chain of pipers, evaluated as one task in the worker.

:mod:`papy_engine.fusion` decides which pipers run fused; a :class:`Chain`
holds their Workers and runs in the worker process.  When every stage is a
plain one-function Worker (the common case) and items arrive one per inbox,
each item goes through one composed call, ``f3((f2((f1((f0((x,)),)),)),))``,
in a loop generated for the chain;
an item whose composed call raises, or that arrives as a placeholder, is
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

from ..errors import PiperError, WorkerError, _Placeholder

__all__ = ["Chain", "SAMPLE"]

_PLACEHOLDERS = frozenset({WorkerError, PiperError})
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
        """A loop running every stage on items, or None when a stage is not a
        plain one-function Worker (extra arguments, several functions).

        The loop is generated for the chain (``f1((f0((x,)),))`` inline, no call
        per stage beyond the stage's own): ``loop(items, off, append)`` appends
        results from offset ``off`` on and stops at the first item it cannot
        take (a placeholder, or one whose composed call raised) -- the caller
        knows which from how many results it holds.  It publishes no progress:
        the chunk's offset reads -1, as on ``Worker.map``'s fast path.
        """
        if self._fast is None:
            funcs = []
            for w, _ in self.stages:
                if len(w.functions) != 1 or w.args[0] or w.kwargs[0] or w.debug:
                    self._fast = False
                    return None
                funcs.append(w.functions[0])
            expr = "(x,)"
            for k in range(len(funcs)):
                expr = f"f{k}({expr})" if k == len(funcs) - 1 else f"(f{k}({expr}),)"
            code = (f"def loop(items, off, append):\n"
                    f"    for x in items[off:]:\n"
                    f"        if x.__class__ in PT:\n"
                    f"            return\n"
                    f"        try:\n"
                    f"            append({expr})\n"
                    f"        except Exception:\n"
                    f"            return\n")
            scope = {f"f{k}": f for k, f in enumerate(funcs)}
            scope["PT"] = _PLACEHOLDERS
            exec(code, scope)   # noqa: S102 -- our own template, the chain's functions
            self._fast = scope["loop"]
        return self._fast or None

    def run(self, items: list, start: int, boxed: bool, progress: Any
            ) -> tuple[list, list[int], tuple]:
        """``(results, created offsets, seconds of each stage)`` for one chunk."""
        loop = self.composed() if boxed else None
        if loop is None or len(items) <= SAMPLE:
            return self.staged(items, start, boxed, progress)
        out, created, shares = self.staged(items[:SAMPLE], start, boxed, progress)
        append = out.append
        if progress is not None:
            progress[1] = -1   # not observed item by item from here on
        t0 = time.perf_counter()
        while len(out) < len(items):   # one result per item: produce is 1 inside
            loop(items, len(out), append)
            off = len(out)
            if off < len(items):   # a placeholder, or an item that raised: stage by stage
                redo, made, _ = self.staged([items[off]], start + off, True, None)
                append(redo[0])
                if made:
                    created.append(off)
        rest = time.perf_counter() - t0
        total = sum(shares) or 1.0
        return out, created, tuple(s + rest * s / total for s in shares)

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
