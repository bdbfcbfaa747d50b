"""Run, Pause/Resume, Stop and Run headless, and the button states they need.

Inputs are Python expressions evaluated in the console namespace on the Tk
thread (cheap: ``range(10**6)`` is lazy), after the document's own code (its
imports, constants and functions -- what an input such as
``HERE / 'data'`` refers to) has been executed there; the Plumber is built
and run by the bridge on its own thread. Before that, what the document's
code takes from the console is written into its script (as Save does), so a
run here is a run of the script that Save writes. The document is locked
while the run is in progress; the status line follows running / paused /
stopping.
"""
from __future__ import annotations

import logging
import os
import tkinter as tk
from tkinter import messagebox, ttk
from typing import TYPE_CHECKING

from papy_engine import script

from .model.convert import to_description
from .model.errors import EditError
from .model.params import MissingParamError, check_required

if TYPE_CHECKING:
    from .app import App

log = logging.getLogger(__name__)


class RunCommands:
    def __init__(self, app: "App") -> None:
        self.app = app
        app.run_state.subscribe(self._on_run)
        app.bridge.on_plumber = self._on_plumber
        self._shown_state = "idle"

    def _define(self) -> None:
        """Run the document's definitions in the console namespace (never its pipeline)."""
        doc, ns = self.app.doc, self.app.namespace
        path = doc.path
        try:
            script.exec_text(script.render(to_description(doc)), f"<{self.app.doc_title()}>", ns,
                             file=os.path.abspath(path) if path else None)
        except Exception as exc:  # ScriptError names the line; anything else is the user's
            raise EditError(f"the pipeline's code failed: {exc}") from None

    def inputs(self) -> list:
        doc, ns = self.app.doc, self.app.namespace
        self._define()
        datas = []
        for name in doc.input_nodes():
            expr = doc.inputs.get(name)
            if expr is None:
                raise EditError(f"input node {name!r} has no input: select it and type an "
                                "expression such as range(100) under Input", field="input")
            try:
                datas.append(eval(expr, ns))  # the user's own expression, in their console
            except Exception as exc:
                raise EditError(f"input of node {name!r}: {expr!r} failed: "
                                f"{type(exc).__name__}: {exc}", field="input") from None
        return datas

    def run(self) -> bool:
        app = self.app
        if app.bridge.running:
            return False
        if not app.doc.nodes:
            app.message("nothing to run: add nodes first", True)
            return False
        try:  # before anything runs, even the document's own code
            check_required(app.doc.nodes, app.palette.find_for)
        except MissingParamError as exc:
            app.message(str(exc), True)
            app.doc.select([exc.node])
            form = app.props.node_form
            if form is not None:
                form.show_error(f"{exc.index}:{exc.field}", str(exc))
            return False
        if not app.commit_pending():
            return False
        added = app.take_console_names()
        try:
            datas = self.inputs()
        except EditError as exc:
            app.message(str(exc), True)
            return False
        app.log_view.clear()
        if added:
            log.info("%s", added)
        app.message(f"running {app.doc_title()}…")  # a new run clears the last one's message
        log.info("running %s", app.doc_title())
        app.bridge.start(to_description(app.doc), datas, app.namespace)
        app.bottom.select(app.stats_view)
        return True

    def pause_resume(self) -> None:
        state = self.app.run_state.state
        if state == "running":
            self.app.bridge.pause()
        elif state == "paused":
            self.app.bridge.resume()

    def pause(self) -> None:
        if self.app.run_state.state == "running":
            self.app.bridge.pause()

    def resume(self) -> None:
        if self.app.run_state.state == "paused":
            self.app.bridge.resume()

    def stop(self) -> None:
        self.app.bridge.stop()

    def run_headless(self) -> None:
        app = self.app
        if not app.doc.path or app.doc.modified:
            if not app.files.save():
                return
        app.bottom.select(app.log_view)
        app.message(f"papy run {app.doc_title()} (headless, output in the Log)")
        app.bridge.run_headless(app.doc.path)

    def _on_plumber(self, plumber) -> None:
        self.app.namespace["plumber"] = plumber

    def _on_run(self, event: str, data: dict) -> None:
        if event == "state":
            self.update_buttons()
            self.app.sync_lock()
            state = data.get("state")
            if state == "paused":
                self.app.message(f"paused {self.app.doc_title()}: no new input is pulled "
                                 "(F6 resumes, Shift+F5 stops)")
            elif state == "running" and self._shown_state in ("paused", "stopping"):
                self.app.message(f"running {self.app.doc_title()}…")
            elif state == "stopping":
                self.app.message("stopping: the items already pulled finish first…")
            self._shown_state = state
            if state in ("finished", "stopped", "failed"):
                msg = data.get("message") or ""
                log.log(logging.ERROR if state == "failed" else logging.INFO,
                        "run %s%s", state, f": {msg}" if msg else "")
                self.app.message(f"run {state}" + (f": {msg}" if msg else ""), state == "failed")

    def update_buttons(self) -> None:
        state = self.app.run_state.state
        active = self.app.run_state.active
        enable = {"run": not active, "pause": state == "running",
                  "resume": state == "paused", "stop": state in ("running", "paused")}
        shown = getattr(self, "_enabled", {})
        # only what changed: each Tcl call may wait a GIL switch interval mid-run
        changed = {k: on for k, on in enable.items() if shown.get(k) != on}
        self._enabled = enable
        for key, on in changed.items():
            w = self.app.toolbar_buttons.get(key)
            if w is not None:
                w.state(["!disabled"] if on else ["disabled"])
            try:
                self.app.run_menu.entryconfigure(self.app.run_menu_index[key],
                                                 state="normal" if on else "disabled")
            except (tk.TclError, KeyError, AttributeError):
                pass

    def show_error(self, node: str) -> None:
        """The first error of ``node``: its traceback and the item's index."""
        err = self.app.run_state.errors.get(node)
        if err is None:
            self.app.modal(messagebox.showinfo, "No error details", f"Node {node} reported "
                           "errors, but no traceback reached the editor.", parent=self.app.root)
            return
        top = tk.Toplevel(self.app.root)
        top.title(f"First error in {node}")
        frame = ttk.Frame(top, padding=8)
        frame.pack(fill="both", expand=True)
        ttk.Label(frame, text=f"{err.get('exc_type', '')}: {err.get('message', '')}   "
                  f"(item index {err.get('index')})", style="Heading.TLabel").pack(anchor="w")
        from .views.highlight import TRACEBACK, highlight, setup_tags
        text = tk.Text(frame, height=16, width=90, font=("DejaVu Sans Mono", 9))
        setup_tags(text)
        text.insert("1.0", err.get("traceback") or "(no traceback)")
        highlight(text, "1.0", "end-1c", TRACEBACK)
        text.configure(state="disabled")
        text.pack(fill="both", expand=True)
        ttk.Button(frame, text="Close", command=top.destroy).pack(anchor="e", pady=(6, 0))
        self.app.error_window = top
