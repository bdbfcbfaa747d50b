"""The PaPy Studio window: composes the views, the file and run commands.

Layout: menu bar; toolbar; palette | canvas (with scrollbars) | property
panel in a paned window; a bottom notebook (Console, Script, Log,
Statistics); a status line. The window only wires things together: drawing
lives in ``views/``, state in ``model/``, the engine behind ``bridge``. One
``after`` loop (``_tick``, 50 ms) drains the bridge and the log queue; every
after id is cancelled in ``close()``.

Each document has its own run state (a new or opened document detaches the
bridge from the last run), and while a run is in progress the document is
locked against edits. Modal dialogs go through :meth:`App.modal`: a close
requested while one is open (the window manager's close button) happens
once it returns, so the window never disappears under a dialog.
"""
from __future__ import annotations

import argparse
import gc
import logging
import sys
import tkinter as tk
from tkinter import filedialog, messagebox, ttk

from . import theme, window_state
from .bridge import RunBridge
from .file_commands import FileCommands
from .help import HelpCommands
from .model import files
from .model.document import Document
from .model.errors import EditError
from .model.export import complete_preamble
from .model.palette import Palette
from .node_commands import NodeCommands
from .model.run_state import RunState
from .run_commands import RunCommands
from .views.canvas_interact import CanvasController
from .views.canvas_scroll import CanvasScroll, scrolled_canvas
from .views.canvas_view import CanvasView
from .views.console_view import ConsoleView
from .views.context_menu import ContextMenus
from .views.log_view import DRAIN_MAX, LogView, QueueLogHandler
from .views.palette_view import PaletteView
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
    def __init__(self, root: tk.Tk, palette: Palette | None = None) -> None:
        self.root = root
        self.doc = Document()
        self.palette = palette or Palette.load()
        self.run_state = RunState()
        self.bridge = RunBridge(self.run_state)
        self.log_handler = QueueLogHandler(logging.INFO)
        logging.getLogger().addHandler(self.log_handler)
        if logging.getLogger().level > logging.INFO or logging.getLogger().level == 0:
            logging.getLogger().setLevel(logging.INFO)
        self.namespace: dict = {}
        self._after: str | None = None
        self._soon: set[str] = set()  # one-shot after ids (a run at start-up, a recovery)
        self._closed = False
        self._modal = 0               # dialogs open (see modal())
        self._close_pending = False
        self._switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(min(self._switch_interval, SWITCH_INTERVAL))
        self.error_window: tk.Toplevel | None = None
        root.report_callback_exception = self.report_callback_exception
        root.title("PaPy Studio")
        root.geometry("1280x820")
        root.minsize(900, 600)
        self._saved_window = window_state.restore_geometry(self)
        theme.apply(root)
        icon = theme.load_icon(root, ["app-128", "app-64"] if theme.icon_size(root) > 16
                               else ["app-64", "app-32"])
        if icon is not None:
            root.iconphoto(True, icon)
            self._app_icon = icon
        self.files = FileCommands(self)
        self.runs = RunCommands(self)
        self.help = HelpCommands(self)
        self.nodes = NodeCommands(self)
        self.tips = Tooltips(root)
        self._build()
        self.runs.update_buttons()
        self.set_document(self.doc)
        self.refresh_recent_menu()
        root.protocol("WM_DELETE_WINDOW", self.close)
        self._after = root.after(TICK_MS, self._tick)

    # -- building -----------------------------------------------------------------
    def _build(self) -> None:
        from .menus import build_menus, build_toolbar
        build_menus(self)
        self.toolbar_buttons = build_toolbar(self)
        self.status = ttk.Label(self.root, text="Ready.", style="Status.TLabel", anchor="w")
        self.status.pack(side="bottom", fill="x")
        vpane = self.vpane = ttk.PanedWindow(self.root, orient="vertical")
        vpane.pack(fill="both", expand=True)
        hpane = ttk.PanedWindow(vpane, orient="horizontal")
        vpane.add(hpane, weight=4)
        box, self.canvas, xbar, ybar = scrolled_canvas(hpane)
        self.canvas_view = CanvasView(self.canvas, self.doc, self.run_state)
        self.canvas_scroll = CanvasScroll(self.canvas_view, xbar, ybar)
        self.canvas_ctl = CanvasController(self.canvas_view, self.palette, self.message)
        self.canvas_ctl.on_badge = lambda n: self.runs.show_error(n)
        self.context_menus = ContextMenus(self.canvas_ctl, self.nodes.rename, self.help.node,
                                          self.nodes.auto_layout)
        self._category_icons = theme.category_icons(self.root)
        self.palette_view = PaletteView(hpane, self.palette, self.nodes.drop_type,
                                        self._category_icons)
        self.props = PropsView(hpane, self.doc, self.palette, self.message)
        self.props.ask_discard = lambda text: bool(self.modal(
            messagebox.askyesno, "Unapplied source", text, parent=self.root))
        self.props.ask_files = lambda **kw: self.modal(filedialog.askopenfilenames, **kw)
        hpane.add(self.palette_view, weight=0)
        hpane.add(box, weight=1)
        hpane.add(self.props, weight=0)
        self.hpane = hpane
        self._sash_bind = hpane.bind("<Configure>", self._on_first_layout, add=True)
        self.bottom = ttk.Notebook(vpane)
        vpane.add(self.bottom, weight=1)
        self.console = ConsoleView(self.bottom, self.namespace, self.nodes.add_function)
        self.script_view = ScriptView(self.bottom, self.doc, self.message,
                                      lambda: files.render(self.doc))
        self.script_view.on_pending = lambda on: self.bottom.tab(
            self.script_view, text="Script ●" if on else "Script")
        self.log_view = LogView(self.bottom, self.log_handler, select_node=self.nodes.select)
        self.log_view.ask_file = lambda **kw: self.modal(filedialog.asksaveasfilename, **kw)
        self.stats_view = StatsView(self.bottom, self.run_state)
        for view, text in ((self.console, "Console"), (self.script_view, "Script"),
                           (self.log_view, "Log"), (self.stats_view, "Statistics")):
            self.bottom.add(view, text=text)
        self.nodes.add_tips()

    def _on_first_layout(self, event: tk.Event) -> None:
        """Restore the pane splits of the last session, or give the canvas the
        width the side panels do not need (once: the panes' requested sizes
        would otherwise leave it the narrowest)."""
        if event.width < 600:
            return
        self.hpane.unbind("<Configure>", self._sash_bind)
        if window_state.restore_splits(self, self._saved_window):
            return
        side = round(250 * theme.ui_scale(self.root))
        self.hpane.sashpos(0, side)
        self.hpane.sashpos(1, event.width - round(300 * theme.ui_scale(self.root)))

    def palette_view_icons(self) -> dict:
        """The palette's category icons (16 or 32 px, see theme.icon_size)."""
        return self._category_icons

    # -- document ---------------------------------------------------------------
    def set_document(self, doc: Document) -> None:
        """Show ``doc``; the last run's state, colours and polling go with the old one."""
        if self.doc is not doc:
            self.doc.unsubscribe(self._on_doc)
        self.bridge.detach()
        self.doc = doc
        doc.subscribe(self._on_doc)
        self.canvas_view.set_document(doc)
        self.props.set_document(doc)
        self.script_view.set_document(doc)
        self.sync_lock()
        self._refresh_namespace()
        self.update_title()
        self.root.after_idle(self.canvas_view.fit) if doc.nodes else None

    def sync_lock(self) -> None:
        """Lock the document against edits while a run is in progress."""
        if self.run_state.active:
            self.doc.lock("a run is in progress (stop it with Shift+F5 to edit)")
        else:
            self.doc.unlock()

    def commit_pending(self) -> bool:
        """Apply source typed in the property panel or the Script tab and not
        applied yet (before Save and Run); False if the user keeps editing."""
        return self.props.commit_pending() and self.script_view.commit_pending()

    def take_console_names(self) -> str:
        """Write into the script what its code takes from the console (issue 12,
        export fidelity); returns what was done, for the status line."""
        try:
            done = complete_preamble(self.doc, self.namespace)
        except EditError as exc:
            return str(exc)
        return done.summary()

    def _refresh_namespace(self) -> None:
        import papy_engine
        self.namespace.update({"papy_engine": papy_engine, "doc": self.doc,
                               "plumber": self.namespace.get("plumber"),
                               "__name__": "__console__"})

    def _on_doc(self, event: str, data: dict) -> None:
        if event == "changed":
            self.update_title()
            self.files.schedule_autosave()
            label = self.doc.undo_stack.undo_label()
            self.edit_menu.entryconfigure(0, label=f"Undo {label}" if label else "Undo")
            redo = self.doc.undo_stack.redo_label()
            self.edit_menu.entryconfigure(1, label=f"Redo {redo}" if redo else "Redo")

    def doc_title(self) -> str:
        from pathlib import Path
        return Path(self.doc.path).name if self.doc.path else "untitled"

    def update_title(self) -> None:
        mark = "● " if self.doc.modified else ""
        self.root.title(f"{mark}{self.doc_title()} — PaPy Studio")

    def refresh_recent_menu(self) -> None:
        menu = self.recent_menu
        menu.delete(0, "end")
        for path in self.files.recent.items:
            menu.add_command(label=path, command=lambda p=path: self.files.open(p))
        if not self.files.recent.items:
            menu.add_command(label="(none)", state="disabled")

    def message(self, text: str, error: bool = False) -> None:
        (log.warning if error else log.debug)("%s", text)
        if not self._closed:
            self.status.configure(text=text,
                                  style="StatusError.TLabel" if error else "Status.TLabel")

    def show_error(self, title: str, text: str) -> None:
        self.message(f"{title}: {text}", True)
        if not getattr(self, "quiet_dialogs", False):
            self.modal(messagebox.showerror, title, text, parent=self.root)

    @property
    def closed(self) -> bool:
        """The window was closed (destroyed); nothing of it may be used."""
        return self._closed

    def modal(self, dialog, *args, **kwargs):
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

    def soon(self, ms: int, fn) -> None:
        """Call ``fn()`` in ``ms`` ms from the event loop (cancelled by close)."""
        def go() -> None:
            self._soon.discard(after_id)
            fn()
        after_id = self.root.after(ms, go)
        self._soon.add(after_id)

    def start_run_soon(self) -> None:
        """Start a run once the window is up (``papy gui SCRIPT --run``)."""
        self.soon(200, self.runs.run)

    def report_callback_exception(self, exc, val, tb) -> None:
        log.error("internal error in a Tk callback", exc_info=(exc, val, tb))
        self.message(f"internal error: {exc.__name__}: {val} (details in the Log tab)", True)

    # -- event loop ------------------------------------------------------------
    def _tick(self) -> None:
        self._after = None
        if self._closed:
            return
        more = self.bridge.poll()
        more += self.log_view.drain() >= DRAIN_MAX
        # a backlog is drained from idle callbacks: timers, input and redraws
        # still run between two ticks (a chain of after(1) could starve redraws)
        self._after = (self.root.after_idle(self._tick) if more
                       else self.root.after(TICK_MS, self._tick))

    def close(self, ask: bool = True) -> bool:
        """Ask about a run and unsaved edits, stop cleanly, destroy the window.

        With a dialog open, only note the request (see :meth:`modal`)."""
        if self._closed:
            return True
        if self._modal:
            self._close_pending = True
            return False
        if self.run_state.active or self.bridge.running:
            if ask and not self.modal(self.files.ask_yes_no, "Stop the run?", "A pipeline is "
                                      "running. Stop it and close?", parent=self.root):
                return False
        if ask and not (self.commit_pending() and self.files.confirm_discard()):
            return False
        window_state.save(self)
        self._closed = True
        for after_id in [self._after, *self._soon]:
            if after_id is not None:
                self.root.after_cancel(after_id)
        self._after, self._soon = None, set()
        self.tips.close()
        self.context_menus.close()
        self.files.cancel()
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


