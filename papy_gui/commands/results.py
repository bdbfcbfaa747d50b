"""Save results: runs write their results to a folder, durably, and resume after a crash.

Run > "Save results to…" asks for a folder; from then on every run started
here writes the results of its tracked nodes -- or of every output node
when none is tracked -- to ``FOLDER/<node>.jsonl`` as they arrive, with a
journal of what is durably complete and a lock: the engine's
:func:`papy_engine.durable.open_results`, exactly what ``papy run SCRIPT
--results FOLDER`` does (docs/long-runs.md). The same entry, now "Stop
saving results", turns it off.

Resuming, as ``papy run --results FOLDER --resume`` does (skip the input
items whose results are complete, run the rest, append):

* a folder holding an unfinished run (stopped, failed, or interrupted) is
  never overwritten: choosing it, or running into it, asks whether to resume
  it; No leaves it alone (and nothing runs into it);
* while a run writes, a sidecar in the editor's state directory names its
  folder (:mod:`papy_gui.model.last_run`); the run's end removes it. If the
  editor dies mid-run, opening the document again -- or recovering it at
  start-up -- finds the sidecar and offers to resume that run into the same
  folder (:meth:`SaveResults.offer_resume`); Yes starts the resumed run, No
  forgets it and leaves the folder as it is.

Why the next run and not the one just finished: the editor does not keep a
run's results (only tracked nodes keep them all), so writing "the current
run" afterwards would save a different, partial set; streaming during the
run saves every result, and the files are on disk while a long run goes on.

Threads: the questions are asked on the Tk thread (:meth:`SaveResults.target`
runs there, when the bridge starts a run); :class:`RunResults` opens and
closes the folder on the bridge's runner thread.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

from papy_engine.durable import Session, Unfinished, exit_status, open_results, unfinished_run

from ..bridge import Pipeline, ResultsTarget, RunRefused, Sink
from ..model import last_run
from .window import Window

log = logging.getLogger(__name__)


class RunResults:
    """One run's results folder (a :class:`papy_gui.bridge.ResultsTarget`).

    ``open`` and ``close`` run on the bridge's runner thread.
    """

    def __init__(self, directory: str, doc_path: str | None, resume: bool = False) -> None:
        self.directory = directory
        self.doc_path = doc_path
        self.resume = resume
        self.session: Session | None = None

    def open(self, plumber: Pipeline, datas: list) -> tuple[list | None, dict[str, Sink]]:
        session = self.session = open_results(self.directory, plumber, datas,
                                              resume=self.resume)
        for note in session.notes:
            log.info("%s", note)
        if session.datas is not None:
            last_run.remember(self.doc_path, self.directory)
            log.info("writing the results of %s to %s",
                     ", ".join(session.paths) or "no node", self.directory)
        sinks: dict[str, Sink] = session.sinks
        return session.datas, sinks

    def close(self, plumber: Pipeline | None) -> str:
        session = self.session
        try:
            if session is None:
                return ""
            if plumber is None or session.datas is None:  # failed, or nothing to resume
                session.close(None)
                return "; ".join(session.notes) if session.datas is None else ""
            state = plumber.state
            session.close(state, exit_status(plumber.stats))
        finally:
            last_run.forget(self.doc_path)
        names = ", ".join(p.name for p in session.paths.values())
        note = f"results in {self.directory} ({names})" if names else ""
        if state != "finished" and session.refusal is None and note:
            note += "; the next run into this folder can resume it"
        return note


class SaveResults:
    """The "Save results to…" command, and resuming a run that did not finish."""

    def __init__(self, app: Window) -> None:
        self.app = app
        self.directory: str | None = None
        self.resume = False  # the next run resumes the run in the folder
        app.bridge.results = self.target

    def target(self) -> ResultsTarget | None:
        """The results folder of a run starting now (None: not saving).

        Raises:
            RunRefused: the folder holds an unfinished run that the user
                does not resume, or another run writes it.
        """
        if not self.directory:
            return None
        resume, self.resume = self.resume, False
        if not resume:
            found = unfinished_run(self.directory)
            if found is not None:
                if found.busy:
                    raise RunRefused(found.busy)
                if not self._ask_resume(found, "Run > Save results to…"):
                    raise RunRefused(f"not run: {self.directory} holds an unfinished run; "
                                     "resume it, or choose another folder")
                resume = True
        return RunResults(self.directory, self.app.doc.path, resume)

    def _ask_resume(self, found: Unfinished, other: str) -> bool:
        return self.app.dialogs.ask_yes_no(
            "Resume the unfinished run?",
            f"Resume the unfinished run in this folder?\n\n{_sentence(found.describe())}."
            "\n\nThe run skips the input items whose results are complete and appends the "
            "rest to the files, as papy run --resume does. No: nothing runs into this "
            f"folder (choose another one with {other}, or delete its files).")

    def label(self) -> str:
        return "Stop saving results" if self.directory else "Save results to…"

    def toggle(self) -> None:
        """Choose a folder for the next runs' results, or stop saving them."""
        app = self.app
        if self.directory:
            self.set_directory(None)
            return
        path = app.dialogs.ask_directory("Save the results of the next runs in")
        if path:
            self.set_directory(path)

    def set_directory(self, path: str | None) -> bool:
        """Save the next runs' results in ``path`` (None: stop); False if it cannot
        be written or holds an unfinished run the user does not resume (and why
        in the status line)."""
        app = self.app
        self.resume = False
        if path is None:
            self.directory = None
            app.message("results are no longer saved")
            app.refresh_commands()
            return True
        try:
            Path(path).mkdir(parents=True, exist_ok=True)
            if not os.access(path, os.W_OK):
                raise PermissionError("not writable")
        except OSError as exc:
            app.message(f"cannot save results in {path}: {exc}", True)
            return False
        found = unfinished_run(path)
        if found is not None and (found.busy or not self._ask_resume(found, "Save results to…")):
            app.message(found.busy or f"not saving results in {path}: it holds an unfinished "
                        "run (choose another folder, or delete its files)", True)
            return False
        self.directory, self.resume = path, found is not None
        when = "the next run writes" if app.run_state.active else "each run writes"
        app.message(f"the next run resumes the run in {path}" if self.resume else
                    f"{when} its results to {path} (a .jsonl file per output or tracked node)")
        app.refresh_commands()
        return True

    def offer_resume(self) -> bool:
        """After opening (or recovering) a document: if the editor died while a run
        of it saved its results, offer to resume that run; True if it started."""
        app = self.app
        if app.run_state.active or app.bridge.running:
            return False
        folder = last_run.recall(app.doc.path)
        if folder is None:
            return False
        found = unfinished_run(folder)
        if found is None or found.busy:  # finished, gone, or another editor resumes it
            if found is None:
                last_run.forget(app.doc.path)
            return False
        if not app.dialogs.ask_yes_no(
                "Resume the last run?",
                f"Resume the interrupted run of {app.doc_title()} into the same folder?"
                f"\n\nPaPy Studio closed while {app.doc_title()} was running: "
                f"{found.describe()}.\n\nThe run skips the input items whose results are "
                "complete and appends the rest, as papy run --resume does. No leaves the "
                "folder as it is."):
            last_run.forget(app.doc.path)
            app.message(f"not resumed: the interrupted run's results stay in {folder}")
            return False
        self.directory, self.resume = folder, True
        app.refresh_commands()
        return bool(app.commands.invoke("run"))


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def register(app: Window) -> SaveResults:
    """Run > Save results to… / Stop saving results; the resume offer after a crash."""
    s = SaveResults(app)
    app.commands.add_command("save_results", "Run", s.label, s.toggle, group=2)
    app.commands.add_command("offer_resume", "Run", "Resume the interrupted run",
                             s.offer_resume, in_menu=False)
    return s
