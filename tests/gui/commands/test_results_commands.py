"""Run > Save results…: the next runs stream their results to a folder, one .jsonl
file per output (or tracked) node, as ``papy run --results`` writes them."""
from __future__ import annotations

import pytest

from guitools import FAIL, build, ended, pump, status
from papy_engine.results import read_results

pytestmark = [pytest.mark.gui, pytest.mark.timeout(120)]


def test_save_results_then_run_writes_every_result_as_it_arrives(fresh, tmp_path):
    app = fresh
    out = tmp_path / "results"
    app.dialogs.directory = str(out)
    build(app, FAIL, n=6)
    app.commands.invoke("save_results")
    assert ("directory", "Save the results of the next runs in", "") in app.dialogs.asked
    assert out.is_dir() and "each run writes its results to" in status(app)
    assert app.commands["save_results"].caption() == "Stop saving results"
    assert app.menubar.menus["Run"].entrycget(5, "label") == "Stop saving results"
    assert app.runs.run()
    assert pump(app.root, lambda: ended(app), 60), app.run_state.state
    assert status(app) == f"run finished: results in {out} (work.jsonl)"
    results = read_results(out / "work.jsonl")
    assert results[:3] == [0, 1, 2] and results[4:] == [4, 5]
    assert results[3].exc_type == "ValueError" and results[3].index == 3
    app.commands.invoke("save_results")  # the same entry stops it
    assert app.commands["save_results"].caption() == "Save results…"
    (out / "work.jsonl").unlink()
    assert app.runs.run()
    assert pump(app.root, lambda: ended(app), 60)
    assert not (out / "work.jsonl").exists() and status(app) == "run finished"


def test_a_folder_that_cannot_be_written_is_refused(fresh, tmp_path):
    app = fresh
    blocker = tmp_path / "a file"
    blocker.write_text("")
    app.dialogs.directory = str(blocker / "sub")
    app.commands.invoke("save_results")
    assert status(app).startswith(f"cannot save results in {blocker / 'sub'}")
    assert app.results.directory is None
    app.dialogs.directory = ""  # cancelled
    app.commands.invoke("save_results")
    assert app.results.directory is None
