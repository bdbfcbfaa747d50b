"""File commands of the window: New, Open, Save, Save As, recent files, autosave.

Open reads statically (never runs the file); every path that would drop
unsaved edits, or a run in progress, asks first. An autosave copy is written
shortly after each edit (debounced with ``after``) and removed on save;
opening a file with a newer autosave offers to recover it, and so does the
next start of the editor for an untitled document that was never saved.
A recovered document is marked modified. Save first writes into the script
what its code takes from the console (``App.take_console_names``).
"""
from __future__ import annotations

import logging
import time
import tkinter as tk
from pathlib import Path
from tkinter import filedialog, messagebox
from typing import TYPE_CHECKING

from .model import files
from .model.convert import inputless_nodes
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
        answer = self.app.modal(self.ask, "Unsaved changes",
                                f"Save changes to {self.app.doc_title()} before closing it?",
                                parent=self.app.root)
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
        if app.run_state.active and not app.modal(
                self.ask_yes_no, "Stop the run?", "A pipeline is running. Stop it and "
                "leave this document?", parent=app.root):
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
            path = self.app.modal(self.ask_open, parent=self.app.root, title="Open pipeline",
                                  filetypes=FILETYPES)
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
        log.info("opened %s", doc.path)
        self.app.message(f"opened {doc.path}")
        self._offer_recovery(doc)
        return True

    def _offer_recovery(self, doc: Document) -> None:
        auto = files.recovery_for(doc.path)
        if auto is None:
            return
        if self.app.modal(self.ask_yes_no, "Recover", f"An autosaved copy of "
                          f"{Path(doc.path or '').name} is newer than the file. Open the "
                          "recovered copy?", parent=self.app.root):
            self._recover(auto, doc.path)

    def offer_untitled_recovery(self) -> bool:
        """At start-up: offer the autosave of an untitled document a previous
        session never saved (No deletes it). True if it was recovered."""
        auto = files.untitled_autosave()
        if auto is None:
            return False
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(auto.stat().st_mtime))
        if not self.app.modal(self.ask_yes_no, "Recover", "An untitled pipeline was autosaved "
                              f"on {when} and never saved. Recover it? (No deletes the "
                              "autosave.)", parent=self.app.root):
            auto.unlink(missing_ok=True)
            return False
        return self._recover(auto, None)

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
        return self._save_to(self.app.doc.path)

    def save_as(self) -> bool:
        doc = self.app.doc
        initial = Path(doc.path).name if doc.path else "pipeline.py"
        path = self.app.modal(self.ask_save, parent=self.app.root, title="Save pipeline as",
                              initialfile=initial, defaultextension=".py", filetypes=FILETYPES)
        if not path:
            return False
        return self._save_to(path)

    def _save_to(self, path: str) -> bool:
        if not self.app.commit_pending():
            return False
        added = self.app.take_console_names()  # so that it runs headless as it runs here
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
        notes = [added] if added else []
        empty = inputless_nodes(self.app.doc)
        if empty:
            notes.append(f"input node(s) {', '.join(empty)} have no input: saved as no items")
        self.app.message(f"saved {path}" + "".join(f"; {n}" for n in notes),
                         "cannot save" in added)
        return True

    # -- autosave -----------------------------------------------------------------
    def schedule_autosave(self) -> None:
        if self._autosave_id is None and self.app.doc.modified:
            self._autosave_id = self.app.root.after(AUTOSAVE_DELAY_MS, self.autosave_now)

    def autosave_now(self) -> None:
        self.cancel()  # called directly, the pending one is not needed
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
