"""Graph rules: layers, input and output nodes, auto-layout (no display)."""
import pytest

from guitools import doc_with
from papy_gui.model import graph

pytestmark = pytest.mark.timeout(30)


def test_layers_inputs_outputs_and_auto_layout():
    doc = doc_with([("a", "b"), ("a", "c")])
    doc.auto_layout()
    assert doc.nodes["a"].x < doc.nodes["b"].x == doc.nodes["c"].x
    assert doc.nodes["b"].y != doc.nodes["c"].y
    assert graph.layers(list(doc.nodes), doc.edges) == {"a": 0, "b": 1, "c": 1}
    assert doc.input_nodes() == ["a"] and doc.output_nodes() == ["b", "c"]
    assert doc.undo() == "auto-layout"
