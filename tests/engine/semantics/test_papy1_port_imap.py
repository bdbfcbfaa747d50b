"""The original PaPy's tests/test_numap.py and doc/examples/*.py, ported (issue 11).

NuMap became IMap: ``add_task`` returns a task number (``get_task(n)`` is its
iterator), ``next()`` raises the worker's exception like ``Pool.imap`` and the
next call goes on, and a stopped map raises ``IMapError``.  NuMap's default
stride was its worker count, so timing examples on one worker say
``stride=1``.  Sleeps in node functions are workload (what the timeout tests
measure), never waits.
"""
import itertools
import time

import pytest

from papy_engine import IMap, IMapError, Piper, Plumber, Worker, imports
from papy_engine.workers.io import dump_item, dump_stream, load_item, load_stream

pytestmark = [pytest.mark.timeout(120)]
KINDS = ["process", "thread"]


@pytest.fixture
def imap():
    """Makes IMaps and stops them all after the test, so a failure leaks no worker."""
    made = []

    def make(*args, **kwargs):
        made.append(IMap(*args, **kwargs))
        return made[-1]
    yield make
    for m in made:
        m.stop()


def adder(inbox):
    return inbox + 1


def miner(inbox):
    return inbox - 1


def diver(inbox):
    return 1 / inbox


def passer(inbox):
    return inbox


def real_waiter(inbox):
    time.sleep(inbox)
    return inbox


def hello_world(element, *args, **kwargs):
    return (element, args, kwargs)


@pytest.mark.parametrize("kind", KINDS)
def test_initempty_and_iterinit_eat(kind, imap):
    assert list(imap(passer, [], worker_type=kind, worker_num=1)) == []
    im = imap(passer, (i for i in []), worker_type=kind, worker_num=1)
    with pytest.raises(StopIteration):
        im.next()
    im = imap(passer, iter(range(1, 100)), worker_type=kind, worker_num=2)
    assert list(im) == list(range(1, 100))
    with pytest.raises(StopIteration):
        im.next()
    im.stop()
    with pytest.raises(IMapError):
        im.next()


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("workers", [1, 2])
def test_exception_raises_like_pool_imap_and_goes_on(kind, workers, imap):
    im = imap(adder, [1, "a", 3], worker_type=kind, worker_num=workers)
    assert im.next() == 2
    with pytest.raises(TypeError):
        im.next()
    assert im.next() == 4
    im.stop()
    with pytest.raises(IMapError):
        im.next()
    im = imap(diver, [1.0, 0.0, 4.0], worker_type=kind, worker_num=workers)
    assert im.next() == 1.0
    with pytest.raises(ZeroDivisionError):
        im.next()
    assert im.next() == 0.25
    im.stop()


@pytest.mark.parametrize("kind", KINDS)
def test_call_worker_num_stride(kind, imap):
    for workers, stride in itertools.product((1, 2, 4), (1, 2, 3, 8, 32)):
        im = imap(worker_type=kind, worker_num=workers, stride=stride)
        t = im.add_task(passer, range(1, 10))
        im.start()
        with pytest.raises(IMapError):
            im.add_task(passer, range(3))
        assert list(im.get_task(t)) == list(range(1, 10))
        with pytest.raises(StopIteration):
            im.next()
        im.stop()
        with pytest.raises(IMapError):
            im.next()


@pytest.mark.parametrize("stride", [1, 2, 3, 5, 22])
def test_start_stop_and_start_next_stop(stride, imap):
    im = imap(stride=stride, worker_num=2)
    im.add_task(passer, range(1, 500))
    im.start()
    im.stop()
    with pytest.raises(IMapError):
        im.next()
    im = imap(stride=stride, worker_num=2, worker_type="thread")
    im.add_task(passer, iter(range(1, 100)))
    im.start()
    assert [im.next() for _ in range(3)] == [1, 2, 3]
    im.stop()
    with pytest.raises(IMapError):
        im.next()


@pytest.mark.parametrize("kind", KINDS)
def test_2_seperate_tasks_interleaved(kind, imap):
    inp1, inp2 = [1, 17, 23, 6, 0], [8, 4, 24, 45, 2]
    for stride, workers in ((1, 1), (2, 2), (3, 4), (32, 2)):
        im = imap(worker_type=kind, stride=stride, worker_num=workers)
        im.add_task(adder, inp1)
        im.add_task(miner, inp2)
        im.start()
        for a, b in zip(inp1, inp2):
            assert im.next(task=0) == a + 1
            assert im.next(task=1) == b - 1
        im.stop()
        for task in (0, 1):
            with pytest.raises(IMapError):
                im.next(task=task)


