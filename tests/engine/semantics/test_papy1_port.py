"""The original PaPy's tests/test_core.py, ported to this API (issue 11).

Each test names the PaPy test it comes from and asserts our documented
semantics, which differ on purpose in a few places: the consume inbox is a
tuple with one list per pipe; produce emits one result's sub-items together
(not interleaved across a stride); placeholders are not nested per piper;
Worker equality is identity; a Piper is run by a Plumber, not iterated.
Tests of PaPy internals (_Chain, connect/start stages, tee locks) have no
counterpart and are left out.
"""
import itertools
import time

import pytest

from helpers import wait_until
from papy_engine import (Dagger, DaggerError, IMap, Piper, PiperError, Plumber,
                         PlumberError, Worker, WorkerError)
from papy_engine.workers.core import ipasser, npasser

pytestmark = [pytest.mark.timeout(120)]


def power2(i):
    return i[0] * i[0]


def power(i, n):
    return i[0] ** n


def mul2(i):
    return 2 * i[0]


def mul_m_min_n(inbox, m, n):
    return inbox[0] * m - n


def sumof2(i):
    return i[0] + i[1]


def sum_group(i):           # PaPy's sum2 / join_sum2: consume=2 gives ([a, b],)
    return i[0][0] + i[0][1]


def power2_make2(i):
    return (i[0] * i[0],) * 2


def sleeper(i):
    time.sleep(i[0])
    return i[0]


def pools(kind="thread", n=2, **kw):
    return IMap(worker_num=n, worker_type=kind, **kw)


def run(plumber, *datas, timeout=30):
    plumber.start([list(d) for d in datas])
    plumber.run()
    assert plumber.wait(timeout), plumber.state
    return plumber


def chain(*pipers, datas, stride=None, out=-1):
    """Run the chain of pipers on ``datas``; the results of piper ``out`` (index)."""
    p = Plumber(stride=stride)
    if len(pipers) == 1:
        p.add_piper(pipers[0])
    else:
        p.add_pipe(pipers)
    run(p, *datas)
    return p.results[pipers[out].name]


# -- test_Worker ---------------------------------------------------------------

def test_worker_single_chain_nested_args_kwargs():
    assert Worker(power2)((2,)) == 4 and Worker((power2,))((2,)) == 4
    assert Worker((mul2, power2))((3,)) == 36 and Worker((power2, mul2))((3,)) == 18
    assert Worker(power2)((Worker(mul2)((3,)),)) == 36
    assert Worker(power, (2,))((2,)) == 4 and Worker(power, (1,))((2,)) == 2
    assert Worker((power, power), ((2,), (3,)))((2,)) == 64
    assert Worker(power, (), {"n": 3})((2,)) == 8
    assert Worker((power, power), ((), ()), ({"n": 2}, {"n": 3}))((2,)) == 64
    assert Worker(mul_m_min_n, (), {"m": 3, "n": 3})((4,)) == 9


def test_worker_init_from_a_worker_and_equality_is_identity():
    w = Worker(power, (3,))
    again = Worker(w)
    assert again((3,)) == w((3,)) == 27
    assert again is not w and again != w            # PaPy: equal; ours: identity
    assert Worker(power2) != Worker(power2) and w == w


def test_worker_exceptions_are_returned_and_placeholders_pass():
    got = Worker(mul2)((None,))
    assert isinstance(got, WorkerError) and got.exc_type == "TypeError"
    ph = PiperError("late", exc_type="Timeout", piper="up", index=4)
    assert Worker(mul2)((ph,)) is ph


@pytest.mark.parametrize("bad", [42, None])
def test_piper_of_something_not_callable_names_it(bad):
    with pytest.raises(PiperError, match=repr(bad)):
        Piper(bad)


def test_worker_callability_in_an_imap():
    im = IMap(worker_num=2)
    t = im.add_task(Worker((power, power), ((), ()), ({"n": 2}, {"n": 3})), [(1,), (2,)])
    assert list(im.get_task(t)) == [1, 64]


# -- test_Piper (run through a Plumber) ------------------------------------------

@pytest.mark.parametrize("par", [None, "thread", "process"])
def test_piper_function_exceptions(par):
    p = Piper(power2, parallel=pools(par) if par else False, track=True)
    got = chain(p, datas=[[1, "a", 3]])
    assert got[0] == 1 and got[2] == 9
    assert isinstance(got[1], WorkerError)
    assert (got[1].exc_type, got[1].piper, got[1].index) == ("TypeError", "power2", 1)


