"""Closing the window mid-run asks, stops cleanly and leaves no child process."""
from __future__ import annotations

import psutil
import pytest

from guitools import make_app, pump
from papy_engine.script import FuncRef as Func

pytestmark = [pytest.mark.gui, pytest.mark.timeout(90)]
SLOW = "def slow(inbox):\n    import time\n    time.sleep(0.01)\n    return inbox[0]\n"


def test_close_mid_run_asks_and_leaves_no_children(tmp_path_factory):
    app = make_app(tmp_path_factory)
    doc = app.doc
    doc.add_node(Func("ipasser", "papy_engine.workers.core", "ipasser"), name="src")
    doc.add_node(Func("slow", None, "slow", SLOW), name="work", x=300)
    doc.connect("src", "work")
    doc.set_input("src", "range(100000)")
    pool = doc.add_resource(worker_type="process", worker_num=2, stride=2, buffer=8)
    doc.set_option("work", "parallel", pool)
    assert app.runs.run()
    assert pump(app.root, lambda: app.run_state.pipers.get("work", {}).get("out", 0) > 0, 60)
    assert psutil.Process().children(recursive=True)
    asked = []
    app.files.ask_yes_no = lambda *a, **k: asked.append(a) or False  # "no, keep running"
    assert not app.close()
    assert asked and app.run_state.active
    app.files.ask_yes_no = lambda *a, **k: True
    app.files.ask = lambda *a, **k: False  # discard the unsaved document
    assert app.close()
    plumber = app.bridge.plumber
    assert plumber.state == "stopped"
    s = plumber.stats["pipers"]
    assert s["src"]["out"] == s["work"]["out"]
    # multiprocessing's resource_tracker lives as long as this (test) process by design;
    # it is not a worker: every other child must be gone
    kids = [p for p in psutil.Process().children(recursive=True)
            if "resource_tracker" not in " ".join(p.cmdline())]
    gone, alive = psutil.wait_procs(kids, timeout=10)
    assert not alive, [(p.pid, p.cmdline()) for p in alive]
