"""Document model rules of issue 12 (no display): the run lock, recovery, the
script's preamble, inputs without an expression, quick-add ranking, window state."""
import os
import time

import pytest

from papy_engine.script import read
from papy_gui.model import clipboard, files
from papy_gui.model.convert import to_description
from papy_gui.model.document import Document
from papy_gui.model.errors import EditError
from papy_gui.model.export import complete_preamble
from papy_gui.model.items import Func
from papy_gui.model.palette import Palette

pytestmark = pytest.mark.timeout(30)


def core(name):
    return Func(name, "papy_engine.workers.core", name)


@pytest.fixture
def state(tmp_path, monkeypatch):
    monkeypatch.setenv("PAPY_GUI_STATE_DIR", str(tmp_path / "state"))
    return tmp_path / "state"


def two_nodes():
    doc = Document()
    doc.add_node(core("ipasser"), name="a")
    doc.add_node(core("ipasser"), name="b", x=200)
    doc.connect("a", "b")
    doc.set_input("a", "range(3)")
    return doc


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


def test_fit_geometry_keeps_the_window_on_the_screen():
    from papy_gui.window_state import fit_geometry
    assert fit_geometry("1000x700+5+6", 1400, 900) == "1000x700+5+6"
    assert fit_geometry("3000x2000+2000+50", 1400, 900) == "1400x900+0+0"
    assert fit_geometry("1000x700+900+500", 1400, 900) == "1000x700+400+200"
    assert fit_geometry("garbage", 1400, 900) is None


def test_quick_add_ranks_names_before_documentation():
    palette = Palette.load()
    found = [t.name for t in palette.search("sum")]
    assert found[0] == "sum"  # was running_stats: "sum" only in its description
    exact_or_prefix = [n for n in found if n.lower().startswith("sum")]
    assert found[:len(exact_or_prefix)] == exact_or_prefix


def test_console_names_are_written_into_the_preamble():
    import math
    import threading
    doc = Document()
    src = "def slow(inbox):\n    time.sleep(DELAY)\n    return helper(inbox[0])\n"
    doc.add_node(Func("slow", None, "slow", src), name="slow")
    ns = {"DELAY": 0.01, "math": math, "lock": threading.Lock()}
    exec("import time", ns)
    exec("helper = lambda x: x", ns)  # typed where no source is kept: refused, named
    done = complete_preamble(doc, ns)
    assert done.added == ["DELAY", "time"] and "helper" in done.refused[0]
    assert "import time" in doc.preamble and "DELAY = 0.01" in doc.preamble
    assert doc.undo_stack.undo_label() == "add DELAY, time from the console"
    assert complete_preamble(doc, ns).added == []  # nothing twice
    assert "import time" in files.script.render(to_description(doc))
