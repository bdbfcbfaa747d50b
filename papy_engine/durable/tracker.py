"""Which units are complete: every written piper holds all of their results.

A unit of a written piper ``w`` is complete when ``E_w * produce`` of its
results were written -- fewer for the last unit, and none past the end, once
every input above ``w`` has ended (then :meth:`Tracker.input_ended` is told
the input's length).  A unit is complete when it is complete at every written
piper.  Not thread-safe: the results writer calls it under its lock.
"""
from __future__ import annotations

from .units import UnitPlan
from .unitset import UnitSet

__all__ = ["Tracker"]


class Tracker:
    def __init__(self, plan: UnitPlan, totals: dict[str, int] | None = None) -> None:
        self.plan = plan
        self.counts: dict[str, dict[int, int]] = {w: {} for w in plan.written}
        self.totals: dict[str, int | None] = {a: None for a in plan.inputs}
        self.totals.update(totals or {})
        self._evals = plan.evaluations(self.totals)
        self.fresh = UnitSet()            # completed since the last take()
        self.complete = UnitSet()         # completed in this session
        self._full = {w: plan.evals[w] * plan.produce[w] for w in plan.written}

    def need(self, w: str, unit: int) -> int:
        """How many results of ``unit`` piper ``w`` gives."""
        total = self._evals[w]
        full = self._full[w]
        if total is None:
            return full
        per = self.plan.evals[w]
        return max(0, min(per, total - unit * per)) * self.plan.produce[w]

    def add(self, w: str, unit: int, n: int = 1) -> None:
        """``n`` more results of ``unit`` were written for piper ``w``."""
        counts = self.counts[w]
        have = counts.get(unit, 0) + n
        counts[unit] = have
        if have >= self.need(w, unit):
            self._check(unit)

    def add_counts(self, w: str, units: dict[int, int]) -> None:
        """``units[u]`` more results of unit ``u`` were written for piper ``w``."""
        counts = self.counts[w]
        full = self._full[w] if self._evals[w] is None else None
        single = len(self.counts) == 1
        done: list[int] = []
        for unit, n in units.items():
            have = counts.get(unit, 0) + n
            if have < (full if full is not None else self.need(w, unit)):
                counts[unit] = have
            elif single:
                counts.pop(unit, None)
                done.append(unit)
            else:
                counts[unit] = have
                self._check(unit)
        if done:
            done.sort()
            a = b = done[0]
            for u in done[1:] + [-1]:
                if u == b + 1:
                    b = u
                    continue
                self.fresh.add_range(a, b + 1)
                self.complete.add_range(a, b + 1)
                a = b = u

    def _check(self, unit: int) -> None:
        for w, counts in self.counts.items():
            if counts.get(unit, 0) < self.need(w, unit):
                return
        for counts in self.counts.values():
            counts.pop(unit, None)
        self.fresh.add(unit)
        self.complete.add(unit)

    def input_ended(self, name: str, total: int) -> None:
        """Input ``name`` gave ``total`` items in all (numbered as in the first run)."""
        if name not in self.totals or self.totals[name] is not None:
            return
        self.totals[name] = total
        self._evals = self.plan.evaluations(self.totals)
        pending = {u for counts in self.counts.values() for u in counts}
        for unit in sorted(pending):
            self._check(unit)

    def take(self) -> UnitSet:
        """The units completed since the last call."""
        fresh, self.fresh = self.fresh, UnitSet()
        return fresh

    def units_total(self) -> int | None:
        """How many units the run has, once every input ended."""
        if any(t is None for t in self.totals.values()):
            return None
        return max((-(-self.totals[a] // self.plan.per_unit[a])  # type: ignore[operator]
                    for a in self.plan.inputs), default=0)
