"""Regressions of issue 11: every input item leaves as a result or a placeholder.

Each test reproduces one way the engine used to lose items, or to look done
when it was not, found by running the original PaPy's tests and examples
against this API.
"""
import threading
from pathlib import Path

import pytest

from helpers import wait_until
from papy_engine import (DaggerError, IMap, IMapError, Piper, PiperError, Plumber,
                         PlumberError, Worker, WorkerError, is_placeholder)
from papy_engine.workers import io

pytestmark = [pytest.mark.timeout(60)]


def ident(inbox):
    return inbox[0]


def group(inbox):
    return inbox


def pair_up(inbox):
    return (inbox[0], -inbox[0])


def run(plumber, *datas, timeout=30):
    plumber.start(list(datas))
    plumber.run()
    assert plumber.wait(timeout)
    return plumber


# -- consume with a stride that is not a multiple of it --------------------------
@pytest.mark.parametrize("where", ["imap", "plumber", "thread-imap"])
def test_consume_with_an_odd_stride_keeps_every_item(where):
    if where == "plumber":
        p, g = Plumber(stride=3), Piper(group, consume=2, track=True)
    else:
        kind = "thread" if where == "thread-imap" else "process"
        p, g = Plumber(), Piper(group, consume=2, track=True,
                                parallel=IMap(worker_num=2, worker_type=kind, stride=3))
    p.add_piper(g)
    run(p, range(8))
    assert p.state == "finished"
    assert p.results["group"] == [([0, 1],), ([2, 3],), ([4, 5],), ([6, 7],)]
    assert p.stats["pipers"]["group"]["in"] == 4


@pytest.mark.parametrize("stride", [1, 3, 5, 7])
def test_produce_spawn_consume_chain_loses_no_sub_item(stride):
    imap = IMap(worker_num=2, worker_type="thread", stride=stride)
    make = Piper(pair_up, produce=2, parallel=imap)
    each = Piper(ident, spawn=2, parallel=imap)
    back = Piper(group, consume=2, track=True)
    p = Plumber()
    p.add_pipe((make, each, back))
    run(p, range(11))
    assert p.results["group"] == [([x, -x],) for x in range(11)]


def test_an_input_that_ends_early_gives_indexed_missing_input_errors():
    a, b = Piper(ident, name="a"), Piper(ident, name="b")
    j = Piper(group, name="j", track=True)
    p = Plumber()
    p.add_pipe((a, j))
    p.add_pipe((b, j))
    run(p, range(4), range(2))
    out = p.results["j"]
    assert out[:2] == [(0, 0), (1, 1)]
    assert [(e.exc_type, e.piper, e.index) for e in out[2:]] == \
        [("MissingInput", "j", 2), ("MissingInput", "j", 3)]
    assert p.stats["pipers"]["j"]["errors"] == 2


def test_produce_error_names_its_item():
    def three(inbox):
        return [1, 2, 3] if inbox[0] != 1 else [1]
    t = Piper(three, produce=3, track=True, parallel=IMap(worker_num=1, ordered=False))
    p = Plumber()
    p.add_piper(t)
    run(p, range(3))
    bad = [r for r in p.results["three"] if is_placeholder(r)]
    assert len(bad) == 3 and all(e is bad[0] or e == bad[0] for e in bad)
    assert (bad[0].exc_type, bad[0].index) == ("ProduceError", 1)
    assert p.stats["pipers"]["three"]["errors"] == 1


# -- direct transfer between pipers on separate pools ---------------------------
def _render(inbox):
    return bytes(range(256)) * (inbox[0] + 1)


def _size(inbox):
    return len(inbox[0])


@pytest.mark.parametrize("transport", ["file", "shm", "tcp"])
def test_dumped_items_outlive_the_pool_that_made_them(transport, tmp_path):
    up = Piper(Worker((_render, io.dump_item), kwargs=({}, {"type": transport,
                                                            "dir": str(tmp_path)})),
               parallel=IMap(worker_num=2), name="up")
    down = Piper(Worker((io.load_item, _size)), parallel=IMap(worker_num=2), name="down",
                 track=True)
    p = Plumber()
    p.add_pipe((up, down))
    run(p, range(40))
    assert p.results["down"] == [256 * (i + 1) for i in range(40)]
    assert not list(tmp_path.iterdir())   # every item was freed once loaded


# -- a few slow items run in parallel --------------------------------------------
def _meet(x, where, parties=2, deadline=20.0):
    """Say this item started, then wait (bounded) until `parties` items have."""
    import time
    Path(where, f"started-{x}").touch()
    end = time.monotonic() + deadline
    while len(list(Path(where).glob("started-*"))) < parties:
        if time.monotonic() > end:
            return "alone"
        time.sleep(0.005)
    return "together"


