"""The Script tab: the script's own code (imports, constants, helper functions).

Everything of a saved script is generated from the document except this
*preamble*, which is kept verbatim. It is shown highlighted and edited here;
Apply (Ctrl+Return) makes the edit one undoable document edit, and undo/redo
of the document show up here. Unapplied text marks the tab ("Script ●") and
is applied before the document is saved or run (:meth:`commit_pending`).
"""
from __future__ import annotations

import logging
import tkinter as tk
from collections.abc import Callable
from tkinter import ttk

from ..model.document import Document
from ..model.errors import EditError
from ..model.events import DocEvent
from .highlight import CodeText
from .text_window import show_text

log = logging.getLogger(__name__)

HINT = ("The script's own code: imports, constants and helper functions, written before "
        "the node functions. Names a console function uses are added here when it "
        "becomes a node, and before Save and Run.")


class ScriptView(ttk.Frame):
    def __init__(self, master: tk.Misc, doc: Document, message: Callable[[str, bool], None],
                 render: Callable[[], str]) -> None:
        super().__init__(master)
        self.doc = doc
        self.message = message
        self.render = render  # the whole script text, for "Show whole script"
        self.on_pending: Callable[[bool], None] | None = None  # marks the tab
        bar = ttk.Frame(self)
        bar.pack(fill="x")
        ttk.Button(bar, text="Apply", command=self.apply).pack(side="left", padx=(4, 2), pady=2)
        ttk.Button(bar, text="Revert", command=self.revert).pack(side="left", padx=2)
        ttk.Button(bar, text="Show whole script…", command=self.show_script).pack(side="left",
                                                                                    padx=2)
        self.error = ttk.Label(bar, text="", style="Error.TLabel")
        self.error.pack(side="left", padx=8)
        ttk.Label(self, text=HINT, style="Hint.TLabel", wraplength=900,
                  justify="left").pack(anchor="w", padx=6)
        self.code = CodeText(self, height=8)
        scroll = ttk.Scrollbar(self, command=self.code.yview)
        self.code.configure(yscrollcommand=scroll.set)
        scroll.pack(side="right", fill="y")
        self.code.pack(fill="both", expand=True)
        self.code.bind("<Control-Return>", lambda e: (self.apply(), "break")[1])
        self.code.bind("<<Modified>>", self._on_modified)
        self._pending = False
        self.preview: tk.Toplevel | None = None
        self.set_document(doc)

    def set_document(self, doc: Document) -> None:
        self.doc.unsubscribe(self._on_doc)
        self.doc = doc
        doc.subscribe(self._on_doc)
        self.load()

    def _on_doc(self, event: DocEvent, data: dict) -> None:
        if event == "preamble_changed" and self.doc.preamble != self.code.value():
            self.load()  # undo, redo, or names added from the console

    def load(self) -> None:
        """Show the document's preamble, dropping unapplied text."""
        self.code.set(self.doc.preamble)
        self.code.edit_modified(False)
        self._show_error("")
        self._set_pending(False)

    def _on_modified(self, _event=None) -> None:
        if self.code.edit_modified():
            self.code.schedule()  # highlight typed, pasted and inserted text alike
            self._set_pending(self.code.value() != self.doc.preamble)
            self.code.edit_modified(False)  # re-arm <<Modified>> for the next change

    def _set_pending(self, pending: bool) -> None:
        if pending != self._pending:
            self._pending = pending
            if self.on_pending is not None:
                self.on_pending(pending)

    @property
    def pending(self) -> bool:
        """Text typed here that the document does not have yet."""
        return self.code.value() != self.doc.preamble

    def apply(self) -> bool:
        """Make the text the document's preamble (one undo step); False if refused."""
        text = self.code.value()
        try:
            self.doc.set_preamble(text)
        except EditError as exc:
            self._show_error(str(exc))
            self.message(f"script code not applied: {exc}", True)
            return False
        self._show_error("")
        self._set_pending(False)
        self.message("applied the script code (imports, constants, helpers)", False)
        return True

    def commit_pending(self) -> bool:
        """Apply unapplied text; True if there was none or it applied."""
        return not self.pending or self.apply()

    def revert(self) -> None:
        self.load()
        self.message("reverted the script code to the document's", False)

    def show_script(self) -> tk.Toplevel | None:
        try:
            text = self.render()
        except Exception as exc:  # an inconsistent document: say why
            self.message(f"cannot render the script: {exc}", True)
            return None
        if self.preview is not None and self.preview.winfo_exists():
            self.preview.destroy()
        self.preview = show_text(self, "The whole script (generated on Save)",
                                 "", code=text, width=96, height=30)
        return self.preview

    def _show_error(self, text: str) -> None:
        self.error.configure(text=text)
