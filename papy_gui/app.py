"""The PaPy Studio window: it composes the model, the views, the features and the bridge.

Layout: menu bar; toolbar; palette | canvas (with scrollbars) | property
panel in a paned window; a bottom notebook (Console, Script, Data, Errors,
Output, Log, Statistics); a status line with the run's progress. The window
only wires things together: drawing lives in ``views/``, state in
``model/``, the engine behind ``bridge``, and every menu entry, toolbar
button and key is a command that a feature of ``commands/`` registers
(``register(app)``); the menus and toolbar are built from that registry
(``views/menubar.py``) and re-evaluate its testers when the document or the
run changes. One ``after`` loop (``_tick``, 50 ms)
drains the bridge, the log queue, a debug session's output, and the data
tabs on screen (a hidden tab reads nothing); every after id is cancelled in
``close()``.

Each document has its own run state (a new or opened document detaches the
bridge from the last run), and while a run is in progress the document is
locked against edits. Modal dialogs go through :meth:`App.modal` (the
``Dialogs`` object uses it): a close requested while one is open (the window
manager's close button) happens once it returns, so the window never
disappears under a dialog.
"""
from __future__ import annotations

import gc
import logging
import sys
import tkinter as tk
from collections.abc import Callable
from pathlib import Path
from tkinter import ttk
from typing import Any

import papy_engine

from . import theme, window_state
from .bridge import RunBridge
from .commands import data as data_tabs
from .commands import edit, files, help, nodes, results, run, view
from .commands.registry import Commands
from .model import files as doc_files
from .model.document import Document
from .model.events import DocEvent, RunStateEvent
from .model.palette import Palette
from .model.run_data import RunData, Target
from .model.run_state import RunState
from .views.canvas_interact import CanvasController
from .views.canvas_scroll import CanvasScroll, scrolled_canvas
from .views.canvas_tips import CanvasTips
from .views.canvas_view import CanvasView
from .views.console_view import ConsoleView
from .views.context_menu import ContextMenus
from .views.data_view import DataView
from .views.dialogs import Dialogs
from .views.errors_view import ErrorsView
from .views.log_view import DRAIN_MAX, LogView, QueueLogHandler
from .views.menubar import MenuBar
from .views.output_view import OutputView
from .views.palette_view import PaletteView
from .views.progress_view import StatusProgress
from .views.props_view import PropsView
from .views.script_view import ScriptView
from .views.stats_view import StatsView
from .views.tooltip import Tooltips

log = logging.getLogger(__name__)
TICK_MS = 50
#: GIL switch interval while the window is open (CPython's default is 5 ms).
#: _tkinter releases the GIL around every Tcl call; while engine threads run
#: Python code, getting it back may take a whole interval, so one redraw of a
#: few dozen calls could freeze the window for a quarter of a second mid-run.
#: 1 ms keeps the event loop's p99 lag well under 50 ms (benchmarks/gui.md).
SWITCH_INTERVAL = 0.001


