"""File commands of the window: New, Open, Save, Save As, recent files, autosave.

Open reads statically (never runs the file); every path that would drop
unsaved edits asks first. An autosave copy is written shortly after each
edit (debounced with ``after``) and removed on save; opening a file with a
newer autosave offers to recover it.
"""
from __future__ import annotations

import logging
import tkinter as tk
from pathlib import Path
from tkinter import filedialog, messagebox
from typing import TYPE_CHECKING

from .model import files
from .model.document import Document
from .model.errors import EditError

if TYPE_CHECKING:
    from .app import App

log = logging.getLogger(__name__)
FILETYPES = [("PaPy pipeline", "*.py"), ("All files", "*")]
AUTOSAVE_DELAY_MS = 400


class FileCommands:
    def __init__(self, app: "App") -> None:
        self.app = app
        self.recent = files.RecentFiles()
        self._autosave_id: str | None = None
        self.ask = messagebox.askyesnocancel  # tests replace these dialogs
        self.ask_yes_no = messagebox.askyesno
        self.ask_open = filedialog.askopenfilename
        self.ask_save = filedialog.asksaveasfilename

    # -- guarding unsaved work --------------------------------------------------
    def confirm_discard(self) -> bool:
        """True if the current document may be replaced (saved or discarded)."""
        doc = self.app.doc
        if not doc.modified:
            return True
        answer = self.ask("Unsaved changes",
                          f"Save changes to {self.app.doc_title()} before closing it?",
                          parent=self.app.root)
        if answer is None:
            return False
        if answer:
            return self.save()
        files.remove_autosave(doc)
        return True

    # -- commands ----------------------------------------------------------------
    def new(self) -> bool:
        if not self.confirm_discard():
            return False
        self.app.set_document(Document())
        return True

    def open(self, path: str | None = None) -> bool:
        if not self.confirm_discard():
            return False
        if path is None:
            path = self.ask_open(parent=self.app.root, title="Open pipeline", filetypes=FILETYPES)
            if not path:
                return False
        try:
            doc = files.open_document(path)
        except Exception as exc:  # a user's file: show the reason, no traceback
            self.app.show_error(f"Cannot open {path}", str(exc))
            return False
        self.app.set_document(doc)
        self.recent.add(doc.path)
        self.app.refresh_recent_menu()
        self._offer_recovery(doc)
        log.info("opened %s", doc.path)
        self.app.message(f"opened {doc.path}")
        return True

    def _offer_recovery(self, doc: Document) -> None:
        auto = files.recovery_for(doc.path)
        if auto is None or not auto.read_text(encoding="utf-8").startswith(("#", "\"", "'", "from", "import")):
            return
        if self.ask_yes_no("Recover", f"An autosaved copy of {Path(doc.path).name} is newer "
                           "than the file. Open the recovered copy?", parent=self.app.root):
            try:
                rec = files.open_document(auto)
            except Exception as exc:
                self.app.show_error("Cannot recover", str(exc))
                return
            rec.path = doc.path
            self.app.set_document(rec)
            rec._emit("changed", label="recovered")
            rec.undo_stack.clean = None  # it differs from the file on disk

    def save(self) -> bool:
        if not self.app.doc.path:
            return self.save_as()
        return self._save_to(self.app.doc.path)

    def save_as(self) -> bool:
        doc = self.app.doc
        initial = Path(doc.path).name if doc.path else "pipeline.py"
        path = self.ask_save(parent=self.app.root, title="Save pipeline as",
                             initialfile=initial, defaultextension=".py", filetypes=FILETYPES)
        if not path:
            return False
        return self._save_to(path)

    def _save_to(self, path: str) -> bool:
        try:
            files.save_document(self.app.doc, path)
        except (EditError, OSError) as exc:
            self.app.show_error(f"Cannot save {path}", str(exc))
            return False
        except Exception as exc:  # the script writer refused the document
            log.exception("saving %s failed", path)
            self.app.show_error(f"Cannot save {path}", f"{type(exc).__name__}: {exc}")
            return False
        self.recent.add(path)
        self.app.refresh_recent_menu()
        self.app.update_title()
        self.app.message(f"saved {path}", False)
        return True

    # -- autosave -----------------------------------------------------------------
    def schedule_autosave(self) -> None:
        if self._autosave_id is None and self.app.doc.modified:
            self._autosave_id = self.app.root.after(AUTOSAVE_DELAY_MS, self.autosave_now)

    def autosave_now(self) -> None:
        self._autosave_id = None
        if not self.app.doc.modified:
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
