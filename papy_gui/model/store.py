"""The document's state, its reversible primitive operations, and observers.

Every change goes through a primitive ``_op_*`` method that mutates one thing,
notifies observers and returns its inverse as ``(op_name, args)``. An edit
(a user gesture) runs primitives inside ``edit(label)``: they are recorded
as one undo command, and rolled back if a later step fails, so an edit is
all-or-nothing. Undo applies the inverses in reverse; redo replays the ops.

Data flow: view gesture -> Document edit (validates) -> primitives ->
observers (canvas, property panel, title, autosave) on the same thread.

While a run is in progress the document is *locked* (:meth:`Store.lock`):
every edit except moving nodes is refused with an :class:`EditError`, so the
canvas keeps showing the graph that runs (issue 12).
"""
from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Literal, cast

from .errors import EditError
from .events import DocEvent
from .items import Node, Resource
from .undo import Command, UndoStack

log = logging.getLogger(__name__)

Observer = Callable[[DocEvent, dict], None]
_MISSING = object()


def _edge(edge: tuple[str, str] | list[str]) -> tuple[str, str]:
    """An edge as a hashable pair (a loaded document may hold lists)."""
    return cast("tuple[str, str]", tuple(edge))


def _set_key(options: dict[str, Any], key: str, value: Any) -> Any:
    """Set ``options[key]`` (remove it for ``_MISSING``); returns the old value or ``_MISSING``."""
    old = options.get(key, _MISSING)
    if value is _MISSING:
        options.pop(key, None)
    else:
        options[key] = value
    return old


