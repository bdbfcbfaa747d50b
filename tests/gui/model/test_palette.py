"""The palette: plugin and core types, search ranking, and adding a node of a type (no display)."""
import pytest

from guitools import core
from papy_gui.model.document import Document
from papy_gui.model.errors import EditError
from papy_gui.model.palette import PYTHON_KEY, NodeType, Palette, add_from_type, can_take

pytestmark = pytest.mark.timeout(30)


def _types():
    return [NodeType("m.any", "any_in", "t", module="m", qualname="any_in"),
            NodeType("m.source", "source", "t", module="m", qualname="source", inputs=0),
            NodeType("m.pairs", "pairs", "t", module="m", qualname="pairs", hints={"consume": 2}),
            NodeType("m.spawn3", "spawn3", "t", module="m", qualname="spawn3", hints={"spawn": 3})]


def test_palette_search_and_add():
    doc = Document()
    pal = Palette.load()
    assert pal.get(PYTHON_KEY) is not None
    assert list(pal.categories())[0] == "Python"
    found = [t for t in pal.search("ipass") if t.name == "ipasser"]
    assert len(found) == 1 and found[0].module
    assert all(t.matches("ipass") for t in pal.search("ipass"))
    name = add_from_type(doc, found[0], 5, 6)
    assert doc.nodes[name].functions[0].module == found[0].module
    assert pal.find_for(doc.nodes[name].functions[0]) == found[0]


def test_the_bundled_plugins_are_in_the_palette():
    pal = Palette.load()
    assert pal.failures == []
    for key in ("papy_plugins.text.grep", "papy_plugins.text.sub", "papy_plugins.files.read_text"):
        ntype = pal.get(key)
        assert ntype is not None, f"bundled node {key} missing from the palette"
        assert ntype.params and ntype.description


def test_quick_add_ranks_names_before_documentation():
    palette = Palette.load()
    found = [t.name for t in palette.search("sum")]
    assert found[0] == "sum"  # was running_stats: "sum" only in its description
    exact_or_prefix = [n for n in found if n.lower().startswith("sum")]
    assert found[:len(exact_or_prefix)] == exact_or_prefix


def test_can_take_needs_inputs_and_balance():
    any_in, source, pairs, spawn3 = _types()
    assert can_take(any_in, 1) and can_take(any_in, 4)
    assert not can_take(source, 1)                            # no inputs
    assert can_take(pairs, 2) and not can_take(pairs, 1)       # consume hint is a contract
    assert can_take(spawn3, 6) and not can_take(spawn3, 4)     # consume = need / spawn


def test_adding_a_type_at_the_end_of_a_pipe_balances_it_in_one_edit():
    any_in, source, pairs, spawn3 = _types()
    doc = Document()
    up = doc.add_node(core("ipasser"), name="up", options={"produce": 6})
    new = add_from_type(doc, any_in, 200, 0, connect_from=up)  # no hint: consume set to 6
    assert doc.nodes[new].option("consume") == 6 and (up, new) in doc.edges
    assert doc.undo() == "add any_in" and list(doc.nodes) == ["up"]
    new = add_from_type(doc, spawn3, 200, 0, connect_from=up)  # consume = 6 / spawn
    assert doc.nodes[new].options == {"spawn": 3, "consume": 2} and (up, new) in doc.edges
    with pytest.raises(EditError, match="does not balance"):  # a hint is a contract
        add_from_type(doc, pairs, 200, 0, connect_from=up)
    assert "pairs" not in doc.nodes  # all or nothing
