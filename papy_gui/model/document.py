"""The pipeline document: the public, validated edits the views call.

Each method checks its arguments against the current state *first* and
raises :class:`EditError` (document untouched) or applies the change as one
undoable command. Views never mutate ``nodes``/``edges`` directly.
"""
from __future__ import annotations

import ast
import copy
import logging
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from . import graph
from .errors import EditError
from .items import (IMAP_DEFAULTS, NODE_DEFAULTS, FuncRef, Node, Resource, check_name,
                    function_name_of, parse_option)
from .store import _MISSING, Store

log = logging.getLogger(__name__)


def check_expression(text: str, what: str = "expression") -> str:
    """``text`` must parse as one Python expression (it is never evaluated here)."""
    try:
        ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise EditError(f"{what} is not a valid Python expression: {exc.msg} "
                        f"(got {text!r})", field=what) from None
    return text


class Document(Store):
    """A pipeline being edited. See :mod:`papy_gui.model.store` for the mechanics."""

    # -- queries ----------------------------------------------------------
    def unique_name(self, base: str, taken: Iterable[str] = ()) -> str:
        base = "".join(c if c.isalnum() or c == "_" else "_" for c in base) or "node"
        if not base.isidentifier():
            base = "n_" + base
        names = set(self.nodes) | set(self.resources) | set(taken)
        if base not in names:
            return base
        i = 2
        while f"{base}_{i}" in names:
            i += 1
        return f"{base}_{i}"

    def input_nodes(self) -> list[str]:
        return graph.input_nodes(self.nodes, self.edges)

    def output_nodes(self) -> list[str]:
        return graph.output_nodes(self.nodes, self.edges)

    def parents_of(self, name: str) -> list[str]:
        return [a for a, b in self.edges if b == name]

    def children_of(self, name: str) -> list[str]:
        return [b for a, b in self.edges if a == name]

    def can_connect(self, up: str, down: str) -> str | None:
        """None if ``up -> down`` may be added, else the reason."""
        try:
            graph.check_connect(self.nodes, self.edges, up, down)
        except EditError as exc:
            return str(exc)
        return None

    # -- nodes ------------------------------------------------------------
    def add_node(self, functions: list[FuncRef] | FuncRef, name: str | None = None,
                 x: float = 0.0, y: float = 0.0, options: Mapping[str, Any] | None = None,
                 args: list[list[str]] | None = None,
                 kwargs: list[dict[str, str]] | None = None) -> str:
        """Add a node; returns its (made unique) name."""
        funcs = [functions] if isinstance(functions, FuncRef) else list(functions)
        if not funcs:
            raise EditError("a node needs at least one function")
        if name is None:
            name = self.unique_name(funcs[0].name)
        check_name("node", name)
        if name in self.nodes or name in self.resources:
            raise EditError(f"the name {name!r} is already taken", field="name")
        opts = {k: parse_option(k, v) for k, v in (options or {}).items()}
        node = Node(name, funcs, args or [[] for _ in funcs], kwargs or [{} for _ in funcs],
                    opts, float(x), float(y))
        self._check_node_options(node)
        with self.edit(f"add node {name}"):
            self._apply("_op_add_node", node, len(self.nodes))
        return name

    def remove_nodes(self, names: Iterable[str]) -> None:
        names = [n for n in dict.fromkeys(names) if n in self.nodes]
        if not names:
            return
        with self.edit(f"delete {', '.join(names)}"):
            for edge in [e for e in self.edges if e[0] in names or e[1] in names]:
                self._apply("_op_remove_edge", edge)
            for n in names:
                if n in self.inputs:
                    self._apply("_op_set_input", n, None)
                self._apply("_op_remove_node", n)

    def insert_nodes(self, nodes: Iterable[Node], edges: Iterable[tuple[str, str]] = (),
                     inputs: Mapping[str, str] | None = None, label: str = "paste",
                     dx: float = 0.0, dy: float = 0.0) -> dict[str, str]:
        """Add copies of detached ``nodes`` (moved by dx, dy), the ``edges`` among
        them and their ``inputs``, as one undoable edit; returns ``{old: new}``.

        A node whose name is taken gets a new one (:meth:`unique_name`); one
        whose parallel resource this document lacks becomes serial.
        """
        renamed: dict[str, str] = {}
        with self.edit(label):
            for node in nodes:
                new = node.copy()
                new.name = self.unique_name(node.name)
                new.x, new.y = node.x + dx, node.y + dy
                if new.options.get("parallel") not in (None, *self.resources):
                    new.options.pop("parallel")
                    new.options.pop("timeout", None)
                renamed[node.name] = new.name
                self._apply("_op_add_node", new, len(self.nodes))
            for a, b in edges:
                self._apply("_op_add_edge", (renamed[a], renamed[b]), len(self.edges))
            for n, expr in (inputs or {}).items():
                self._apply("_op_set_input", renamed[n], expr)
        return renamed

    def move_nodes(self, positions: Mapping[str, tuple[float, float]], label: str = "move") -> None:
        changes = {n: p for n, p in positions.items()
                   if n in self.nodes and (self.nodes[n].x, self.nodes[n].y) != tuple(p)}
        if not changes:
            return
        with self.edit(label, layout=True):  # allowed during a run: layout only
            for n, (x, y) in changes.items():
                self._apply("_op_move", n, x, y)

    def rename_node(self, old: str, new: str) -> None:
        if old not in self.nodes:
            raise EditError(f"no node named {old!r}")
        if new == old:
            return
        check_name("node", new)
        if new in self.nodes or new in self.resources:
            raise EditError(f"the name {new!r} is already taken", field="name")
        with self.edit(f"rename {old} to {new}"):
            self._apply("_op_rename", old, new)

    def _check_node_options(self, node: Node) -> None:
        for key, value in node.options.items():
            if key == "parallel" and value is not None and value not in self.resources:
                raise EditError(f"node {node.name!r}: no resource named {value!r} "
                                f"(have: {', '.join(self.resources) or 'none'})", field=key)
        if node.option("timeout") is not None and node.option("parallel") is None:
            raise EditError(f"node {node.name!r}: 'timeout' needs a parallel resource "
                            "(a serial function cannot be interrupted)", field="timeout")

    def set_option(self, name: str, key: str, value: Any) -> None:
        """Set one piper option (text from the panel is parsed); validated first."""
        if name not in self.nodes:
            raise EditError(f"no node named {name!r}")
        value = parse_option(key, value, NODE_DEFAULTS)
        probe = self.nodes[name].copy()
        probe.options[key] = value
        self._check_node_options(probe)
        if key in ("produce", "spawn", "consume"):
            trial = dict(self.nodes, **{name: probe})
            for a, b in self.edges:
                if name in (a, b):
                    try:
                        graph.check_balance(trial[a], trial[b])
                    except EditError as exc:
                        raise EditError(str(exc), field=key) from None
        if self.nodes[name].options.get(key, _MISSING) == value:
            return
        # keep options sparse so an unedited file renders as it was read
        new = _MISSING if (value == NODE_DEFAULTS[key] and key not in self.nodes[name].options) else value
        if new is _MISSING:
            return
        with self.edit(f"set {name}.{key}"):
            self._apply("_op_set_option", name, key, new)

    def set_args(self, name: str, index: int, args: list[str],
                 kwargs: Mapping[str, str] | None = None) -> None:
        """Set the extra arguments (expression text) of function ``index`` of a node."""
        node = self.nodes[name]
        for a in args:
            check_expression(a, "args")
        for k, v in (kwargs or {}).items():
            if not k.isidentifier():
                raise EditError(f"keyword {k!r} is not a Python identifier", field="kwargs")
            check_expression(v, "kwargs")
        new_args = copy.deepcopy(node.args) + [[] for _ in range(len(node.functions) - len(node.args))]
        new_kwargs = copy.deepcopy(node.kwargs) + [{} for _ in range(len(node.functions) - len(node.kwargs))]
        new_args[index] = list(args)
        if kwargs is not None:
            new_kwargs[index] = dict(kwargs)
        with self.edit(f"set {name} arguments"):
            if new_args != node.args:
                self._apply("_op_set_node_attr", name, "args", new_args)
            if new_kwargs != node.kwargs:
                self._apply("_op_set_node_attr", name, "kwargs", new_kwargs)

    def set_function_source(self, name: str, source: str, index: int = 0) -> None:
        """Replace a written-out function by ``source`` (checked to parse, not run)."""
        node = self.nodes[name]
        fname = function_name_of(source)
        for other, k, f in self._written_out(fname):
            if (other, k) != (name, index) and f.source != source:
                raise EditError(f"node {other!r} already has a function named {fname!r} "
                                "with other code, and a saved script holds one function "
                                "per name: give this one another name", field="source")
        funcs = copy.deepcopy(node.functions)
        old = funcs[index]
        funcs[index] = FuncRef(fname, None, fname, source, list(old.imports))
        if funcs != node.functions:
            with self.edit(f"edit {name} source"):
                self._apply("_op_set_node_attr", name, "functions", funcs)

    def _written_out(self, fname: str) -> Iterator[tuple[str, int, FuncRef]]:
        """``(node, index, function)`` of every written-out function named ``fname``."""
        for n, node in self.nodes.items():
            for k, f in enumerate(node.functions):
                if f.module is None and f.source is not None and f.name == fname:
                    yield n, k, f

    # -- pipes ------------------------------------------------------------
    def connect(self, up: str, down: str) -> None:
        graph.check_connect(self.nodes, self.edges, up, down)
        with self.edit(f"connect {up} -> {down}"):
            self._apply("_op_add_edge", (up, down), len(self.edges))

    def disconnect(self, up: str, down: str) -> None:
        if (up, down) not in self.edges:
            raise EditError(f"no pipe {up!r} -> {down!r}")
        with self.edit(f"disconnect {up} -> {down}"):
            self._apply("_op_remove_edge", (up, down))

    # -- resources --------------------------------------------------------
    def add_resource(self, name: str | None = None, **options: Any) -> str:
        name = name or self.unique_name("pool")
        check_name("resource", name)
        if name in self.resources or name in self.nodes:
            raise EditError(f"the name {name!r} is already taken", field="name")
        opts = {k: parse_option(k, v, IMAP_DEFAULTS) for k, v in options.items()}
        with self.edit(f"add resource {name}"):
            self._apply("_op_add_resource", Resource(name, opts), len(self.resources))
        return name

    def remove_resource(self, name: str) -> None:
        """Remove a resource; nodes using it become serial (in the same command)."""
        if name not in self.resources:
            raise EditError(f"no resource named {name!r}")
        with self.edit(f"delete resource {name}"):
            for n, node in self.nodes.items():
                if node.options.get("parallel") == name:
                    if node.options.get("timeout") is not None:
                        self._apply("_op_set_option", n, "timeout", _MISSING)
                    self._apply("_op_set_option", n, "parallel", None)
            self._apply("_op_remove_resource", name)

    def set_resource_option(self, name: str, key: str, value: Any) -> None:
        if name not in self.resources:
            raise EditError(f"no resource named {name!r}")
        value = parse_option(key, value, IMAP_DEFAULTS)
        if self.resources[name].options.get(key, _MISSING) == value:
            return
        if key not in self.resources[name].options and value == IMAP_DEFAULTS[key]:
            return
        with self.edit(f"set {name}.{key}"):
            self._apply("_op_set_resource_option", name, key, value)

    # -- inputs, preamble, layout -------------------------------------------
    def set_input(self, name: str, expr: str | None) -> None:
        """The input expression of input node ``name`` (None or "" clears it)."""
        if name not in self.nodes:
            raise EditError(f"no node named {name!r}")
        expr = (expr or "").strip() or None
        if expr is not None:
            check_expression(expr, "input")
        if self.inputs.get(name) != expr:
            with self.edit(f"set input of {name}"):
                self._apply("_op_set_input", name, expr)

    def set_preamble(self, text: str, label: str = "edit the script code") -> None:
        """The script's own top-level code (imports, constants, helpers); it must parse."""
        if text == self.preamble:
            return
        try:
            compile(text, "<preamble>", "exec", dont_inherit=True)
        except SyntaxError as exc:
            raise EditError(f"the script's code has a syntax error, line {exc.lineno}: "
                            f"{exc.msg}", field="preamble") from None
        with self.edit(label):
            self._apply("_op_set_preamble", text)

    def auto_layout(self) -> None:
        pos = graph.auto_layout(list(self.nodes), self.edges)
        self.move_nodes(pos, label="auto-layout")

    # -- selection (not undoable) --------------------------------------------
    def select(self, names: Iterable[str], add: bool = False) -> None:
        names = [n for n in names if n in self.nodes]
        new = list(dict.fromkeys((self.selection if add else []) + names))
        if new != self.selection:
            self.selection = new
            self._emit("selection_changed")

    def toggle_selected(self, name: str) -> None:
        sel = [n for n in self.selection if n != name]
        self.select(sel if name in self.selection else sel + [name])

    def select_resource(self, name: str | None) -> None:
        if name != self.selected_resource:
            self.selected_resource = name
            self._emit("selection_changed")

    def delete_selection(self) -> None:
        self.remove_nodes(list(self.selection))
