"""The property panel (issue 12, items 5 and 8): unapplied source is applied or
asked about, Apply reports in the status line, the wheel scrolls the panel, each
node starts at the top, help text wraps to the panel's width."""
from __future__ import annotations

import pytest

from guitools import pump
from papy_engine.script import FuncRef as Func

pytestmark = [pytest.mark.gui, pytest.mark.timeout(60)]

SRC = "def times(inbox):\n    return inbox[0] * 10\n"


@pytest.fixture
def two(app):
    app.files.new()
    app.doc.add_node(Func("times", None, "times", SRC), name="times", x=40, y=40)
    app.doc.add_node(Func("ipasser", "papy_engine.workers.core", "ipasser"), name="other",
                     x=300, y=40)
    app.doc.select(["times"])
    app.root.update()
    yield app
    app.props.ask_discard = lambda text: True


def test_apply_source_reports_in_the_status_line(two):
    app = two
    code = app.props.code
    code.set(SRC.replace("* 10", "* 20"))
    app.props.node_form.widgets  # the form is built
    button = next(w for w in app.props.node_form.winfo_children()
                  if w.winfo_class() == "TButton" and w.cget("text") == "Apply source")
    button.invoke()
    app.root.update()
    assert "* 20" in app.doc.nodes["times"].functions[0].source
    assert "applied the source of node times (function times)" in str(app.status.cget("text"))
    code.set("def broken(:\n")
    button.invoke()
    app.root.update()
    assert "not applied" in str(app.status.cget("text"))
    assert "syntax error" in app.props.node_form.error_text("source")


def test_leaving_a_node_applies_its_unapplied_source(two):
    app = two
    app.props.code.set(SRC.replace("* 10", "* 30  # unapplied edit"))
    app.doc.select(["other"])
    app.root.update()
    assert "# unapplied edit" in app.doc.nodes["times"].functions[0].source
    assert "applied the source of node times" in str(app.status.cget("text"))
    app.doc.select(["times"])
    app.root.update()
    assert "# unapplied edit" in app.props.code.value()


def test_leaving_with_a_broken_source_asks_and_can_stay(two):
    app = two
    asked = []
    app.props.ask_discard = lambda text: asked.append(text) or False  # keep editing
    app.props.code.set("def times(inbox:\n")
    app.doc.select(["other"])
    app.root.update()
    assert asked and "not applied" in asked[0]
    assert app.doc.selection == ["times"] and app.props.code.value() == "def times(inbox:\n"
    app.props.ask_discard = lambda text: True  # now discard it
    app.doc.select(["other"])
    app.root.update()
    assert app.doc.selection == ["other"]
    assert app.doc.nodes["times"].functions[0].source == SRC
    assert "discarded the unapplied source" in str(app.status.cget("text"))


def test_deleting_a_node_with_unapplied_source_does_not_ask(two):
    app = two
    asked = []
    app.props.ask_discard = lambda text: asked.append(text) or False
    app.props.code.set("def times(inbox:\n")
    app.canvas_ctl.delete_selection()
    app.root.update()
    assert not asked and "times" not in app.doc.nodes and app.doc.selection == []


def test_the_wheel_scrolls_the_panel_and_each_node_starts_at_the_top(app):
    app.files.new()
    for i, name in enumerate(("first", "second")):
        app.doc.add_node(Func("read_text", "papy_plugins.files", "read_text"), name=name,
                         x=40 + 260 * i, y=40)  # many parameter fields: the form scrolls
    app.doc.select(["first"])
    app.root.update()
    scroller = app.props.scroller
    assert pump(app.root, lambda: scroller.canvas.yview()[1] < 1.0, 5), scroller.canvas.yview()
    entry = app.props.node_form.widgets["name"]  # the wheel over a field, not the canvas
    for _ in range(5):
        entry.event_generate("<Button-5>", x=5, y=5)
    app.root.update()
    assert scroller.canvas.yview()[0] > 0.0
    app.doc.select(["second"])
    app.root.update()
    assert scroller.canvas.yview()[0] == 0.0


def test_help_text_wraps_to_the_panel_width(app):
    app.files.new()
    app.doc.add_node(Func("read_text", "papy_plugins.files", "read_text"), name="reader")
    app.doc.select(["reader"])
    app.root.update()
    form = app.props.node_form
    notes = form.hints
    assert notes

    def fits():
        return all(label.winfo_x() + label.winfo_reqwidth() <= form.winfo_width() + 2
                   for label in notes)
    assert pump(app.root, fits, 5)  # not cut off at the panel's right edge ("the te…")
    narrow = int(notes[0].cget("wraplength"))
    hpane = app.hpane
    hpane.sashpos(1, hpane.sashpos(1) - 250)  # the user widens the panel
    assert pump(app.root, lambda: int(notes[0].cget("wraplength")) >= narrow + 200, 5)
    assert fits()
    hpane.sashpos(1, hpane.sashpos(1) + 250)
    app.root.update()
