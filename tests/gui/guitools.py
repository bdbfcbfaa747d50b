"""Shared helpers of the editor's tests: a window under Xvfb with scripted dialogs,
pumping the Tk loop, mouse events, small pipelines, and screenshots on failure.

Display-free tests (tests/gui/model, test_bridge.py, commands/test_registry.py)
use only :func:`core`; the rest need a display (``xvfb-run``, as ``.ci/run``).
"""
from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from papy_engine.script import FuncRef

SLOW = "def slow(inbox):\n    import time\n    time.sleep(0.01)\n    return inbox[0]\n"
SLOWER = "def slow(inbox):\n    import time\n    time.sleep(0.02)\n    return inbox[0]\n"
FAIL = ("def picky(inbox):\n    if inbox[0] == 3:\n        raise ValueError('no threes')\n"
        "    return inbox[0]\n")
DOUBLE = "def double(inbox):\n    return 2 * inbox[0]\n"


def core(name: str) -> FuncRef:
    """A function of ``papy_engine.workers.core`` as a node function."""
    return FuncRef(name, "papy_engine.workers.core", name)


def doc_with(edges, inputs=None):
    """A Document of ipasser nodes joined by ``edges`` (node names in order of
    appearance, 200 apart), with input expressions ``inputs``."""
    from papy_gui.model.document import Document
    doc = Document()
    for name in dict.fromkeys(n for edge in edges for n in edge):
        doc.add_node(core("ipasser"), name=name, x=200 * len(doc.nodes))
    for a, b in edges:
        doc.connect(a, b)
    for name, expr in (inputs or {}).items():
        doc.set_input(name, expr)
    return doc


class CountingTk:
    """Stands in for a widget's ``tk`` and counts the Tcl calls made through it."""

    def __init__(self, real) -> None:
        self._real = real
        self.calls = 0

    def call(self, *args):
        self.calls += 1
        return self._real.call(*args)

    def __getattr__(self, name):
        return getattr(self._real, name)


