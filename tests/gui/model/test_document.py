"""Document: validated edits, undo/redo, the run lock, the preamble (no display)."""
import pytest

from guitools import core, doc_with
from papy_engine.script import FuncRef
from papy_gui.model import clipboard
from papy_gui.model.document import Document
from papy_gui.model.errors import EditError
from papy_gui.model.items import parse_option, parse_remote
from papy_gui.model.palette import PYTHON_KEY, Palette, add_from_type

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def doc():
    d = Document()
    events = []
    d.subscribe(lambda e, data: events.append((e, data)))
    d.events = events
    return d


def two_nodes():
    return doc_with([("a", "b")], {"a": "range(3)"})


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


def test_python_function_source(doc):
    doc.add_node(FuncRef("func", None, "func", "def func(inbox):\n    return 1\n"), name="f")
    doc.set_function_source("f", "def double(inbox):\n    return inbox[0] * 2\n")
    assert doc.nodes["f"].functions[0].name == "double"
    with pytest.raises(EditError, match="syntax error"):
        doc.set_function_source("f", "def (")
    doc.undo()
    assert doc.nodes["f"].functions[0].name == "func"


def test_two_nodes_cannot_write_out_different_functions_of_one_name(doc):
    # A saved script holds one function per name: the second one's code was
    # silently dropped, from the run and from the file.
    src = "def func(inbox):\n    return inbox[0]\n"
    doc.add_node(FuncRef("func", None, "func", src), name="a")
    doc.add_node(FuncRef("func", None, "func", src), name="b")   # shared: the same code
    with pytest.raises(EditError, match="node 'a' already has a function named 'func'"):
        doc.set_function_source("b", "def func(inbox):\n    return inbox[0] * 10\n")
    assert doc.nodes["b"].functions[0].source == src
    doc.set_function_source("b", "def times10(inbox):\n    return inbox[0] * 10\n")
    assert doc.nodes["b"].functions[0].name == "times10"
    doc.set_function_source("a", src.replace("inbox[0]", "inbox[0] + 1"))   # its own: fine
    assert "+ 1" in doc.nodes["a"].functions[0].source


def test_each_new_python_function_node_writes_out_a_function_of_its_own_name(doc):
    pal = Palette.load()
    first = add_from_type(doc, pal.get(PYTHON_KEY), 0, 0)
    second = add_from_type(doc, pal.get(PYTHON_KEY), 100, 0)
    names = [doc.nodes[n].functions[0].name for n in (first, second)]
    assert names == [first, second] and first != second
    assert doc.nodes[second].functions[0].source.startswith(f"def {second}(inbox):")
    doc.set_function_source(second, doc.nodes[second].functions[0].source.replace(
        "return item", "return item * 10"))   # editing the body alone is never refused


def test_a_locked_document_refuses_every_edit_but_moves():
    doc = two_nodes()
    doc.add_node(core("ipasser"), name="c", x=400)
    before = (list(doc.nodes), list(doc.edges), dict(doc.inputs), doc.preamble)
    doc.lock("a run is in progress")
    refused = [lambda: doc.add_node(core("ipasser"), name="d"),
               lambda: doc.remove_nodes(["b"]), lambda: doc.disconnect("a", "b"),
               lambda: doc.connect("b", "c"), lambda: doc.set_option("b", "track", True),
               lambda: doc.set_input("a", "range(5)"), lambda: doc.rename_node("a", "z"),
               lambda: doc.set_preamble("import os"), lambda: doc.add_resource("pool"),
               lambda: doc.set_args("b", 0, ["1"]),
               lambda: clipboard.paste(doc, clipboard.copy_nodes(doc, ["a"])),
               lambda: doc.undo()]
    for edit in refused:
        with pytest.raises(EditError, match="a run is in progress"):
            edit()
    assert (list(doc.nodes), list(doc.edges), dict(doc.inputs), doc.preamble) == before
    doc.move_nodes({"b": (300, 40)})  # layout is no part of the run
    assert (doc.nodes["b"].x, doc.nodes["b"].y) == (300, 40)
    assert doc.undo() == "move"  # and undoing a move is fine too
    doc.unlock()
    doc.remove_nodes(["b"])
    assert list(doc.nodes) == ["a", "c"]


def test_the_preamble_must_parse_and_is_undoable():
    doc = Document()
    with pytest.raises(EditError, match="syntax error, line 1"):
        doc.set_preamble("import (")
    assert doc.preamble == "" and not doc.modified
    doc.set_preamble("import time\nDELAY = 0.1\n")
    assert doc.modified
    doc.undo()
    assert doc.preamble == ""


def test_insert_nodes_renames_drops_missing_resources_and_is_one_edit(doc):
    doc.add_node(core("ipasser"), name="a")
    pool = doc.add_resource(worker_type="thread")
    other = Document()
    other.add_resource("elsewhere", worker_type="thread")
    other.add_resource(pool, worker_type="thread")
    other.add_node(core("ipasser"), name="a", options={"parallel": "elsewhere", "timeout": 2})
    other.add_node(core("ipasser"), name="b", options={"parallel": pool}, x=100)
    other.connect("a", "b")
    other.set_input("a", "range(2)")
    renamed = doc.insert_nodes(other.nodes.values(), other.edges, other.inputs, dx=5)
    assert renamed == {"a": "a_2", "b": "b"}
    assert doc.edges == [("a_2", "b")] and doc.inputs == {"a_2": "range(2)"}
    assert doc.nodes["a_2"].options == {}  # no such resource here: serial, no timeout
    assert doc.nodes["b"].options == {"parallel": pool} and doc.nodes["b"].x == 105
    assert doc.undo() == "paste" and list(doc.nodes) == ["a"]
