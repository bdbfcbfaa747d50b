"""Plumber: run control, states, statistics, results, listeners, graph shapes."""
import itertools
import threading
import time

import pytest

from helpers import wait_until
from papy_engine import (IMap, Piper, PiperError, Plumber, PlumberError, WorkerError,
                         is_placeholder)

pytestmark = [pytest.mark.timeout(60)]


def inc(inbox):
    return inbox[0] + 1


def dbl(inbox):
    return inbox[0] * 2


def add(inbox):
    return inbox[0] + inbox[1]


def pair(inbox):
    return inbox


def slow(inbox):
    time.sleep(0.005)
    return inbox[0]


def odd_fails(inbox):
    if inbox[0] % 2:
        raise ValueError(f"odd {inbox[0]}")
    return inbox[0]


def run(plumber, *datas, timeout=30):
    plumber.start(list(datas))
    plumber.run()
    assert plumber.wait(timeout)
    return plumber


@pytest.mark.parametrize("kind", [None, "thread", "process"])
def test_chain_serial_thread_process(kind):
    par = IMap(worker_num=2, worker_type=kind) if kind else False
    a, b = Piper(inc, parallel=par), Piper(dbl, parallel=par, track=True)
    p = Plumber()
    p.add_pipe((a, b))
    run(p, range(1000))
    assert p.state == "finished"
    assert p.results == {"dbl": [(x + 1) * 2 for x in range(1000)]}


def test_fan_out_and_fan_in_with_branches_order_the_inbox():
    imap = IMap(worker_num=2)
    src = Piper(inc, parallel=imap)
    left = Piper(dbl, parallel=imap, branch="b")
    right = Piper(inc, branch="a")
    join = Piper(pair, track=True)
    p = Plumber()
    p.add_pipe((src, left, join))
    p.add_pipe((src, right, join))
    run(p, range(100))
    # branch "a" (right) comes before branch "b" (left) in the inbox
    assert p.results["pair"] == [(x + 2, (x + 1) * 2) for x in range(100)]


def test_two_inputs_in_get_inputs_order():
    a, b = Piper(inc, name="a"), Piper(dbl, name="b")
    j = Piper(add, track=True)
    p = Plumber()
    p.add_pipe((a, j))
    p.add_pipe((b, j))
    assert p.get_inputs() == [a, b]
    run(p, range(10), range(100, 110))
    assert p.results["add"] == [(x + 1) + (y * 2) for x, y in zip(range(10), range(100, 110))]


@pytest.mark.parametrize("stride", [-1, 0, 2.5, "x", True])
def test_a_bad_stride_is_refused_when_it_is_set(stride):
    # It was taken, and the run then failed deep inside the engine (islice).
    with pytest.raises(PlumberError, match="stride must be an int >= 1 or None"):
        Plumber(stride=stride)
    p = Plumber()
    with pytest.raises(PlumberError, match="stride must be an int >= 1 or None"):
        p.stride = stride
    assert p.stride is None


def test_wrong_number_of_inputs_is_refused():
    p = Plumber()
    p.add_piper(Piper(inc))
    with pytest.raises(PlumberError, match="expected 1 .*got 2"):
        p.start([[1], [2]])


def test_produce_spawn_consume_scatter_gather():
    def split(inbox):
        return [inbox[0], inbox[0] + 0.5, inbox[0] + 0.25]
    imap = IMap(worker_num=2)
    a = Piper(split, produce=3)
    b = Piper(dbl, spawn=3, parallel=imap)
    c = Piper(lambda inbox: sum(inbox[0]), consume=3, name="gather", track=True)
    p = Plumber()
    p.add_pipe((a, b, c))
    run(p, range(50))
    assert p.results["gather"] == [2 * (3 * x + 0.75) for x in range(50)]
    st = p.stats["pipers"]
    assert (st["split"]["in"], st["split"]["out"]) == (50, 150)
    assert (st["dbl"]["in"], st["gather"]["in"]) == (150, 50)


def test_repeat_emits_the_result_n_times():
    a = Piper(inc, produce=2, repeat=True, track=True)
    b = Piper(pair, spawn=2, track=True)
    p = Plumber()
    p.add_pipe((a, b))
    run(p, [1, 2])
    assert p.results["inc"] == [2, 2, 3, 3]


def test_produce_with_wrong_length_gives_placeholders():
    a = Piper(lambda inbox: [1], produce=2, name="short", track=True)
    b = Piper(pair, consume=2)
    p = Plumber()
    p.add_pipe((a, b))
    run(p, [1])
    assert all(isinstance(r, PiperError) for r in p.results["short"])
    assert p.stats["pipers"]["short"]["errors"] == 1


def test_unordered_piper_returns_every_item():
    imap = IMap(worker_num=2, stride=8)
    a = Piper(slow, parallel=imap, ordered=False, track=True)
    p = Plumber()
    p.add_piper(a)
    run(p, range(60))
    assert sorted(p.results["slow"]) == list(range(60))


