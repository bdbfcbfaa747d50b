"""Reference evaluator: the oracle that generated pipelines are checked against.

Owns a plain description of a pipeline (:class:`Fn`, :class:`PiperSpec`,
:class:`PipelineSpec`) and :func:`evaluate`, a serial, list-based
interpreter of PaPy's semantics as DESIGN.md and issue 11 state them:

* graph order: a piper's inbox has one element per upstream piper, ordered by
  the upstream piper's ``branch`` (None, then numbers ascending, then the rest
  by ``str()``), ties by the order in which the pipers were added; inputs are
  ordered the same way and get one data list each;
* consume ``c``: upstream streams are padded to the longest one with
  ``PiperError(exc_type="MissingInput")``, then cut into groups of ``c``
  (the last one may be shorter); ``c > 1`` gives a list per pipe, and a group
  holding a placeholder becomes its first placeholder;
* an inbox holding a placeholder gives that placeholder unchanged; otherwise
  the functions run composed (``f2((f1(inbox),))``) and an exception becomes a
  ``WorkerError`` naming the function, the piper and the evaluation index;
* produce ``n``: one result becomes ``n`` items (repeated when ``repeat`` or
  when it is a placeholder; a result that is not a sequence of ``n`` items
  becomes ``n`` copies of one ``PiperError(exc_type="ProduceError")``);
  ``spawn`` only matters for the balance rule;
* stats per piper: ``in`` evaluations, ``out`` items emitted, ``errors``
  placeholders created at the piper.

It shares no code with the engine: only the two placeholder classes are
imported, to build expected values.  ``ordered`` is recorded but the
reference always returns input order; :func:`loose_pipers` tells which
outputs the tests must compare as multisets.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

from papy_engine.errors import PiperError, WorkerError

PLACEHOLDERS = (WorkerError, PiperError)


@dataclass
class Fn:
    """One node function with its extra positional and keyword arguments."""
    func: Callable
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        parts = [self.func.__name__] + [repr(a) for a in self.args]
        parts += [f"{k}={v!r}" for k, v in self.kwargs.items()]
        return f"Fn({', '.join(parts)})"


@dataclass
class PiperSpec:
    """A node: its functions (composed in order) and its flow options."""
    name: str
    fns: tuple[Fn, ...]
    consume: int = 1
    produce: int = 1
    spawn: int = 1
    repeat: bool = False
    ordered: bool = True
    branch: Any = None


@dataclass
class PipelineSpec:
    """A pipeline: pipers, how it is built, and one data list per input.

    ``build`` is the construction, step by step: ``(name,)`` adds a piper,
    ``(a, b, ...)`` adds the chain of pipes a->b->...; a piper's add order is
    its first appearance there.
    """
    pipers: list[PiperSpec]
    build: list[tuple[str, ...]]
    inputs: list[list]

    def piper(self, name: str) -> PiperSpec:
        return next(p for p in self.pipers if p.name == name)


@dataclass
class PiperRun:
    """What the reference computed for one piper."""
    out: list
    stats: dict


def branch_key(branch: Any) -> tuple:
    """None first, then numbers ascending, then anything else by ``str()``."""
    if branch is None:
        return (0, 0, "")
    if isinstance(branch, (int, float)) and not isinstance(branch, bool):
        return (1, branch, "")
    return (2, 0, str(branch))


def add_order(spec: PipelineSpec) -> list[str]:
    seen: list[str] = []
    for step in spec.build:
        seen += [n for n in step if n not in seen]
    return seen


def edges(spec: PipelineSpec) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for step in spec.build:
        found += [e for e in zip(step, step[1:]) if e not in found]
    return found


def _graph_sorted(spec: PipelineSpec, names) -> list[str]:
    order = add_order(spec)
    return sorted(names, key=lambda n: (branch_key(spec.piper(n).branch), order.index(n)))


def parents(spec: PipelineSpec, name: str) -> list[str]:
    return _graph_sorted(spec, [a for a, b in edges(spec) if b == name])


def children(spec: PipelineSpec, name: str) -> list[str]:
    return _graph_sorted(spec, [b for a, b in edges(spec) if a == name])


def inputs(spec: PipelineSpec) -> list[str]:
    return _graph_sorted(spec, [n for n in add_order(spec) if not parents(spec, n)])


def outputs(spec: PipelineSpec) -> list[str]:
    return _graph_sorted(spec, [n for n in add_order(spec) if not children(spec, n)])


def topological(spec: PipelineSpec) -> list[str]:
    done: list[str] = []
    while len(done) < len(add_order(spec)):
        done += [next(n for n in add_order(spec) if n not in done
                      and all(p in done for p in parents(spec, n)))]
    return done


def descendants(spec: PipelineSpec, name: str) -> set[str]:
    found, todo = set(), list(children(spec, name))
    while todo:
        n = todo.pop()
        if n not in found:
            found.add(n)
            todo += children(spec, n)
    return found


def loose_pipers(spec: PipelineSpec) -> tuple[set[str], set[str]]:
    """(pipers whose output order is not determined, pipers below an unordered one).

    The first set holds the unordered pipers and everything downstream of
    them: compare their outputs as multisets.  The second holds only what is
    strictly downstream: placeholders created there have no fixed ``index``.
    """
    below: set[str] = set()
    for p in spec.pipers:
        if not p.ordered:
            below |= descendants(spec, p.name)
    return below | {p.name for p in spec.pipers if not p.ordered}, below


def evaluate(spec: PipelineSpec) -> dict[str, PiperRun]:
    """Run the pipeline serially; return each piper's output and stats."""
    names = inputs(spec)
    if len(names) != len(spec.inputs):
        raise ValueError(f"{len(names)} input pipers {names}, {len(spec.inputs)} data lists")
    data = dict(zip(names, spec.inputs))
    runs: dict[str, PiperRun] = {}
    for name in topological(spec):
        ups = [list(data[name])] if name in data else [runs[p].out for p in parents(spec, name)]
        runs[name] = run_piper(spec.piper(name), ups)
    return runs


