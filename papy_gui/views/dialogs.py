"""The window's modal dialogs: questions, messages and file choosers.

Every dialog of the editor goes through one :class:`Dialogs` object, which the
window gives to its features and views (tests give a scripted one instead,
see tests/gui/guitools.py). Each runs inside ``modal`` -- ``App.modal``, which
defers a close of the window requested while a dialog is open.
"""
from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from tkinter import filedialog, messagebox
from typing import Any

FileTypes = list[tuple[str, str]]


def _direct(dialog: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return dialog(*args, **kwargs)


class Dialogs:
    """Tk's standard dialogs over ``root``, each run through ``modal``."""

    def __init__(self, root: tk.Misc,
                 modal: Callable[..., Any] = _direct) -> None:
        self.root = root
        self.modal = modal

    def ask_save_changes(self, title: str, text: str) -> bool | None:
        """Yes (save), No (discard) or Cancel (None)."""
        return self.modal(messagebox.askyesnocancel, title, text, parent=self.root)

    def ask_yes_no(self, title: str, text: str) -> bool:
        return bool(self.modal(messagebox.askyesno, title, text, parent=self.root))

    def show_error(self, title: str, text: str) -> None:
        self.modal(messagebox.showerror, title, text, parent=self.root)

    def show_info(self, title: str, text: str) -> None:
        self.modal(messagebox.showinfo, title, text, parent=self.root)

    def ask_open_path(self, title: str, filetypes: FileTypes) -> str:
        """A file to open ("" if cancelled)."""
        return self.modal(filedialog.askopenfilename, parent=self.root, title=title,
                          filetypes=filetypes) or ""

    def ask_open_paths(self, title: str) -> tuple[str, ...]:
        """Files to open (empty if cancelled)."""
        return tuple(self.modal(filedialog.askopenfilenames, parent=self.root,
                                title=title) or ())

    def ask_directory(self, title: str) -> str:
        """A folder (it may not exist yet; "" if cancelled)."""
        return self.modal(filedialog.askdirectory, parent=self.root, title=title,
                          mustexist=False) or ""

    def ask_save_path(self, title: str, filetypes: FileTypes, initialfile: str = "",
                      defaultextension: str = "") -> str:
        """Where to save ("" if cancelled); the dialog asks before replacing a file."""
        return self.modal(filedialog.asksaveasfilename, parent=self.root, title=title,
                          initialfile=initialfile, defaultextension=defaultextension,
                          filetypes=filetypes) or ""
