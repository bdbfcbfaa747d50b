"""What the editor's features may use of the window (``papy_gui.app.App`` has it all).

Features take the window as an argument (``register(app)``), never from a
global, and never import the window's module: this protocol is the whole
contract between them, so the window can be read and replaced without
reading every feature.
"""
from __future__ import annotations

import tkinter as tk
from tkinter import ttk
from typing import Protocol

from ..bridge import RunBridge
from ..model.document import Document
from ..model.palette import Palette
from ..model.run_state import RunState
from ..views.canvas_interact import CanvasController
from ..views.canvas_view import CanvasView
from ..views.console_view import ConsoleView
from ..views.data_view import DataView
from ..views.dialogs import Dialogs
from ..views.errors_view import ErrorsView
from ..views.log_view import LogView
from ..views.output_view import OutputView
from ..views.props_view import PropsView
from ..views.script_view import ScriptView
from ..views.stats_view import StatsView
from .registry import Commands


class Window(Protocol):
    """The window as its features see it."""

    root: tk.Tk
    commands: Commands  # register commands here (before the menus are built)
    dialogs: Dialogs
    # the model and the engine
    doc: Document  # the document shown (replaced by New and Open: read it each time)
    palette: Palette
    run_state: RunState
    bridge: RunBridge
    namespace: dict  # the console's
    # the views
    canvas_view: CanvasView
    canvas_ctl: CanvasController
    props: PropsView
    bottom: ttk.Notebook
    console: ConsoleView
    script_view: ScriptView
    data_view: DataView
    errors_view: ErrorsView
    output_view: OutputView
    log_view: LogView
    stats_view: StatsView

    def message(self, text: str, error: bool = False) -> None:
        """Say ``text`` in the status line (red if ``error``)."""

    def show_error(self, title: str, text: str) -> None:
        """The status line and an error dialog."""

    def refresh_commands(self) -> None:
        """Re-evaluate the commands' testers and labels (menus, toolbar)."""

    def set_document(self, doc: Document) -> None:
        """Show ``doc`` (the last run's state goes with the old one)."""

    def commit_pending(self) -> bool:
        """Apply source typed and not applied yet; False if the user keeps editing."""

    def doc_title(self) -> str:
        """The document's file name, or "untitled"."""

    def update_title(self) -> None:
        """Show the document's name and modified mark in the title bar."""

    def close(self, ask: bool = True) -> bool:
        """Close the window (asking about a run and unsaved edits)."""