class ScriptedDialogs:
    """Answers every dialog of the window without showing it, and records the questions.

    Attributes:
        save_changes: the answer to "Save changes?" (True save, False discard,
            None cancel).
        yes: the answer to yes/no questions (or a list, answered in turn).
        open_path, open_paths, save_path, directory: what the file choosers return.
        asked: ``(kind, title, text)`` of every question and message, in order.
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.save_changes: bool | None = False  # "don't save" unless a test says otherwise
        self.yes: bool | list[bool] = True
        self.open_path = ""
        self.open_paths: tuple[str, ...] = ()
        self.save_path = ""
        self.directory = ""
        self.asked: list[tuple[str, str, str]] = []

    def questions(self, kind: str) -> list[str]:
        """The texts of the dialogs of ``kind`` asked so far."""
        return [text for k, _, text in self.asked if k == kind]

    def ask_save_changes(self, title: str, text: str) -> bool | None:
        self.asked.append(("save_changes", title, text))
        return self.save_changes

    def ask_yes_no(self, title: str, text: str) -> bool:
        self.asked.append(("yes_no", title, text))
        return self.yes.pop(0) if isinstance(self.yes, list) else self.yes

    def show_error(self, title: str, text: str) -> None:
        self.asked.append(("error", title, text))

    def show_info(self, title: str, text: str) -> None:
        self.asked.append(("info", title, text))

    def ask_open_path(self, title: str, filetypes) -> str:
        self.asked.append(("open_path", title, ""))
        return self.open_path

    def ask_open_paths(self, title: str) -> tuple[str, ...]:
        self.asked.append(("open_paths", title, ""))
        return self.open_paths

    def ask_directory(self, title: str) -> str:
        self.asked.append(("directory", title, ""))
        return self.directory

    def ask_save_path(self, title: str, filetypes, initialfile: str = "",
                      defaultextension: str = "") -> str:
        self.asked.append(("save_path", title, initialfile))
        return self.save_path


def need_display() -> None:
    """Fail (not skip) without a display: deselect these tests with ``-m 'not gui'``."""
    assert os.environ.get("DISPLAY"), \
        "no display: run under xvfb-run -a (as .ci/run does), or deselect with -m 'not gui'"


def make_app(tmp_path_factory, state_dir=None, dialogs=None, scaling: float | None = None):
    """An App on a new Tk root, its state (recent files, autosaves, window
    layout) in ``state_dir`` or a new temporary folder; dialogs scripted
    (:class:`ScriptedDialogs`) unless ``dialogs`` is given (False: Tk's own);
    ``tk scaling`` set to ``scaling`` first if given. ``app.callback_errors``
    collects the exceptions of Tk callbacks."""
    need_display()
    import tkinter as tk

    from papy_gui.app import App
    os.environ["PAPY_GUI_STATE_DIR"] = str(state_dir or tmp_path_factory.mktemp("state"))
    root = tk.Tk()
    if scaling is not None:
        root.tk.call("tk", "scaling", scaling)
    root.geometry("1280x820+0+0")
    if dialogs is None:
        dialogs = ScriptedDialogs()
    app = App(root, dialogs=dialogs or None)
    errors: list = []
    app.report_callback_exception = lambda *exc: errors.append(exc)
    root.report_callback_exception = app.report_callback_exception
    app.callback_errors = errors
    root.deiconify()
    pump(root, root.winfo_viewable, 10)
    pump(root, lambda: app.canvas.winfo_width() > 300, 5)
    return app


def pump(root, cond=lambda: False, timeout: float = 10.0) -> bool:
    """Run the Tk loop until ``cond()`` holds (True) or ``timeout`` passes (False)."""
    deadline = time.monotonic() + timeout
    while True:
        root.update()
        if cond():
            return True
        if time.monotonic() > deadline:
            return False


def screenshot(path: Path) -> Path | None:
    """Save the whole X screen (the window and any dialog over it) as ``path``.

    The root window, not the main window alone: capturing one window leaves
    a dialog over it black. None if impossible.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        subprocess.run(["import", "-window", "root", str(path)], check=True,
                       timeout=20, capture_output=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return path


def type_into(form, key: str, text: str) -> None:
    """Type ``text`` into field ``key`` of a property form and press Return."""
    form.vars[key].set(text)
    form.widgets[key].focus_force()
    form.widgets[key].event_generate("<Return>")
    form.update()


def click(widget, x, y, button=1, state=0):
    widget.event_generate(f"<ButtonPress-{button}>", x=int(x), y=int(y), state=state)
    widget.update()
    widget.event_generate(f"<ButtonRelease-{button}>", x=int(x), y=int(y), state=state)
    widget.update()


def drag(widget, start, end, button=1, steps=4, state=0):
    (x0, y0), (x1, y1) = start, end
    widget.event_generate(f"<ButtonPress-{button}>", x=int(x0), y=int(y0), state=state)
    widget.update()
    for i in range(1, steps + 1):
        x, y = x0 + (x1 - x0) * i / steps, y0 + (y1 - y0) * i / steps
        widget.event_generate("<Motion>", x=int(x), y=int(y), state=state | (256 << (button - 1)))
        widget.update()
    widget.event_generate(f"<ButtonRelease-{button}>", x=int(x1), y=int(y1), state=state)
    widget.update()


def canvas_xy(app, name, part):
    """The canvas pixel of node ``name``'s "out" port, "in" port, or "body"."""
    view = app.canvas_view
    if part in ("out", "in"):
        return view.port_xy(name, part)
    x, y = view.to_screen(*view.pos(name))
    return x + 60 * view.scale, y + 30 * view.scale


def palette_drop(app, name, px, py):
    """Drag palette entry ``name`` from the tree to canvas pixel (px, py)."""
    pv = app.palette_view
    pv.search_var.set(name)
    iid = pv.item_of(name)
    pv.tree.see(iid)
    app.root.update()
    x, y, w, h = pv.tree.bbox(iid)
    tree = pv.tree
    tree.event_generate("<ButtonPress-1>", x=x + 10, y=y + h // 2)
    tree.event_generate("<Motion>", x=x + 40, y=y + h // 2, state=0x100)
    rx, ry = app.canvas.winfo_rootx() + int(px), app.canvas.winfo_rooty() + int(py)
    tree.event_generate("<ButtonRelease-1>", x=x + 40, y=y + h // 2, rootx=rx, rooty=ry)
    app.root.update()


def build(app, source: str, n: int, parallel: bool = False, **pool) -> None:
    """A new document ``src`` (ipasser, input ``range(n)``) -> ``work`` (``source``),
    ``work`` on a 2-thread pool (options ``pool``) if ``parallel``; fitted."""
    app.files.new()
    doc = app.doc
    doc.add_node(core("ipasser"), name="src", x=40, y=60)
    fname = source.split("(")[0][4:]
    doc.add_node(FuncRef(fname, None, fname, source), name="work", x=300, y=60)
    doc.connect("src", "work")
    doc.set_input("src", f"range({n})")
    if parallel:
        res = doc.add_resource(**{"worker_type": "thread", "worker_num": 2, **pool})
        doc.set_option("work", "parallel", res)
    app.canvas_view.fit()
    app.root.update()


def ended(app) -> bool:
    """The run is over, the runner thread is gone and the window has taken every
    event it left (its last one, ``run_ended``, sets the final status line; a
    statistics snapshot may say "finished" before it arrives)."""
    return app.run_state.state in ("finished", "stopped", "failed") and \
        not app.bridge.running and app.bridge.events.empty()


def settled(app) -> bool:
    """:func:`ended`, and the log view drew every record."""
    return ended(app) and app.log_view.settled


def status(app) -> str:
    return str(app.status.cget("text"))
