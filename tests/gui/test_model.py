"""Document model tests: no display, no tkinter."""
import sys

import pytest

from papy_gui.model import clipboard, convert, graph
from papy_gui.model.document import Document
from papy_gui.model.errors import EditError
from papy_gui.model.items import Func, parse_option, parse_remote
from papy_gui.model.palette import PYTHON_KEY, Palette, add_from_type
from papy_gui.model.run_state import RunState

pytestmark = pytest.mark.timeout(30)


def core(name):
    return Func(name, "papy_engine.workers.core", name)


@pytest.fixture
def doc():
    d = Document()
    events = []
    d.subscribe(lambda e, data: events.append((e, data)))
    d.events = events
    return d


def test_model_imports_no_tkinter():
    import subprocess
    code = ("import sys; sys.modules['tkinter'] = None; import papy_gui.model.document, "
            "papy_gui.model.convert, papy_gui.model.files, papy_gui.model.palette, "
            "papy_gui.model.run_state, papy_gui.bridge")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_add_connect_undo_redo(doc):
    a = doc.add_node(core("ipasser"), x=10, y=20)
    b = doc.add_node(core("ipasser"))
    assert (a, b) == ("ipasser", "ipasser_2")
    doc.connect(a, b)
    assert doc.edges == [(a, b)] and doc.modified
    assert ("edge_added", {"edge": (a, b)}) in doc.events
    assert doc.undo() == "connect ipasser -> ipasser_2"
    assert doc.edges == []
    doc.redo()
    assert doc.edges == [(a, b)]
    doc.remove_nodes([a])
    assert a not in doc.nodes and doc.edges == []
    doc.undo()
    assert list(doc.nodes) == [a, b] and doc.edges == [(a, b)]
    assert (doc.nodes[a].x, doc.nodes[a].y) == (10, 20)
    while doc.undo():
        pass
    assert not doc.nodes and not doc.modified


def test_cycle_and_balance_refused_before_change(doc):
    a, b, c = (doc.add_node(core("ipasser"), name=n) for n in "abc")
    doc.connect("a", "b")
    doc.connect("b", "c")
    before = doc.undo_stack.index
    with pytest.raises(EditError, match="cycle: a -> b -> c -> a"):
        doc.connect("c", "a")
    with pytest.raises(EditError, match="itself"):
        doc.connect("a", "a")
    doc.set_option("c", "produce", "2")
    d = doc.add_node(core("ipasser"), name="d")
    with pytest.raises(EditError, match="does not balance.*= 2.*= 1"):
        doc.connect("c", d)
    doc.set_option("d", "consume", 2)
    doc.connect("c", "d")
    with pytest.raises(EditError) as exc:
        doc.set_option("d", "consume", "3")
    assert exc.value.field == "consume"
    assert doc.nodes["d"].option("consume") == 2
    assert doc.undo_stack.index == before + 4


def test_option_validation_messages(doc):
    doc.add_node(core("ipasser"), name="a")
    with pytest.raises(EditError, match="'consume' must be an int >= 1 \\(got 0"):
        doc.set_option("a", "consume", "0")
    with pytest.raises(EditError, match="timeout.*parallel"):
        doc.set_option("a", "timeout", "1.5")
    with pytest.raises(EditError, match="no resource named 'pool'"):
        doc.set_option("a", "parallel", "pool")
    pool = doc.add_resource(worker_type="thread", worker_num="4")
    doc.set_option("a", "parallel", pool)
    doc.set_option("a", "timeout", "1.5")
    assert doc.nodes["a"].options == {"parallel": "pool", "timeout": 1.5}
    doc.remove_resource(pool)
    assert doc.nodes["a"].options.get("parallel") is None
    assert "timeout" not in doc.nodes["a"].options
    doc.undo()
    assert doc.nodes["a"].options == {"parallel": "pool", "timeout": 1.5}
    with pytest.raises(EditError, match="identifier"):
        doc.rename_node("a", "not a name")
    with pytest.raises(EditError, match="worker_type"):
        doc.set_resource_option("pool", "worker_type", "fork")
    assert parse_remote("h:1#2, g:3") == [("h:1", 2), ("g:3", 1)]
    with pytest.raises(EditError):
        parse_remote("nohost")
    assert parse_option("ordered", "false") is False


def test_rename_keeps_edges_inputs_selection(doc):
    doc.add_node(core("ipasser"), name="a")
    doc.add_node(core("ipasser"), name="b")
    doc.connect("a", "b")
    doc.set_input("a", "range(10)")
    doc.select(["a"])
    doc.rename_node("a", "src")
    assert doc.edges == [("src", "b")] and doc.inputs == {"src": "range(10)"}
    assert doc.selection == ["src"]
    doc.undo()
    assert doc.edges == [("a", "b")] and doc.inputs == {"a": "range(10)"}
    with pytest.raises(EditError, match="not a valid Python expression"):
        doc.set_input("a", "range(")


def test_failed_edit_rolls_back(doc):
    doc.add_node(core("ipasser"), name="a")
    with pytest.raises(ZeroDivisionError):
        with doc._edit("broken"):
            doc._apply("_op_move", "a", 5, 5)
            1 / 0
    assert (doc.nodes["a"].x, doc.nodes["a"].y) == (0, 0)
    assert doc.undo_stack.undo_label() == "add node a"