def open_app(argv: list[str] | None = None) -> App | int:
    """Parse ``papy gui`` arguments and open the window (without its mainloop).

    Returns the App, or an exit code if it could not open. With ``--run`` a
    run starts as soon as the file is open (from the event loop, so the
    window shows first).
    """
    parser = argparse.ArgumentParser(prog="papy gui", description="PaPy Studio desktop editor")
    parser.add_argument("script", nargs="?", help="a saved pipeline script to open")
    parser.add_argument("--run", action="store_true", help="start a run once the file is open")
    args = parser.parse_args(argv if argv is not None else sys.argv[1:])
    try:
        root = tk.Tk(className="PaPyStudio")
    except tk.TclError as exc:
        print(f"papy gui: cannot open a window: {exc}", file=sys.stderr)
        return 2
    app = App(root)
    if args.script and not app.files.open(args.script):
        app.close(ask=False)
        return 1
    if args.run:
        app.start_run_soon()
    if not args.script:  # an untitled pipeline left by a crash is offered back
        app.soon(100, app.files.offer_untitled_recovery)
    return app


def main(argv: list[str] | None = None) -> int:
    """``papy gui [SCRIPT] [--run]``: open the editor; returns the exit code."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    app = open_app(argv)
    if isinstance(app, int):
        return app
    app.root.mainloop()
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
