"""File commands: New, Open, Open recent, Save, Save As, Quit; autosave and recovery.

Open reads statically (never runs the file); every path that would drop
unsaved edits, or a run in progress, asks first. An autosave copy is written
shortly after each edit (debounced with ``after``) and removed on save;
opening a file with a newer autosave offers to recover it, and so does the
next start of the editor for an untitled document that was never saved.
A recovered document is marked modified. After opening or recovering a
document, a run of it that the editor's death interrupted is offered back
(``offer_resume``, commands/results.py). Save first writes into the script
what its code takes from the console (:func:`~papy_gui.model.export.take_console_names`).
"""
from __future__ import annotations

import logging
import time
import tkinter as tk
from collections.abc import Callable
from functools import partial
from pathlib import Path

from ..model import files
from ..model.convert import inputless_nodes
from ..model.document import Document
from ..model.errors import EditError
from ..model.export import take_console_names
from .window import Window

log = logging.getLogger(__name__)
FILETYPES = [("PaPy pipeline", "*.py"), ("All files", "*")]
AUTOSAVE_DELAY_MS = 400


class FileCommands:
    """New, Open, Save... of the window's document, and its autosave."""

    def __init__(self, app: Window) -> None:
        self.app = app
        self.recent = files.RecentFiles()
        self._autosave_id: str | None = None

    # -- guarding unsaved work --------------------------------------------------
    def confirm_discard(self) -> bool:
        """True if the current document may be replaced (saved or discarded)."""
        doc = self.app.doc
        if not doc.modified:
            return True
        answer = self.app.dialogs.ask_save_changes(
            "Unsaved changes", f"Save changes to {self.app.doc_title()} before closing it?")
        if answer is None:
            return False
        if answer:
            return self.save()
        files.remove_autosave(doc)
        return True

    def _may_replace(self) -> bool:
        """True if the document may be replaced: no run in progress (or the user
        lets it stop), source edits applied, unsaved changes saved or dropped."""
        app = self.app
        if app.run_state.active and not app.dialogs.ask_yes_no(
                "Stop the run?", "A pipeline is running. Stop it and leave this document?"):
            return False
        return app.commit_pending() and self.confirm_discard()

    # -- commands ----------------------------------------------------------------
    def new(self) -> bool:
        if not self._may_replace():
            return False
        self.app.set_document(Document())
        self.app.message("new pipeline: drag nodes in from the palette")
        return True

    def open(self, path: str | None = None) -> bool:
        if not self._may_replace():
            return False
        if path is None:
            path = self.app.dialogs.ask_open_path("Open pipeline", FILETYPES)
            if not path:
                return False
        try:
            doc = files.open_document(path)
        except Exception as exc:  # a user's file: show the reason, no traceback
            self.app.show_error(f"Cannot open {path}", str(exc))
            return False
        self.app.set_document(doc)
        self.recent.add(path)
        log.info("opened %s", doc.path)
        self.app.message(f"opened {doc.path}")
        self._offer_recovery(doc)
        self.app.commands.invoke("offer_resume")  # the editor died while it ran
        return True

    def recent_entries(self) -> list[tuple[str, Callable[[], object] | None]]:
        """The Open recent submenu: one entry per file, or a disabled "(none)"."""
        if not self.recent.items:
            return [("(none)", None)]
        return [(path, partial(self.open, path)) for path in self.recent.items]

    def _offer_recovery(self, doc: Document) -> None:
        auto = files.recovery_for(doc.path)
        if auto is None:
            return
        if self.app.dialogs.ask_yes_no("Recover", f"An autosaved copy of "
                                       f"{Path(doc.path or '').name} is newer than the file. "
                                       "Open the recovered copy? (No deletes the autosave.)"):
            self._recover(auto, doc.path)
        else:
            auto.unlink(missing_ok=True)

    def offer_untitled_recovery(self) -> bool:
        """At start-up: offer the autosave of an untitled document a previous
        session never saved (No deletes it). True if it was recovered."""
        auto = files.untitled_autosave()
        if auto is None:
            return False
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(auto.stat().st_mtime))
        if not self.app.dialogs.ask_yes_no(
                "Recover", f"An untitled pipeline was autosaved on {when} and never saved. "
                "Recover it? (No deletes the autosave.)"):
            auto.unlink(missing_ok=True)
            return False
        if not self._recover(auto, None):
            return False
        self.app.commands.invoke("offer_resume")  # the editor died while it ran
        return True

    def _recover(self, auto: Path, doc_path: str | None) -> bool:
        try:
            rec = files.recover(auto, doc_path)  # marked modified: it is not the file
        except Exception as exc:  # a user's file: show the reason, no traceback
            self.app.show_error("Cannot recover", str(exc))
            return False
        self.app.set_document(rec)
        self.app.message(f"recovered {self.app.doc_title()} from its autosave: save it to "
                         "keep it")
        return True

    def save(self) -> bool:
        if not self.app.doc.path:
            return self.save_as()
        return self.save_to(self.app.doc.path)

    def save_as(self) -> bool:
        doc = self.app.doc
        path = self.app.dialogs.ask_save_path(
            "Save pipeline as", FILETYPES, defaultextension=".py",
            initialfile=Path(doc.path).name if doc.path else "pipeline.py")
        if not path:
            return False
        return self.save_to(path)

    def save_to(self, path: str) -> bool:
        """Save the document as ``path`` (what Save and Save As do once they know it)."""
        app = self.app
        if not app.commit_pending():
            return False
        added = take_console_names(app.doc, app.namespace)  # runs headless as it runs here
        try:
            files.save_document(app.doc, path)
        except (EditError, OSError) as exc:
            app.show_error(f"Cannot save {path}", str(exc))
            return False
        except Exception as exc:  # the script writer refused the document
            log.exception("saving %s failed", path)
            app.show_error(f"Cannot save {path}", f"{type(exc).__name__}: {exc}")
            return False
        self.recent.add(path)
        app.update_title()
        notes = [added] if added else []
        empty = inputless_nodes(app.doc)
        if empty:
            notes.append(f"input node(s) {', '.join(empty)} have no input: saved as no items")
        app.message(f"saved {path}" + "".join(f"; {n}" for n in notes), "cannot save" in added)
        return True

    # -- autosave -----------------------------------------------------------------
    def schedule_autosave(self) -> None:
        if not self.app.doc.modified:   # back to what is saved (an undo): a copy is stale
            self.cancel()
            files.remove_autosave(self.app.doc)
        elif self._autosave_id is None:
            self._autosave_id = self.app.root.after(AUTOSAVE_DELAY_MS, self.autosave_now)

    def autosave_now(self) -> None:
        self.cancel()  # called directly, the pending one is not needed
        if not self.app.doc.modified:
            files.remove_autosave(self.app.doc)
            return
        try:
            files.autosave(self.app.doc)
        except OSError as exc:
            log.warning("autosave failed: %s", exc)

    def cancel(self) -> None:
        if self._autosave_id is not None:
            try:
                self.app.root.after_cancel(self._autosave_id)
            except tk.TclError:
                pass
            self._autosave_id = None


def register(app: Window) -> FileCommands:
    """The File menu and the file buttons of the toolbar."""
    f = FileCommands(app)
    add = app.commands.add_command
    add("new", "File", "New", f.new, keys=("<Control-n>",), group=1,
        toolbar="New", tip="New pipeline (Ctrl+N)")
    add("open", "File", "Open…", f.open, keys=("<Control-o>",), group=1,
        toolbar="Open", tip="Open a pipeline script (Ctrl+O)")
    app.commands.add_cascade("open_recent", "File", "Open recent", f.recent_entries, group=1)
    add("save", "File", "Save", f.save, keys=("<Control-s>",), group=2,
        toolbar="Save", tip="Save as a runnable script (Ctrl+S)")
    add("save_as", "File", "Save As…", f.save_as, keys=("<Control-S>", "<Control-Shift-S>"),
        group=2)
    add("quit", "File", "Quit", app.close, keys=("<Control-q>",), group=3)
    return f