class Store:
    """State and primitives; :class:`~papy_gui.model.document.Document` adds the edits."""

    def __init__(self) -> None:
        self.nodes: dict[str, Node] = {}
        self.edges: list[tuple[str, str]] = []
        self.resources: dict[str, Resource] = {}
        self.inputs: dict[str, str] = {}
        self.preamble: str = ""
        self.layout: dict[str, Any] = {}
        # set by convert.from_description: INPUTS text that did not map one
        # per input node, and positions made by auto-layout (not in the file)
        self.inputs_raw: list[str] | None = None
        self.auto_positions: dict[str, tuple[float, float]] | None = None
        self.path: str | None = None
        self.extra: dict[str, Any] = {}
        self.selection: list[str] = []
        self.selected_resource: str | None = None
        self.undo_stack = UndoStack()
        self._observers: list[Observer] = []
        self._tx: list | None = None
        self.locked: str | None = None  # why edits are refused, None when they are not

    # -- observers --------------------------------------------------------
    def subscribe(self, fn: Observer) -> None:
        """``fn(event, data)`` is called after every change (on the caller's thread)."""
        self._observers.append(fn)

    def unsubscribe(self, fn: Observer) -> None:
        if fn in self._observers:
            self._observers.remove(fn)

    def _emit(self, event: DocEvent, **data: Any) -> None:
        for fn in list(self._observers):
            try:
                fn(event, data)
            except Exception:  # an observer bug must not corrupt an edit
                log.exception("document observer %r failed on %s", fn, event)

    # -- the run lock -------------------------------------------------------
    def lock(self, reason: str) -> None:
        """Refuse every edit but moves until :meth:`unlock` (``reason`` says why)."""
        if self.locked != reason:
            self.locked = reason
            self._emit("lock_changed", locked=reason)

    def unlock(self) -> None:
        if self.locked is not None:
            self.locked = None
            self._emit("lock_changed", locked=None)

    def check_unlocked(self, label: str) -> None:
        """EditError naming the refused edit ``label`` while the document is locked."""
        if self.locked is not None:
            raise EditError(f"cannot {label}: {self.locked}")

    # -- transactions -----------------------------------------------------
    @contextmanager
    def edit(self, label: str, layout: bool = False) -> Iterator[None]:
        """Group the edits made inside ``with doc.edit(label):`` into one undo step.

        All or nothing: if a step raises, the steps before it are undone and
        the exception propagates. Edits nested in an open one join it.
        ``layout=True`` marks moves, which a locked document still allows.

        Raises:
            EditError: the document is locked (and this is not a layout edit).
        """
        if self._tx is not None:  # nested edits join the outer command
            yield
            return
        if not layout:
            self.check_unlocked(label)
        self._tx = []
        try:
            yield
        except BaseException:
            done, self._tx = self._tx, None
            for _do, undo in reversed(done):
                self._run(undo)
            raise
        done, self._tx = self._tx, None
        if done:
            self.undo_stack.push(Command(label, done))
            self._emit("changed", label=label)

    def _apply(self, op: str, *args: Any) -> Any:
        """Run a primitive inside the current edit and record it."""
        assert self._tx is not None, "primitives run inside edit()"
        inverse = getattr(self, op)(*args)
        self._tx.append(((op, args), inverse))

    def _run(self, op: tuple[str, tuple]) -> Any:
        name, args = op
        return getattr(self, name)(*args)

    def undo(self) -> str | None:
        """Revert the last edit; returns its label (None if there was nothing)."""
        return self._replay("undo")

    def redo(self) -> str | None:
        """Do the last undone edit again; returns its label (None if there was nothing)."""
        return self._replay("redo")

    def _replay(self, what: Literal["undo", "redo"]) -> str | None:
        stack = self.undo_stack
        cmd = stack.undo_command() if what == "undo" else stack.redo_command()
        if cmd is None:
            return None
        if self.locked is not None and any(do[0] != "_op_move" for do, _ in cmd.ops):
            self.check_unlocked(f"{what} {cmd.label}")  # only moves while a run is on
        if what == "undo":
            stack.pop_undo()
            ops = [undo for _do, undo in reversed(cmd.ops)]
        else:
            stack.pop_redo()
            ops = [do for do, _undo in cmd.ops]
        for op in ops:
            self._run(op)
        self._emit("changed", label=f"{what} {cmd.label}")
        return cmd.label

    @property
    def modified(self) -> bool:
        return not self.undo_stack.is_clean()

    def mark_saved(self) -> None:
        self.undo_stack.set_clean()
        self._emit("changed", label="saved")

    def mark_unsaved(self, label: str = "recovered") -> None:
        """The document differs from its file (e.g. recovered from an autosave)."""
        self.undo_stack.clean = None  # no undo position matches the file
        self._emit("changed", label=label)

    # -- primitives (each returns its inverse) ----------------------------
    def _op_add_node(self, node: Node, index: int) -> tuple:
        node = node.copy()
        items = list(self.nodes.items())
        items.insert(index, (node.name, node))
        self.nodes = dict(items)
        self._emit("node_added", name=node.name)
        return ("_op_remove_node", (node.name,))

    def _op_remove_node(self, name: str) -> tuple:
        index = list(self.nodes).index(name)
        node = self.nodes.pop(name)
        if name in self.selection:
            self.selection.remove(name)
            self._emit("selection_changed")
        self._emit("node_removed", name=name)
        return ("_op_add_node", (node.copy(), index))

    def _op_add_edge(self, edge: tuple[str, str], index: int) -> tuple:
        self.edges.insert(index, _edge(edge))
        self._emit("edge_added", edge=_edge(edge))
        return ("_op_remove_edge", (_edge(edge),))

    def _op_remove_edge(self, edge: tuple[str, str]) -> tuple:
        index = self.edges.index(_edge(edge))
        del self.edges[index]
        self._emit("edge_removed", edge=_edge(edge))
        return ("_op_add_edge", (_edge(edge), index))

    def _op_set_node_attr(self, name: str, attr: str, value: Any) -> tuple:
        node = self.nodes[name]
        old = copy.deepcopy(getattr(node, attr))
        setattr(node, attr, copy.deepcopy(value))
        self._emit("node_changed", name=name, attr=attr)
        return ("_op_set_node_attr", (name, attr, old))

    def _op_set_option(self, name: str, key: str, value: Any) -> tuple:
        old = _set_key(self.nodes[name].options, key, value)
        self._emit("node_changed", name=name, attr=key)
        return ("_op_set_option", (name, key, old))

    def _op_move(self, name: str, x: float, y: float) -> tuple:
        node = self.nodes[name]
        old = (node.x, node.y)
        node.x, node.y = x, y
        self._emit("node_moved", name=name)
        return ("_op_move", (name, *old))

    def _op_rename(self, old: str, new: str) -> tuple:
        self.nodes = {(new if k == old else k): v for k, v in self.nodes.items()}
        self.nodes[new].name = new
        self.edges = [_edge([new if n == old else n for n in e]) for e in self.edges]
        self.inputs = {(new if k == old else k): v for k, v in self.inputs.items()}
        self.selection = [new if n == old else n for n in self.selection]
        self._emit("node_renamed", old=old, new=new)
        return ("_op_rename", (new, old))

    def _op_add_resource(self, res: Resource, index: int) -> tuple:
        items = list(self.resources.items())
        items.insert(index, (res.name, res.copy()))
        self.resources = dict(items)
        self._emit("resources_changed", name=res.name)
        return ("_op_remove_resource", (res.name,))

    def _op_remove_resource(self, name: str) -> tuple:
        index = list(self.resources).index(name)
        res = self.resources.pop(name)
        if self.selected_resource == name:
            self.selected_resource = None
        self._emit("resources_changed", name=name)
        return ("_op_add_resource", (res, index))

    def _op_set_resource_option(self, name: str, key: str, value: Any) -> tuple:
        old = _set_key(self.resources[name].options, key, value)
        self._emit("resources_changed", name=name)
        return ("_op_set_resource_option", (name, key, old))

    def _op_set_input(self, name: str, expr: str | None) -> tuple:
        old = self.inputs.get(name)
        if expr is None:
            self.inputs.pop(name, None)
        else:
            self.inputs[name] = expr
        self._emit("inputs_changed", name=name)
        return ("_op_set_input", (name, old))

    def _op_set_preamble(self, text: str) -> tuple:
        old, self.preamble = self.preamble, text
        self._emit("preamble_changed")
        return ("_op_set_preamble", (old,))
