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

    def start(self, datas, capture_output=False, sinks=None):
        self.capture_output, self.sinks, self.datas = capture_output, sinks, datas

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


class Results:
    """A ResultsTarget that records what the runner thread did with it."""

    def __init__(self, todo=("skipped",)):
        self.opened_with = None
        self.closed_with = []
        self.todo = todo

    def open(self, plumber, datas):
        self.opened_with = (plumber, datas)
        todo = None if self.todo is None else [list(self.todo)]
        return todo, {"a": lambda first, results, first_eval: None}

    def close(self, plumber):
        self.closed_with.append(plumber)
        return "results in /somewhere (a.jsonl)"


def test_runs_capture_output_and_stream_results_where_asked():
    fake = FakePlumber()
    rs = RunState()
    bridge = RunBridge(rs, builder=lambda desc, ns: fake)
    results = Results()
    bridge.results = lambda: results
    bridge.start(Desc(), [range(3)], {})
    assert poll_until(bridge, lambda: bridge.plumber is fake and rs.state == "running")
    assert fake.capture_output is True and list(fake.sinks) == ["a"]
    assert results.opened_with == (fake, [range(3)]) and bridge.data.source is fake
    assert fake.datas == [["skipped"]]  # the inputs the target gave (a resume skips items)
    for fn in fake.listeners:  # what node functions print, from an engine thread
        fn({"event": "output", "piper": "a", "text": "hello\nhalf a line"})
    fake.release.set()
    assert poll_until(bridge, lambda: rs.state == "finished")
    assert results.closed_with == [fake] and rs.message == "results in /somewhere (a.jsonl)"
    assert [t for _, _, t in bridge.data.output.lines] == ["hello", "half a line"]
    assert bridge.wait_idle(10)
    bridge.detach()  # a new document: the run's data goes with it
    assert bridge.data.source is None and not bridge.data.output.lines


class Unwritable(Results):
    """A results folder that cannot be opened."""

    def open(self, plumber, datas):
        raise PermissionError("/results is read-only")


def test_results_that_cannot_be_opened_fail_the_run_before_it_starts(monkeypatch):
    monkeypatch.setattr("papy_gui.bridge.STATS_PERIOD", 0.0)  # every poll would read stats
    fake = FakePlumber()
    rs = RunState()
    bridge = RunBridge(rs, builder=lambda desc, ns: fake)
    bridge.start(Desc(), [], {}, results=Unwritable())
    assert poll_until(bridge, lambda: rs.state == "failed")
    assert rs.message == "PermissionError: /results is read-only"
    assert fake.state == "idle"  # never started...
    assert bridge.wait_idle(10)
    for _ in range(5):
        bridge.poll()
    assert rs.state == "failed" and fake.stats_reads == 0  # ...so never polled into "idle"


def test_a_failed_open_leaves_the_folder_resumable_and_nothing_to_do_finishes_at_once():
    fake = FakePlumber()
    rs = RunState()
    bridge = RunBridge(rs, builder=lambda desc, ns: fake)
    unwritable = Unwritable()
    bridge.start(Desc(), [], {}, results=unwritable)
    assert poll_until(bridge, lambda: rs.state == "failed")
    assert unwritable.closed_with == [None]  # abandoned: no end record, resumable
    assert bridge.wait_idle(10)
    done = Results(todo=None)  # a resumed run that had finished
    bridge.start(Desc(), [range(3)], {}, results=done)
    assert poll_until(bridge, lambda: rs.state == "finished")
    assert done.closed_with == [None] and fake.state == "idle"  # never started
    assert rs.message == "results in /somewhere (a.jsonl)"
    assert bridge.wait_idle(10)


def test_a_refused_run_changes_nothing():
    from papy_gui.bridge import RunRefused
    rs = RunState()
    bridge = RunBridge(rs, builder=lambda desc, ns: FakePlumber())

    def refuse():
        raise RunRefused("no")
    bridge.results = refuse
    with pytest.raises(RunRefused):
        bridge.start(Desc(), [], {})
    assert rs.state == "idle" and not bridge.running
