"""From an evaluation of this run back to its place in an uninterrupted run.

Evaluations are numbered per piper in its input order (what a sink gets as
``first_eval``).  A resumed run skips whole units (:mod:`.units`), so its
evaluation ``e`` of an anchored piper ``p`` is evaluation ``r * E_p + e % E_p``
of an uninterrupted run, ``r`` being the ``e // E_p``-th unit not done yet.

Below an unordered piper ``u`` the input order of a piper is ``u``'s
completion order; its evaluation ``e`` took item ``e`` of its one parent
(``consume=1``), and a :class:`Tap` on ``u`` (a sink that records which
evaluation each output position came from) tells which.  Its *canonical*
number is then the position that item has in ``u``'s output in an
uninterrupted *ordered* run: deterministic, so a resumed run can tell which
unit it belongs to and a placeholder created there keeps one index.
"""
from __future__ import annotations

import bisect
import threading
from array import array

from .units import UnitPlan
from .unitset import UnitSet

__all__ = ["Mapper", "Tap"]


class Tap:
    """Which evaluation each output position of an unordered piper came from.

    Batches of consecutive evaluations are merged when they continue the last
    one, so the table grows only with the batches that completed out of order.
    """

    def __init__(self, produce: int) -> None:
        self.produce = produce
        self._pos = array("q")      # first output position of a run
        self._eval = array("q")     # its first evaluation
        self._n = array("q")        # its number of items
        self._lock = threading.Lock()

    def record(self, first: int, count: int, first_eval: int) -> None:
        if count <= 0:
            return
        with self._lock:
            if self._n:
                last = len(self._n) - 1
                n = self._n[last]
                if (self._pos[last] + n == first and n % self.produce == 0
                        and self._eval[last] + n // self.produce == first_eval):
                    self._n[last] = n + count
                    return
            self._pos.append(first)
            self._eval.append(first_eval)
            self._n.append(count)

    def lookup(self, position: int) -> tuple[int, int]:
        """``(evaluation, offset in it)`` of the item at output ``position``."""
        with self._lock:
            k = bisect.bisect_right(self._pos, position) - 1
            if k < 0 or position >= self._pos[k] + self._n[k]:
                raise LookupError(f"output position {position} was not recorded")
            off = position - self._pos[k]
            return self._eval[k] + off // self.produce, off % self.produce


class Mapper:
    """Canonical evaluation numbers for one session of a run.

    Args:
        plan: the pipeline's unit plan.
        done: the units an earlier session completed (skipped in this one).
    """

    def __init__(self, plan: UnitPlan, done: UnitSet | None = None) -> None:
        self.plan = plan
        self.done = done if done else None
        self.taps = {u: Tap(plan.produce[u]) for u in plan.taps()}

    def canonical(self, piper: str, e: int) -> int:
        """The canonical number of this session's evaluation ``e`` of ``piper``."""
        parent = self.plan.via.get(piper)
        if parent is None:
            if self.done is None:
                return e
            per = self.plan.evals[piper]
            return self.done.nth_missing(e // per) * per + e % per
        # consume=1, one parent: evaluation e took the parent's output item e
        tap = self.taps.get(parent)
        if tap is not None:
            pe, off = tap.lookup(e)
        else:
            pe, off = divmod(e, self.plan.produce[parent])
        return self.canonical(parent, pe) * self.plan.produce[parent] + off

    def is_identity(self, piper: str) -> bool:
        """True when ``canonical(piper, e) == e`` (a fresh run, an anchored piper)."""
        return self.done is None and piper not in self.plan.via

    def unit(self, piper: str, canonical_eval: int) -> int:
        return canonical_eval // self.plan.evals[piper]

    def known(self, piper: str) -> bool:
        """True when placeholders created at ``piper`` can be renumbered."""
        return piper in self.plan.evals