@pytest.mark.parametrize("kind", KINDS)
def test_2_chained_and_2_chained_2_chained(kind, imap):
    for inp, stride, workers in itertools.product(([4, 17, 23, 4, 3, 2, 1], [4, 17, 2]),
                                                  (1, 2, 5, 23), (1, 3)):
        im = imap(worker_type=kind, stride=stride, worker_num=workers)
        t0 = im.add_task(adder, inp)
        t1 = im.add_task(miner, im.get_task(t0))
        im.start()
        assert [im.next(task=t1) for _ in inp] == inp
        with pytest.raises(StopIteration):
            im.next(task=t1)
        im.stop()
    im = imap(worker_type=kind, stride=2, worker_num=2)
    t0 = im.add_task(adder, [4, 17, 23])
    t1 = im.add_task(miner, im.get_task(t0))
    t2 = im.add_task(adder, [4, 17, 23])
    t3 = im.add_task(miner, im.get_task(t1))
    t4 = im.add_task(miner, im.get_task(t2))
    im.start()
    for x in [4, 17, 23]:
        assert (im.next(task=t3), im.next(task=t4)) == (x - 1, x)
    im.stop()


@pytest.mark.parametrize("extra", [0, 1, 5])
def test_4_chained_with_a_tight_buffer(extra, imap):
    inp = [1, 17, 23, 6, 0]
    im = imap(worker_type="thread", stride=4, buffer=4 + extra, worker_num=4)
    t = im.add_task(adder, inp)
    for op in (miner, adder, miner):
        t = im.add_task(op, im.get_task(t))
    assert list(im.get_task(t)) == inp


@pytest.mark.parametrize("stride", [2, 3, 7])
def test_3_zip_1(stride, imap):
    im = imap(worker_type="thread", stride=stride, buffer=stride * 3, worker_num=2)
    tasks = [im.add_task(adder, range(k, k + 100)) for k in (0, 200, 300)]
    t = im.add_task(passer, zip(*(im.get_task(n) for n in tasks)))
    assert list(im.get_task(t)) == [(i + 1, i + 201, i + 301) for i in range(100)]


@pytest.mark.parametrize("kind", KINDS)
def test_start_init_stop_start_init_reuses_the_pool(kind, imap):
    inp = [17, 19, 21, 25, 27] + [1] * 14
    im = imap(worker_type=kind, worker_num=2)
    for _ in range(2):
        im.add_task(adder, inp)
        im.start()
        assert im.next() == 18
        im.stop()


@pytest.mark.parametrize("kind", KINDS)
def test_unsorted_sorted_few_slow_items_run_in_parallel(kind, imap):
    """PaPy's test_unsorted_sorted: unordered results leave in completion order."""
    waits = [0.6, 0.05, 0.05, 0.05]
    assert list(imap(real_waiter, waits, worker_type=kind, worker_num=2)) == waits
    got = list(imap(real_waiter, waits, worker_type=kind, worker_num=2, ordered=False))
    assert got == [0.05, 0.05, 0.05, 0.6]


def test_timeout_1_seperate_input_unordered_and_ordered(imap):
    im = imap(real_waiter, [1.5, 1.0, 0.25], worker_type="thread", stride=2, worker_num=2,
              ordered=False)
    with pytest.raises(TimeoutError):
        im.next(timeout=0.5)
    assert im.next(timeout=1) == 1.0
    assert im.next(timeout=1) == 0.25
    assert im.next() == 1.5
    im = imap(real_waiter, [1.0, 0.5, 0.25], worker_type="thread", stride=2, worker_num=2)
    with pytest.raises(TimeoutError):
        im.next(timeout=0.3)
    assert im.next() == 1.0 and im.next(timeout=0.01) == 0.5 and im.next() == 0.25


@pytest.mark.parametrize("kind", KINDS)
def test_timeout_1_no_skip_keeps_the_late_result(kind, imap):
    im = imap(real_waiter, [0.5, 0.3, 0.001], worker_type=kind, worker_num=1, stride=1)
    with pytest.raises(TimeoutError):
        im.next(timeout=0.1)
    assert im.next() == 0.5 and im.next() == 0.3 and im.next() == 0.001
    im.stop()


@pytest.mark.parametrize("kind", KINDS)
def test_timeout_1_skip_23(kind, imap):
    """skip=True: a result whose next(timeout=...) timed out is never returned."""
    im = imap(real_waiter, [0.5, 0.3, 0.5, 0.5, 0.1], worker_type=kind, worker_num=1,
              stride=1, skip=True)
    with pytest.raises(TimeoutError):
        im.next(timeout=0.1)                     # skip 0
    assert im.next() == 0.3                      # get 1
    for _ in range(2):                           # skip 2 and 3
        with pytest.raises(TimeoutError):
            im.next(timeout=0.1)
    assert im.next() == 0.1                      # get 4
    with pytest.raises(StopIteration):
        im.next()
    im.stop()


# -- doc/examples ------------------------------------------------------------------

