"""The property panel: fields validated next to them, typed parameter fields,
unapplied source applied or asked about, scrolling and wrapping."""
from __future__ import annotations

import pytest
from tkinter import ttk

from guitools import core, palette_drop, pump, status, type_into
from papy_engine.script import FuncRef

pytestmark = [pytest.mark.gui, pytest.mark.timeout(60)]

SRC = "def times(inbox):\n    return inbox[0] * 10\n"


def bundled(app, key):
    ntype = app.palette.get(key)
    assert ntype is not None, f"the bundled node {key} is missing from the palette"
    return ntype


def test_property_panel_validates_next_to_field(fresh):
    app = fresh
    palette_drop(app, "ipasser", 200, 150)
    form = app.props.node_form
    assert form is not None and form.vars["name"].get() == "ipasser"
    type_into(form, "consume", "0")
    assert "must be an int >= 1" in form.error_text("consume")
    assert app.doc.nodes["ipasser"].option("consume") == 1
    type_into(form, "produce", "3")
    assert app.doc.nodes["ipasser"].option("produce") == 3 and not form.error_text("produce")
    type_into(form, "name", "source")
    assert "source" in app.doc.nodes and app.canvas.find_withtag("n:source")
    app.props._cmd_add_resource()
    app.root.update()
    rform = app.props.res_form
    type_into(rform, "worker_num", "-1")
    assert ">= 0" in rform.error_text("worker_num")
    (res,) = app.doc.resources
    type_into(rform, "dask", "local:x")
    assert "local:N" in rform.error_text("dask") and app.doc.resources[res].option("dask") is None
    type_into(rform, "dask", "tcp://127.0.0.1:8786")
    assert app.doc.resources[res].option("dask") == "tcp://127.0.0.1:8786"
    assert not rform.error_text("dask")


def test_property_panel_has_one_typed_field_per_parameter(fresh):
    app = fresh
    name = app.canvas_ctl.add_type_at(bundled(app, "papy_plugins.text.grep"), 300, 200)
    app.root.update()
    form = app.props.node_form
    assert "args0" not in form.vars  # no free-text "Arguments" with metadata
    keys = [f"0:param:{p}" for p in ("pattern", "ignore_case", "invert")]
    assert all(k in form.vars for k in keys)

    def type_in(key: str, text: str) -> None:
        form.widgets[key].focus_force()
        app.root.update()
        form.vars[key].set(text)
        form.widgets[key].event_generate("<Return>")
        app.root.update()

    type_in(keys[0], "3")  # a literal of the wrong type is refused under the field
    assert "must be str" in form.error_text(keys[0])
    assert app.doc.nodes[name].kwargs in ([], [{}])
    form.widgets[keys[1]].invoke()  # bool: a check box
    app.root.update()
    type_in(keys[0], "r'^>'")
    assert form.error_text(keys[0]) == ""
    assert app.doc.nodes[name].kwargs[0] == {"ignore_case": "True", "pattern": "r'^>'"}
    app.canvas.focus_force()
    app.doc.undo()
    app.root.update()
    assert app.props.node_form.vars[keys[0]].get() == ""
    # a Python-function node (no metadata) keeps the free-text field
    py = app.canvas_ctl.add_type_at(app.palette.get("python:function"), 500, 300)
    app.root.update()
    assert app.doc.selection == [py] and "args0" in app.props.node_form.vars
    type_into(app.props.node_form, "args0", "2, sep='-'")
    assert (app.doc.nodes[py].args, app.doc.nodes[py].kwargs) == ([["2"]], [{"sep": "'-'"}])


