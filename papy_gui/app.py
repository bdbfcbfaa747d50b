"""The PaPy Studio window: composes the views, the file and run commands.

Layout: menu bar; toolbar; palette | canvas | property panel in a paned
window; a bottom notebook (Console, Log, Statistics); a status line. The
window only wires things together: drawing lives in ``views/``, state in
``model/``, the engine behind ``bridge``. One ``after`` loop (``_tick``,
50 ms) drains the bridge and the log queue; every after id is cancelled in
``close()``.
"""
from __future__ import annotations

import argparse
import gc
import logging
import sys
import tkinter as tk
from tkinter import messagebox, ttk

from . import theme
from .bridge import RunBridge
from .file_commands import FileCommands
from .model.document import Document
from .model.items import Func
from .model.palette import Palette
from .model.run_state import RunState
from .run_commands import RunCommands
from .views.canvas_interact import CanvasController
from .views.canvas_view import CanvasView
from .views.console_view import ConsoleView
from .views.log_view import DRAIN_MAX, LogView, QueueLogHandler
from .views.palette_view import PaletteView
from .views.props_view import PropsView
from .views.stats_view import StatsView

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
        self._run_soon: str | None = None
        self._closed = False
        self._switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(min(self._switch_interval, SWITCH_INTERVAL))
        self.error_window: tk.Toplevel | None = None
        root.report_callback_exception = self.report_callback_exception
        root.title("PaPy Studio")
        root.geometry("1280x820")
        root.minsize(900, 600)
        theme.apply(root)
        icon = theme.load_icon(root, ["app-128", "app-64"] if theme.icon_size(root) > 16
                               else ["app-64", "app-32"])
        if icon is not None:
            root.iconphoto(True, icon)
            self._app_icon = icon
        self.files = FileCommands(self)
        self._build()
        self.runs = RunCommands(self)
        self.runs.update_buttons()
        self.set_document(self.doc)
        root.protocol("WM_DELETE_WINDOW", self.close)
        self._after = root.after(TICK_MS, self._tick)

    # -- building -----------------------------------------------------------------
    def _build(self) -> None:
        from .menus import build_menus, build_toolbar
        build_menus(self)
        self.toolbar_buttons = build_toolbar(self)
        self.status = ttk.Label(self.root, text="Ready.", style="Status.TLabel", anchor="w")
        self.status.pack(side="bottom", fill="x")
        vpane = ttk.PanedWindow(self.root, orient="vertical")
        vpane.pack(fill="both", expand=True)
        hpane = ttk.PanedWindow(vpane, orient="horizontal")
        vpane.add(hpane, weight=4)
        self.canvas = tk.Canvas(hpane, background="#fafbfc", highlightthickness=0,
                                takefocus=True)
        self.canvas_view = CanvasView(self.canvas, self.doc, self.run_state)
        self.canvas_ctl = CanvasController(self.canvas_view, self.palette, self.message)
        self.canvas_ctl.on_badge = lambda n: self.runs.show_error(n)
        self._category_icons = theme.category_icons(self.root)
        self.palette_view = PaletteView(hpane, self.palette, self.drop_node_type,
                                        self._category_icons)
        self.props = PropsView(hpane, self.doc, self.palette, self.message)
        hpane.add(self.palette_view, weight=0)
        hpane.add(self.canvas, weight=1)
        hpane.add(self.props, weight=0)
        self.hpane = hpane
        self._sash_bind = hpane.bind("<Configure>", self._on_first_layout, add=True)
        self.bottom = ttk.Notebook(vpane)
        vpane.add(self.bottom, weight=1)
        self.console = ConsoleView(self.bottom, self.namespace, self.add_function_node)
        self.log_view = LogView(self.bottom, self.log_handler, select_node=self.select_node)
        self.stats_view = StatsView(self.bottom, self.run_state)
        self.bottom.add(self.console, text="Console")
        self.bottom.add(self.log_view, text="Log")
        self.bottom.add(self.stats_view, text="Statistics")

    def _on_first_layout(self, event: tk.Event) -> None:
        """Give the canvas the width the side panels do not need (once: the
        panes' requested sizes would otherwise leave it the narrowest)."""
        if event.width < 600:
            return
        self.hpane.unbind("<Configure>", self._sash_bind)
        side = round(250 * theme.ui_scale(self.root))
        self.hpane.sashpos(0, side)
        self.hpane.sashpos(1, event.width - round(300 * theme.ui_scale(self.root)))

    def palette_view_icons(self) -> dict:
        """The palette's category icons (16 or 32 px, see theme.icon_size)."""
        return self._category_icons

    # -- document ---------------------------------------------------------------
    def set_document(self, doc: Document) -> None:
        if self.doc is not doc:
            self.doc.unsubscribe(self._on_doc)
        self.doc = doc
        doc.subscribe(self._on_doc)
        self.canvas_view.set_document(doc)
        self.props.set_document(doc)
        self.run_state.reset()
        self._refresh_namespace()
        self.update_title()
        self.root.after_idle(self.canvas_view.fit) if doc.nodes else None

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

    # -- commands the menus and toolbar call (views are built after the menus) ---
    def canvas_ctl_copy(self) -> None:
        self.canvas_ctl.copy()

    def canvas_ctl_paste(self) -> None:
        self.canvas_ctl.paste()

    def canvas_ctl_delete(self) -> None:
        self.canvas_ctl.delete_selection()

    def auto_layout(self) -> None:
        self.doc.auto_layout()
        self.canvas_view.fit()

    def runs_run(self) -> None:
        self.runs.run()

    def runs_pause_resume(self) -> None:
        self.runs.pause_resume()

    def runs_pause(self) -> None:
        self.runs.pause()

    def runs_resume(self) -> None:
        self.runs.resume()

    def runs_stop(self) -> None:
        self.runs.stop()

    def runs_headless(self) -> None:
        self.runs.run_headless()

    # -- actions used by the views ------------------------------------------------
    def drop_node_type(self, ntype, x_root: int | None, y_root: int | None) -> str | None:
        """A palette entry dropped at screen (x_root, y_root), or added at the centre."""
        c = self.canvas
        if x_root is None or y_root is None:
            px, py = c.winfo_width() / 2, c.winfo_height() / 2
            px += 24 * (len(self.doc.nodes) % 5)
            py += 18 * (len(self.doc.nodes) % 5)
        else:
            px, py = x_root - c.winfo_rootx(), y_root - c.winfo_rooty()
            if not (0 <= px <= c.winfo_width() and 0 <= py <= c.winfo_height()):
                return None
        return self.canvas_ctl.add_type_at(ntype, px, py)

    def add_function_node(self, name: str, source: str, x_root: int | None = None,
                          y_root: int | None = None) -> str | None:
        """A console function as a node: dropped at screen (x_root, y_root), or centred."""
        c = self.canvas
        px, py = c.winfo_width() / 2, c.winfo_height() / 2
        if x_root is not None and y_root is not None:
            px, py = x_root - c.winfo_rootx(), y_root - c.winfo_rooty()
            if not (0 <= px <= c.winfo_width() and 0 <= py <= c.winfo_height()):
                return None  # dropped somewhere else
        x, y = self.canvas_view.to_world(px, py)
        try:
            new = self.doc.add_node(Func(name, None, name, source), name=self.doc.unique_name(name),
                                    x=round(x - 88), y=round(y - 34))
        except Exception as exc:
            self.message(str(exc), True)
            return None
        self.doc.select([new])
        self.message(f"added node {new} from the console", False)
        return new

    def select_node(self, name: str) -> None:
        if name in self.doc.nodes:
            self.doc.select([name])

    def message(self, text: str, error: bool = False) -> None:
        self.status.configure(text=text, style="StatusError.TLabel" if error else "Status.TLabel")
        (log.warning if error else log.debug)("%s", text)

    def show_error(self, title: str, text: str) -> None:
        self.message(f"{title}: {text}", True)
        if not getattr(self, "quiet_dialogs", False):
            messagebox.showerror(title, text, parent=self.root)

    def start_run_soon(self) -> None:
        """Start a run once the window is up (``papy gui SCRIPT --run``)."""
        def go() -> None:
            self._run_soon = None
            self.runs.run()
        self._run_soon = self.root.after(200, go)

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
        """Ask about a run and unsaved edits, stop cleanly, destroy the window."""
        if self._closed:
            return True
        if self.run_state.active or self.bridge.running:
            if ask and not self.files.ask_yes_no("Stop the run?", "A pipeline is running. "
                                                 "Stop it and close?", parent=self.root):
                return False
        if ask and not self.files.confirm_discard():
            return False
        self._closed = True
        for after_id in (self._after, self._run_soon):
            if after_id is not None:
                self.root.after_cancel(after_id)
        self._after = self._run_soon = None
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