def test_doc_world_args_chain_branch(imap):
    elements = tuple(f"element_{i}" for i in range(5))
    assert tuple(x[0] for x in imap(hello_world, elements, worker_num=2)) == elements
    im = imap(worker_num=2)
    t = im.add_task(hello_world, elements, args=("arg_0", "arg_1"),
                    kwargs={"kwarg_0": "val_0"})
    assert list(im.get_task(t))[1] == ("element_1", ("arg_0", "arg_1"), {"kwarg_0": "val_0"})
    im = imap(worker_num=2)
    src = im.add_task(passer, elements)
    mid = im.add_task(passer, im.get_task(src))
    sink = im.add_task(passer, im.get_task(mid))
    assert tuple(im.get_task(sink)) == elements
    im = imap(worker_num=2)
    left = im.add_task(passer, [f"left_{i}" for i in range(5)])
    right = im.add_task(passer, [f"right_{i}" for i in range(5)])
    root = im.add_task(passer, zip(im.get_task(left), im.get_task(right)))
    assert list(im.get_task(root))[4] == ("left_4", "right_4")


@pytest.mark.parametrize("buffer", [None, 6])
def test_doc_stride_and_buffer(buffer, imap):
    im = imap(stride=2, buffer=buffer, worker_num=2)
    li = im.get_task(im.add_task(passer, ("L0", "L1", "L2", "L3")))
    ri = im.get_task(im.add_task(passer, ("R0", "R1", "R2", "R3")))
    im.start()
    got = [next(li), next(li), next(ri), next(ri), next(li), next(li), next(ri), next(ri)]
    assert got == ["L0", "L1", "R0", "R1", "L2", "L3", "R2", "R3"]


def test_doc_skip_and_ordered(imap):
    elements = (0.01, 0.8, 0.01, 0.01)
    im = imap(real_waiter, elements, worker_num=1, stride=1, skip=False)
    assert im.next(timeout=3) == 0.01
    with pytest.raises(TimeoutError):
        im.next(timeout=0.2)
    assert [im.next(timeout=3) for _ in range(3)] == [0.8, 0.01, 0.01]
    im = imap(real_waiter, elements, worker_num=1, stride=1, skip=True)
    assert im.next(timeout=3) == 0.01
    with pytest.raises(TimeoutError):
        im.next(timeout=0.2)
    assert list(im) == [0.01, 0.01]


def test_doc_func_imports():
    @imports(["os"])
    def hello_you(inbox):
        return (inbox[0], os.getpid())  # noqa: F821 - bound by @imports
    name, pid = hello_you(("world",))
    assert name == "world" and isinstance(pid, int)


def test_doc_plumber_and_dagger(imap):
    def l33t(inbox):
        return inbox[0].replace("e", "3").replace("o", "0")

    def l33ter(inbox):
        return inbox[0].replace("l", "1")
    imap = imap(worker_num=2)
    pipeline = Plumber()
    pipeline.add_pipe((Piper(l33t, parallel=imap), Piper(l33ter, parallel=imap, track=True)))
    pipeline.start([["hello", "world"]])
    pipeline.run()
    assert pipeline.wait(30)
    assert pipeline.results["l33ter"] == ["h3110", "w0r1d"]


@pytest.mark.parametrize("items,delimiter", [
    (["a\n", "b", "c\n\n", "two\nlines\n"], None),   # a blank line ends an item
    (["a\n", "b", "\n", "c\n\n", "", "x"], "END"),     # any item without an END line
])
def test_dump_stream_load_stream_round_trip_is_exact(tmp_path, items, delimiter):
    """PaPy's xtestoutput_pickle: what dump_stream writes, load_stream gives back.

    With the default (blank-line) delimiter an empty item or an item holding
    a blank line cannot be told from the delimiter: load_stream documents that
    such items need a delimiter of their own.
    """
    path = tmp_path / "stream.txt"
    with open(path, "w") as handle:
        for item in items:
            dump_stream((item,), handle, delimiter)
    with open(path) as handle:
        assert list(load_stream(handle, delimiter)) == items


@pytest.mark.parametrize("transport", ["file", "shm", "tcp"])
@pytest.mark.parametrize("where", ["separate", "shared", "serial"])
def test_dump_item_load_item_between_pipers(transport, where, imap):
    """PaPy's xtestdump_items: a dumped item lives until it is loaded, whatever pool made it."""
    up = imap(worker_num=2) if where != "serial" else False
    down = imap(worker_num=2) if where == "separate" else up
    plumber = Plumber()
    plumber.add_pipe((Piper(Worker(dump_item, (transport,)), parallel=up, name="dump"),
                      Piper(load_item, parallel=down, name="load", track=True)))
    plumber.start([[{"n": i} for i in range(10)]])
    plumber.run()
    assert plumber.wait(60)
    assert plumber.results["load"] == [{"n": i} for i in range(10)]
