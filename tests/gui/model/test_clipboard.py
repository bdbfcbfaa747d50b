"""Copy and paste of nodes with their pipes and inputs (no display)."""
import pytest

from guitools import doc_with
from papy_gui.model import clipboard

pytestmark = pytest.mark.timeout(30)


def test_copy_paste_keeps_pipes_renames_and_selects():
    doc = doc_with([("a", "b"), ("a", "c")], {"a": "range(3)"})
    data = clipboard.copy_nodes(doc, ["a", "b"])
    new = clipboard.paste(doc, data)
    assert new == ["a_2", "b_2"] and ("a_2", "b_2") in doc.edges
    assert ("a_2", "c") not in doc.edges and doc.inputs["a_2"] == "range(3)"
    a, a_2 = doc.nodes["a"], doc.nodes["a_2"]
    assert (a_2.x, a_2.y) == (a.x + 30, a.y + 30)
    assert doc.selection == new
    doc.undo()
    assert "a_2" not in doc.nodes
    assert clipboard.paste(doc, {}) == [] and clipboard.paste(doc, {"nodes": []}) == []
