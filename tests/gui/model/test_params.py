"""Typed parameters from plugin metadata, and free-text arguments (no display)."""
import pytest

from papy_engine.script import FuncRef
from papy_gui.model.errors import EditError
from papy_gui.model.items import Node
from papy_gui.model.palette import NodeType, ParamInfo
from papy_gui.model.params import (MissingParamError, accepted_types, bool_state, bool_text,
                                   check_required, check_value, field_kind, join_args,
                                   spin_start, split_args, values_of, with_value)

pytestmark = pytest.mark.timeout(30)

GREP = (ParamInfo("pattern", "", "str", "a regular expression", True),
        ParamInfo("ignore_case", "False", "bool"), ParamInfo("invert", "False", "bool"))
SUB = (ParamInfo("pattern", "", "str", "", True), ParamInfo("repl", "", "str", "", True),
       ParamInfo("count", "0", "int"), ParamInfo("ignore_case", "False", "bool"))


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


def test_field_kind_bool_state_and_spin_start():
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
    sub = NodeType("m.sub", "sub", "t", module="m", qualname="sub", params=SUB)
    find = lambda f: sub if f.module == "m" else None  # noqa: E731
    free = Node("free", [FuncRef("g", "other", "g")])  # no metadata: not checked
    ok = Node("ok", [FuncRef("sub", "m", "sub")], [["'a'"]], [{"repl": "'b'"}])
    bad = Node("bad", [FuncRef("sub", "m", "sub")], [["'a'"]], [{"repl": "  ", "count": "2"}])
    check_required({"free": free, "ok": ok}, find)
    with pytest.raises(MissingParamError) as err:
        check_required({"free": free, "ok": ok, "bad": bad}, find)
    assert (err.value.node, err.value.index, err.value.param.name) == ("bad", 0, "repl")
    assert "'bad'" in str(err.value) and "'repl'" in str(err.value)
    assert err.value.field == "param:repl"


def test_free_text_arguments_keep_each_expression_text():
    assert split_args("1, 'a, b',  k=len(x) ") == (["1", "'a, b'"], {"k": "len(x)"})
    assert split_args("  ") == ([], {})
    assert join_args(["1", "'a, b'"], {"k": "len(x)"}) == "1, 'a, b', k=len(x)"
    assert split_args(join_args(["x[0]"], {"sep": "'-'"})) == (["x[0]"], {"sep": "'-'"})
    for bad in ("1,, 2", "1) + (2"):
        with pytest.raises(EditError) as err:
            split_args(bad)
        assert err.value.field == "args" and "not valid Python" in str(err.value)
