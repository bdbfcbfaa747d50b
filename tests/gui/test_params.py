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

    type_in(keys[1], "'yes'")
    assert "must be bool" in form.error_text(keys[1])
    assert app.doc.nodes[name].kwargs in ([], [{}])
    type_in(keys[1], "True")
    type_in(keys[0], "r'^>'")
    assert form.error_text(keys[1]) == ""
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
    from papy_gui.model.items import Func
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