@pytest.mark.parametrize("kind", ["process", "thread"])
def test_the_first_slow_items_spread_over_idle_workers(kind, tmp_path):
    # Each item waits until two items have started: run on one worker, the
    # first item would wait alone until its deadline.
    with IMap(worker_num=2, worker_type=kind) as m:
        m.add_task(_meet, range(2), kwargs={"where": str(tmp_path)})
        assert list(m) == ["together", "together"]


def _release_on_file(inbox):
    import time
    x, where = inbox[0]
    if x == 0:  # the first item finishes last: only once the test says so
        end = time.monotonic() + 20
        while not Path(where, "release").exists() and time.monotonic() < end:
            time.sleep(0.005)
    return x


def test_unordered_results_leave_in_completion_order(tmp_path):
    fast_first = Piper(_release_on_file, parallel=IMap(worker_num=2), ordered=False,
                       track=True, name="f")
    p = Plumber()
    p.add_piper(fast_first)
    p.start([[(i, str(tmp_path)) for i in range(2)]])
    p.run()
    try:   # item 1 leaves while item 0 is still running
        assert wait_until(lambda: p.results["f"], 20) == [1]
    finally:
        (tmp_path / "release").touch()
    assert p.wait(20)
    assert p.results["f"] == [1, 0]


# -- standalone IMap: stop, skip, errors ----------------------------------------
def test_next_after_stop_raises_and_never_looks_exhausted():
    m = IMap(abs, range(10**6), worker_num=1, worker_type="thread")
    assert m.next() == 0
    m.stop()
    with pytest.raises(IMapError):
        m.next()
    with pytest.raises(IMapError):
        list(m)


def test_skip_drops_only_the_result_that_timed_out():
    gate = threading.Event()

    def held(x):
        if x == 1:
            gate.wait(20)
        return x
    with IMap(held, range(4), worker_num=1, worker_type="thread", skip=True) as m:
        assert m.next(timeout=10) == 0
        with pytest.raises(TimeoutError):
            m.next(timeout=0.2)
        gate.set()
        assert [m.next(timeout=10) for _ in range(2)] == [2, 3]   # 1 never comes back
        with pytest.raises(StopIteration):
            m.next(timeout=10)


def test_without_skip_a_late_result_comes_later():
    gate = threading.Event()
    with IMap(lambda x: gate.wait(20) and x, [5, 6], worker_num=1,
              worker_type="thread") as m:
        with pytest.raises(TimeoutError):
            m.next(timeout=0.2)
        gate.set()
        assert list(m) == [5, 6]


# -- Plumber and Dagger use -------------------------------------------------------
def test_wait_before_run_raises_instead_of_blocking():
    p = Plumber()
    p.add_piper(Piper(ident))
    with pytest.raises(PlumberError, match="run"):
        p.wait(5)
    p.start([range(3)])
    with pytest.raises(PlumberError, match="run"):
        p.wait(5)
    p.stop()


@pytest.mark.parametrize("kind", ["process", "thread"])
def test_an_imap_serves_a_new_pipeline_after_one_finished(kind):
    pool = IMap(worker_num=2, worker_type=kind)
    first = Plumber()
    first.add_piper(Piper(ident, parallel=pool, track=True))
    run(first, range(50))
    second = Plumber()
    second.add_piper(Piper(group, parallel=pool, track=True))
    run(second, range(5))
    assert first.results["ident"] == list(range(50))
    assert second.results["group"] == [(x,) for x in range(5)]


def test_an_imap_serves_a_new_pipeline_after_one_was_stopped():
    pool = IMap(worker_num=2, worker_type="thread")
    gate = threading.Event()
    held = Plumber()
    held.add_piper(Piper(lambda inbox: gate.wait(20) and inbox[0], name="held"))
    held.add_pipe((held.get_piper("held"), Piper(ident, parallel=pool)))
    held.start([range(10**6)])
    held.run()
    assert wait_until(lambda: held.stats["inputs"].get("held", 0) > 0, 10)
    stopper = threading.Thread(target=held.stop)
    stopper.start()
    assert wait_until(lambda: held.state == "stopping", 10)
    gate.set()
    stopper.join(20)
    assert held.state == "stopped"
    again = Plumber()
    again.add_piper(Piper(ident, parallel=pool, track=True))
    run(again, range(3))
    assert again.results["ident"] == [0, 1, 2]


def test_a_finished_plumber_is_edited_and_started_again():
    a, b, c = Piper(ident, name="a"), Piper(ident, name="b"), Piper(group, name="c",
                                                                     track=True)
    p = Plumber()
    p.add_pipe((a, b))
    run(p, range(3))
    p.del_pipe((a, b))
    p.del_piper(b)
    p.add_pipe((a, c))
    run(p, range(4))
    assert p.results == {"c": [(x,) for x in range(4)]}
    assert p.stats["pipers"]["c"]["in"] == 4 and "b" not in p.stats["pipers"]