def test_piper_debug_raises_from_wait():
    plumber = Plumber()
    plumber.add_piper(Piper(power2, debug=True))
    plumber.start([[1, "a", 3]])
    plumber.run()
    with pytest.raises(TypeError):
        plumber.wait(30)
    assert plumber.state == "failed"


@pytest.mark.parametrize("shared", [False, True])
def test_internal_failure_chain_is_not_nested(shared):
    imap = pools() if shared else False
    got = chain(Piper(power2, parallel=imap), Piper(mul2, parallel=imap, track=True),
                datas=[[1, "a", 3]])
    assert got[0] == 2 and got[2] == 18
    assert isinstance(got[1], WorkerError) and got[1].piper == "power2"  # passed through


@pytest.mark.parametrize("kinds", [(None, None), ("thread", "thread"), ("shared", "shared"),
                                   (None, "thread"), ("thread", None), ("process", "process")])
def test_linked_and_2_running(kinds):
    def par():
        shared = pools()
        return [shared if k == "shared" else pools(k) if k else False for k in kinds]
    first = par()
    a, b = Piper(mul2, parallel=first[0]), Piper(power2, parallel=first[1], track=True)
    assert chain(a, b, datas=[range(10)]) == [(2 * j) ** 2 for j in range(10)]
    second = par()
    c = Piper(ipasser, parallel=second[0])
    d = Piper(ipasser, parallel=second[1], track=True, name="d")
    assert chain(c, d, datas=[[1, 2, 3]]) == [1, 2, 3]


@pytest.mark.parametrize("kind", [None, "thread", "process"])
def test_usage2_imap_reuse(kind):
    """PaPy's test_usage2 ("imap reuse!"): one pool serves pipeline after pipeline."""
    imap = pools(kind) if kind else False
    for n, worker in ((10, power2), (15, [power2]), (20, Worker(power2))):
        got = chain(Piper(worker, parallel=imap, track=True, name="pwr"), datas=[range(1, n)])
        assert got == [j * j for j in range(1, n)]


@pytest.mark.parametrize("stride", [1, 2, 3, 5])
def test_fork_join(stride):
    """PaPy's _test_fork_join (disabled there): a diamond of passers, every pool mix."""
    def mk():
        return pools(stride=stride, n=1)

    def mixes():
        after, before = mk(), mk()
        return [(None,) * 4, (mk(), mk(), mk(), mk()), (mk(), None, None, mk()),
                (None, after, after, after), (before, before, mk(), before)]
    for r, k in itertools.product([0, 1, 2, 7, 12], range(5)):
        mix = mixes()[k]
        par = [m if m else False for m in mix]
        p1 = Piper(ipasser, parallel=par[0], name="p1")
        p2 = Piper(ipasser, parallel=par[1], name="p2")
        p3 = Piper(ipasser, parallel=par[2], name="p3")
        p4 = Piper(npasser, parallel=par[3], name="p4", track=True)
        plumber = Plumber()
        plumber.add_pipe((p1, p2, p4))
        plumber.add_pipe((p1, p3, p4))
        run(plumber, range(r))
        assert plumber.results["p4"] == [(j, j) for j in range(r)], (r, mix)


def test_track():
    got = chain(Piper(power2, parallel=pools(), track=True), datas=[range(100)])
    assert got == [j * j for j in range(100)]


# -- test_Dagger -----------------------------------------------------------------

def test_dagger_add_piper_makes_pipers_from_workers_and_callables():
    d = Dagger()
    p = Piper(power2)
    d.add_piper(p)
    d.add_piper(p)
    assert len(d) == 1
    made = d.add_piper(Worker(power2))
    assert isinstance(made, Piper) and made in d and len(d) == 2
    assert isinstance(d.add_piper(mul2), Piper) and len(d) == 3
    with pytest.raises(DaggerError):
        d.add_piper(1)


def test_dagger_del_piper_with_downstream_needs_forced():
    d = Dagger()
    pwr, dbl, pwrdbl = Piper(power2), Piper(mul2), Piper([power2, mul2])
    d.add_pipe((pwr, dbl, pwrdbl))
    with pytest.raises(DaggerError):
        d.del_piper(pwr)
    d.del_piper(pwr, forced=True)
    assert pwr not in d
    d.del_pipes([(dbl, pwrdbl)])
    assert d.children_of(dbl) == []
    d.del_pipers([dbl, pwrdbl])
    assert len(d) == 0


