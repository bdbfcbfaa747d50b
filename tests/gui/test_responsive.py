"""The window stays responsive during a noisy run (issue 6; benchmarks/gui.md).

While engine threads run Python, every Tcl call from the Tk thread may wait a
GIL switch interval, so these tests count Tcl calls per tick rather than time
them, plus one short lag measurement with the benchmark's probe.
"""
from __future__ import annotations

import gc
import logging
import sys
import tkinter as tk
import weakref
from pathlib import Path

import pytest

from guitools import pump
from papy_engine.script import FuncRef as Func
from papy_gui.views import log_view as lv
from papy_gui.views.form import Form

pytestmark = [pytest.mark.gui, pytest.mark.timeout(60)]
BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


class CountingTk:
    """Stands in for a widget's ``tk`` and counts the Tcl calls made through it."""

    def __init__(self, real) -> None:
        self._real = real
        self.calls = 0

    def call(self, *args):
        self.calls += 1
        return self._real.call(*args)

    def __getattr__(self, name):
        return getattr(self._real, name)


def records(n: int, start: int = 0) -> list[dict]:
    return [{"time": 1.0e9 + i, "level": "INFO", "name": "t", "node": None,
             "message": f"record {i}"} for i in range(start, start + n)]


def test_log_burst_is_drawn_with_few_calls_then_completed(app):
    top = tk.Toplevel(app.root)
    handler = lv.QueueLogHandler()
    view = lv.LogView(top, handler, limit=1000)
    view.pack(fill="both", expand=True)
    app.root.update()
    for r in records(12_000):
        handler.queue.put(r)
    counting = view.text.tk = CountingTk(view.text.tk)
    assert view.drain() == lv.DRAIN_MAX
    assert counting.calls <= 8, counting.calls  # one insert for the whole batch
    lines = view.lines()
    assert len(lines) == lv.DRAW_MAX + 1 and "not drawn" in lines[0]
    assert lines[-1].endswith(f"record {lv.DRAIN_MAX - 1}")
    assert not view.settled
    # once the burst is over the whole bounded view is drawn again
    assert pump(app.root, lambda: (view.drain(), view.settled)[1], 10)
    lines = view.lines()
    assert len(lines) == 1000 and lines[-1].endswith("record 11999")
    assert lines[0].endswith("record 11000")
    top.destroy()


def test_stats_tick_changes_counters_in_place(app):
    app.files.new()
    doc = app.doc
    for i, name in enumerate(("a", "b", "c")):
        doc.add_node(Func("ipasser", "papy_engine.workers.core", "ipasser"), name=name, x=220 * i)
    doc.connect("a", "b")
    doc.connect("b", "c")
    rs = app.run_state
    rs.begin(doc.edges)
    rs.set_state("running")
    snap = {"state": "running", "pipers": {n: {"in": 1, "out": 3, "errors": 0, "state": "running"}
                                           for n in "abc"}}  # 2 waiting on each pipe
    rs.update_stats(snap)
    app.root.update()
    ids = app.canvas.find_withtag("n:b")
    real = app.canvas.tk
    counting = app.canvas.tk = CountingTk(real)
    try:
        snap["pipers"]["a"].update({"in": 10, "out": 9})
        snap["pipers"]["b"].update({"in": 5, "out": 4})
        rs.update_stats(snap)
        calls = counting.calls
    finally:
        app.canvas.tk = real
    assert app.canvas.find_withtag("n:b") == ids  # not redrawn
    text = app.canvas.itemcget(app.canvas.find_withtag("n:b&&counters")[0], "text")
    assert text.startswith("in 5  out 4")
    # two counters and two "waiting" labels changed: one itemconfigure each
    assert calls <= 4, calls
    assert app.canvas.itemcget(app.canvas.find_withtag("e:a:b&&queue")[0], "text") == "4 waiting"
    rs.reset()
    app.root.update()
    assert app.canvas.itemcget(app.canvas.find_withtag("n:b&&counters")[0], "text") == ""


def test_form_frees_its_variables_on_the_tk_thread(app):
    form = Form(app.root)
    form.entry("x", "X", "1", lambda v: None)
    ref = weakref.ref(form.vars["x"])
    gc.disable()  # a freed Variable must not wait for the cyclic GC (another thread)
    try:
        form.destroy()
        del form
        assert ref() is None
    finally:
        gc.enable()


def test_window_lowers_the_gil_switch_interval(app):
    assert sys.getswitchinterval() <= 0.001


def test_event_loop_keeps_ticking_during_a_noisy_run(app):
    """The benchmark's probe on a shorter run, as a liveness check only: the Tk
    loop keeps firing its ``after`` ticks all through a run that logs every
    item. How *late* the ticks are is a performance target, measured side by
    side by benchmarks/bench_gui_lag.py (p99 < 50 ms), never asserted here:
    on a shared machine a timed assertion would only be flaky. The structural
    tests above pin down what made the window slow (Tcl calls per drain)."""
    sys.path.insert(0, str(BENCH))
    try:
        import bench_gui_lag as bench
    finally:
        sys.path.remove(str(BENCH))
    app.files.new()
    bench.build(app, 30_000)
    logging.getLogger().setLevel(logging.INFO)
    probe = bench.LagProbe(app.root)
    assert app.runs.run()
    app.bottom.select(app.log_view)
    probe.start()
    done = lambda: (app.run_state.state in ("finished", "stopped", "failed")  # noqa: E731
                    and not app.bridge.running and app.log_view.settled)
    assert pump(app.root, done, 45), app.run_state.state
    lag = bench.summary(probe.stop())
    assert app.run_state.state == "finished"
    assert lag["ticks"] > 20, lag  # the loop ran all along, it was never blocked