def test_edits_during_a_run_are_refused():
    gate = threading.Event()
    a = Piper(lambda inbox: gate.wait(20) and inbox[0], name="a")
    p = Plumber()
    p.add_piper(a)
    p.start([range(3)])
    p.run()
    try:
        with pytest.raises(PlumberError, match="running"):
            p.add_pipe((a, Piper(ident)))
        with pytest.raises(PlumberError, match="running"):
            p.del_piper(a)
    finally:
        gate.set()
    assert p.wait(10)


def test_del_piper_with_downstream_pipers_needs_forced():
    a, b = Piper(ident, name="a"), Piper(ident, name="b")
    d = Plumber()
    d.add_pipe((a, b))
    with pytest.raises(DaggerError, match="'b'"):
        d.del_piper(a)
    d.del_piper(a, forced=True)
    assert d.pipers == [b] and d.pipes() == []


def test_add_piper_makes_pipers_and_del_pipers_del_pipes_exist():
    d = Plumber()
    made = d.add_piper(ident)
    worker = d.add_piper(Worker(group))
    assert isinstance(made, Piper) and isinstance(worker, Piper)
    d.add_pipe((made, worker))
    d.del_pipes([(made, worker)])
    assert d.pipes() == []
    d.add_pipe((made, worker))
    d.del_pipers([made, worker])       # downstream first: no forced needed
    assert len(d) == 0


@pytest.mark.parametrize("bad", [42, None, "f", [1, 2]])
def test_piper_of_a_non_callable_names_what_it_got(bad):
    with pytest.raises(PiperError, match=repr(bad).replace("[", r"\[")):
        Piper(bad)


def test_worker_error_in_a_pipeline_stays_a_placeholder():
    def boom(inbox):
        raise ValueError(inbox[0])
    p = Plumber()
    p.add_piper(Piper(boom, parallel=IMap(worker_num=1), track=True))
    run(p, range(2))
    assert all(isinstance(r, WorkerError) for r in p.results["boom"])


class DropsTheLast(Worker):
    """A Worker that loses an item, as the fast path did on StopIteration."""

    def map(self, items, boxed=False, progress=None):
        return super().map(items, boxed, progress)[:-1]


@pytest.mark.parametrize("kind", [None, "thread", "process"])
def test_a_chunk_that_comes_back_short_fails_the_run_instead_of_finishing(kind):
    """Whatever loses an item in evaluation, the run cannot end "finished":
    every chunk must give one result per item, or the run fails and says so."""
    pool = False if kind is None else IMap(worker_num=1, worker_type=kind)
    p = Plumber()
    p.add_piper(Piper(DropsTheLast(ident), parallel=pool, name="lossy", track=True))
    p.start([range(20)])
    p.run()
    try:
        p.wait(30)
    except Exception as exc:   # the serial piper's error is raised from wait()
        assert "engine error: piper lossy gave" in str(exc)
    assert p.state == "failed"


def test_a_function_raising_stop_iteration_loses_no_item():
    """StopIteration from a node function became the end of its chunk: a
    pipeline lost the rest of the chunk and still finished."""
    def stop_on_3(inbox):
        if inbox[0] % 10 == 3:
            raise StopIteration(inbox[0])
        return inbox[0]
    for pool in (False, IMap(worker_num=2)):
        p = run(_two_step(stop_on_3, pool), range(500))
        out = p.results["sink"]
        assert p.state == "finished" and len(out) == 500
        assert [x for x, r in zip(range(500), out) if is_placeholder(r)] == \
            [x for x in range(500) if x % 10 == 3]
        assert p.stats["pipers"]["stop_on_3"]["errors"] == 50


def _two_step(f, pool):
    p = Plumber()
    p.add_pipe([Piper(f, parallel=pool), Piper(ident, name="sink", track=True)])
    return p


@pytest.mark.parametrize("kind", [None, "thread", "process"])
def test_items_nobody_loaded_are_freed_when_the_run_ends(kind, tmp_path):
    par = IMap(worker_num=2, worker_type=kind) if kind else False
    dump = Piper(Worker((_render, io.dump_item), kwargs=({}, {"dir": str(tmp_path)})),
                 parallel=par, track=True)
    p = Plumber()
    p.add_piper(dump)
    run(p, range(5))
    assert [loc.size > 0 for loc in p.results[dump.name]] == [True] * 5
    assert not list(tmp_path.iterdir())   # well before the 60 s producer timeout
