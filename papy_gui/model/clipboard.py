"""Copy and paste of nodes (with the pipes between them) inside or across documents."""
from __future__ import annotations

import copy
from collections.abc import Iterable

from .document import Document
from .items import Node


def copy_nodes(doc: Document, names: Iterable[str]) -> dict:
    """A detached snapshot of ``names``, the pipes among them and their inputs."""
    names = [n for n in names if n in doc.nodes]
    chosen = set(names)
    return {
        "nodes": [doc.nodes[n].copy() for n in names],
        "edges": [e for e in doc.edges if e[0] in chosen and e[1] in chosen],
        "inputs": {n: doc.inputs[n] for n in names if n in doc.inputs},
    }


def paste(doc: Document, data: dict, dx: float = 30, dy: float = 30) -> list[str]:
    """Add copies of the clipboard's nodes (renamed if taken) as one undoable edit.

    Returns the new names; they become the selection.
    """
    if not data or not data.get("nodes"):
        return []
    renamed: dict[str, str] = {}
    with doc.edit("paste"):
        for node in data["nodes"]:
            new: Node = copy.deepcopy(node)
            new.name = doc.unique_name(node.name)
            new.x, new.y = node.x + dx, node.y + dy
            if new.options.get("parallel") not in (None, *doc.resources):
                new.options.pop("parallel")
                new.options.pop("timeout", None)
            renamed[node.name] = new.name
            doc._apply("_op_add_node", new, len(doc.nodes))
        for a, b in data.get("edges", []):
            doc._apply("_op_add_edge", (renamed[a], renamed[b]), len(doc.edges))
        for n, expr in data.get("inputs", {}).items():
            doc._apply("_op_set_input", renamed[n], expr)
    doc.select(renamed.values())
    return list(renamed.values())
