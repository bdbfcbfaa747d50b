"""RunBridge driven by hand with a fake Plumber (no display, no engine)."""
import logging
import threading
import time

import pytest

from papy_gui.bridge import RunBridge
from papy_gui.model.run_state import RunState

pytestmark = pytest.mark.timeout(30)


class FakePlumber:
    """Runs until released; counts how often its stats are read."""

    def __init__(self):
        self.listeners = []
        self.stats_reads = 0
        self.release = threading.Event()
        self.state = "idle"
        self.stopped = threading.Event()

    def add_listener(self, fn):
        self.listeners.append(fn)

    def start(self, datas):
        pass

    def run(self):
        self.state = "running"
        for fn in self.listeners:
            fn({"event": "state", "state": "running"})

    def wait(self):
        self.release.wait(20)
        self.state = "stopped" if self.stopped.is_set() else "finished"
        for fn in self.listeners:
            fn({"event": "state", "state": self.state})

    def stop(self):
        self.stopped.set()
        self.release.set()

    @property
    def stats(self):
        self.stats_reads += 1
        return {"state": self.state, "elapsed_s": 0.1,
                "pipers": {"a": {"in": 1, "out": 1, "errors": 0, "timeouts": 0,
                                 "busy_s": 0.0, "throughput": 1.0, "state": self.state}}}


class Desc:
    edges: list = []
    nodes: list = []


def poll_until(bridge, cond, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not cond():
        bridge.poll()
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)  # the fake's threads need the GIL between polls
    return True


def test_detach_stops_polling_the_old_run_and_drops_its_events(monkeypatch):
    monkeypatch.setattr("papy_gui.bridge.STATS_PERIOD", 0.0)  # every poll reads stats
    fake = FakePlumber()
    rs = RunState()
    bridge = RunBridge(rs, builder=lambda desc, ns: fake)
    bridge.start(Desc(), [], {})
    assert poll_until(bridge, lambda: rs.state == "running" and bridge.plumber is fake)
    assert poll_until(bridge, lambda: "a" in rs.pipers)
    bridge.detach()  # a new document
    assert rs.state == "idle" and rs.pipers == {}
    assert fake.stopped.wait(10)  # the old run is stopped, off this thread
    assert bridge.wait_idle(10)
    reads = fake.stats_reads
    for _ in range(5):
        bridge.poll()
    assert fake.stats_reads == reads
    # its late "stopped" event did not paint the new document
    assert rs.state == "idle" and rs.pipers == {}


def test_a_run_finishes_and_its_stats_reach_the_run_state():
    fake = FakePlumber()
    rs = RunState()
    bridge = RunBridge(rs, builder=lambda desc, ns: fake)
    bridge.start(Desc(), [], {})
    assert poll_until(bridge, lambda: bridge.plumber is fake)
    fake.release.set()
    assert poll_until(bridge, lambda: rs.state == "finished")
    assert rs.node_state("a") == "finished"
    assert bridge.wait_idle(10)


def test_a_pipeline_that_cannot_be_built_ends_the_run_as_failed():
    def builder(desc, ns):
        raise NameError("name 'helper' is not defined")
    rs = RunState()
    bridge = RunBridge(rs, builder=builder)
    bridge.start(Desc(), [], {})
    assert rs.state == "building" and bridge.running
    assert poll_until(bridge, lambda: rs.state == "failed")
    assert rs.message == "NameError: name 'helper' is not defined"
    assert bridge.wait_idle(10) and not bridge.running and bridge.plumber is None


def test_a_failed_pause_is_logged_and_the_run_goes_on(caplog):
    fake = FakePlumber()

    def refuse():
        raise RuntimeError("not now")
    fake.pause = refuse
    rs = RunState()
    bridge = RunBridge(rs, builder=lambda desc, ns: fake)
    bridge.start(Desc(), [], {})
    assert poll_until(bridge, lambda: rs.state == "running" and bridge.plumber is fake)
    with caplog.at_level(logging.WARNING, logger="papy_gui.bridge"):
        bridge.pause()
        assert poll_until(bridge, lambda: any("pause failed: not now" in r.getMessage()
                                              and r.levelno == logging.WARNING
                                              for r in caplog.records))
    assert rs.state == "running"
    fake.release.set()
    assert poll_until(bridge, lambda: rs.state == "finished")
    assert bridge.wait_idle(10)
