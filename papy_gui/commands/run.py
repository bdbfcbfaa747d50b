"""Run commands: Run, Pause/Resume, Stop, Run headless; the run lock and status line.

A run executes the document's module-level code (its imports, constants,
helpers, node functions) exactly once, on the Tk thread, in a namespace of
its own seeded with the console's names; the input expressions are then
evaluated there (cheap: ``range(10**6)`` is lazy; an input such as
``HERE / 'data'`` uses the script's names) and the console gets the script's
names too. The bridge's runner thread only calls that namespace's
``pipeline()`` (``script.make_pipeline``) and runs the Plumber, so the
runner and the console never share a dict, and nothing runs twice.

Why the Tk thread: a failing line or input is refused before anything
starts, with the reason in the status line (as before), and the console's
namespace is only ever written by the thread the console runs on. The cost
is that slow module-level code (a big load at import) holds the window
while it runs, as it already did.

Before that, what the document's code takes from the console is written into
its script (as Save does), so a run here is a run of the script that Save
writes. The document is locked while the run is in progress; the status
line follows running / paused / stopping.
"""
from __future__ import annotations

import logging

from papy_engine import script

from ..bridge import Pipeline, RunRefused
from ..model.convert import to_description
from ..model.errors import EditError
from ..model.events import RunStateEvent
from ..model.export import take_console_names
from ..model.params import MissingParamError, check_required
from .window import Window

log = logging.getLogger(__name__)
LOCKED = "a run is in progress (stop it with Shift+F5 to edit)"


class RunCommands:
    """Starts, pauses and stops runs of the window's document through the bridge."""

    def __init__(self, app: Window) -> None:
        self.app = app
        app.run_state.subscribe(self._on_run)
        app.bridge.on_plumber = self._on_plumber
        self._shown_state = "idle"

    def prepare(self) -> tuple[dict, list]:
        """Execute the document's code once and evaluate its inputs, for a run.

        Returns:
            The run's namespace (the console's names, then the script's: what
            the bridge builds the Plumber from) and the input iterables, one
            per input node in order.

        Raises:
            EditError: the code failed, an input node has no input, or its
                expression failed (nothing was started).
        """
        doc, console = self.app.doc, self.app.namespace
        ns = dict(console)  # a console name the script could not write still works here
        try:
            script.execute(to_description(doc), ns, path=doc.path)
        except SystemExit as exc:  # sys.exit() in the script must not close the editor
            raise EditError(f"the pipeline's code called sys.exit({exc.code!r}); the editor "
                            "runs that code and stays open") from None
        except Exception as exc:  # ScriptError names the line; anything else is the user's
            raise EditError(f"the pipeline's code failed: {exc}") from None
        console.update(ns)  # the node functions and the script's names, as before a run
        datas = []
        for name in doc.input_nodes():
            expr = doc.inputs.get(name)
            if expr is None:
                raise EditError(f"input node {name!r} has no input: select it and type an "
                                "expression such as range(100) under Input", field="input")
            try:
                datas.append(eval(expr, ns))  # the user's own expression, in their names
            except (Exception, SystemExit) as exc:   # exit() included: the editor stays
                raise EditError(f"input of node {name!r}: {expr!r} failed: "
                                f"{type(exc).__name__}: {exc}", field="input") from None
        return ns, datas

    def run(self) -> bool:
        """Run the document here; False (and why in the status line) if it cannot."""
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
            app.props.show_error(f"{exc.index}:{exc.field}", str(exc))
            return False
        if not app.commit_pending():
            return False
        added = take_console_names(app.doc, app.namespace)
        try:
            namespace, datas = self.prepare()
        except EditError as exc:
            app.message(str(exc), True)
            return False
        app.log_view.clear()
        if added:
            log.info("%s", added)
        app.message(f"running {app.doc_title()}…")  # a new run clears the last one's message
        log.info("running %s", app.doc_title())
        try:  # Save results may ask about the folder first, and refuse
            app.bridge.start(to_description(app.doc), datas, namespace)
        except RunRefused as exc:
            app.message(str(exc), True)
            return False
        watching = (app.data_view, app.errors_view, app.output_view, app.log_view,
                    app.stats_view)
        if app.bottom.select() not in [str(tab) for tab in watching]:
            app.bottom.select(app.stats_view)  # a tab that shows the run stays
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
        """Save if needed, then ``papy run`` the file in a subprocess (output in the Log)."""
        app = self.app
        if not app.doc.path or app.doc.modified:
            if not app.commands.invoke("save"):
                return
        assert app.doc.path is not None
        app.bottom.select(app.log_view)
        app.message(f"papy run {app.doc_title()} (headless, output in the Log)")
        app.bridge.run_headless(app.doc.path)

    def sync_lock(self) -> None:
        """Lock the document against edits while a run is in progress."""
        if self.app.run_state.active:
            self.app.doc.lock(LOCKED)
        else:
            self.app.doc.unlock()

    def _on_plumber(self, plumber: Pipeline) -> None:
        self.app.namespace["plumber"] = plumber

    def _on_run(self, event: RunStateEvent, data: dict) -> None:
        if event != "state":
            return
        self.sync_lock()
        app, state = self.app, str(data["state"])
        if state == "paused":
            app.message(f"paused {app.doc_title()}: no new input is pulled "
                        "(F6 resumes, Shift+F5 stops)")
        elif state == "running" and self._shown_state in ("paused", "stopping"):
            app.message(f"running {app.doc_title()}…")
        elif state == "stopping":
            app.message("stopping: the items already pulled finish first…")
        self._shown_state = state
        if state in ("finished", "stopped", "failed"):
            msg = data.get("message") or ""
            log.log(logging.ERROR if state == "failed" else logging.INFO,
                    "run %s%s", state, f": {msg}" if msg else "")
            app.message(f"run {state}" + (f": {msg}" if msg else ""), state == "failed")


def register(app: Window) -> RunCommands:
    """The Run menu and the run buttons of the toolbar; their testers follow the run."""
    r = RunCommands(app)
    rs = app.run_state
    add = app.commands.add_command
    add("run", "Run", "Run", r.run, keys=("<F5>",), tester=lambda: not rs.active, group=1,
        toolbar="▶ Run", tip="Run the pipeline here (F5)")
    add("pause_resume", "Run", "Pause / Resume", r.pause_resume, keys=("<F6>",), group=1,
        tester=lambda: rs.state in ("running", "paused"))
    add("pause", "Run", "Pause", r.pause, tester=lambda: rs.state == "running", in_menu=False,
        toolbar="Pause", tip="Pause: no new input is pulled (F6)")
    add("resume", "Run", "Resume", r.resume, tester=lambda: rs.state == "paused",
        in_menu=False, toolbar="Resume", tip="Resume the paused run (F6)")
    add("stop", "Run", "Stop", r.stop, keys=("<Shift-F5>",), group=1,
        tester=lambda: rs.state in ("running", "paused"), toolbar="■ Stop",
        tip="Stop: the items already pulled finish, nothing is lost (Shift+F5)")
    add("run_headless", "Run", "Run headless (papy run)", r.run_headless, group=2)
    return r