def test_bool_and_int_parameters_get_a_check_box_and_a_spin_box(fresh):
    app = fresh
    name = app.canvas_ctl.add_type_at(bundled(app, "papy_plugins.text.sub"), 300, 200)
    app.root.update()
    form = app.props.node_form
    count, flag, repl = "0:param:count", "0:param:ignore_case", "0:param:repl"
    assert isinstance(form.widgets[count], ttk.Spinbox)
    assert isinstance(form.widgets[flag], ttk.Checkbutton)
    assert isinstance(form.widgets[repl], ttk.Entry) and not isinstance(
        form.widgets[repl], ttk.Spinbox)
    kwargs = lambda: app.doc.nodes[name].kwargs[0] if app.doc.nodes[name].kwargs else {}  # noqa: E731
    form.widgets[flag].invoke()
    app.root.update()
    assert kwargs() == {"ignore_case": "True"}
    assert app.props.node_form.vars[flag].get() is True
    app.props.node_form.widgets[flag].invoke()  # back to the default: the keyword goes
    app.root.update()
    assert kwargs() == {}
    form = app.props.node_form
    spin = form.widgets[count]
    spin.focus_force()
    app.root.update()
    spin.event_generate("<<Increment>>")  # an arrow on the empty field starts at the default
    app.root.update()
    assert kwargs() == {"count": "1"}
    form.vars[count].set("'x'")  # free typing is still validated next to the field
    spin.event_generate("<Return>")
    app.root.update()
    assert "must be int" in form.error_text(count) and kwargs() == {"count": "1"}
    form.vars[count].set("5")
    spin.event_generate("<Return>")
    app.root.update()
    assert form.error_text(count) == "" and kwargs() == {"count": "5"}
    app.canvas.focus_force()
    app.doc.undo()
    app.root.update()
    assert kwargs() == {"count": "1"} and app.props.node_form.vars[count].get() == "1"


@pytest.fixture
def two(fresh):
    app = fresh
    app.doc.add_node(FuncRef("times", None, "times", SRC), name="times", x=40, y=40)
    app.doc.add_node(core("ipasser"), name="other", x=300, y=40)
    app.doc.select(["times"])
    app.root.update()
    return app


def test_apply_source_reports_in_the_status_line(two):
    app = two
    code = app.props.code
    code.set(SRC.replace("* 10", "* 20"))
    button = next(w for w in app.props.node_form.winfo_children()
                  if w.winfo_class() == "TButton" and w.cget("text") == "Apply source")
    button.invoke()
    app.root.update()
    assert "* 20" in app.doc.nodes["times"].functions[0].source
    assert "applied the source of node times (function times)" in status(app)
    code.set("def broken(:\n")
    button.invoke()
    app.root.update()
    assert "not applied" in status(app)
    assert "syntax error" in app.props.node_form.error_text("source")


def test_leaving_a_node_applies_its_unapplied_source(two):
    app = two
    app.props.code.set(SRC.replace("* 10", "* 30  # unapplied edit"))
    app.doc.select(["other"])
    app.root.update()
    assert "# unapplied edit" in app.doc.nodes["times"].functions[0].source
    assert "applied the source of node times" in status(app)
    app.doc.select(["times"])
    app.root.update()
    assert "# unapplied edit" in app.props.code.value()


def test_leaving_with_a_broken_source_asks_and_can_stay(two):
    app = two
    app.dialogs.yes = False  # "Discard it?" no: keep editing
    app.props.code.set("def times(inbox:\n")
    app.doc.select(["other"])
    app.root.update()
    asked = app.dialogs.questions("yes_no")
    assert asked and "not applied" in asked[0]
    assert app.doc.selection == ["times"] and app.props.code.value() == "def times(inbox:\n"
    app.dialogs.yes = True  # now discard it
    app.doc.select(["other"])
    app.root.update()
    assert app.doc.selection == ["other"]
    assert app.doc.nodes["times"].functions[0].source == SRC
    assert "discarded the unapplied source" in status(app)


def test_deleting_a_node_with_unapplied_source_does_not_ask(two):
    app = two
    app.dialogs.yes = False
    app.props.code.set("def times(inbox:\n")
    app.canvas_ctl.delete_selection()
    app.root.update()
    assert not app.dialogs.asked and "times" not in app.doc.nodes and app.doc.selection == []


def test_choose_files_sets_the_input_of_an_input_node(two):
    app = two
    app.dialogs.open_paths = ("/data/a.txt", "/data/b.txt")
    button = next(w for w in app.props.node_form.winfo_children()
                  if w.winfo_class() == "TButton" and w.cget("text") == "Choose files…")
    button.invoke()
    app.root.update()
    assert app.doc.inputs["times"] == "['/data/a.txt', '/data/b.txt']"
    assert app.props.node_form.vars["input"].get() == "['/data/a.txt', '/data/b.txt']"


def test_the_wheel_scrolls_the_panel_and_each_node_starts_at_the_top(fresh):
    app = fresh
    for i, name in enumerate(("first", "second")):
        app.doc.add_node(FuncRef("read_text", "papy_plugins.files", "read_text"), name=name,
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


def test_help_text_wraps_to_the_panel_width(fresh):
    app = fresh
    app.doc.add_node(FuncRef("read_text", "papy_plugins.files", "read_text"), name="reader")
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
