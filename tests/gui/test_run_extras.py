"""Run entry points and log view features: ``papy gui SCRIPT --run``, Run headless,
clicking an error record, logging to a file, the status line at a new Run."""
from __future__ import annotations

import pytest

from guitools import pump
from papy_engine.script import FuncRef as Func

pytestmark = [pytest.mark.gui, pytest.mark.timeout(60)]

FAIL = ("def picky(inbox):\n    if inbox[0] == 3:\n        raise ValueError('no threes')\n"
        "    return inbox[0]\n")
DOUBLE = "def double(inbox):\n    return 2 * inbox[0]\n"


def build(app, source: str, n: int = 10) -> None:
    app.files.new()
    doc = app.doc
    doc.add_node(Func("ipasser", "papy_engine.workers.core", "ipasser"), name="src", x=40, y=60)
    fname = source.split("(")[0][4:]
    doc.add_node(Func(fname, None, fname, source), name="work", x=300, y=60)
    doc.connect("src", "work")
    doc.set_input("src", f"range({n})")
    app.root.update()


def settled(app) -> bool:
    return (app.run_state.state in ("finished", "stopped", "failed") and not app.bridge.running
            and app.log_view.settled)


def test_papy_gui_script_run_opens_and_runs(app, tmp_path):
    from papy_gui.app import open_app
    build(app, DOUBLE, n=25)
    path = str(tmp_path / "double.py")
    assert app.files._save_to(path)
    other = open_app([path, "--run"])
    assert not isinstance(other, int)
    try:
        other.quiet_dialogs = True
        assert other.doc.path == path and set(other.doc.nodes) == {"src", "work"}
        assert pump(other.root, lambda: settled(other) and other.bridge.plumber is not None, 30)
        assert other.run_state.state == "finished", other.run_state.message
        other.bridge.refresh_stats()
        assert other.run_state.pipers["work"]["out"] == 25
    finally:
        other.close(ask=False)


def test_run_headless_streams_papy_run_output(app, tmp_path):
    build(app, DOUBLE, n=7)
    path = str(tmp_path / "headless.py")
    assert app.files._save_to(path)
    app.log_view.clear()
    app.runs.run_headless()
    assert "headless" in str(app.status.cget("text"))
    assert app.bottom.select() == str(app.log_view)
    exited = lambda: any("papy run exited with code" in ln for ln in app.log_view.lines())  # noqa: E731
    assert pump(app.root, exited, 45), app.log_view.lines()
    lines = app.log_view.lines()
    assert any("papy run exited with code 0" in ln for ln in lines), lines
    assert len(lines) > 1  # papy run's own output came through, not only the exit line


def test_click_on_error_record_selects_its_node(app):
    build(app, FAIL)
    app.doc.select([])
    app.bottom.select(app.log_view)
    assert app.runs.run()
    assert pump(app.root, lambda: settled(app), 30)
    text = app.log_view.text
    lines = app.log_view.lines()
    row = next(i for i, ln in enumerate(lines, 1) if "ERROR" in ln and "item 3" in ln)
    text.see(f"{row}.0")
    app.root.update()
    x, y, w, h = text.bbox(f"{row}.10")
    text.event_generate("<Button-1>", x=x + 2, y=y + h // 2)
    app.root.update()
    assert app.doc.selection == ["work"]
    # a record that names no node leaves the selection alone
    plain = next(i for i, ln in enumerate(lines, 1) if "run finished" in ln)
    text.see(f"{plain}.0")
    app.root.update()
    x, y, w, h = text.bbox(f"{plain}.10")
    text.event_generate("<Button-1>", x=x + 2, y=y + h // 2)
    app.root.update()
    assert app.doc.selection == ["work"]


def test_log_to_file_from_the_log_tab(app, tmp_path):
    path = tmp_path / "run.log"
    view = app.log_view
    view.ask_file = lambda **kw: str(path)
    view.file_button.invoke()
    assert view.file_path == str(path) and str(path) in str(view.file_label.cget("text"))
    build(app, FAIL)
    assert app.runs.run()
    assert pump(app.root, lambda: settled(app), 30)
    view.file_button.invoke()  # stop logging to the file
    assert view.file is None and "Log to file" in str(view.file_button.cget("text"))
    written = path.read_text(encoding="utf-8")
    assert "ERROR" in written and "no threes" in written and "run finished" in written


def test_new_run_clears_the_status_line(app):
    app.message("connect refused: something old", True)
    build(app, DOUBLE, n=3)
    assert app.runs.run()
    status = str(app.status.cget("text"))
    assert "refused" not in status and status.startswith("running")
    assert str(app.status.cget("style")) == "Status.TLabel"
    assert pump(app.root, lambda: settled(app), 30)
    assert "run finished" in str(app.status.cget("text"))


def test_example_with_script_level_names_runs_and_is_fitted(app):
    """wordfreq's input uses HERE from its preamble; opened from the command line
    (before the window has a size) its nodes must still be drawn at a readable zoom."""
    from pathlib import Path

    from papy_gui.app import open_app
    example = str(Path(__file__).resolve().parents[2] / "examples" / "wordfreq.py")
    other = open_app([example, "--run"])
    assert not isinstance(other, int)
    try:
        other.quiet_dialogs = True
        assert pump(other.root, lambda: settled(other) and other.bridge.plumber is not None, 30)
        assert other.run_state.state == "finished", other.run_state.message
        other.bridge.refresh_stats()
        assert other.run_state.pipers["report"]["out"] == 4
        view = other.canvas_view
        assert view.scale >= 0.5 * view.ui, (view.scale, view.ui)  # was 0.25: fitted to 1 px
    finally:
        other.close(ask=False)
