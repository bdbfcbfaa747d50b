"""Document <-> ``papy_engine.script.PipelineDescription`` (the one adapter).

Opening a file is ``script.read(path)`` (static: it never runs the file's
code) then :func:`from_description`; saving is :func:`to_description` then
``script.render``. The conversion is faithful so that opening and saving an
unedited file gives the same text: option dicts, argument text, node and
edge order, and the LAYOUT dict (including keys we do not understand) are
kept as read; only node positions are written back, in the shape they had.
"""
from __future__ import annotations

import copy
import dataclasses
import logging
from typing import Any

from papy_engine.script import FuncRef, NodeDesc, PipelineDescription, ResourceDesc

from .document import Document
from .items import Func, Node, Resource

log = logging.getLogger(__name__)

#: LAYOUT key holding node positions when the editor writes a new file.
POSITIONS_KEY = "nodes"


def description_types() -> tuple[type, type, type, type]:
    """``(FuncRef, NodeDesc, ResourceDesc, PipelineDescription)`` of the engine."""
    return FuncRef, NodeDesc, ResourceDesc, PipelineDescription


def _positions(layout: dict) -> tuple[str | None, dict]:
    for key in (POSITIONS_KEY, "positions", "pos"):
        value = layout.get(key)
        if isinstance(value, dict):
            return key, value
    return None, {}


def _xy(value: Any) -> tuple[float, float] | None:
    if isinstance(value, dict) and "x" in value and "y" in value:
        return float(value["x"]), float(value["y"])
    if isinstance(value, (list, tuple)) and len(value) >= 2:
        return float(value[0]), float(value[1])
    return None


def from_description(desc: Any) -> Document:
    """A new, unmodified Document holding ``desc``; auto-layout if LAYOUT has no positions."""
    doc = Document()
    doc.layout = copy.deepcopy(dict(desc.layout or {}))
    _, pos = _positions(doc.layout)
    for nd in desc.nodes:
        funcs = [Func(f.name, f.module, f.qualname, f.source, list(f.imports or []))
                 for f in nd.functions]
        node = Node(nd.name, funcs, copy.deepcopy(list(nd.args or [])),
                    copy.deepcopy(list(nd.kwargs or [])), copy.deepcopy(dict(nd.options or {})))
        xy = _xy(pos.get(nd.name))
        if xy:
            node.x, node.y = xy
        doc.nodes[node.name] = node
    for rd in desc.resources:
        doc.resources[rd.name] = Resource(rd.name, copy.deepcopy(dict(rd.options or {})))
    doc.edges = [tuple(e) for e in desc.edges]
    doc.preamble = desc.preamble or ""
    # fields this editor does not edit (e.g. the module docstring) go back as read
    known = {"nodes", "resources", "edges", "inputs_source", "layout", "preamble"}
    if dataclasses.is_dataclass(desc):
        doc.extra = {f.name: copy.deepcopy(getattr(desc, f.name))
                     for f in dataclasses.fields(desc) if f.name not in known}
    raw = desc.inputs_source
    inputs = doc.input_nodes()
    if raw is not None and len(raw) == len(inputs):
        doc.inputs = dict(zip(inputs, raw))
    else:
        doc.inputs_raw = None if raw is None else list(raw)
    if doc.nodes and not any(n in pos for n in doc.nodes):
        from .graph import auto_layout
        for n, (x, y) in auto_layout(list(doc.nodes), doc.edges).items():
            doc.nodes[n].x, doc.nodes[n].y = x, y
        doc.auto_positions = {n: (v.x, v.y) for n, v in doc.nodes.items()}
    return doc


def _num(v: float) -> float | int:
    return int(v) if float(v).is_integer() else round(v, 1)


def layout_of(doc: Document) -> dict:
    """``doc.layout`` with current node positions, in the shape the file used."""
    layout = copy.deepcopy(doc.layout)
    auto = getattr(doc, "auto_positions", None)
    if auto is not None and auto == {n: (v.x, v.y) for n, v in doc.nodes.items()}:
        return layout  # untouched auto-layout: do not add LAYOUT positions to the file
    key, old = _positions(layout)
    key = key or POSITIONS_KEY
    as_dict = any(isinstance(v, dict) for v in old.values())
    new: dict = {}
    for name in [n for n in old if n in doc.nodes] + [n for n in doc.nodes if n not in old]:
        node = doc.nodes[name]
        xy = (_num(node.x), _num(node.y))
        prev = old.get(name)
        if prev is not None and _xy(prev) == (float(xy[0]), float(xy[1])):
            new[name] = prev  # unchanged: keep its exact form
        else:
            new[name] = {"x": xy[0], "y": xy[1]} if as_dict else [xy[0], xy[1]]
    layout[key] = new
    return layout


#: How an input node without an input expression is saved: no items. (``None``
#: would make ``papy run`` fail with "'NoneType' object is not iterable" and
#: reopen as the expression ``None``.)
NO_INPUT = "[]"


def inputs_source_of(doc: Document) -> list[str] | None:
    """INPUTS of the script: one expression per input node, or the text read
    from the file when no input was set (None: the script has no INPUTS)."""
    inputs = doc.input_nodes()
    if not doc.inputs:
        return doc.inputs_raw
    return [doc.inputs.get(n, NO_INPUT) for n in inputs]


def inputless_nodes(doc: Document) -> list[str]:
    """Input nodes saved with :data:`NO_INPUT` because they have no expression."""
    if not doc.inputs:
        return []
    return [n for n in doc.input_nodes() if n not in doc.inputs]


def to_description(doc: Document) -> Any:
    """The script description of ``doc`` (engine types when available)."""
    FuncRef, NodeDesc, ResourceDesc, PipelineDescription = description_types()
    nodes = [NodeDesc(name=n.name,
                      functions=[FuncRef(name=f.name, module=f.module, qualname=f.qualname,
                                         source=f.source, imports=list(f.imports))
                                 for f in n.functions],
                      args=copy.deepcopy(n.args), kwargs=copy.deepcopy(n.kwargs),
                      options=copy.deepcopy(n.options))
             for n in doc.nodes.values()]
    resources = [ResourceDesc(name=r.name, options=copy.deepcopy(r.options))
                 for r in doc.resources.values()]
    fields = {f.name for f in dataclasses.fields(PipelineDescription)}
    extra = {k: copy.deepcopy(v) for k, v in getattr(doc, "extra", {}).items() if k in fields}
    return PipelineDescription(nodes=nodes, resources=resources, edges=list(doc.edges),
                               inputs_source=inputs_source_of(doc), layout=layout_of(doc),
                               preamble=doc.preamble, **extra)
