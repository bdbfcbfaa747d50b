"""Helpers for the Tk tests: make an App under Xvfb, pump the loop, events, screenshots."""
from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


def core(name: str):
    """A function of ``papy_engine.workers.core`` as a node function."""
    from papy_engine.script import FuncRef
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


def pump(root, cond=lambda: False, timeout: float = 10.0) -> bool:
    """Run the Tk loop until ``cond()`` holds (True) or ``timeout`` passes (False)."""
    deadline = time.monotonic() + timeout
    while True:
        root.update()
        if cond():
            return True
        if time.monotonic() > deadline:
            return False


def screenshot(root, name: str) -> Path | None:
    """Save the screen (the window and any dialog over it) as artifacts/NAME.png.

    The whole X root window, not the main window alone: capturing one window
    leaves a dialog over it black. None if impossible.
    """
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    root.update()
    try:
        subprocess.run(["import", "-window", "root", str(path)], check=True,
                       timeout=20, capture_output=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return path


def make_app(tmp_path_factory, state_dir=None):
    """An App on a new Tk root, its state (recent files, autosaves, window
    layout) in ``state_dir`` or a new temporary folder; dialogs answered."""
    if not os.environ.get("DISPLAY"):
        pytest.skip("needs a display: run under xvfb-run -a")
    import tkinter as tk

    from papy_gui.app import App
    os.environ["PAPY_GUI_STATE_DIR"] = str(state_dir or tmp_path_factory.mktemp("state"))
    root = tk.Tk()
    root.geometry("1280x820+0+0")
    app = App(root)
    app.quiet_dialogs = True
    app.files.ask = lambda *a, **k: False  # "don't save" unless a test says otherwise
    app.files.ask_yes_no = lambda *a, **k: True
    errors = []
    app.report_callback_exception = lambda *exc: errors.append(exc)
    root.report_callback_exception = app.report_callback_exception
    app.callback_errors = errors
    root.deiconify()
    pump(root, root.winfo_viewable, 10)
    pump(root, lambda: app.canvas.winfo_width() > 300, 5)
    return app



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