class App:
    """The editor window (see the module docstring); ``dialogs`` defaults to Tk's."""

    def __init__(self, root: tk.Tk, palette: Palette | None = None,
                 dialogs: Dialogs | None = None) -> None:
        self.root = root
        self.doc = Document()
        self.palette = palette or Palette.load()
        self.run_state = RunState()
        self.run_data = RunData(self.run_state)
        self.bridge = RunBridge(self.run_state, data=self.run_data, keep_warm=True)
        self.namespace: dict = {}
        self.dialogs = dialogs or Dialogs(root, self.modal)
        self.log_handler = QueueLogHandler(logging.INFO)
        logging.getLogger().addHandler(self.log_handler)
        if logging.getLogger().level > logging.INFO or logging.getLogger().level == 0:
            logging.getLogger().setLevel(logging.INFO)
        self._after: str | None = None
        self._soon: set[str] = set()  # one-shot after ids (a run at start-up, a recovery)
        self._closed = False
        self._modal = 0               # dialogs open (see modal())
        self._close_pending = False
        self._close_when_stopped = False  # Quit during a run: close once it has stopped
        self._switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(min(self._switch_interval, SWITCH_INTERVAL))
        root.report_callback_exception = self.report_callback_exception
        root.title("PaPy Studio")
        root.geometry("1280x820")
        root.minsize(900, 600)
        self._saved_window = window_state.restore_geometry(root)
        theme.apply(root)
        self.icon = theme.load_icon(root, ["app-128", "app-64"] if theme.icon_size(root) > 16
                                    else ["app-64", "app-32"])
        if self.icon is not None:
            root.iconphoto(True, self.icon)
        self.tips = Tooltips(root)
        self.commands = Commands()
        # the features, in toolbar order (the menus have their own: registry.MENUS)
        self.files = files.register(self)
        edit.register(self)
        self.runs = run.register(self)
        self.results = results.register(self)
        view.register(self)
        self.data = data_tabs.register(self)
        self.nodes = nodes.register(self)
        self.help = help.register(self)
        self.menubar = MenuBar(root, self.commands, self.tips)
        self._build_views()
        self.run_state.subscribe(self._on_run)
        self.set_document(self.doc)
        root.protocol("WM_DELETE_WINDOW", self.close)
        self._after = root.after(TICK_MS, self._tick)

    # -- building -----------------------------------------------------------------
    def _build_views(self) -> None:
        status_bar = ttk.Frame(self.root, style="Status.TFrame")
        status_bar.pack(side="bottom", fill="x")
        self.progress = StatusProgress(status_bar, self.run_state)
        self.progress.pack(side="right")
        self.status = ttk.Label(status_bar, text="Ready.", style="Status.TLabel", anchor="w")
        self.status.pack(side="left", fill="x", expand=True)
        vpane = self.vpane = ttk.PanedWindow(self.root, orient="vertical")
        vpane.pack(fill="both", expand=True)
        hpane = self.hpane = ttk.PanedWindow(vpane, orient="horizontal")
        vpane.add(hpane, weight=4)
        box, self.canvas, xbar, ybar = scrolled_canvas(hpane)
        self.canvas_view = CanvasView(self.canvas, self.doc, self.run_state)
        self.canvas_scroll = CanvasScroll(self.canvas_view, xbar, ybar)
        self.canvas_ctl = CanvasController(self.canvas_view, self.palette, self.message)
        self.canvas_ctl.on_badge = self.data.show_errors
        self.canvas_tips = CanvasTips(self.tips, self.canvas, self.run_state)
        self.context_menus = ContextMenus(self.canvas_ctl, self.nodes.rename, self.help.node,
                                          self.commands["layout"].handler)
        self.palette_view = PaletteView(hpane, self.palette, self.canvas_ctl.drop_type,
                                        theme.category_icons(self.root))
        self.props = PropsView(hpane, self.doc, self.palette, self.message, self.dialogs)
        hpane.add(self.palette_view, weight=0)
        hpane.add(box, weight=1)
        hpane.add(self.props, weight=0)
        self._sash_bind = hpane.bind("<Configure>", self._on_first_layout, add=True)
        self.bottom = ttk.Notebook(vpane)
        vpane.add(self.bottom, weight=1)
        self.console = ConsoleView(self.bottom, self.namespace, self.nodes.add_function,
                                   lambda: self.message("left the debugger: the console is "
                                                        "back at its >>> prompt"))
        self.script_view = ScriptView(self.bottom, self.doc, self.message,
                                      lambda: doc_files.render(self.doc))
        self.script_view.on_pending = lambda on: self.bottom.tab(
            self.script_view, text="Script ●" if on else "Script")
        self.log_view = LogView(self.bottom, self.log_handler, self.dialogs,
                                select_node=self.nodes.select)
        self.stats_view = StatsView(self.bottom, self.run_state)
        self.data_view = DataView(self.bottom, self.run_data, self._data_target)
        self.errors_view = ErrorsView(self.bottom, self.run_data,
                                      lambda: self.commands.invoke("debug_error"))
        self.output_view = OutputView(self.bottom, self.run_data)
        for tab, text in ((self.console, "Console"), (self.script_view, "Script"),
                          (self.data_view, "Data"), (self.errors_view, "Errors"),
                          (self.output_view, "Output"), (self.log_view, "Log"),
                          (self.stats_view, "Statistics")):
            self.bottom.add(tab, text=text)
        self.bottom.bind("<<NotebookTabChanged>>", self._on_tab, add=True)

    def _data_target(self) -> Target | None:
        """What the Data tab shows: the selected pipe, else the (first) selected node."""
        edge = self.canvas_view.selected_edge
        if edge is not None:
            return edge
        return self.doc.selection[0] if self.doc.selection else None

    def _on_tab(self, _event: tk.Event | None = None) -> None:
        """Only the data tab on screen reads and draws (see _tick)."""
        shown = self.bottom.select()
        for tab in (self.data_view, self.errors_view, self.output_view):
            tab.visible = str(tab) == shown
        self.root.update_idletasks()  # the tab's size, so that it can scroll to its end
        self._drain_views()

    def _drain_views(self) -> None:
        self.console.poll()
        self.data_view.drain()
        self.errors_view.drain()
        self.output_view.drain()

    def _on_first_layout(self, event: tk.Event) -> None:
        """Restore the pane splits of the last session, or give the canvas the
        width the side panels do not need (once: the panes' requested sizes
        would otherwise leave it the narrowest)."""
        if event.width < 600:
            return
        self.hpane.unbind("<Configure>", self._sash_bind)
        if window_state.restore_splits(self.hpane, self.vpane, self._saved_window):
            return
        side = round(250 * theme.ui_scale(self.root))
        self.hpane.sashpos(0, side)
        self.hpane.sashpos(1, event.width - round(300 * theme.ui_scale(self.root)))

    # -- document ---------------------------------------------------------------
    def set_document(self, doc: Document) -> None:
        """Show ``doc``; the last run's state, colours and polling go with the old one."""
        self.doc.unsubscribe(self._on_doc)
        self.bridge.detach()
        self.doc = doc
        doc.subscribe(self._on_doc)
        self.canvas_view.set_document(doc)
        self.props.set_document(doc)
        self.script_view.set_document(doc)
        self.runs.sync_lock()
        self.namespace.update({"papy_engine": papy_engine, "doc": doc,
                               "plumber": self.namespace.get("plumber"),
                               "__name__": "__console__"})
        self.update_title()
        self.menubar.refresh()
        if doc.nodes:
            self.root.after_idle(self.canvas_view.fit)

    def commit_pending(self) -> bool:
        """Apply source typed in the property panel or the Script tab and not
        applied yet (before Save and Run); False if the user keeps editing."""
        return self.props.commit_pending() and self.script_view.commit_pending()

    def _on_doc(self, event: DocEvent, data: dict) -> None:
        if event == "changed":
            self.update_title()
            self.files.schedule_autosave()
            self.menubar.refresh()  # the Undo / Redo labels

    def refresh_commands(self) -> None:
        self.menubar.refresh()

    def _on_run(self, event: RunStateEvent, data: dict) -> None:
        if event == "state":
            self.menubar.refresh()  # the testers of Run, Pause, Resume, Stop

    def doc_title(self) -> str:
        return Path(self.doc.path).name if self.doc.path else "untitled"

    def update_title(self) -> None:
        mark = "● " if self.doc.modified else ""
        self.root.title(f"{mark}{self.doc_title()} — PaPy Studio")

    def message(self, text: str, error: bool = False) -> None:
        (log.warning if error else log.debug)("%s", text)
        if not self._closed:
            self.status.configure(text=text,
                                  style="StatusError.TLabel" if error else "Status.TLabel")

    def show_error(self, title: str, text: str) -> None:
        self.message(f"{title}: {text}", True)
        self.dialogs.show_error(title, text)

    # -- the event loop, dialogs, closing ------------------------------------------------
    @property
    def closed(self) -> bool:
        """The window was closed (destroyed); nothing of it may be used."""
        return self._closed

    def modal(self, dialog: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run a modal ``dialog(*args, **kwargs)`` and return its answer.

        The window manager still delivers the close button while a Tk dialog
        waits; closing then would destroy the window under the dialog (a
        TclError traceback). So :meth:`close` only notes the request while a
        dialog is open, and it is carried out when the dialog returns.
        """
        self._modal += 1
        try:
            return dialog(*args, **kwargs)
        except tk.TclError:
            if self._closed:  # destroyed some other way: nothing to answer
                return None
            raise
        finally:
            self._modal -= 1
            if self._close_pending and not self._modal and not self._closed:
                self._close_pending = False
                self.soon(0, self.close)

    def soon(self, ms: int, fn: Callable[[], object]) -> None:
        """Call ``fn()`` in ``ms`` ms from the event loop (cancelled by close)."""
        def go() -> None:
            self._soon.discard(after_id)
            fn()
        after_id = self.root.after(ms, go)
        self._soon.add(after_id)

    def report_callback_exception(self, exc, val, tb) -> None:
        log.error("internal error in a Tk callback", exc_info=(exc, val, tb))
        self.message(f"internal error: {exc.__name__}: {val} (details in the Log tab)", True)

    def _tick(self) -> None:
        self._after = None
        if self._closed:
            return
        if self._close_when_stopped and not (self.run_state.active or self.bridge.running):
            self.close(ask=False)
            return
        more = self.bridge.poll()
        more += self.log_view.drain() >= DRAIN_MAX
        self._drain_views()
        # a backlog is drained from idle callbacks: timers, input and redraws
        # still run between two ticks (a chain of after(1) could starve redraws)
        self._after = (self.root.after_idle(self._tick) if more
                       else self.root.after(TICK_MS, self._tick))

    def close(self, ask: bool = True) -> bool:
        """Ask about a run and unsaved edits, stop cleanly, destroy the window.

        With a dialog open, only note the request (see :meth:`modal`).  A run
        in progress is stopped first while the window stays responsive; it
        closes once the items in flight have finished.  Asked again meanwhile
        (a node stuck on an item), it offers to close at once, losing them."""
        if self._closed:
            return True
        if self._modal:
            self._close_pending = True
            return False
        running = self.run_state.active or self.bridge.running
        if ask and running and self._close_when_stopped:
            if not self.dialogs.ask_yes_no(
                    "Close now?", "The run is still stopping: items in flight have not "
                    "finished (a node may be stuck). Close now and lose them?"):
                return False
            self.bridge.abandon()
        elif ask and running:
            if not self.dialogs.ask_yes_no("Stop the run?", "A pipeline is running. Stop it "
                                           "and close?"):
                return False
            if not (self.commit_pending() and self.files.confirm_discard()):
                return False
            self._close_when_stopped = True
            self.bridge.stop()
            self.message("closing once the items in flight have finished (close again to "
                         "close now and lose them)")
            return False
        elif ask and not (self.commit_pending() and self.files.confirm_discard()):
            return False
        window_state.save(self.root, self.hpane, self.vpane)
        self._closed = True
        for after_id in [self._after, *self._soon]:
            if after_id is not None:
                self.root.after_cancel(after_id)
        self._after, self._soon = None, set()
        self.tips.close()
        self.context_menus.close()
        self.files.cancel()
        self.console.close()
        self.bridge.close()
        sys.setswitchinterval(self._switch_interval)
        logging.getLogger().removeHandler(self.log_handler)
        self.log_view.set_file(None)
        try:
            self.root.destroy()
        except tk.TclError:
            pass
        # free the window's Tk objects (Variables, images) here, on the Tk thread:
        # left to the cyclic GC they could be freed on another thread, and their
        # __del__ calls Tcl (it waits for a mainloop that no longer runs)
        gc.collect()
        return True
