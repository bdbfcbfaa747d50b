"""The Data tab: the selected node's last results (live and after the run), the
items waiting on a selected pipe, a tree for containers, Show all, red placeholders."""
from __future__ import annotations

import tkinter as tk

import pytest

from guitools import SLOW, build, ended, pump

pytestmark = [pytest.mark.gui, pytest.mark.timeout(120)]

RECORDS = ("def records(inbox):\n    if inbox[0] == 3:\n        raise ValueError('no threes')\n"
           "    return {'n': inbox[0], 'squares': [i * i for i in range(inbox[0])],\n"
           "            'text': 'item ' * 100}\n")


def show_data(app, target):
    if isinstance(target, tuple):
        app.doc.select([])
        app.canvas_view.select_edge(target)
    else:
        app.canvas_view.select_edge(None)
        app.doc.select([target])
    app.bottom.select(app.data_view)
    app.root.update()


def rows(app):
    tree = app.data_view.tree
    return {tree.item(i, "text"): tree.item(i) for i in tree.get_children()}


def test_a_node_shows_its_results_a_tree_and_its_placeholders_in_red(fresh):
    app = fresh
    build(app, RECORDS, n=8)
    show_data(app, "work")
    assert "Run the pipeline" in str(app.data_view.note.cget("text"))
    assert app.runs.run()
    assert app.bottom.select() == str(app.data_view)  # Run leaves a tab that shows the run
    assert pump(app.root, lambda: ended(app) and len(rows(app)) == 8, 60), rows(app)
    shown = rows(app)
    assert shown["2"]["values"][:2] == ["dict", "3 items"]
    assert shown["2"]["values"][2].startswith("{'n': 2, 'squares': [0, 1]")
    assert shown["3"]["values"][0] == "WorkerError" and "error" in shown["3"]["tags"]
    assert shown["3"]["values"][2] == "ValueError: no threes"
    assert str(app.data_view.note.cget("text")) == "work: the last 8 of 8 results"
    tree = app.data_view.tree
    tree.focus("r5")
    tree.item("r5", open=True)
    tree.event_generate("<<TreeviewOpen>>")
    app.root.update()
    parts = [tree.item(i, "text") for i in tree.get_children("r5")]
    assert parts == ["'n'", "'squares'", "'text'"]
    tree.focus("r5/1")
    tree.item("r5/1", open=True)
    tree.event_generate("<<TreeviewOpen>>")
    app.root.update()
    assert [tree.item(i, "values")[2] for i in tree.get_children("r5/1")] == \
        ["0", "1", "4", "9", "16"]
    tree.focus("r5/2")
    window = app.data_view._cmd_show_all()  # the whole 500-character string
    assert isinstance(window, tk.Toplevel) and window.title() == "work result 5'text'"
    body = next(w for w in window.winfo_children()[0].winfo_children()
                if w.winfo_class() == "Text")
    assert body.get("1.0", "end-1c") == "item " * 100
    window.destroy()
    show_data(app, "src")  # another node: its own results
    assert pump(app.root, lambda: str(app.data_view.note.cget("text")).startswith("src:"), 10)
    assert set(rows(app)) == {str(i) for i in range(8)}
    assert rows(app)["3"]["values"][:2] == ["int", ""]


def test_a_pipe_shows_the_items_waiting_on_it_during_the_run(fresh):
    app = fresh
    build(app, SLOW, n=400)
    show_data(app, ("src", "work"))
    assert app.runs.run()

    def waiting_shown():
        note = str(app.data_view.note.cget("text"))
        return "waiting for work" in note and rows(app)
    assert pump(app.root, waiting_shown, 60), app.data_view.note.cget("text")
    taken = app.run_state.pipers["work"]["in"]
    assert min(int(i) for i in rows(app)) >= taken - 1  # not what work has already taken
    app.runs.stop()
    assert pump(app.root, lambda: ended(app), 60)
    app.bridge.refresh_stats()
    assert pump(app.root, lambda: "no items waiting" in str(app.data_view.note.cget("text")),
                10)
    assert rows(app) == {}


def test_a_hidden_data_tab_reads_nothing(fresh):
    app = fresh
    build(app, SLOW, n=20)
    show_data(app, "work")
    app.bottom.select(app.log_view)
    app.root.update()
    reads = []
    assert app.runs.run()
    assert pump(app.root, lambda: app.bridge.plumber is not None, 30)
    plumber = app.bridge.plumber
    real = plumber.peek
    plumber.peek = lambda *a, **k: reads.append(a) or real(*a, **k)
    assert pump(app.root, lambda: ended(app), 60)
    assert reads == []
    app.bottom.select(app.data_view)
    assert pump(app.root, lambda: len(rows(app)) == 20, 10)
    assert reads
