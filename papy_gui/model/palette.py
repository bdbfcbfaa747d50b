"""Palette data: the node types the editor offers, behind one adapter.

Sources, in order: the nodes of ``papy_engine.plugin.discover()`` (plugins
with metadata), then the built-in ``papy_engine.workers.core`` functions
that no plugin declares. A "Python function" type is always offered: its
source is edited inside the app. Also the rule for adding a node of a type
(:func:`add_from_type`: the consume that balances a dropped pipe). Nothing
here imports tkinter.
"""
from __future__ import annotations

import inspect
import logging
from dataclasses import dataclass, field

from papy_engine.plugin import NodeSpec, discover
from papy_engine.workers import core

from .document import Document
from .items import FuncRef

log = logging.getLogger(__name__)

PYTHON_KEY = "python:function"
PYTHON_TEMPLATE = '''def func(inbox):
    """Describe what this node does."""
    item = inbox[0]
    return item
'''
_CORE = (core.ipasser, core.npasser, core.spasser, core.nzipper, core.szipper, core.njoiner,
         core.sjoiner, core.plugger)


@dataclass(frozen=True)
class ParamInfo:
    name: str
    default: str  # repr of the default, "" if required
    type: str = "any"
    doc: str = ""
    required: bool = False


@dataclass(frozen=True)
class NodeType:
    """One palette entry."""

    key: str
    name: str
    category: str
    description: str = ""
    module: str | None = None
    qualname: str | None = None
    params: tuple[ParamInfo, ...] = ()
    inputs: int = 1
    hints: dict = field(default_factory=dict, hash=False, compare=False)
    icon: str = "plugin"

    @property
    def summary(self) -> str:
        lines = self.description.strip().splitlines()
        return lines[0] if lines else ""

    def make_func(self, name: str = "func") -> FuncRef:
        """The node's function; a new Python function is written out as ``name``
        (its node's name: a saved script holds one function per name)."""
        if self.key == PYTHON_KEY:
            source = PYTHON_TEMPLATE.replace("def func(", f"def {name}(", 1)
            return FuncRef(name, None, name, source, [])
        return FuncRef(self.qualname or self.name, self.module, self.qualname or self.name)

    def matches(self, text: str) -> bool:
        text = text.strip().lower()
        return not text or any(text in s.lower() for s in
                               (self.name, self.category, self.summary, self.module or ""))


def python_type() -> NodeType:
    return NodeType(PYTHON_KEY, "Python function", "Python",
                    "A function written in the editor: its source is saved in the script.",
                    icon="plugin")


def _from_spec(spec: NodeSpec) -> NodeType:
    params = tuple(ParamInfo(p.name, "" if p.required else repr(p.default), p.type, p.doc,
                             p.required) for p in spec.params)
    hints = {k: v for k, v in (("produce", spec.produce), ("consume", spec.consume),
                               ("spawn", spec.spawn)) if v != 1}
    return NodeType(spec.import_path, spec.name, spec.category, spec.description, spec.module,
                    spec.attr, params, spec.inputs, hints, spec.icon)


def _core_types() -> list[NodeType]:
    types = []
    for func in _CORE:
        name = func.__name__
        doc = inspect.getdoc(func) or ""
        params: list[ParamInfo] = []
        for p in list(inspect.signature(func).parameters.values())[1:]:
            req = p.default is inspect.Parameter.empty
            params.append(ParamInfo(p.name, "" if req else repr(p.default), "any", "", req))
        types.append(NodeType(f"papy_engine.workers.core.{name}", name, "core", doc,
                              "papy_engine.workers.core", name, tuple(params), icon="flow"))
    return types


class Palette:
    """The node types, grouped by category, with the failures of discovery."""

    def __init__(self, types: list[NodeType], failures: list[str] | None = None) -> None:
        self.types = types
        self.failures = failures or []
        self._by_key = {t.key: t for t in types}

    @classmethod
    def load(cls) -> "Palette":
        """The types of every plugin ``discover()`` finds (a broken plugin is
        skipped and named in :attr:`failures`, never raised), the core functions
        and the "Python function" type."""
        registry = discover()
        types = [_from_spec(s) for s in registry]
        failures = [str(f) for f in registry.failures]
        keys = {t.key for t in types}
        types += [t for t in _core_types() if t.key not in keys]
        return cls([python_type()] + types, failures)

    def get(self, key: str) -> NodeType | None:
        return self._by_key.get(key)

    def find_for(self, func: FuncRef) -> NodeType | None:
        """The palette type a node function came from (for parameter metadata)."""
        if func.module:
            return self._by_key.get(f"{func.module}.{func.qualname or func.name}")
        return None

    def categories(self, text: str = "") -> dict[str, list[NodeType]]:
        """``{category: [types matching text]}``, categories and names sorted (Python first)."""
        groups: dict[str, list[NodeType]] = {}
        for t in self.types:
            if t.matches(text):
                groups.setdefault(t.category, []).append(t)
        order = sorted(groups, key=lambda c: (c != "Python", c.lower()))
        return {c: sorted(groups[c], key=lambda t: t.name.lower()) for c in order}

    def search(self, text: str) -> list[NodeType]:
        """The types matching ``text``, best first: an exact name, then names that
        start with it, then names that contain it, then matches in the category,
        module or documentation (palette order within each rank)."""
        found = [t for ts in self.categories(text).values() for t in ts]
        key = text.strip().lower()
        if not key:
            return found

        def rank(t: NodeType) -> int:
            name = t.name.lower()
            return 0 if name == key else 1 if name.startswith(key) else 2 if key in name else 3
        return sorted(found, key=rank)  # stable: palette order within a rank


def can_take(ntype: NodeType, need: int) -> bool:
    """Whether a new node of ``ntype`` can be the end of a pipe carrying ``need``
    items per step (upstream produce*spawn): it must have inputs, and its
    consume*spawn must balance -- a consume hint is the node's contract and must
    match exactly; without one, consume is set to ``need // spawn``."""
    if ntype.inputs < 1:
        return False
    spawn = int(ntype.hints.get("spawn", 1))
    if "consume" in ntype.hints:
        return int(ntype.hints["consume"]) * spawn == need
    return spawn > 0 and need % spawn == 0


def add_from_type(doc: Document, ntype: NodeType, x: float, y: float,
                  connect_from: str | None = None) -> str:
    """Create a node of ``ntype`` in ``doc`` at (x, y); returns its name.

    With ``connect_from``, also the pipe from that node, in the same undo step;
    a type without a ``consume`` hint gets the consume that balances the pipe
    (upstream produce*spawn // its spawn), see :func:`can_take`.

    Raises:
        EditError: the document is unchanged.
    """
    options = {k: v for k, v in ntype.hints.items() if k in ("produce", "consume", "spawn")}
    with doc.edit(f"add {ntype.name}"):
        name = doc.unique_name(ntype.name if ntype.key != PYTHON_KEY else "func")
        name = doc.add_node(ntype.make_func(name), name=name, x=x, y=y, options=options)
        if connect_from:
            need = doc.nodes[connect_from].out_n
            node = doc.nodes[name]
            if (node.in_n != need and "consume" not in ntype.hints
                    and need % node.option("spawn") == 0):
                doc.set_option(name, "consume", need // node.option("spawn"))
            doc.connect(connect_from, name)
    return name
