"""See the data: the Data, Errors and Output tabs, the error badges, and "Debug in console".

"Debug in console" (the Errors tab's button, or Run > Debug selected error
in console) reproduces one failed item: the inbox the engine kept with its
placeholder and the node's function (the Piper's Worker of the Plumber
that ran, made to raise instead of returning a placeholder) go into the
console's namespace as ``inbox`` and ``func``, and ``func(inbox)`` runs
under pdb in the console, post-mortem on its exception
(:mod:`papy_gui.debug_session`).
"""
from __future__ import annotations

import logging
from tkinter import ttk

from papy_engine import Worker

from ..debug_session import DebugSession
from .window import Window

log = logging.getLogger(__name__)


class DataCommands:
    """Shows the data tabs and debugs failed items of the window's last run."""

    def __init__(self, app: Window) -> None:
        self.app = app

    def show(self, tab: ttk.Frame) -> None:
        self.app.bottom.select(tab)

    def show_errors(self, node: str | None = None) -> None:
        """The Errors tab, filtered to ``node`` (an error badge was clicked)."""
        self.app.bottom.select(self.app.errors_view)
        self.app.errors_view.show_node(node)

    def debug_error(self) -> bool:
        """Debug the error selected in the Errors tab; False (and why in the status
        line) if there is none, its inbox was not kept, or the run is gone."""
        app = self.app
        err = app.errors_view.selected_error()
        if err is None:
            app.message("select an error in the Errors tab first", True)
            return False
        if err.inbox is None:
            app.message(f"cannot debug item {err.index} of {err.piper}: its inbox was not kept "
                        f"({err.inbox_note or 'no reason given'})", True)
            return False
        plumber = app.bridge.plumber
        if plumber is None:
            app.message("the run of this error is gone: run the pipeline again", True)
            return False
        try:
            func = Worker(plumber.get_piper(err.piper).worker, debug=True)
        except Exception as exc:
            app.message(f"cannot debug {err.piper}: {exc}", True)
            return False
        console = app.console
        if console.session is not None:
            app.bottom.select(console)
            app.message("a debug session is still open in the console: leave it with q first",
                        True)
            return False
        app.namespace.update({"inbox": err.inbox, "func": func, "error": err})
        header = (f"node {err.piper}, item {err.index}: {err.exc_type}: "
                  f"{err.message}")[:200]
        console.debug(DebugSession(func, err.inbox), header)
        app.bottom.select(console)
        console.text.focus_set()
        app.message(f"debugging item {err.index} of {err.piper} in the console: inbox and "
                    "func are in its namespace; q leaves pdb")
        return True


def register(app: Window) -> DataCommands:
    """The View menu's data tabs and Run > Debug selected error in console."""
    d = DataCommands(app)
    add = app.commands.add_command
    add("show_data", "View", "Data (results of the selected node)",
        lambda: d.show(app.data_view), group=3)
    add("show_errors", "View", "Errors", lambda: d.show_errors(None), group=3)
    add("show_output", "View", "Output (what nodes print)", lambda: d.show(app.output_view),
        group=3)
    add("debug_error", "Run", "Debug selected error in console", d.debug_error, group=3)
    return d
