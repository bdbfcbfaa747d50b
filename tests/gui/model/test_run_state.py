"""RunState: one state per node that the canvas and the table share (no display)."""
import pytest

from papy_engine.script import NodeDesc, PipelineDescription
from papy_gui.model.run_state import RunState, consume_of

pytestmark = pytest.mark.timeout(30)


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def snapshot(state, **pipers):
    return {"state": state, "elapsed_s": 1.0,
            "pipers": {n: dict({"in": 0, "out": 0, "errors": 0, "timeouts": 0, "busy_s": 0.0,
                                "throughput": 0.0}, **s) for n, s in pipers.items()}}


def test_run_state_stats_and_errors():
    rs = RunState()
    seen = []
    rs.subscribe(lambda e, d: seen.append(e))
    rs.begin([("a", "b")])
    rs.update_stats({"state": "running", "pipers": {"a": {"in": 5, "out": 5, "errors": 0},
                                                     "b": {"in": 2, "out": 1, "errors": 1}}})
    assert rs.state == "running" and rs.queued == {("a", "b"): 3}
    rs.handle_event({"event": "error", "piper": "b", "exc_type": "ValueError",
                     "message": "bad", "traceback": "Traceback...", "index": 3})
    assert rs.errors["b"]["index"] == 3 and "error" in seen
    rs.handle_event({"event": "state", "state": "finished"})
    assert rs.state == "finished" and not rs.active


def test_a_failure_is_the_first_error_of_its_node_only():
    rs = RunState()
    rs.begin()
    rs.handle_event({"event": "failure", "piper": None, "exc_type": "RuntimeError",
                     "message": "outside any piper"})
    rs.handle_event({"event": "failure", "piper": "a", "exc_type": "ValueError",
                     "message": "debug"})
    rs.handle_event({"event": "error", "piper": "a", "exc_type": "KeyError", "message": "late",
                     "traceback": "tb", "index": 9})
    assert rs.errors == {"a": {"exc_type": "ValueError", "message": "debug", "traceback": "",
                               "index": None}}
    assert rs.state == "idle"  # errors are not states


def test_items_waiting_count_a_consumer_inbox_as_consume_items():
    desc = PipelineDescription(
        nodes=[NodeDesc("sim", [], [], [], {}), NodeDesc("gather", [], [], [], {"consume": 4})],
        resources=[], edges=[("sim", "gather")], inputs_source=None, layout={}, preamble="")
    assert consume_of(desc) == {"sim": 1, "gather": 4}
    rs = RunState()
    rs.begin(desc.edges, consume_of(desc))
    # 32 items out of the scatter, 8 inboxes of 4 taken by the gather: none waiting
    rs.update_stats({"state": "finished", "pipers": {"sim": {"in": 32, "out": 32},
                                                      "gather": {"in": 8, "out": 8}}})
    assert rs.queued == {("sim", "gather"): 0}
    rs.update_stats({"state": "running", "pipers": {"sim": {"in": 30, "out": 30},
                                                     "gather": {"in": 6, "out": 6}}})
    assert rs.queued == {("sim", "gather"): 6}


def test_a_node_that_never_ran_has_no_run_state():
    rs = RunState()
    rs.set_state("running")
    rs.update_stats(snapshot("running", a={"state": "running", "in": 3}))
    assert rs.node_state("a") == "running"
    assert rs.node_state("added_later") == "idle"  # was the run's state, "running"
    rs.update_stats(snapshot("finished", a={"state": "finished", "in": 3}))
    assert rs.state == "finished"
    assert rs.node_state("added_later") == "idle"  # was "finished": painted green
    rs.reset()
    assert rs.node_state("a") == "idle" and rs.pipers == {} and rs.errors == {}


def test_after_stop_nodes_that_had_not_finished_say_stopped():
    rs = RunState()
    rs.set_state("running")
    rs.update_stats(snapshot("running", early={"state": "finished", "in": 5},
                             late={"state": "running", "in": 2}))
    rs.set_state("stopping")  # Stop pressed: early had finished already
    rs.update_stats(snapshot("stopped", early={"state": "finished", "in": 5},
                             late={"state": "finished", "in": 4}))  # drained by the stop
    assert rs.state == "stopped"
    assert rs.node_state("early") == "finished"
    assert rs.node_state("late") == "stopped"  # the engine says finished: it did not


def test_errors_do_not_change_the_state_the_views_share():
    rs = RunState()
    rs.set_state("running")
    rs.handle_event({"event": "error", "piper": "a", "exc_type": "ValueError",
                     "message": "odd", "traceback": "tb", "index": 3})
    rs.update_stats(snapshot("finished", a={"state": "finished", "in": 10, "errors": 5}))
    # the table used to say "finished" and the canvas "failed" for the same node
    assert rs.node_state("a") == "finished"
    assert rs.errors["a"]["index"] == 3
    rs2 = RunState()
    rs2.set_state("running")
    rs2.update_stats(snapshot("failed", a={"state": "running", "in": 1}))
    assert rs2.node_state("a") == "failed"


def test_items_per_second_leave_out_paused_time():
    clock = Clock()
    rs = RunState(clock)
    rs.set_state("running")
    clock.now += 10  # 10 s running, 100 items
    rs.set_state("paused")
    clock.now += 30  # 30 s paused: the engine's rate keeps falling
    rs.update_stats(snapshot("paused", a={"state": "paused", "in": 100,
                                          "throughput": 100 / 40}))
    assert rs.paused_s == pytest.approx(30)
    assert rs.throughput("a") == pytest.approx(10.0)
    rs.set_state("running")
    clock.now += 10  # 10 s more, 200 items in all
    rs.update_stats(snapshot("finished", a={"state": "finished", "in": 200,
                                            "throughput": 200 / 50}))
    assert rs.throughput("a") == pytest.approx(10.0)
    clock.now += 5
    rs.set_state("paused")  # a pause after a node ended is not its time
    clock.now += 100
    assert rs.throughput("a") == pytest.approx(10.0)
    assert rs.throughput("never") == 0.0


def test_snapshots_feed_the_throughput_history_until_the_run_ends():
    clock = Clock()
    rs = RunState(clock=clock)
    rs.begin([("a", "b")])
    for t, n in ((0, 0), (1, 10), (2, 20)):
        clock.now = 100.0 + t
        rs.update_stats(snapshot("running", a={"in": n, "state": "running"}))
    assert rs.history.rates["a"] == [10.0, 10.0]
    clock.now += 0.5
    rs.update_stats(snapshot("finished", a={"in": 22, "state": "finished"}))
    clock.now += 5
    rs.update_stats(snapshot("finished", a={"in": 22, "state": "finished"}))
    assert rs.history.rates["a"] == [10.0, 10.0, 4.0]
    rs.begin([])
    assert rs.history.rates == {}
