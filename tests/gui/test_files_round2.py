"""Files (issue 12, item 6): Open recent at start-up, untitled work offered back,
the recovered mark, and closing while a message box is open."""
from __future__ import annotations

import json
import os
import time

import pytest

from guitools import make_app, pump, screenshot
from papy_gui.model import files
from papy_engine.script import FuncRef as Func

pytestmark = [pytest.mark.gui, pytest.mark.timeout(60)]


def add_two(app):
    doc = app.doc
    doc.add_node(Func("ipasser", "papy_engine.workers.core", "ipasser"), name="src", x=40, y=60)
    doc.add_node(Func("npasser", "papy_engine.workers.core", "npasser"), name="dst", x=300, y=60)
    doc.connect("src", "dst")
    doc.set_input("src", "range(3)")


def recent_labels(app):
    menu = app.recent_menu
    return [menu.entrycget(i, "label") for i in range(menu.index("end") + 1)]


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
    from papy_gui.app import open_app
    state = tmp_path_factory.mktemp("state")
    first = make_app(tmp_path_factory, state)
    add_two(first)
    first.files.autosave_now()
    first.close(ask=False)  # as if it crashed: nothing was saved or discarded
    assert files.untitled_autosave() is not None
    second = open_app([])
    assert not isinstance(second, int)
    asked = []
    second.files.ask_yes_no = lambda *a, **k: asked.append(a) or True
    second.quiet_dialogs = True
    try:
        assert pump(second.root, lambda: bool(second.doc.nodes), 10)
        assert asked and "untitled pipeline was autosaved" in asked[0][1]
        assert set(second.doc.nodes) == {"src", "dst"} and second.doc.modified
        assert second.root.title().startswith("● untitled")
        second.root.update()
        screenshot(second.root, "gui-recovered-untitled")
    finally:
        second.files.ask = lambda *a, **k: False
        second.close()
    assert files.untitled_autosave() is None  # "don't save" removed it


def test_a_recovered_file_shows_the_modified_mark(app, tmp_path):
    app.files.new()
    add_two(app)
    path = tmp_path / "rec.py"
    assert app.files._save_to(str(path))
    app.doc.set_input("src", "range(30)")
    app.files.autosave_now()
    auto = files.autosave_path(app.doc.path)
    os.utime(auto, (time.time() + 5, time.time() + 5))  # newer than the file
    app.doc.undo()
    assert not app.doc.modified
    assert app.files.open(str(path))  # ask_yes_no says yes: recover
    assert app.doc.inputs["src"] == "range(30)" and app.doc.path == str(path)
    assert app.root.title() == "● rec.py — PaPy Studio"  # was without the mark
    assert "recovered rec.py" in str(app.status.cget("text"))


def test_closing_while_a_message_box_is_open_exits_cleanly(tmp_path_factory):
    app = make_app(tmp_path_factory)
    app.quiet_dialogs = False  # a real Tk message box
    root = app.root
    steps = []

    def drive():
        """Once the box is up: the close button, then OK (checked every 50 ms)."""
        if not steps and root.tk.eval("winfo exists .__tk__messagebox") == "1":
            root.tk.eval(root.protocol("WM_DELETE_WINDOW"))  # the window manager's close
            steps.append("closed")
        elif steps == ["closed"]:
            assert not app.closed  # it waits for the box
            root.tk.eval(".__tk__messagebox.ok invoke")
            steps.append("ok")
            return
        root.after(50, drive)
    root.after(50, drive)
    app.show_error("Cannot open x.py", "not a pipeline")  # returns once OK is pressed
    assert steps == ["closed", "ok"]
    if not app.closed:  # the close runs from the event loop once the box is gone
        pump(root, lambda: app.closed, 10)
    assert app.closed and app.callback_errors == []
