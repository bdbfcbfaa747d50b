"""Dagger: the directed acyclic graph of pipers (a ``networkx.DiGraph`` inside).

Edges point downstream (``p1 -> p2`` means p2 reads p1's results).  Every
change is validated before the graph is touched: a cycle, an unbalanced
produce/consume/spawn connection or an unknown piper raise
:class:`~papy_engine.errors.DaggerError` and leave the graph as it was.
Order is deterministic: a piper's inputs are sorted by ``branch`` (None
first), then by the order in which pipers were added.
"""
from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import networkx as nx

from .errors import DaggerError
from .piper import Piper, branch_key
from .worker import Worker

__all__ = ["Dagger"]

log = logging.getLogger(__name__)


class Dagger:
    """A DAG of :class:`Piper` nodes."""

    def __init__(self, pipers: Iterable[Piper] = (), pipes: Iterable[Sequence[Piper]] = ()) -> None:
        self._graph = nx.DiGraph()
        self._order = itertools.count()
        self.add_pipers(pipers)
        self.add_pipes(pipes)

    # -- inspection -------------------------------------------------------
    @property
    def graph(self) -> nx.DiGraph:
        """The underlying graph (read it; change it through the Dagger)."""
        return self._graph

    def __contains__(self, piper: Piper) -> bool:
        return piper in self._graph

    def __len__(self) -> int:
        return self._graph.number_of_nodes()

    def __iter__(self):
        return iter(self.postorder())

    @property
    def pipers(self) -> list[Piper]:
        """All pipers in the order they were added."""
        return sorted(self._graph.nodes, key=self._added)

    def pipes(self) -> list[tuple[Piper, Piper]]:
        """All edges ``(upstream, downstream)`` in a deterministic order."""
        return [(u, p) for p in self.postorder() for u in self.parents_of(p)]

    def _added(self, piper: Piper) -> int:
        return self._graph.nodes[piper]["order"]

    def _key(self, piper: Piper) -> tuple:
        return (branch_key(piper.branch), self._added(piper))

    def get_piper(self, name: str) -> Piper:
        """The piper called ``name``; raises DaggerError if there is none."""
        for p in self._graph.nodes:
            if p.name == name:
                return p
        raise DaggerError(f"no piper named {name!r} (have: "
                          f"{', '.join(p.name for p in self.pipers) or 'none'})")

    def parents_of(self, piper: Piper) -> list[Piper]:
        """Upstream pipers of ``piper``, in inbox order."""
        self._known(piper)
        return sorted(self._graph.predecessors(piper), key=self._key)

    def children_of(self, piper: Piper) -> list[Piper]:
        """Downstream pipers of ``piper``, in a deterministic order."""
        self._known(piper)
        return sorted(self._graph.successors(piper), key=self._key)

    def get_inputs(self) -> list[Piper]:
        """Pipers without upstream pipers; ``Plumber.start`` takes data in this order."""
        return sorted((p for p in self._graph if self._graph.in_degree(p) == 0), key=self._key)

    def get_outputs(self) -> list[Piper]:
        """Pipers without downstream pipers."""
        return sorted((p for p in self._graph if self._graph.out_degree(p) == 0), key=self._key)

    def postorder(self) -> list[Piper]:
        """A topological order (upstream first), the same for the same construction."""
        return list(nx.lexicographical_topological_sort(self._graph, key=self._key))

    # -- editing ----------------------------------------------------------
    def _known(self, piper: Piper) -> None:
        if piper not in self._graph:
            raise DaggerError(f"piper {getattr(piper, 'name', piper)!r} is not in this pipeline")

    def _check_editable(self) -> None:
        """Hook: a Plumber refuses edits while a run is in progress."""

    def add_piper(self, piper: Piper | Worker | Callable) -> Piper:
        """Add ``piper`` (a no-op when it is already here); returns it.

        A Worker or a callable is made into a new serial :class:`Piper` first.
        A default-named piper whose name is taken gets a ``_2``, ``_3``...
        suffix; an explicit duplicate name raises DaggerError.
        """
        self._check_editable()
        if isinstance(piper, Worker) or (callable(piper) and not isinstance(piper, Piper)):
            piper = Piper(piper)
        if not isinstance(piper, Piper):
            raise DaggerError(f"expected a Piper, a Worker or a callable (got {piper!r} that "
                              f"is a {type(piper).__name__})")
        if piper in self._graph:
            return piper
        names = {p.name for p in self._graph}
        if piper.name in names:
            if not getattr(piper, "_default_name", False):
                raise DaggerError(f"a piper named {piper.name!r} is already in this pipeline; "
                                  "piper names must be unique")
            base, n = piper.name, 2
            while f"{base}_{n}" in names:
                n += 1
            piper.name = f"{base}_{n}"
        self._graph.add_node(piper, order=next(self._order))
        log.debug("added piper %s", piper.name)
        return piper

    def add_pipers(self, pipers: Iterable[Piper]) -> None:
        """Add each piper in turn (see :meth:`add_piper`)."""
        for p in pipers:
            self.add_piper(p)

    def del_piper(self, piper: Piper, forced: bool = False) -> None:
        """Remove ``piper`` and the pipes into it.

        A piper that still feeds downstream pipers is removed (with those
        pipes) only with ``forced=True``; otherwise DaggerError names them.
        """
        self._check_editable()
        self._known(piper)
        children = self.children_of(piper)
        if children and not forced:
            raise DaggerError(f"piper {piper.name!r} still feeds "
                              f"{', '.join(repr(c.name) for c in children)}; delete those "
                              "pipes first or use forced=True")
        self._graph.remove_node(piper)

    def del_pipers(self, pipers: Iterable[Piper], forced: bool = False) -> None:
        """Remove several pipers; downstream ones first, so that ``forced`` is
        needed only for pipers that feed a piper staying in the graph."""
        pipers = list(pipers)
        for p in pipers:
            self._known(p)
        order = {p: i for i, p in enumerate(self.postorder())}
        for p in sorted(pipers, key=order.__getitem__, reverse=True):
            self.del_piper(p, forced)

    def _check_edge(self, up: Piper, down: Piper) -> None:
        if up is down:
            raise DaggerError(f"a pipe from piper {up.name!r} to itself would close a cycle")
        if up in self._graph and down in self._graph and _reaches(self._graph, down, up):
            path = nx.shortest_path(self._graph, down, up)
            names = " -> ".join(p.name for p in path + [down])
            raise DaggerError(f"a pipe {up.name!r} -> {down.name!r} would close a cycle: {names}")
        out_n, in_n = up.produce * up.spawn, down.consume * down.spawn
        if out_n != in_n:
            raise DaggerError(
                f"pipe {up.name!r} -> {down.name!r} does not balance: upstream produce*spawn = "
                f"{up.produce}*{up.spawn} = {out_n}, downstream consume*spawn = "
                f"{down.consume}*{down.spawn} = {in_n}")

    def add_pipe(self, pipe: Sequence[Piper]) -> None:
        """Add a chain of edges ``p1 -> p2 -> ...``; unknown pipers are added.

        Validated as a whole first: on error nothing changes.
        """
        self._check_editable()
        pipe = list(pipe)
        if len(pipe) < 2:
            raise DaggerError(f"a pipe needs at least two pipers (got {len(pipe)})")
        for p in pipe:
            if not isinstance(p, Piper):
                raise DaggerError(f"pipes connect Pipers (got {p!r} that is a {type(p).__name__})")
        trial = self._graph.copy()
        for up, down in zip(pipe, pipe[1:]):
            self._check_edge(up, down)
            closes = up in trial and down in trial and _reaches(trial, down, up)
            trial.add_edge(up, down)
            if closes:
                cycle = nx.find_cycle(trial, up)
                names = " -> ".join(e[0].name for e in cycle) + f" -> {cycle[0][0].name}"
                raise DaggerError(f"pipe {' -> '.join(p.name for p in pipe)} would close a "
                                  f"cycle: {names}")
        for p in pipe:
            self.add_piper(p)
        for up, down in zip(pipe, pipe[1:]):
            self._graph.add_edge(up, down)

    def add_pipes(self, pipes: Iterable[Sequence[Piper]]) -> None:
        """Add each pipe in turn (see :meth:`add_pipe`)."""
        for pipe in pipes:
            self.add_pipe(pipe)

    def del_pipes(self, pipes: Iterable[Sequence[Piper]]) -> None:
        """Remove each pipe in turn (see :meth:`del_pipe`)."""
        for pipe in pipes:
            self.del_pipe(pipe)

    def del_pipe(self, pipe: Sequence[Piper]) -> None:
        """Remove the edges of the chain ``p1 -> p2 -> ...`` (pipers stay)."""
        self._check_editable()
        pipe = list(pipe)
        for up, down in zip(pipe, pipe[1:]):
            if not self._graph.has_edge(up, down):
                raise DaggerError(f"there is no pipe {getattr(up, 'name', up)!r} -> "
                                  f"{getattr(down, 'name', down)!r}")
        for up, down in zip(pipe, pipe[1:]):
            self._graph.remove_edge(up, down)

    def validate(self) -> None:
        """Check the graph is runnable (non-empty, acyclic, balanced)."""
        if not self._graph:
            raise DaggerError("the pipeline has no pipers")
        for up, down in self._graph.edges:
            self._check_edge(up, down)


def _reaches(graph: nx.DiGraph, src: Any, dst: Any) -> bool:
    """True when a path leads from ``src`` to ``dst``: whether an edge
    ``dst -> src`` would close a cycle.  (``nx.has_path`` answers the same, but
    its first call in a process compiles networkx's dispatch wrapper: ~1 ms
    for each such function, on every fresh pipeline build.)"""
    seen, todo = {src}, [src]
    while todo:
        node = todo.pop()
        if node == dst:
            return True
        for nxt in graph.successors(node):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return False
