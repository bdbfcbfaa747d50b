"""What the document's code takes from the console is written into its preamble (no display)."""
import math
import threading

import pytest

from papy_engine.script import FuncRef
from papy_gui.model import files
from papy_gui.model.convert import to_description
from papy_gui.model.document import Document
from papy_gui.model.export import complete_preamble, take_console_names

pytestmark = pytest.mark.timeout(30)


def test_console_names_are_written_into_the_preamble():
    doc = Document()
    src = "def slow(inbox):\n    time.sleep(DELAY)\n    return helper(inbox[0])\n"
    doc.add_node(FuncRef("slow", None, "slow", src), name="slow")
    ns = {"DELAY": 0.01, "math": math, "lock": threading.Lock()}
    exec("import time", ns)
    exec("helper = lambda x: x", ns)  # typed where no source is kept: refused, named
    done = complete_preamble(doc, ns)
    assert done.added == ["DELAY", "time"] and "helper" in done.refused[0]
    assert "import time" in doc.preamble and "DELAY = 0.01" in doc.preamble
    assert doc.undo_stack.undo_label() == "add DELAY, time from the console"
    assert complete_preamble(doc, ns).added == []  # nothing twice
    assert "import time" in files.script.render(to_description(doc))


def test_take_console_names_says_what_it_did_or_why_not():
    doc = Document()
    doc.add_node(FuncRef("root", None, "root", "def root(inbox):\n    return math.sqrt(1)\n"),
                 name="root")
    doc.lock("a run is in progress")
    assert take_console_names(doc, {"math": math}) == \
        "cannot add math from the console: a run is in progress"
    doc.unlock()
    assert take_console_names(doc, {"math": math}) == "added math from the console to the script"
    assert take_console_names(doc, {"math": math}) == ""