def test_dagger_circular_prevention_and_inputs_outputs():
    d = Dagger()
    dbl, dbldbl, sm2 = Piper(mul2), Piper([mul2, mul2]), Piper(sumof2)
    d.add_pipe((dbl, dbldbl, sm2))
    with pytest.raises(DaggerError):
        d.add_pipe((sm2, dbl))
    d.add_pipe((dbl, sm2))
    assert d.get_inputs() == [dbl] and d.get_outputs() == [sm2]


def test_childparentsort_is_branch_then_add_order():
    """PaPy sorted a join's inputs children-after-parents; ours: branch, then add order."""
    dbl1, dbl2 = Piper(mul2, name="dbl1"), Piper(mul2, name="dbl2")
    s = Piper(npasser, name="sum", track=True)
    d = Plumber()
    d.add_pipe((dbl1, dbl2))
    d.add_pipe((dbl1, s))
    d.add_pipe((dbl2, s))
    assert d.parents_of(s) == [dbl1, dbl2]
    run(d, [1, 2])
    assert d.results["sum"] == [(2, 4), (4, 8)]
    a, b = Piper(mul2, name="2a", branch="b"), Piper(mul2, name="2b", branch="a")
    top, s3 = Piper(mul2, name="1"), Piper(npasser, name="s3", track=True)
    d = Plumber()
    for pipe in ((top, a), (top, b), (top, s3), (a, s3), (b, s3)):
        d.add_pipe(pipe)
    assert d.parents_of(s3) == [top, b, a]      # None first, then 'a' < 'b'
    run(d, [1])
    assert d.results["s3"] == [(2, 4, 4)]


@pytest.mark.parametrize("seed", range(4))
def test_startstop_diamond_on_random_pools(seed):
    for n in (0, 1, 5, 11):
        imaps = [pools(n=1 + seed % 2) for _ in range(4)]
        pick = [imaps[(seed * 3 + k + n) % 4] for k in range(4)]
        pwr, dbl3 = Piper(power2, parallel=pick[0]), Piper(mul2, parallel=pick[1], name="d3")
        dbl4 = Piper(mul2, parallel=pick[2], name="d4")
        s = Piper(sumof2, parallel=pick[3], track=True)
        d = Plumber()
        for pipe in ((pwr, dbl3), (pwr, dbl4), (dbl3, s), (dbl4, s)):
            d.add_pipe(pipe)
        run(d, range(n))
        assert d.results["sumof2"] == [(j ** 2) * 4 for j in range(n)]


# -- test_Internal: produce, repeat, consume, spawn, timeout, tee ----------------

PAIRS = [(11, 12), (21, 22), (31, 32), (41, 42), (51, 52), (61, 62), (71, 72)]


@pytest.mark.parametrize("par", [None, "stride3"])
def test_produce_piper_from_sequence(par):
    """PaPy interleaved sub-items across a stride (11, 21, 31, 12, ...); ours stay together."""
    p = Piper(ipasser, parallel=pools(stride=3) if par else False, produce=2, track=True)
    assert chain(p, Piper(ipasser, spawn=2, name="sink"), datas=[PAIRS], out=0) == \
        [x for pair in PAIRS for x in pair]


def test_produce_repeat_and_produce_exception():
    p = Piper(power2_make2, parallel=pools(stride=3), produce=2, track=True)
    got = chain(p, Piper(ipasser, spawn=2, name="sink"), datas=[[0, 1, "z", 3]], out=0)
    assert got[:4] == [0, 0, 1, 1] and got[6:] == [9, 9]
    assert got[4] is got[5] or got[4] == got[5]
    assert isinstance(got[4], WorkerError) and (got[4].piper, got[4].index) == ("power2_make2", 2)
    r = Piper(power2, parallel=pools(stride=3), produce=2, repeat=True, track=True)
    got = chain(r, Piper(ipasser, spawn=2, name="sink"), datas=[[0, 1, "z", 3]], out=0)
    assert got[:4] == [0, 0, 1, 1] and got[6:] == [9, 9] and isinstance(got[5], WorkerError)


@pytest.mark.parametrize("stride", [None, 1, 2, 3])
def test_consume(stride):
    """PaPy's test_consume ran consume=2 with stride 3 (issue 11: it dropped items)."""
    c = Piper(sum_group, parallel=pools(stride=stride), consume=2, track=True)
    assert chain(c, datas=[[0, 0, 1, 1, 4, 4, 9, 9, 16, 16]]) == [0, 2, 8, 18, 32]


