"""Which input items each result depends on: the unit plan of a pipeline.

A *unit* is the smallest block of input items that every piper evaluates in
whole inboxes.  Unit ``k`` is items ``[k * U_a, (k + 1) * U_a)`` of each
input piper ``a``, and it gives exactly ``E_p`` evaluations at every piper
``p`` (evaluations ``[k * E_p, (k + 1) * E_p)``, each emitting ``produce``
items) -- the flow semantics of DESIGN.md (streams grouped by ``consume``)
with the rates solved once for the whole graph.  Only the end of an input
breaks the pattern (a shorter last group, padding): :meth:`UnitPlan.evaluations`
says where.

Resuming skips whole units, so the inboxes of the rest are cut exactly as in
an uninterrupted run.  A written piper's evaluation maps to its unit:

* when every piper above it emits in order (it is *anchored*), its
  evaluation ``e`` belongs to unit ``e // E_p``;
* below an unordered piper, evaluations follow completion order; they are
  traced back one pipe at a time (:mod:`.mapping`), which needs every piper on
  the way to take one pipe with ``consume=1`` -- otherwise its inboxes mix
  items by timing and no run, resumed or not, reproduces them: refused.

Pipes into one piper that carry items at different rates (padded, see
DESIGN.md) are refused too: which input items such a result came from is not
well defined.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

__all__ = ["UnitPlan", "plan_units", "is_unordered"]


def is_unordered(piper: Any) -> bool:
    """True when the piper emits results in completion order."""
    return bool(piper.parallel) and not (piper.ordered and piper.parallel.ordered)


@dataclass
class UnitPlan:
    """How a pipeline's written results map to its input items (see module docstring).

    Attributes:
        inputs: input pipers whose items feed a written piper (graph order).
        per_unit: input piper -> items per unit.
        evals: piper -> evaluations per unit (pipers above a written one).
        produce, consume: piper -> its rates.
        parents: piper -> its upstream pipers (inbox order).
        order: the pipers above written ones, upstream first.
        written: the pipers whose results are written.
        unordered: pipers that emit in completion order.
        via: piper -> the parent its evaluations are traced through (pipers below
            an unordered one), absent for anchored pipers.
        refusal: why this pipeline cannot be resumed exactly, or None.
    """

    inputs: list[str] = field(default_factory=list)
    per_unit: dict[str, int] = field(default_factory=dict)
    evals: dict[str, int] = field(default_factory=dict)
    produce: dict[str, int] = field(default_factory=dict)
    consume: dict[str, int] = field(default_factory=dict)
    parents: dict[str, list[str]] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    written: list[str] = field(default_factory=list)
    unordered: set[str] = field(default_factory=set)
    via: dict[str, str] = field(default_factory=dict)
    refusal: str | None = None

    def loose(self, name: str) -> bool:
        """True when ``name``'s output order is not determined (compare as a multiset)."""
        return name in self.unordered or name in self.via

    def taps(self) -> list[str]:
        """Unordered pipers whose output order must be recorded to trace pipers below."""
        return sorted({u for u in self.via.values() if u in self.unordered})

    def evaluations(self, totals: dict[str, int | None]) -> dict[str, int | None]:
        """Evaluations of each piper when input ``a`` gives ``totals[a]`` items in all.

        None for a piper above which an input's total is not known yet.  Streams
        into a piper are padded to the longest (DESIGN.md), groups of
        ``consume`` may be short at the end.
        """
        out_items: dict[str, int | None] = {}
        evals: dict[str, int | None] = {}
        for p in self.order:
            if not self.parents[p]:
                items = totals.get(p)
            else:
                ups = [out_items[u] for u in self.parents[p]]
                items = None if any(n is None for n in ups) else max(ups)  # type: ignore
            n = None if items is None else -(-items // self.consume[p])
            evals[p] = n
            out_items[p] = None if n is None else n * self.produce[p]
        return evals

    def shape(self) -> dict:
        """What two runs must agree on to share a results folder (JSON-ready)."""
        return {"per_unit": self.per_unit, "evals": self.evals, "produce": self.produce,
                "written": self.written, "loose": sorted(w for w in self.written
                                                          if self.loose(w)),
                "via": self.via}


def plan_units(graph: Any, written: list[str]) -> UnitPlan:
    """The unit plan for writing the results of pipers ``written`` of ``graph``.

    Never raises for a pipeline it cannot plan: ``refusal`` says why.
    """
    plan = UnitPlan(written=list(written))
    wanted = {graph.get_piper(n) for n in written}
    above = set(wanted)
    for p in reversed(graph.postorder()):
        if p in above:
            above.update(graph.parents_of(p))
    pipers = [p for p in graph.postorder() if p in above]
    for p in pipers:
        plan.order.append(p.name)
        plan.parents[p.name] = [u.name for u in graph.parents_of(p)]
        plan.produce[p.name] = p.produce
        plan.consume[p.name] = p.consume
        if is_unordered(p):
            plan.unordered.add(p.name)
    plan.inputs = [p.name for p in graph.get_inputs() if p in above]
    plan.refusal = _trace(plan) or _solve(plan, graph, above)
    return plan


def _trace(plan: UnitPlan) -> str | None:
    """Set ``via`` for pipers below an unordered one; a reason when one cannot be traced."""
    for p in plan.order:
        ups = plan.parents[p]
        late = [u for u in ups if u in plan.unordered or u in plan.via]
        if not late:
            continue
        source = next(u for u in ups if u in plan.unordered or u in plan.via)
        while source not in plan.unordered:
            source = plan.via[source]
        if len(ups) > 1:
            return (f"piper {p!r} joins {len(ups)} pipes, and items reach it in completion "
                    f"order from unordered piper {source!r}: which items meet in one inbox "
                    "depends on timing, so no run reproduces its results exactly (make "
                    f"{source!r} ordered to resume this pipeline)")
        if plan.consume[p] > 1:
            return (f"piper {p!r} groups consume={plan.consume[p]} items that reach it in "
                    f"completion order from unordered piper {source!r}: its inboxes depend "
                    f"on timing, so no run reproduces its results exactly (make {source!r} "
                    "ordered to resume this pipeline)")
        plan.via[p] = ups[0]
    return None


def _solve(plan: UnitPlan, graph: Any, above: set) -> str | None:
    """Items per unit on every pipe, scaled to whole evaluations; a reason on a conflict."""
    rate: dict[str, Fraction] = {}
    children = {p.name: [c.name for c in graph.children_of(p) if c in above]
                for p in graph.postorder() if p in above}

    def out(p: str) -> Fraction:
        return rate[p] / plan.consume[p] * plan.produce[p]

    for start in plan.inputs:
        if start in rate:
            continue
        rate[start] = Fraction(1)
        component, todo = [start], [start]
        while todo:
            p = todo.pop()
            links = [(c, out(p)) for c in children[p]]
            links += [(u, rate[p] * plan.consume[u] / plan.produce[u])
                      for u in plan.parents[p]]
            for q, want in links:
                if q not in rate:
                    rate[q] = want
                    component.append(q)
                    todo.append(q)
                elif rate[q] != want:
                    return _conflict(plan, q if q in children[p] else p, rate)
        scale = 1
        for p in component:
            for x in (rate[p], rate[p] / plan.consume[p]):
                scale = scale * x.denominator // math.gcd(scale, x.denominator)
        for p in component:
            plan.evals[p] = int(rate[p] * scale / plan.consume[p])
            if p in plan.inputs:
                plan.per_unit[p] = int(rate[p] * scale)
    return None


def _conflict(plan: UnitPlan, piper: str, rate: dict[str, Fraction]) -> str:
    ups = plan.parents[piper]
    known = [u for u in ups if u in rate]
    rates = ", ".join(f"{u!r} {rate[u] / plan.consume[u] * plan.produce[u]}" for u in known)
    return (f"the pipes into piper {piper!r} carry items at different rates per input item "
            f"({rates}): the shorter streams are padded, so which input items its results "
            "come from is not well defined")