def test_errors_flow_downstream_and_are_counted_where_made():
    imap = IMap(worker_num=2)
    a = Piper(odd_fails, parallel=imap)
    b = Piper(inc, parallel=imap, track=True)
    events = []
    p = Plumber()
    p.add_pipe((a, b))
    p.add_listener(events.append)
    run(p, range(10))
    res = p.results["inc"]
    assert [r for r in res if not is_placeholder(r)] == [1, 3, 5, 7, 9]
    errs = [r for r in res if is_placeholder(r)]
    assert [e.index for e in errs] == [1, 3, 5, 7, 9]
    assert all(e.piper == "odd_fails" and e.exc_type == "ValueError" for e in errs)
    st = p.stats["pipers"]
    assert st["odd_fails"]["errors"] == 5 and st["inc"]["errors"] == 0
    assert st["inc"]["out"] == 10
    assert sorted(e["index"] for e in events if e["event"] == "error") == [1, 3, 5, 7, 9]
    states = [e["state"] for e in events if e["event"] == "state"]
    assert states == ["running", "finished"]


def test_placeholders_are_logged_once_with_piper_and_index(caplog):
    p = Plumber()
    p.add_piper(Piper(odd_fails, parallel=IMap(worker_num=2)))
    with caplog.at_level("ERROR", logger="papy_engine"):
        run(p, range(4))
    lines = [r.getMessage() for r in caplog.records if "placeholder" in r.getMessage()]
    assert len(lines) == 2   # items run in parallel: either may fail first
    assert all("odd_fails" in line for line in lines)
    assert sorted("item 1" in line for line in lines) == [False, True]


def test_debug_raises_from_wait_and_fails():
    p = Plumber()
    p.add_piper(Piper(odd_fails, parallel=IMap(worker_num=2), debug=True))
    p.start([range(10)])
    p.run()
    with pytest.raises(WorkerError, match=r"odd \d+") as info:
        p.wait(30)  # whichever worker fails first: both run in parallel
    assert p.state == "failed"
    assert info.value.exc_type == "ValueError" and info.value.index % 2 == 1


def test_serial_debug_raises_original_exception():
    p = Plumber()
    p.add_piper(Piper(odd_fails, debug=True))
    p.start([range(10)])
    p.run()
    with pytest.raises(ValueError, match="odd 1"):
        p.wait(30)


def test_stats_snapshot_shape():
    p = Plumber()
    p.add_piper(Piper(inc))
    run(p, range(5))
    s = p.stats
    assert set(s) >= {"state", "started_at", "elapsed_s", "pipers"}
    assert set(s["pipers"]["inc"]) == {"in", "out", "errors", "timeouts", "busy_s",
                                       "throughput", "state"}
    assert s["pipers"]["inc"]["state"] == "finished" and s["state"] == "finished"
    assert abs(s["started_at"] - time.time()) < 60


def test_pause_resume_stop_lose_nothing():
    imap = IMap(worker_num=2, stride=4)
    a = Piper(slow, parallel=imap)
    b = Piper(inc, track=True)
    p = Plumber()
    p.add_pipe((a, b))
    p.start([range(100_000)])
    p.run()
    assert wait_until(lambda: p.stats["pipers"]["inc"]["out"] >= 20)
    p.pause()
    assert p.state == "paused"
    frozen = p.stats
    assert frozen["pipers"]["slow"]["state"] == "paused"
    pulled = frozen["inputs"]["slow"]
    p.resume()
    assert p.state == "running"
    assert wait_until(lambda: p.stats["inputs"]["slow"] > pulled)
    p.stop()
    assert p.state == "stopped"
    pulled = p.stats["inputs"]["slow"]
    # every pulled item came out, in order
    assert p.results["inc"] == [x + 1 for x in range(pulled)]
    assert p.stats["pipers"]["slow"]["in"] == pulled


def test_pause_holds_items_and_pulls_nothing_new():
    imap = IMap(worker_num=2, stride=2)
    p = Plumber()
    p.add_piper(Piper(slow, parallel=imap, track=True))
    p.start([range(100_000)])
    p.run()
    assert wait_until(lambda: p.stats["pipers"]["slow"]["in"] >= 10)
    p.pause()
    n_in, n_pulled = p.stats["pipers"]["slow"]["in"], p.stats["inputs"]["slow"]
    time.sleep(0.1)  # nothing to wait for: checking that nothing moves
    assert p.stats["pipers"]["slow"]["in"] == n_in
    assert p.stats["inputs"]["slow"] == n_pulled
    p.stop()
    assert p.state == "stopped"


def test_stop_from_idle_and_wrong_state_calls():
    p = Plumber()
    p.add_piper(Piper(inc, parallel=IMap(worker_num=1)))
    with pytest.raises(PlumberError, match="start"):
        p.run()
    p.start([range(3)])
    with pytest.raises(PlumberError, match="running"):
        p.pause()
    p.stop()
    assert p.state == "stopped"
    with pytest.raises(PlumberError, match="idle"):
        p.run()           # a stopped pipeline is started again before it runs


def test_listener_errors_do_not_break_the_run():
    def bad_listener(event):
        raise RuntimeError("listener bug")
    p = Plumber()
    p.add_piper(Piper(inc, track=True))
    p.add_listener(bad_listener)
    run(p, range(3))
    assert p.results["inc"] == [1, 2, 3]