@pytest.mark.parametrize("par", [None, "stride1", "stride3"])
def test_produceconsume_repeat_and_sequence(par):
    def mk(**kw):
        return pools(stride=1 if par == "stride1" else 3) if par else False
    p = Piper(power2, parallel=mk(), produce=2, repeat=True)
    s = Piper(sum_group, parallel=mk(), consume=2, track=True)
    assert chain(p, s, datas=[range(7)]) == [0, 2, 8, 18, 32, 50, 72]
    p = Piper(ipasser, parallel=mk(), produce=2)
    s = Piper(sum_group, parallel=mk(), consume=2, track=True)
    assert chain(p, s, datas=[PAIRS[:6]]) == [23, 43, 63, 83, 103, 123]


@pytest.mark.parametrize("shared", [False, True])
def test_producespawnconsume(shared):
    for _ in range(3):
        one = pools(stride=3)
        par = [one] * 3 if shared else [pools(stride=3) for _ in range(3)]
        p = Piper(ipasser, parallel=par[0], produce=2)
        m = Piper(mul2, parallel=par[1], spawn=2)
        s = Piper(sum_group, parallel=par[2], consume=2, track=True)
        assert chain(p, m, s, datas=[PAIRS[:6]]) == [46, 86, 126, 166, 206, 246]


def test_timeout_gives_one_placeholder_per_late_item():
    p = Piper(sleeper, parallel=pools("process", n=1), timeout=0.5, track=True)
    plumber = Plumber()
    plumber.add_piper(p)
    run(plumber, [0.05, 2.0, 0.05])
    got = plumber.results["sleeper"]
    assert got[0] == 0.05 and got[2] == 0.05 and len(got) == 3
    assert isinstance(got[1], PiperError) and got[1].index == 1
    assert plumber.stats["pipers"]["sleeper"]["timeouts"] == 1


def test_tee():
    ip, p2, m2 = Piper(ipasser), Piper(power2, track=True), Piper(mul2, track=True)
    d = Plumber()
    d.add_pipe((ip, p2))
    d.add_pipe((ip, m2))
    run(d, iter([1, 2, 3, 4, 5, 6]))
    assert list(zip(d.results["power2"], d.results["mul2"])) == \
        [(1, 2), (4, 4), (9, 6), (16, 8), (25, 10), (36, 12)]


# -- test_Plumber ------------------------------------------------------------------

def test_start_run_finish_stop_and_edit_again():
    plum = Plumber()
    linear = Piper(Worker(power, (2,)), name="linear")
    plum.add_piper(linear)
    plum.start([[2]])
    with pytest.raises(PlumberError):
        plum.pause()
    with pytest.raises(PlumberError):
        plum.wait(1)                           # wait() before run()
    plum.run()
    assert plum.wait(30) and plum.state == "finished"
    plum.del_piper(linear)                     # a finished Plumber can be edited
    par = Piper(Worker(power, (2,)), parallel=IMap(worker_num=2, buffer=2), track=True,
                name="power")
    plum.add_piper(par)
    run(plum, range(1, 11))
    assert plum.results["power"] == [j * j for j in range(1, 11)]


@pytest.mark.parametrize("kinds", [(None, None), ("thread", "thread"), (None, "thread"),
                                   ("thread", None)])
def test_start_run_pause_stop_loses_nothing(kinds):
    """PaPy's test_start_run_finish_stop2: len(tracked) == data.next() after pause and stop."""
    a = Piper(power2, parallel=pools(kinds[0]) if kinds[0] else False, name="a", track=True)
    b = Piper(power2, parallel=pools(kinds[1]) if kinds[1] else False, name="b", track=True)
    plum = Plumber()
    plum.add_pipe((a, b))
    data = iter(range(10 ** 8))
    plum.start([data])
    plum.run()
    assert wait_until(lambda: plum.stats["pipers"]["b"]["out"] >= 10)
    plum.pause()
    plum.stop()
    assert plum.state == "stopped"
    pulled = next(data)
    assert plum.stats["inputs"]["a"] == pulled
    assert plum.results["b"] == [(j * j) ** 2 for j in range(pulled)]
    assert len(plum.results["a"]) == pulled
    plum.del_pipe((a, b))                      # a stopped Plumber can be edited, run again
    plum.del_piper(b)
    run(plum, range(5))
    assert plum.results["a"] == [0, 1, 4, 9, 16]
