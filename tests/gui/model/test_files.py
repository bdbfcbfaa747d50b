"""Reading and writing documents, autosave and recovery, window state (no display)."""
import os
import time

import pytest

from guitools import core, doc_with
from papy_engine.script import read
from papy_gui.model import files

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def state(tmp_path, monkeypatch):
    monkeypatch.setenv("PAPY_GUI_STATE_DIR", str(tmp_path / "state"))
    return tmp_path / "state"


def two_nodes():
    return doc_with([("a", "b")], {"a": "range(3)"})


def test_an_input_node_without_input_is_saved_as_no_items(tmp_path):
    doc = two_nodes()
    doc.add_node(core("ipasser"), name="lonely", x=0, y=200)
    assert doc.input_nodes() == ["a", "lonely"]
    path = tmp_path / "p.py"
    files.save_document(doc, path)
    assert read(path).inputs_source == ["range(3)", "[]"]  # was "None": not iterable
    reopened = files.open_document(path)
    assert reopened.inputs == {"a": "range(3)", "lonely": "[]"}
    files.save_document(reopened, tmp_path / "again.py")
    assert (tmp_path / "again.py").read_text() == path.read_text()


def test_recovered_documents_are_modified_and_untitled_ones_are_found(state, tmp_path):
    doc = two_nodes()
    files.autosave(doc)  # an untitled document, never saved
    auto = files.untitled_autosave()
    assert auto is not None
    rec = files.recover(auto, None)
    assert rec.modified and rec.path is None and list(rec.nodes) == ["a", "b"]
    files.save_document(rec, tmp_path / "saved.py")  # saving removes the untitled autosave
    assert files.untitled_autosave() is None
    path = tmp_path / "saved.py"
    on_disk = files.open_document(path)
    on_disk.set_input("a", "range(7)")
    target = files.autosave(on_disk)
    os.utime(target, (time.time() + 5, time.time() + 5))
    assert files.recovery_for(on_disk.path) == target
    again = files.recover(target, on_disk.path)
    assert again.modified and again.inputs["a"] == "range(7)"


def test_window_state_round_trips(state):
    assert files.load_window_state() == {}
    files.save_window_state({"geometry": "1000x700+5+6", "hpane": [200, 800], "vpane": [500]})
    assert files.load_window_state()["hpane"] == [200, 800]
    (state / "window.json").write_text("not json")
    assert files.load_window_state() == {}
