"""Typed parameter fields from plugin metadata (issue 5): model and property panel."""
from __future__ import annotations

import pytest

from papy_gui.model.errors import EditError
from papy_gui.model.palette import ParamInfo
from papy_gui.model.params import accepted_types, check_value, values_of, with_value

GREP = (ParamInfo("pattern", "", "str", "a regular expression", True),
        ParamInfo("ignore_case", "False", "bool"), ParamInfo("invert", "False", "bool"))


def test_accepted_types():
    assert accepted_types("int") == (int,)
    assert set(accepted_types("float | None")) == {int, float, type(None)}
    assert list in accepted_types("Collection[int] | None")
    assert accepted_types("any") is None and accepted_types("Any") is None


@pytest.mark.parametrize("param, text, expected", [
    (ParamInfo("n", "0", "int"), " 3 ", "3"),
    (ParamInfo("n", "None", "int | None"), "None", "None"),
    (ParamInfo("x", "0.0", "float"), "2", "2"),
    (ParamInfo("n", "0", "int"), "", None),           # empty: the default
    (ParamInfo("n", "0", "int"), "len(s)", "len(s)"),  # not a literal: checked at build
    (ParamInfo("d", "None", "any"), "[1, 'a']", "[1, 'a']"),
])
def test_check_value_accepts(param, text, expected):
    assert check_value(param, text) == expected


@pytest.mark.parametrize("param, text, words", [
    (ParamInfo("n", "0", "int"), "'3'", ["'n' must be int", "str"]),
    (ParamInfo("n", "0", "int"), "True", ["must be int", "bool"]),
    (ParamInfo("flag", "False", "bool"), "1", ["must be bool", "int"]),
    (ParamInfo("n", "0", "int"), "3 +", ["Python expression"]),
    (GREP[0], "  ", ["required"]),
])
def test_check_value_refuses_with_reason(param, text, words):
    with pytest.raises(EditError) as err:
        check_value(param, text)
    assert err.value.field == f"param:{param.name}"
    for w in words:
        assert w in str(err.value)


def test_values_and_with_value_keep_positions_and_unknown_keywords():
    assert values_of(GREP, ["'x'"], {"invert": "True", "other": "1"}) == {
        "pattern": "'x'", "invert": "True"}
    assert with_value(GREP, ["'x'"], {}, "pattern", "'y'") == (["'y'"], {})
    assert with_value(GREP, ["'x'"], {"other": "1"}, "invert", "True") == (
        ["'x'"], {"other": "1", "invert": "True"})
    assert with_value(GREP, [], {"invert": "True"}, "invert", None) == ([], {})
    # clearing a positional one turns the later ones into keywords: nothing shifts
    assert with_value(GREP, ["'x'", "True"], {}, "pattern", None) == ([], {"ignore_case": "True"})


@pytest.mark.gui
@pytest.mark.timeout(30)
def test_property_panel_has_one_typed_field_per_parameter(app):
    app.files.new()
    ntype = app.palette.get("papy_plugins.text.grep")
    if ntype is None:
        pytest.skip("the text plugin is not installed")
    name = app.canvas_ctl.add_type_at(ntype, 300, 200)
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


def _types():
    from papy_gui.model.palette import NodeType
    return [NodeType("m.any", "any_in", "t", module="m", qualname="any_in"),
            NodeType("m.source", "source", "t", module="m", qualname="source", inputs=0),
            NodeType("m.pairs", "pairs", "t", module="m", qualname="pairs", hints={"consume": 2}),
            NodeType("m.spawn3", "spawn3", "t", module="m", qualname="spawn3", hints={"spawn": 3})]


def test_can_take_needs_inputs_and_balance():
    from papy_gui.model.palette import can_take
    any_in, source, pairs, spawn3 = _types()
    assert can_take(any_in, 1) and can_take(any_in, 4)
    assert not can_take(source, 1)                            # no inputs
    assert can_take(pairs, 2) and not can_take(pairs, 1)       # consume hint is a contract
    assert can_take(spawn3, 6) and not can_take(spawn3, 4)     # consume = need / spawn


@pytest.mark.gui
@pytest.mark.timeout(30)
def test_dropping_a_pipe_offers_only_nodes_that_can_take_it(app):
    from papy_engine.script import FuncRef as Func
    from papy_gui.model.palette import Palette
    app.files.new()
    up = app.doc.add_node(Func("ipasser", "papy_engine.workers.core", "ipasser"), name="up",
                          options={"produce": 2})
    ctl, saved = app.canvas_ctl, app.canvas_ctl.palette
    ctl.palette = Palette(_types())
    try:
        qa = ctl.open_quick_add(400, 300, connect_from=up)
        assert [t.name for t in qa.types] == ["any_in", "pairs"]
        qa.listbox.selection_clear(0, "end")
        qa.listbox.selection_set(1)
        qa.choose_current()
        app.root.update()
        new = app.doc.selection[0]
        assert (up, new) in app.doc.edges
        assert app.doc.nodes[new].option("consume") == 2
        qa = ctl.open_quick_add(400, 300)  # a plain quick-add offers every type
        assert len(qa.types) == 4
        qa.close()
    finally:
        ctl.palette = saved