def test_stats_is_thread_safe_while_running():
    imap = IMap(worker_num=2)
    p = Plumber()
    p.add_pipe((Piper(inc, parallel=imap), Piper(dbl, parallel=imap)))
    p.start([range(200_000)])
    p.run()
    seen = []
    while p.state == "running":
        seen.append(p.stats["pipers"]["dbl"]["out"])
    p.wait(30)
    assert seen == sorted(seen)  # counters only grow
    assert p.stats["pipers"]["dbl"]["out"] == 200_000


def test_input_generator_raising_fails_the_run():
    def source():
        yield 1
        raise OSError("input gone")
    p = Plumber()
    p.add_piper(Piper(inc, parallel=IMap(worker_num=1)))
    events = []
    p.add_listener(events.append)
    p.start([source()])
    p.run()
    assert p.wait(30) is True  # an engine failure: wait() returns, the state says why
    assert p.state == "failed"
    assert isinstance(p.error, OSError) and "input gone" in str(p.error)
    assert [e for e in events if e["event"] == "failure"][0]["exc_type"] == "OSError"


def ident(inbox):
    return inbox[0]


def pair(inbox):
    return inbox


@pytest.mark.parametrize("parallel", [False, True], ids=["serial", "process pool"])
def test_the_items_an_input_gave_before_it_raised_go_through_then_the_run_fails(parallel):
    # They were dropped with the batch being pulled: 0 out, "failed", and the
    # failure was said to be at the sink rather than at the input's piper.
    def source():
        for i in range(5000):
            if i == 1234:
                raise ZeroDivisionError("division by zero")
            yield i
    pool = IMap(worker_num=2) if parallel else False
    p = Plumber()
    p.add_pipe((Piper(inc, parallel=pool, name="first"), Piper(ident, name="sink", track=True)))
    events = []
    p.add_listener(lambda e: events.append(e) if e["event"] == "failure" else None)
    p.start([source()])
    p.run()
    assert p.wait(30) and p.state == "failed"
    assert isinstance(p.error, ZeroDivisionError)
    assert p.results["sink"] == [i + 1 for i in range(1234)]
    assert [(e["piper"], e["exc_type"]) for e in events] == [("first", "ZeroDivisionError")]
    assert p.stats["pipers"]["sink"]["out"] == 1234


def test_an_input_that_raises_ends_the_other_inputs_as_stop_does():
    def source():
        yield from range(3)
        raise OSError("input gone")
    p = Plumber()
    a, b = Piper(ident, name="a"), Piper(ident, name="b")
    join = Piper(pair, name="join", track=True)
    p.add_pipe((a, join))
    p.add_pipe((b, join))
    p.start([source(), itertools.count()] if p.get_inputs()[0] is a
            else [itertools.count(), source()])
    p.run()
    assert p.wait(30) and p.state == "failed" and isinstance(p.error, OSError)
    out = p.results["join"]   # the endless input ended too: the run is over
    assert len(out) >= 3      # a's three items, each with b's or a MissingInput
    for k, r in enumerate(out):
        assert r == (k, k) or (is_placeholder(r) and r.exc_type == "MissingInput"), (k, r)


def slow10ms(inbox):
    time.sleep(0.01)
    return inbox[0]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("downstream", ["serial", "another pool"])
def test_a_slow_piper_holds_back_a_fast_parallel_one_before_it(downstream):
    # The fast piper ran 16,000 items ahead of the slow one, all of which
    # stop() then had to wait for: minutes (pause() too).
    pulled = []

    def endless():
        for i in itertools.count():
            pulled.append(i)
            yield i
    slow = Piper(slow10ms, name="slow", track=True,
                 parallel=IMap(worker_num=2) if downstream == "another pool" else False)
    p = Plumber()
    p.add_pipe((Piper(ident, parallel=IMap(worker_num=2), name="fast"), slow))
    p.start([endless()])
    p.run()
    assert wait_until(lambda: p.stats["pipers"]["slow"]["out"] >= 30, 30)
    p.stop()
    assert p.state == "stopped"
    # about 0.5 s of the slow piper's work in flight (50-100 items), not 16,000
    assert len(pulled) < 2000, len(pulled)
    assert p.results["slow"] == list(range(len(pulled)))   # every pulled item left


def fast_then_slow(inbox):
    if inbox[0] >= 8:
        time.sleep(0.2)
    return inbox[0]


def test_fast_first_items_do_not_license_pulling_everything():
    # Stop lets every pulled item finish, so the pipeline must not pull a huge
    # batch on the strength of a few fast first items.
    imap = IMap(worker_num=2)
    p = Plumber()
    p.add_piper(Piper(fast_then_slow, parallel=imap, track=True))
    p.start([range(10_000)])
    p.run()
    assert wait_until(lambda: p.stats["pipers"]["fast_then_slow"]["in"] >= 8)
    p.stop()
    pulled = p.stats["inputs"]["fast_then_slow"]
    assert pulled < 200, pulled
    assert len(p.results["fast_then_slow"]) == pulled
