"""Save results: the next runs stream their results to a folder, one file per node.

Run > "Save results…" asks for a folder; from then on every run started
here writes the results of its tracked nodes -- or of every output node
when none is tracked -- to ``FOLDER/<node>.jsonl`` as they arrive, with
the engine's :class:`~papy_engine.results.ResultsWriter` given to
``Plumber.start(..., sinks=...)``: exactly what ``papy run --results
FOLDER`` writes. The same entry, now "Stop saving results", turns it off.

Why the next run and not the one just finished: the editor does not keep a
run's results (only tracked nodes keep them all, and the Data tab shows the
last 100 per node), so writing "the current run" afterwards would save a
different, partial set depending on options; streaming during the run
saves every result, the file is on disk while a long run goes on, and it is
what issue 17 (resuming a run that ended early) builds on. A run started
while this is on says so in the Log, and its status line ends with where
the files are.

Everything about saving results lives in this module (issue 17 extends it).
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

from papy_engine.results import ResultsWriter, pipers_to_write

from ..bridge import Pipeline, ResultsTarget, Sink
from .window import Window

log = logging.getLogger(__name__)


class RunResults:
    """One run's result files (a :class:`papy_gui.bridge.ResultsTarget`).

    ``open`` and ``close`` run on the bridge's runner thread.
    """

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.writer: ResultsWriter | None = None

    def open(self, plumber: Pipeline) -> dict[str, Sink]:
        self.writer = ResultsWriter(self.directory, pipers_to_write(plumber))
        log.info("writing the results of %s to %s", ", ".join(self.writer.paths) or "no node",
                 self.directory)
        sinks: dict[str, Sink] = self.writer.sinks()
        return sinks

    def close(self) -> str:
        if self.writer is None:
            return ""
        self.writer.close()
        names = ", ".join(p.name for p in self.writer.paths.values())
        return f"results in {self.directory} ({names})" if names else ""


class SaveResults:
    """The "Save results…" command: where the next runs write, if anywhere."""

    def __init__(self, app: Window) -> None:
        self.app = app
        self.directory: str | None = None
        app.bridge.results = self.target

    def target(self) -> ResultsTarget | None:
        """The result files of a run starting now (None: not saving)."""
        return RunResults(self.directory) if self.directory else None

    def label(self) -> str:
        return "Stop saving results" if self.directory else "Save results…"

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
        be written (and why in the status line)."""
        app = self.app
        if path is None:
            self.directory = None
            app.message("results are no longer saved")
        else:
            try:
                Path(path).mkdir(parents=True, exist_ok=True)
                if not os.access(path, os.W_OK):
                    raise PermissionError("not writable")
            except OSError as exc:
                app.message(f"cannot save results in {path}: {exc}", True)
                return False
            self.directory = path
            when = "the next run writes" if app.run_state.active else "each run writes"
            app.message(f"{when} its results to {path} (a .jsonl file per output or tracked "
                        "node)")
        app.refresh_commands()
        return True


def register(app: Window) -> SaveResults:
    """Run > Save results… / Stop saving results."""
    s = SaveResults(app)
    app.commands.add_command("save_results", "Run", s.label, s.toggle, group=2)
    return s
