"""A console function as a node, with what it takes from the console (issue 12,
item 1, export fidelity): saved with it, so the script runs headless as it ran here."""
from __future__ import annotations

import subprocess
import sys

import pytest

from guitools import pump, status
from papy_engine.script import FuncRef

pytestmark = [pytest.mark.gui, pytest.mark.timeout(90)]

PAPY = [sys.executable, "-m", "papy_engine.cli"]


def type_lines(console, *lines):
    """Feed lines as typed followed by Return (a block ends with an empty line)."""
    for line in lines:
        console.push(line)


def papy_run(path, cwd):
    return subprocess.run(PAPY + ["run", str(path), "--quiet"], capture_output=True,
                          text=True, cwd=cwd, timeout=60)


def test_console_import_and_helper_travel_with_the_node(fresh, tmp_path):
    app = fresh
    con = app.console
    type_lines(con, "import time", "STEP = 1",
               "def bump(x):", "    return x + STEP", "",
               "def slow(inbox):", "    time.sleep(0.001)", "    return bump(inbox[0])", "")
    assert "Error" not in con.text.get("1.0", "end")
    node = con.add_function("slow")
    assert node == "slow"
    assert "added STEP, bump, time from the console" in status(app), status(app)
    assert "import time" in app.doc.preamble and "def bump(x):" in app.doc.preamble
    assert app.script_view.code.value() == app.doc.preamble  # the Script tab shows it
    app.doc.set_input(node, "range(20)")
    path = tmp_path / "slowflaky.py"
    assert app.files.save_to(str(path))
    run = papy_run(path, tmp_path)  # a fresh process: no console names
    assert run.returncode == 0, run.stderr
    # and the same document runs in the editor
    assert app.runs.run()
    assert pump(app.root, lambda: app.run_state.state == "finished" and not app.bridge.running,
                60), app.run_state.state
    app.bridge.refresh_stats()
    assert app.run_state.pipers["slow"]["errors"] == 0


def test_a_node_source_using_a_console_import_is_saved_with_it(fresh, tmp_path):
    app = fresh
    type_lines(app.console, "import math")
    src = "def root(inbox):\n    return math.sqrt(inbox[0])\n"
    app.doc.add_node(FuncRef("root", None, "root", src), name="root")
    app.doc.set_input("root", "[4, 9]")
    assert "math" not in app.doc.preamble
    path = tmp_path / "root.py"
    assert app.files.save_to(str(path))
    assert "import math" in path.read_text(encoding="utf-8")
    assert "added math from the console" in status(app)
    assert papy_run(path, tmp_path).returncode == 0


def test_a_console_function_dropped_outside_the_canvas_adds_nothing(fresh):
    app = fresh
    app.console.run_source("def elsewhere(inbox):\n    return inbox[0]\n")
    x, y = app.root.winfo_rootx() + 2, app.root.winfo_rooty() + 2  # on the toolbar
    assert app.nodes.add_function("elsewhere", "def elsewhere(inbox): ...\n", x, y) is None
    assert not app.doc.nodes
