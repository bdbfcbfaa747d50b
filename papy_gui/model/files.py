"""Reading and writing documents, recent files and the autosave/recovery file.

Open uses the engine's static reader ``papy_engine.script.read`` (it never
runs the file's code); Save renders the script text and writes it atomically
(temp file + rename). The state directory (recent list, autosaves) is
``$PAPY_GUI_STATE_DIR`` or ``~/.local/state/papy_gui``.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path

from papy_engine import script
from papy_engine.util import atomic_write

from .convert import from_description, to_description
from .document import Document
from .errors import EditError

log = logging.getLogger(__name__)

RECENT_MAX = 10


def state_dir() -> Path:
    path = Path(os.environ.get("PAPY_GUI_STATE_DIR") or Path.home() / ".local/state/papy_gui")
    path.mkdir(parents=True, exist_ok=True)
    return path


def open_document(path: str | os.PathLike) -> Document:
    """Read ``path`` statically into a new, unmodified Document."""
    desc = script.read(str(path))
    doc = from_description(desc)
    doc.path = str(Path(path).resolve())
    return doc


def render(doc: Document) -> str:
    return script.render(to_description(doc))


def save_document(doc: Document, path: str | os.PathLike | None = None) -> str:
    """Write ``doc`` as an executable script; marks it saved and returns the path."""
    path = Path(path or doc.path or "")
    if not str(path):
        raise EditError("no file name: use Save As")
    atomic_write(path, render(doc))
    remove_autosave(doc)  # under its old name (an untitled document's, say)
    doc.path = str(path.resolve())
    doc.mark_saved()
    remove_autosave(doc)
    log.info("saved %s", doc.path)
    return doc.path


# -- autosave / recovery ------------------------------------------------------
def autosave_path(doc_path: str | None) -> Path:
    key = hashlib.sha1((doc_path or "untitled").encode()).hexdigest()[:12]
    name = Path(doc_path).stem if doc_path else "untitled"
    return state_dir() / "autosave" / f"{name}-{key}.py"


def autosave(doc: Document) -> Path | None:
    """Write the recovery copy of ``doc`` (a script, or JSON if rendering fails)."""
    target = autosave_path(doc.path)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        text = render(doc)
    except Exception as exc:  # an unfinished edit may not render; keep a JSON copy
        log.debug("autosave as script failed (%s); writing JSON", exc)
        text = "# papy_gui autosave (JSON)\n" + json.dumps(_as_json(doc), indent=1, default=repr)
    atomic_write(target, text)
    return target


def _as_json(doc: Document) -> dict:
    return {"nodes": [{"name": n.name, "functions": [vars(f) for f in n.functions],
                       "args": n.args, "kwargs": n.kwargs, "options": n.options,
                       "x": n.x, "y": n.y} for n in doc.nodes.values()],
            "edges": doc.edges, "resources": {r.name: r.options for r in doc.resources.values()},
            "inputs": doc.inputs, "path": doc.path}


def recovery_for(doc_path: str | None) -> Path | None:
    """The autosave of ``doc_path`` if it is newer than the file itself."""
    target = autosave_path(doc_path)
    if not target.exists():
        return None
    if doc_path and Path(doc_path).exists() and \
            Path(doc_path).stat().st_mtime >= target.stat().st_mtime:
        return None
    return target


def remove_autosave(doc: Document) -> None:
    try:
        autosave_path(doc.path).unlink()
    except FileNotFoundError:
        pass


def untitled_autosave() -> Path | None:
    """The autosave of an untitled document left by a previous session, if any."""
    path = autosave_path(None)
    return path if path.exists() and path.stat().st_size > 0 else None


def recover(path: Path, doc_path: str | None) -> Document:
    """The document saved in autosave ``path``, marked modified (it is not the file
    at ``doc_path``, or there is no file); EditError if it cannot be read."""
    if not path.read_text(encoding="utf-8").startswith(("#!", "\"", "'", "from", "import")):
        raise EditError(f"{path} is not a pipeline script (an autosave of an edit that "
                        "could not be rendered); open it in a text editor")
    doc = open_document(path)
    doc.path = doc_path
    doc.mark_unsaved("recovered")
    return doc


# -- window geometry ------------------------------------------------------------
def load_window_state() -> dict:
    """The window's size, position and pane splits of the last session ({} if none)."""
    try:
        state = json.loads((state_dir() / "window.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def save_window_state(state: dict) -> None:
    try:
        atomic_write(state_dir() / "window.json", json.dumps(state, indent=1))
    except OSError as exc:
        log.warning("cannot remember the window layout: %s", exc)


# -- recent files -------------------------------------------------------------
class RecentFiles:
    """Most recent first, at most RECENT_MAX, kept in ``state_dir()/recent.json``."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or state_dir() / "recent.json"
        try:
            self.items: list[str] = [str(p) for p in json.loads(self.path.read_text())][:RECENT_MAX]
        except (OSError, ValueError, TypeError):
            self.items = []

    def add(self, path: str) -> None:
        path = str(Path(path).resolve())
        self.items = [path] + [p for p in self.items if p != path][:RECENT_MAX - 1]
        try:
            atomic_write(self.path, json.dumps(self.items, indent=1))
        except OSError as exc:
            log.warning("cannot write the recent files list %s: %s", self.path, exc)
