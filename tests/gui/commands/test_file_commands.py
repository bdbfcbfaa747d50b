"""File commands: save and reopen give the same text, unsaved work is asked
about, autosave, Open recent, and recovery of autosaved work."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from guitools import ScriptedDialogs, core, make_app, palette_drop, pump, status
from papy_gui.model import files

pytestmark = [pytest.mark.gui, pytest.mark.timeout(60)]

EXAMPLES = sorted((Path(__file__).resolve().parents[3] / "examples").glob("*.py"))


def add_two(app):
    doc = app.doc
    doc.add_node(core("ipasser"), name="src", x=40, y=60)
    doc.add_node(core("npasser"), name="dst", x=300, y=60)
    doc.connect("src", "dst")
    doc.set_input("src", "range(3)")


def recent_labels(app):
    menu = app.menubar.submenus["open_recent"]
    return [menu.entrycget(i, "label") for i in range(menu.index("end") + 1)]


def test_a_new_window_shows_an_untitled_document(fresh):
    assert fresh.root.title() == "untitled — PaPy Studio"
    assert status(fresh).startswith("new pipeline")


def test_save_reopen_same_text(fresh, tmp_path):
    app = fresh
    palette_drop(app, "ipasser", 200, 150)
    palette_drop(app, "Python function", 520, 260)
    app.canvas_ctl.connect("ipasser", "func")
    app.doc.set_input("ipasser", "range(20)")
    path = tmp_path / "pipe.py"
    assert app.files.save_to(str(path))
    text = path.read_text()
    assert app.files.open(str(path))
    assert list(app.doc.nodes) == ["ipasser", "func"] and app.doc.edges == [("ipasser", "func")]
    assert app.doc.inputs == {"ipasser": "range(20)"} and not app.doc.modified
    assert app.files.save_to(str(path))
    assert path.read_text() == text
    assert str(path) in app.files.recent.items


def test_save_as_asks_where_and_open_asks_what(fresh, tmp_path):
    app = fresh
    add_two(app)
    path = tmp_path / "asked.py"
    app.dialogs.save_path = str(path)
    assert app.files.save()  # untitled: Save is Save As
    assert path.exists() and app.doc.path == str(path) and not app.doc.modified
    assert app.dialogs.asked[-1] == ("save_path", "Save pipeline as", "pipeline.py")
    app.files.new()
    app.dialogs.open_path = str(path)
    assert app.files.open()
    assert set(app.doc.nodes) == {"src", "dst"}
    app.dialogs.open_path = ""  # cancelled
    assert not app.files.open() and app.doc.path == str(path)


def test_unsaved_prompt_cancel_keeps_document(fresh):
    app = fresh
    palette_drop(app, "ipasser", 200, 150)
    app.dialogs.save_changes = None  # Cancel
    assert not app.files.new()
    assert "ipasser" in app.doc.nodes and app.dialogs.questions("save_changes")


def test_autosave_written_after_edit(fresh):
    app = fresh
    palette_drop(app, "ipasser", 200, 150)
    target = files.autosave_path(app.doc.path)
    assert pump(app.root, target.exists, 5)
    assert "ipasser" in target.read_text()


@pytest.mark.parametrize("example", [p for p in EXAMPLES if p.name != "build_examples.py"],
                         ids=lambda p: p.stem)
def test_open_example_save_same_text(fresh, example, tmp_path):
    app = fresh
    assert app.files.open(str(example))
    assert app.doc.nodes and not app.doc.modified
    out = tmp_path / example.name
    assert app.files.save_to(str(out))
    assert out.read_text() == example.read_text()


def test_open_recent_is_filled_at_start_up(tmp_path_factory, tmp_path):
    state = tmp_path_factory.mktemp("state")
    paths = [str(tmp_path / f"p{i}.py") for i in range(3)]
    (state / "recent.json").write_text(json.dumps(paths))
    app = make_app(tmp_path_factory, state)
    try:
        assert recent_labels(app) == paths  # was empty until the first Open or Save
    finally:
        app.close(ask=False)


def test_untitled_work_is_offered_back_at_the_next_start(tmp_path_factory):
    from papy_gui.launch import open_app
    state = tmp_path_factory.mktemp("state")
    first = make_app(tmp_path_factory, state)
    add_two(first)
    first.files.autosave_now()
    first.close(ask=False)  # as if it crashed: nothing was saved or discarded
    assert files.untitled_autosave() is not None
    dialogs = ScriptedDialogs()
    second = open_app([], dialogs=dialogs)
    assert not isinstance(second, int)
    try:
        assert pump(second.root, lambda: bool(second.doc.nodes), 10)
        asked = dialogs.questions("yes_no")
        assert asked and "untitled pipeline was autosaved" in asked[0]
        assert set(second.doc.nodes) == {"src", "dst"} and second.doc.modified
        assert second.root.title().startswith("● untitled")
    finally:
        second.close()  # "don't save"
    assert files.untitled_autosave() is None  # "don't save" removed it


def crashed_with_an_edit(app, tmp_path):
    """``rec.py`` saved, then an edit autosaved and the editor gone without
    saving it: the autosave is left, newer than the file."""
    add_two(app)
    path = tmp_path / "rec.py"
    assert app.files.save_to(str(path))
    app.doc.set_input("src", "range(30)")
    app.files.autosave_now()
    auto = files.autosave_path(app.doc.path)
    left = auto.read_text()
    app.doc.undo()   # (an undo back to the file drops the autosave: put it back)
    assert not app.doc.modified
    auto.write_text(left)
    os.utime(auto, (time.time() + 5, time.time() + 5))  # newer than the file
    return path, auto


def test_a_recovered_file_shows_the_modified_mark(fresh, tmp_path):
    app = fresh
    path, _ = crashed_with_an_edit(app, tmp_path)
    assert app.files.open(str(path))  # ask_yes_no says yes: recover
    assert app.doc.inputs["src"] == "range(30)" and app.doc.path == str(path)
    assert app.root.title() == "● rec.py — PaPy Studio"  # was without the mark
    assert "recovered rec.py" in status(app)


def test_declining_a_recovery_deletes_the_autosave(fresh, tmp_path):
    # It was kept, and offered again at every open.
    app = fresh
    path, auto = crashed_with_an_edit(app, tmp_path)
    app.dialogs.yes = False
    assert app.files.open(str(path))
    assert app.doc.inputs["src"] == "range(3)" and not auto.exists()
    assert "(No deletes the autosave.)" in app.dialogs.questions("yes_no")[-1]
    asked = len(app.dialogs.asked)
    assert app.files.open(str(path))
    assert len(app.dialogs.asked) == asked   # nothing to offer any more


def test_an_edit_undone_back_to_the_file_leaves_no_autosave(fresh, tmp_path):
    # The autosave of the undone edit stayed, "newer than the file", and was
    # offered back at the next open, resurrecting what the user had undone.
    app = fresh
    add_two(app)
    assert app.files.save_to(str(tmp_path / "undone.py"))
    app.doc.set_input("src", "range(30)")
    auto = files.autosave_path(app.doc.path)
    assert pump(app.root, auto.exists, 5)
    app.doc.undo()
    assert not app.doc.modified and not auto.exists()
    app.doc.set_input("src", "range(40)")   # a pending autosave, then back again
    app.doc.undo()
    assert not pump(app.root, auto.exists, 1.0)


def test_a_file_that_cannot_be_opened_is_said_without_a_traceback(fresh, tmp_path):
    app = fresh
    bad = tmp_path / "bad.py"
    bad.write_text("def pipeline(:\n")
    assert not app.files.open(str(bad))
    kind, title, text = app.dialogs.asked[-1]
    assert (kind, title) == ("error", f"Cannot open {bad}") and "syntax error" in text
    assert status(app).startswith(f"Cannot open {bad}") and "Traceback" not in text
