"""Hypothesis strategies for whole pipelines (:class:`pipeline_build.Case`).

Owns the generator: a DAG of 1-7 pipers (fan-in, fan-out, several inputs),
balanced consume/spawn/produce/repeat, composite workers with args/kwargs,
functions that raise or return a sequence of the wrong length, pools
(threads, processes, shared or separate, explicit or default stride and
buffer), serial pipers, unordered pipers where the outcome is still
determined, and inputs of length 0, a few, or a few thousand.

Every choice shrinks towards the simplest form (fewer pipers and edges, one
function, consume/produce 1, serial, default limits, empty inputs), so a
failure is reported as a small pipeline.
"""
from __future__ import annotations

from hypothesis import strategies as st

import pipeline_funcs as pf
import reference as ref
from pipeline_build import Case, PoolSpec

MAX_GROWTH = 8  # items per input item that any piper may emit


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


@st.composite
def _fn_choice(draw) -> ref.Fn:
    kind = draw(st.sampled_from(["digest", "digest_kw", "fail", "keep", "fail_plain"]))
    if kind == "digest":
        return ref.Fn(pf.digest, (draw(st.integers(0, 9)),))
    if kind == "digest_kw":
        return ref.Fn(pf.digest, (), {"salt": draw(st.integers(0, 9))})
    if kind == "fail":
        mod = draw(st.sampled_from([2, 3, 5, 7, 13]))
        exc = draw(st.sampled_from(["ValueError", "KeyError", "ZeroDivisionError",
                                    "StopIteration"]))
        return ref.Fn(pf.fail_if, (mod,), {"rem": draw(st.integers(0, mod - 1)), "exc": exc})
    if kind == "fail_plain":   # no extra arguments: the engine's fast paths
        return ref.Fn(draw(st.sampled_from([pf.stop_if_7, pf.value_if_5])))
    return ref.Fn(pf.keep)


def _functions(node: dict, produce: int, repeat: bool) -> tuple[ref.Fn, ...]:
    """1-3 composed functions; a produce piper usually ends with a splitter."""
    fns = list(node["fns"])
    if produce > 1 and not repeat:
        if node["last"] in ("split", "split2"):
            fns[-1] = ref.Fn(pf.split, (produce,), {"salt": node["salt"]})
        elif node["last"] == "split_bad":
            fns[-1] = ref.Fn(pf.split_bad, (produce, node["bad_mod"]))
    return tuple(fns)


@st.composite
def _node(draw, big: bool) -> dict:
    """Raw choices for one piper; :func:`cases` makes them consistent."""
    return dict(
        ups=draw(st.lists(st.integers(0, 6), max_size=3, unique=True)),
        consume=draw(st.sampled_from([1, 2, 3, 4])),
        spawn=draw(st.integers(0, 3)),
        produce=draw(st.sampled_from([1, 2, 3])),
        repeat=draw(st.booleans()),
        branch=draw(st.none() | st.sampled_from([0, 1, 2, 1.5, "a", "b"])),
        unordered=draw(st.integers(0, 3)) == 3,
        pool=draw(st.none() | st.integers(0, 2)),
        length=draw(st.integers(2000, 3000)) if big else draw(st.integers(0, 12)),
        fns=draw(st.lists(_fn_choice(), min_size=1, max_size=3)),
        last=draw(st.sampled_from(["split", "split2", "split_bad", "any"])),
        salt=draw(st.integers(0, 9)),
        bad_mod=draw(st.sampled_from([2, 3, 5])),
    )


def _flow(nodes: list[dict], growth_cap: int) -> tuple[list[list[int]], list[dict]]:
    """Parents and balanced flow options (consume, spawn, produce, repeat) per piper."""
    parents: list[list[int]] = []
    flow: list[dict] = []
    growth: list[float] = []
    for j, node in enumerate(nodes):
        ups = list(dict.fromkeys(u % j for u in node["ups"])) if j else []
        if ups:  # every upstream pipe must balance: equal produce*spawn upstream
            unit = flow[ups[0]]["produce"] * flow[ups[0]]["spawn"]
            ups = [u for u in ups if flow[u]["produce"] * flow[u]["spawn"] == unit]
            spawn = _divisors(unit)[node["spawn"] % len(_divisors(unit))]
            consume = unit // spawn
            grow_in = max(growth[u] for u in ups)
        else:
            consume, spawn, grow_in = node["consume"], 1 + node["spawn"] % 2, 1.0
        produce = node["produce"]
        while produce > 1 and grow_in / consume * produce > growth_cap:
            produce -= 1
        parents.append(ups)
        flow.append(dict(consume=consume, spawn=spawn, produce=produce,
                         repeat=produce > 1 and node["repeat"]))
        growth.append(max(grow_in / consume, 1.0) * produce)
    return parents, flow


