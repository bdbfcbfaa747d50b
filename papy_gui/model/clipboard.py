"""Copy and paste of nodes (with the pipes between them) inside or across documents."""
from __future__ import annotations

from collections.abc import Iterable

from .document import Document


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
    renamed = doc.insert_nodes(data["nodes"], data.get("edges", []), data.get("inputs", {}),
                               label="paste", dx=dx, dy=dy)
    doc.select(renamed.values())
    return list(renamed.values())