def run_piper(p: PiperSpec, streams: list[list]) -> PiperRun:
    """One piper over whole upstream streams (one list per pipe, inbox order)."""
    length = max((len(s) for s in streams), default=0)
    n_eval = math.ceil(length / p.consume)
    out: list = []
    errors = 0
    for e in range(n_eval):
        missing = PiperError("no item from an upstream pipe", exc_type="MissingInput",
                             piper=p.name, index=e)
        span = range(e * p.consume, min((e + 1) * p.consume, length))
        inbox = tuple(_group([s[i] if i < len(s) else missing for i in span], p.consume)
                      for s in streams)
        result = first_placeholder(inbox)
        if result is None:
            result = call_worker(p, inbox, e)
            errors += isinstance(result, PLACEHOLDERS)
        else:
            errors += result is missing
        items, made = produce(p, result, e)
        out += items
        errors += made
    return PiperRun(out, {"in": n_eval, "out": len(out), "errors": errors})


def _group(items: list, consume: int) -> Any:
    if consume == 1:
        return items[0]
    ph = first_placeholder(items)
    return items if ph is None else ph


def first_placeholder(items) -> Any:
    return next((x for x in items if isinstance(x, PLACEHOLDERS)), None)


def call_worker(p: PiperSpec, inbox: tuple, index: int) -> Any:
    """``fn((...fn2((fn1(inbox),))...))``; an exception becomes a WorkerError."""
    result: Any = inbox
    for i, fn in enumerate(p.fns):
        try:
            result = fn.func(result if i == 0 else (result,), *fn.args, **fn.kwargs)
        except Exception as exc:
            return WorkerError(str(exc), exc_type=type(exc).__name__,
                               function=fn.func.__name__, piper=p.name, index=index)
    return result


def produce(p: PiperSpec, result: Any, index: int) -> tuple[list, int]:
    """The items one result becomes, and how many placeholders that created."""
    n = p.produce
    if n == 1:
        return [result], 0
    if p.repeat or isinstance(result, PLACEHOLDERS):
        return [result] * n, 0
    try:
        items = list(result)
    except TypeError:
        items = None
    if items is None or len(items) != n:
        bad = PiperError(f"expected a sequence of {n} items", exc_type="ProduceError",
                         piper=p.name, index=index)
        return [bad] * n, 1
    return items, 0


def normalize(item: Any, with_index: bool = True) -> Any:
    """A comparable stand-in for an item; placeholders by their contract fields.

    Compared for every placeholder: class, ``exc_type``, ``piper`` and
    ``index`` (unless ``with_index`` is False); for a ``WorkerError`` also
    ``message`` and ``function``.  Tracebacks and the wording of the engine's
    own ``PiperError`` messages are not part of the contract.
    """
    if not isinstance(item, PLACEHOLDERS):
        return item
    worker = isinstance(item, WorkerError)
    return (type(item).__name__, item.exc_type, item.piper,
            item.index if with_index else "*",
            item.message if worker else "", item.function if worker else "")
