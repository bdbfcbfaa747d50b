"""Run statistics: a piper's clock, paused time, and the state of pipers after stop."""
import threading

import pytest

from helpers import wait_until
from papy_engine import IMap, Piper, Plumber
from papy_engine import stats as stats_module
from papy_engine.stats import PiperStats, RunClock, snapshot

pytestmark = [pytest.mark.timeout(60)]


class FakeTime:
    def __init__(self):
        self.now = 100.0

    def monotonic(self):
        return self.now


def test_throughput_leaves_out_the_time_the_run_was_paused(monkeypatch):
    t = FakeTime()
    monkeypatch.setattr(stats_module.time, "monotonic", t.monotonic)
    clock, s = RunClock(), PiperStats()
    clock.start()
    s.begin(clock)
    s.inp = 10
    t.now += 5            # 5 s of work
    clock.pause_began()
    t.now += 100          # paused for 100 s
    clock.pause_ended()
    s.inp = 20
    t.now += 5            # 5 s more
    snap = snapshot("running", clock, {"p": s}, {})
    assert snap["pipers"]["p"]["throughput"] == pytest.approx(20 / 10)
    assert snap["elapsed_s"] == pytest.approx(110)   # wall time, pauses included
    s.end(clock, "finished")
    t.now += 50
    clock.pause_began()   # a pause after the piper ended is not its time
    t.now += 50
    assert snapshot("paused", clock, {"p": s}, {})["pipers"]["p"]["throughput"] == \
        pytest.approx(2.0)


def test_a_pipers_clock_starts_with_its_first_inbox_not_its_first_result():
    gate = threading.Event()

    def held(inbox):
        gate.wait(20)
        return inbox[0]
    p = Plumber()
    p.add_piper(Piper(held, name="held"))
    p.start([range(3)])
    p.run()
    try:   # the first inbox is being evaluated: the piper is running already
        assert wait_until(lambda: p.stats["pipers"]["held"]["state"] == "running", 10)
        assert p.stats["pipers"]["held"]["in"] == 0
    finally:
        gate.set()
    assert p.wait(10)


def test_after_stop_pipers_that_did_not_finish_say_stopped():
    gate = threading.Event()
    pool = IMap(worker_num=1, worker_type="thread")
    p = Plumber()
    src = Piper(lambda inbox: gate.wait(20) and inbox[0], name="src")
    p.add_pipe((src, Piper(lambda inbox: inbox[0], parallel=pool, name="par")))
    p.start([range(10**6)])
    p.run()
    assert wait_until(lambda: p.stats["inputs"].get("src", 0) > 0, 10)
    stopper = threading.Thread(target=p.stop)
    stopper.start()
    assert wait_until(lambda: p.state == "stopping", 10)
    gate.set()
    stopper.join(20)
    assert p.state == "stopped"
    assert {s["state"] for s in p.stats["pipers"].values()} == {"stopped"}
