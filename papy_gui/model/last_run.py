"""Where a document's run is saving its results, remembered until that run ends.

A run started with Run > "Save results to…" writes a small sidecar file in
the editor's state directory (:func:`papy_gui.model.files.state_dir`),
``runs/<name>-<key>.json`` keyed by the document's path like its autosave
(an untitled document has the key "untitled"), naming the results folder.
The run's end -- finished, stopped or failed, whatever the editor then does
-- removes it.  So a sidecar found when the document is opened again means
the editor died in the middle of that run (killed, crashed, the machine went
down), and the folder's journal says how far it got: the editor offers to
resume it (``commands/results.py``).

Why a sidecar and not the document: the script stays what ``papy run``
runs, saving a document does not depend on a run, and a document that was
never saved (or whose last edits live only in its autosave) still finds its
run.  No tkinter here.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from pathlib import Path

from papy_engine.util import atomic_write

from .files import state_dir

log = logging.getLogger(__name__)


def sidecar_path(doc_path: str | None) -> Path:
    """The sidecar of the document at ``doc_path`` (None: an untitled document)."""
    key = hashlib.sha1((doc_path or "untitled").encode()).hexdigest()[:12]
    name = Path(doc_path).stem if doc_path else "untitled"
    return state_dir() / "runs" / f"{name}-{key}.json"


def remember(doc_path: str | None, directory: str | os.PathLike) -> None:
    """Note that a run of the document is writing its results to ``directory``."""
    path = sidecar_path(doc_path)
    record = {"results": str(Path(directory).resolve()), "document": doc_path,
              "pid": os.getpid(), "started": round(time.time(), 3)}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, json.dumps(record, indent=1))
    except OSError as exc:  # the run goes on; only the offer after a crash is lost
        log.warning("cannot remember where the run saves its results (%s): %s", path, exc)


def recall(doc_path: str | None) -> str | None:
    """The results folder of a run of the document that never ended, or None."""
    try:
        record = json.loads(sidecar_path(doc_path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    folder = record.get("results") if isinstance(record, dict) else None
    return folder if isinstance(folder, str) and folder else None


def forget(doc_path: str | None) -> None:
    """The document's run ended (or its resume was declined): remove its sidecar."""
    try:
        sidecar_path(doc_path).unlink()
    except FileNotFoundError:
        pass
    except OSError as exc:
        log.warning("cannot remove %s: %s", sidecar_path(doc_path), exc)
