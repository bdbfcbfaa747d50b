"""What the document's code takes from the console, written into the document.

A function typed in the editor's console, or in a node's source editor, runs
in the console's namespace: an ``import time``, a helper or a constant typed
there is found when the editor runs the pipeline, and missing when the saved
script runs headless (issue 12).  So when a console function becomes a node,
and before the document is saved or run, the names the document's code reads
but does not bind are looked up in the console namespace and bound in the
document's preamble -- by the engine's own analysis
(:func:`papy_engine.script.preamble_for`, what ``Plumber.save``
does for ``__main__`` functions), as one undoable edit that the Script view
shows.  No tkinter here.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

from papy_engine import script
from papy_engine.errors import ScriptError
from papy_engine.script import preamble_for, unbound_names
from papy_engine.script.names import top_level_names

from .convert import to_description
from .document import Document

log = logging.getLogger(__name__)


@dataclass
class Completion:
    """What :func:`complete_preamble` did: names bound, and why others could not be."""

    added: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # one message per name

    def summary(self) -> str:
        parts = []
        if self.added:
            parts.append(f"added {', '.join(self.added)} from the console to the script")
        if self.refused:
            parts.append("cannot save " + "; ".join(self.refused))
        return "; ".join(parts)


def needed_names(doc: Document, namespace: dict) -> list[str]:
    """Names the document's script reads, does not bind, and ``namespace`` has."""
    try:
        text = script.render(to_description(doc))
    except ScriptError:  # an inconsistent document: its save reports that
        return []
    return sorted(n for n in unbound_names(text) if n in namespace)


def complete_preamble(doc: Document, namespace: dict) -> Completion:
    """Bind in ``doc``'s preamble what its code takes from ``namespace`` (one edit).

    Names whose value cannot be written (an open file, a lock, ``doc``...) are
    left out and reported in :attr:`Completion.refused`.

    Raises:
        EditError: the document is locked (a run is in progress).
    """
    done = Completion()
    names = needed_names(doc, namespace)
    for name in list(names):  # find what cannot be written, to write the rest at once
        try:
            preamble_for([name], namespace, doc.preamble)
        except ScriptError as exc:
            done.refused.append(str(exc).removeprefix("cannot save "))
            names.remove(name)
    try:
        extra = preamble_for(names, namespace, doc.preamble) if names else ""
    except ScriptError as exc:  # two names that clash together
        done.refused.append(str(exc).removeprefix("cannot save "))
        extra = ""
    if not extra:
        return done
    done.added = sorted(top_level_names(extra))
    text = doc.preamble.rstrip("\n") + "\n\n\n" + extra if doc.preamble.strip() else extra
    doc.set_preamble(text, label=f"add {', '.join(done.added)} from the console")
    log.info("%s", done.summary())
    return done