def test_python_function_source(doc):
    doc.add_node(Func("func", None, "func", "def func(inbox):\n    return 1\n"), name="f")
    doc.set_function_source("f", "def double(inbox):\n    return inbox[0] * 2\n")
    assert doc.nodes["f"].functions[0].name == "double"
    with pytest.raises(EditError, match="syntax error"):
        doc.set_function_source("f", "def (")
    doc.undo()
    assert doc.nodes["f"].functions[0].name == "func"


def test_copy_paste_and_layout(doc):
    for n in "abc":
        doc.add_node(core("ipasser"), name=n)
    doc.connect("a", "b")
    doc.connect("a", "c")
    data = clipboard.copy_nodes(doc, ["a", "b"])
    new = clipboard.paste(doc, data)
    assert new == ["a_2", "b_2"] and ("a_2", "b_2") in doc.edges
    assert doc.selection == new
    doc.undo()
    assert "a_2" not in doc.nodes
    doc.auto_layout()
    assert doc.nodes["a"].x < doc.nodes["b"].x == doc.nodes["c"].x
    assert doc.nodes["b"].y != doc.nodes["c"].y
    assert graph.layers(list(doc.nodes), doc.edges) == {"a": 0, "b": 1, "c": 1}
    assert doc.input_nodes() == ["a"] and doc.output_nodes() == ["b", "c"]


def test_convert_round_trip_keeps_layout_shape():
    FuncRef, NodeDesc, ResourceDesc, PD = convert.description_types()
    desc = PD(nodes=[NodeDesc(name="a", functions=[FuncRef(name="ipasser",
                     module="papy_engine.workers.core", qualname="ipasser", source=None,
                     imports=[])], args=[["1"]], kwargs=[{}], options={"parallel": "p"}),
                     NodeDesc(name="b", functions=[FuncRef(name="f", module=None, qualname="f",
                              source="def f(inbox):\n    return 1\n", imports=["re"])],
                              args=[[]], kwargs=[{"k": "2"}], options={})],
              resources=[ResourceDesc(name="p", options={"worker_num": 2})],
              edges=[("a", "b")], inputs_source=["range(5)"],
              layout={"nodes": {"b": {"x": 300, "y": 40}, "a": {"x": 40, "y": 40}},
                      "notes": "héllo"}, preamble="import re\n")
    doc = convert.from_description(desc)
    assert doc.inputs == {"a": "range(5)"} and not doc.modified
    assert convert.to_description(doc) == desc
    doc.move_nodes({"a": (50, 60)})
    out = convert.to_description(doc)
    assert list(out.layout["nodes"]) == ["b", "a"]
    assert out.layout["nodes"]["a"] == {"x": 50, "y": 60}


def test_convert_without_layout_auto_lays_out_but_does_not_write():
    FuncRef, NodeDesc, ResourceDesc, PD = convert.description_types()
    nd = lambda n: NodeDesc(name=n, functions=[FuncRef(name="ipasser",  # noqa: E731
                            module="papy_engine.workers.core", qualname="ipasser",
                            source=None, imports=[])], args=[[]], kwargs=[{}], options={})
    desc = PD(nodes=[nd("a"), nd("b")], resources=[], edges=[("a", "b")],
              inputs_source=None, layout={}, preamble="")
    doc = convert.from_description(desc)
    assert doc.nodes["a"].x < doc.nodes["b"].x
    assert convert.to_description(doc).layout == {}


def test_palette_search_and_add(doc):
    pal = Palette.load()
    assert pal.get(PYTHON_KEY) is not None
    assert list(pal.categories())[0] == "Python"
    found = [t for t in pal.search("ipass") if t.name == "ipasser"]
    assert len(found) == 1 and found[0].module
    assert all(t.matches("ipass") for t in pal.search("ipass"))
    name = add_from_type(doc, found[0], 5, 6)
    assert doc.nodes[name].functions[0].module == found[0].module
    assert pal.find_for(doc.nodes[name].functions[0]) == found[0]


def test_run_state_stats_and_errors():
    rs = RunState()
    seen = []
    rs.subscribe(lambda e, d: seen.append(e))
    rs.update_stats({"state": "running", "pipers": {"a": {"in": 5, "out": 5, "errors": 0},
                                                     "b": {"in": 2, "out": 1, "errors": 1}}},
                    [("a", "b")])
    assert rs.state == "running" and rs.queued == {("a", "b"): 3}
    rs.handle_event({"type": "error", "piper": "b", "exc_type": "ValueError",
                     "message": "bad", "traceback": "Traceback...", "index": 3})
    assert rs.errors["b"]["index"] == 3 and "error" in seen
    rs.handle_event({"type": "state", "state": "finished"})
    assert rs.state == "finished" and not rs.active


def test_items_waiting_count_a_consumer_inbox_as_consume_items():
    rs = RunState()
    # 32 items out of the scatter, 8 inboxes of 4 taken by the gather: none waiting
    rs.update_stats({"state": "finished", "pipers": {"sim": {"in": 32, "out": 32},
                                                      "gather": {"in": 8, "out": 8}}},
                    [("sim", "gather")], {"gather": 4})
    assert rs.queued == {("sim", "gather"): 0}
    rs.update_stats({"state": "running", "pipers": {"sim": {"in": 30, "out": 30},
                                                     "gather": {"in": 6, "out": 6}}},
                    [("sim", "gather")], {"gather": 4})
    assert rs.queued == {("sim", "gather"): 6}