def _build_steps(draw, n: int, parents: list[list[int]]) -> list[tuple[str, ...]]:
    """add_pipe steps (chained where they continue), or add_piper first in some order."""
    name = [f"p{i}" for i in range(n)]
    has_child = {u for ups in parents for u in ups}
    steps: list[tuple[str, ...]] = []
    mode = draw(st.sampled_from(["pipes", "chains", "pipers_first"]))
    if mode == "pipers_first":
        steps += [(name[i],) for i in draw(st.permutations(range(n)))]
    for j, ups in enumerate(parents):
        for u in ups:
            if mode == "chains" and steps and steps[-1][-1] == name[u]:
                steps[-1] = steps[-1] + (name[j],)
            else:
                steps.append((name[u], name[j]))
        if not ups and j not in has_child and mode != "pipers_first":
            steps.append((name[j],))
    return steps


def _may_be_unordered(spec: ref.PipelineSpec, name: str) -> bool:
    """Unordered only where every output multiset stays determined."""
    below = ref.descendants(spec, name)
    return all(len(ref.parents(spec, d)) == 1 and spec.piper(d).consume == 1
               and spec.piper(d).produce == 1 for d in below)


@st.composite
def _pool(draw, processes: bool) -> PoolSpec:
    kind = "process" if processes and draw(st.integers(0, 5)) == 5 else "thread"
    return PoolSpec(kind, draw(st.integers(1, 2)), draw(st.none() | st.integers(1, 7)),
                    draw(st.none() | st.integers(1, 9)))


def _assign(spec: ref.PipelineSpec, nodes: list[dict], pools: list[PoolSpec],
            unordered_pool: bool) -> dict[str, int]:
    """Which piper runs on which pool; the pools' buffers hold one item per task."""
    parallel = {p.name: node["pool"] % len(pools) for p, node in zip(spec.pipers, nodes)
                if pools and node["pool"] is not None}
    for i, pool in enumerate(pools):
        mine = [p for p in spec.pipers if parallel.get(p.name) == i]
        if pool.buffer is not None:
            pool.buffer = max(pool.buffer, len(mine))
        if unordered_pool and mine and all(not p.ordered for p in mine):
            pool.ordered = False
    return parallel


@st.composite
def cases(draw, max_pipers: int = 7, processes: bool = True, min_len: int = 0) -> Case:
    """A whole generated pipeline; every input holds at least ``min_len`` items."""
    big = draw(st.integers(0, 11)) == 11
    nodes = draw(st.lists(_node(big), min_size=1, max_size=max_pipers))
    parents, flow = _flow(nodes, 2 if big else MAX_GROWTH)
    pipers = [ref.PiperSpec(f"p{j}", _functions(node, f["produce"], f["repeat"]),
                            branch=node["branch"], **f)
              for j, (node, f) in enumerate(zip(nodes, flow))]
    spec = ref.PipelineSpec(pipers, _build_steps(draw, len(nodes), parents), [])
    for p, node in zip(pipers, nodes):
        p.ordered = not (node["unordered"] and _may_be_unordered(spec, p.name))
    lengths = [min_len + nodes[int(name[1:])]["length"] for name in ref.inputs(spec)]
    spec.inputs = [list(range(1000 * k, 1000 * k + n)) for k, n in enumerate(lengths)]
    pools = draw(st.lists(_pool(processes), max_size=3))
    kinds = [p.kind for p in pools]
    for i, p in enumerate(pools):  # at most one process pool
        if p.kind == "process" and i != kinds.index("process"):
            p.kind = "thread"
    parallel = _assign(spec, nodes, pools, draw(st.booleans()))
    return Case(spec, pools, parallel, draw(st.none() | st.integers(1, 7)))