@pytest.mark.gui
@pytest.mark.timeout(30)
def test_drag_a_console_function_onto_the_canvas(app):
    app.files.new()
    app.bottom.select(app.console)
    con = app.console
    con.run_source("def quad(inbox):\n    return inbox[0] * 4\n")
    app.root.update()
    assert con.func_list.get(0, "end") == ("quad",)
    lb = con.func_list
    x, y, w, h = lb.bbox(0)
    lb.event_generate("<ButtonPress-1>", x=x + 5, y=y + h // 2)
    lb.event_generate("<Motion>", x=x + 30, y=y + h // 2, state=0x100)
    rx, ry = app.canvas.winfo_rootx() + 300, app.canvas.winfo_rooty() + 200
    lb.event_generate("<ButtonRelease-1>", x=x + 30, y=y + h // 2, rootx=rx, rooty=ry)
    app.root.update()
    assert list(app.doc.nodes) == ["quad"]
    node = app.doc.nodes["quad"]
    assert "return inbox[0] * 4" in node.functions[0].source
    cx, cy = app.canvas_view.to_world(300, 200)  # the node is centred on the drop point
    assert abs(node.x + 88 - cx) < 2 and abs(node.y + 34 - cy) < 2
    # a release back over the list adds nothing (pressed elsewhere: not a double click)
    lb.event_generate("<ButtonPress-1>", x=x + 120, y=y + h // 2)
    lb.event_generate("<ButtonRelease-1>", x=x + 120, y=y + h // 2,
                      rootx=lb.winfo_rootx() + 5, rooty=lb.winfo_rooty() + 5)
    app.root.update()
    assert list(app.doc.nodes) == ["quad"]


# -- typed widgets and the required check at Run ---------------------------------------
SUB = (ParamInfo("pattern", "", "str", "", True), ParamInfo("repl", "", "str", "", True),
       ParamInfo("count", "0", "int"), ParamInfo("ignore_case", "False", "bool"))


def test_field_kind_bool_state_and_spin_start():
    from papy_gui.model.params import bool_state, bool_text, field_kind, spin_start
    assert [field_kind(p) for p in SUB] == ["text", "text", "int", "bool"]
    assert field_kind(ParamInfo("n", "None", "int | None")) == "int"
    assert field_kind(ParamInfo("b", "None", "bool | None")) == "text"
    assert field_kind(ParamInfo("x", "0", "float")) == "text"
    flag = SUB[3]
    assert bool_state(flag, "") is False and bool_state(flag, "True") is True
    assert bool_state(flag, "verbose") is None  # an expression: neither on nor off
    assert bool_state(ParamInfo("b", "", "bool", "", True), "") is None  # required, unset
    assert bool_text(flag, False) == "" and bool_text(flag, True) == "True"  # default: empty
    assert bool_text(ParamInfo("b", "", "bool", "", True), False) == "False"
    assert spin_start(SUB[2], "") == "0" and spin_start(SUB[2], " 7 ") == "7"
    assert spin_start(ParamInfo("n", "10", "int"), "len(x)") == "10"
    assert spin_start(ParamInfo("n", "None", "int | None"), "") == "0"


def test_check_required_names_the_first_node_and_parameter():
    from papy_engine.script import FuncRef as Func
    from papy_gui.model.items import Node
    from papy_gui.model.palette import NodeType
    from papy_gui.model.params import MissingParamError, check_required
    sub = NodeType("m.sub", "sub", "t", module="m", qualname="sub", params=SUB)
    find = lambda f: sub if f.module == "m" else None  # noqa: E731
    free = Node("free", [Func("g", "other", "g")])  # no metadata: not checked
    ok = Node("ok", [Func("sub", "m", "sub")], [["'a'"]], [{"repl": "'b'"}])
    bad = Node("bad", [Func("sub", "m", "sub")], [["'a'"]], [{"repl": "  ", "count": "2"}])
    check_required({"free": free, "ok": ok}, find)
    with pytest.raises(MissingParamError) as err:
        check_required({"free": free, "ok": ok, "bad": bad}, find)
    assert (err.value.node, err.value.index, err.value.param.name) == ("bad", 0, "repl")
    assert "'bad'" in str(err.value) and "'repl'" in str(err.value)
    assert err.value.field == "param:repl"


@pytest.mark.gui
@pytest.mark.timeout(30)
def test_bool_and_int_parameters_get_a_check_box_and_a_spin_box(app):
    from tkinter import ttk
    app.files.new()
    ntype = app.palette.get("papy_plugins.text.sub")
    if ntype is None:
        pytest.skip("the text plugin is not installed")
    name = app.canvas_ctl.add_type_at(ntype, 300, 200)
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


@pytest.mark.gui
@pytest.mark.timeout(30)
def test_run_refuses_a_node_with_an_empty_required_parameter(app):
    from papy_engine.script import FuncRef as Func
    app.files.new()
    ntype = app.palette.get("papy_plugins.text.grep")
    if ntype is None:
        pytest.skip("the text plugin is not installed")
    src = app.doc.add_node(Func("ipasser", "papy_engine.workers.core", "ipasser"), name="src")
    app.doc.set_input(src, "['a', 'b']")
    grep = app.canvas_ctl.add_type_at(ntype, 300, 200)
    app.doc.connect(src, grep)
    app.doc.select([src])
    app.root.update()
    assert app.runs.run() is False
    status = str(app.status.cget("text"))
    assert f"'{grep}'" in status and "'pattern'" in status
    assert app.doc.selection == [grep] and app.run_state.state != "running"
    assert "'pattern'" in app.props.node_form.error_text("0:param:pattern")
