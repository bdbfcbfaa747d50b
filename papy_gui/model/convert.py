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

from papy_engine.script import NodeDesc, PipelineDescription, ResourceDesc

from .document import Document
from .graph import auto_layout
from .items import Node, Resource

log = logging.getLogger(__name__)

#: LAYOUT key holding node positions when the editor writes a new file.
POSITIONS_KEY = "nodes"


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


#: PipelineDescription fields the Document holds itself; the others (e.g. the
#: module docstring) are kept in ``Document.extra`` and written back as read.
_HELD = {"nodes", "resources", "edges", "inputs_source", "layout", "preamble"}


def from_description(desc: PipelineDescription) -> Document:
    """A new, unmodified Document holding ``desc``; auto-layout if LAYOUT has no positions."""
    doc = Document()
    doc.layout = copy.deepcopy(desc.layout)
    _, pos = _positions(doc.layout)
    for nd in desc.nodes:
        node = Node(nd.name, copy.deepcopy(nd.functions), copy.deepcopy(nd.args),
                    copy.deepcopy(nd.kwargs), copy.deepcopy(nd.options))
        xy = _xy(pos.get(nd.name))
        if xy:
            node.x, node.y = xy
        doc.nodes[node.name] = node
    for rd in desc.resources:
        doc.resources[rd.name] = Resource(rd.name, copy.deepcopy(rd.options))
    doc.edges = [(a, b) for a, b in desc.edges]
    doc.preamble = desc.preamble
    doc.extra = {f.name: copy.deepcopy(getattr(desc, f.name))
                 for f in dataclasses.fields(desc) if f.name not in _HELD}
    raw = desc.inputs_source
    inputs = doc.input_nodes()
    if raw is not None and len(raw) == len(inputs):
        doc.inputs = dict(zip(inputs, raw))
    else:
        doc.inputs_raw = None if raw is None else list(raw)
    if doc.nodes and not any(n in pos for n in doc.nodes):
        for n, (x, y) in auto_layout(list(doc.nodes), doc.edges).items():
            doc.nodes[n].x, doc.nodes[n].y = x, y
        doc.auto_positions = {n: (v.x, v.y) for n, v in doc.nodes.items()}
    return doc


def _num(v: float) -> float | int:
    return int(v) if float(v).is_integer() else round(v, 1)


def layout_of(doc: Document) -> dict:
    """``doc.layout`` with current node positions, in the shape the file used."""
    layout = copy.deepcopy(doc.layout)
    auto = doc.auto_positions
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


def to_description(doc: Document) -> PipelineDescription:
    """The script description of ``doc`` (a detached copy)."""
    nodes = [NodeDesc(name=n.name, functions=copy.deepcopy(n.functions),
                      args=copy.deepcopy(n.args), kwargs=copy.deepcopy(n.kwargs),
                      options=copy.deepcopy(n.options))
             for n in doc.nodes.values()]
    resources = [ResourceDesc(name=r.name, options=copy.deepcopy(r.options))
                 for r in doc.resources.values()]
    extra = copy.deepcopy(doc.extra)
    return PipelineDescription(nodes=nodes, resources=resources, edges=list(doc.edges),
                               inputs_source=inputs_source_of(doc), layout=layout_of(doc),
                               preamble=doc.preamble, **extra)
