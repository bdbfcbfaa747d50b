"""Store: edits are all-or-nothing undo steps; observers; the modified mark (no display)."""
import pytest

from guitools import core
from papy_gui.model.document import Document

pytestmark = pytest.mark.timeout(30)


def test_failed_edit_rolls_back():
    doc = Document()
    doc.add_node(core("ipasser"), name="a")
    with pytest.raises(ZeroDivisionError):
        with doc.edit("broken"):
            doc.move_nodes({"a": (5, 5)})
            1 / 0
    assert (doc.nodes["a"].x, doc.nodes["a"].y) == (0, 0)
    assert doc.undo_stack.undo_label() == "add node a"


def test_edits_inside_an_edit_are_one_undo_step():
    doc = Document()
    seen = []
    doc.subscribe(lambda event, data: seen.append((event, data)))
    with doc.edit("two nodes"):
        doc.add_node(core("ipasser"), name="a")
        doc.add_node(core("ipasser"), name="b")
        doc.connect("a", "b")
    assert [d["label"] for e, d in seen if e == "changed"] == ["two nodes"]
    assert doc.undo() == "two nodes" and not doc.nodes and not doc.edges


def test_a_document_marked_unsaved_stays_modified_until_saved():
    doc = Document()
    assert not doc.modified
    doc.mark_unsaved("recovered")
    assert doc.modified
    doc.add_node(core("ipasser"), name="a")
    doc.undo()
    assert doc.modified  # no undo position is the file any more
    doc.mark_saved()
    assert not doc.modified
