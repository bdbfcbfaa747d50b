"""Graph rules of the document: cycles, balance, input order, auto-layout.

Pure functions over node names and edge lists, so the document can check an
edit *before* applying it (orange-canvas ``check_connect``) and the messages
match the engine's ``DaggerError`` wording.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence

from papy_engine.piper import branch_key

from .errors import EditError
from .items import Node

log = logging.getLogger(__name__)

#: Auto-layout spacing in canvas units (nodes are about 170 x 64).
COLUMN_GAP = 230
ROW_GAP = 100


def _children(edges: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for a, b in edges:
        out.setdefault(a, []).append(b)
    return out


def find_path(edges: Iterable[tuple[str, str]], start: str, goal: str) -> list[str] | None:
    """A path ``start -> ... -> goal`` along ``edges``, or None."""
    children = _children(edges)
    stack, seen = [(start, [start])], {start}
    while stack:
        node, path = stack.pop()
        if node == goal:
            return path
        for c in children.get(node, ()):
            if c not in seen:
                seen.add(c)
                stack.append((c, path + [c]))
    return None


def check_connect(nodes: Mapping[str, Node], edges: Sequence[tuple[str, str]],
                  up: str, down: str) -> None:
    """Raise EditError if the pipe ``up -> down`` may not be added."""
    for n in (up, down):
        if n not in nodes:
            raise EditError(f"no node named {n!r}")
    if up == down:
        raise EditError(f"a pipe from node {up!r} to itself would close a cycle")
    if (up, down) in edges:
        raise EditError(f"nodes {up!r} and {down!r} are already connected")
    path = find_path(edges, down, up)
    if path:
        raise EditError(f"a pipe {up!r} -> {down!r} would close a cycle: "
                        f"{' -> '.join(path + [down])}")
    check_balance(nodes[up], nodes[down])


def check_balance(up: Node, down: Node) -> None:
    if up.out_n != down.in_n:
        raise EditError(
            f"pipe {up.name!r} -> {down.name!r} does not balance: upstream produce*spawn = "
            f"{up.option('produce')}*{up.option('spawn')} = {up.out_n}, downstream "
            f"consume*spawn = {down.option('consume')}*{down.option('spawn')} = {down.in_n}")


def input_nodes(nodes: Mapping[str, Node], edges: Sequence[tuple[str, str]]) -> list[str]:
    """Nodes without upstream pipes, in the engine's ``get_inputs()`` order."""
    order = {name: i for i, name in enumerate(nodes)}
    has_parent = {b for _, b in edges}
    names = [n for n in nodes if n not in has_parent]
    return sorted(names, key=lambda n: (branch_key(nodes[n].option("branch")), order[n]))


def output_nodes(nodes: Mapping[str, Node], edges: Sequence[tuple[str, str]]) -> list[str]:
    has_child = {a for a, _ in edges}
    return [n for n in nodes if n not in has_child]


def layers(nodes: Sequence[str], edges: Sequence[tuple[str, str]]) -> dict[str, int]:
    """Longest-path layer of each node (inputs in layer 0)."""
    parents: dict[str, list[str]] = {n: [] for n in nodes}
    for a, b in edges:
        parents[b].append(a)
    layer: dict[str, int] = {}

    def visit(n: str, depth: int = 0) -> int:
        if n not in layer:
            if depth > len(nodes):  # cannot happen in a DAG; guard against bad files
                return 0
            layer[n] = 1 + max((visit(p, depth + 1) for p in parents[n]), default=-1)
        return layer[n]

    for n in nodes:
        visit(n)
    return layer


def auto_layout(nodes: Sequence[str], edges: Sequence[tuple[str, str]],
                origin: tuple[float, float] = (40, 40)) -> dict[str, tuple[float, float]]:
    """Layered left-to-right positions; rows ordered by the parents' barycentre."""
    layer = layers(nodes, edges)
    columns: dict[int, list[str]] = {}
    for n in nodes:
        columns.setdefault(layer[n], []).append(n)
    parents: dict[str, list[str]] = {n: [] for n in nodes}
    for a, b in edges:
        parents[b].append(a)
    row: dict[str, float] = {}
    pos: dict[str, tuple[float, float]] = {}
    height = max((len(c) for c in columns.values()), default=0)
    for col in sorted(columns):
        names = columns[col]
        if col:
            names.sort(key=lambda n: (sum(row[p] for p in parents[n]) / max(1, len(parents[n]))))
        offset = (height - len(names)) / 2
        for i, n in enumerate(names):
            row[n] = i
            pos[n] = (origin[0] + col * COLUMN_GAP, origin[1] + (i + offset) * ROW_GAP)
    return pos
