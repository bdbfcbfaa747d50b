"""IMap: standalone use, several tasks, ordering, buffering, pause and stop."""
import itertools
import threading
import time

import pytest

from papy_engine import IMap, IMapError, WorkerError
from papy_engine.errors import WorkerTraceback

pytestmark = [pytest.mark.timeout(60)]


def sq(x):
    return x * x


def neg(x):
    return -x


def sleepy(x):
    time.sleep(0.002 * (x % 5))
    return x


def fails_on_3(x):
    if x == 3:
        raise KeyError(x)
    return x


@pytest.mark.parametrize("kind", ["process", "thread"])
def test_works_like_pool_imap(kind):
    assert list(IMap(sq, range(1000), worker_num=2, worker_type=kind)) == \
        [x * x for x in range(1000)]


def test_lambda_task_runs_in_processes():
    k = 3
    assert list(IMap(lambda x: x + k, range(10), worker_num=2)) == list(range(3, 13))


def test_a_function_that_cannot_be_pickled_runs_in_threads_and_is_refused_by_processes():
    # Threads call the function itself: a database connection is fine there.
    import sqlite3
    db = sqlite3.connect(":memory:", check_same_thread=False)
    db.execute("create table t (x)")
    lock = threading.Lock()

    def store(x):
        with lock:
            db.execute("insert into t values (?)", (x,))
        return x + 1
    assert list(IMap(store, range(50), worker_num=2, worker_type="thread")) == \
        list(range(1, 51))
    assert db.execute("select count(*) from t").fetchone() == (50,)
    with pytest.raises(IMapError, match="'store' cannot be sent to worker processes"):
        IMap(store, range(5), worker_num=2)


def test_a_thread_pool_turned_into_processes_before_it_starts_pickles_its_tasks():
    imap = IMap(worker_num=2, worker_type="thread")
    tid = imap.add_task(sq, range(10))
    imap.worker_type = "process"
    imap.start()
    try:
        assert list(imap.get_task(tid)) == [x * x for x in range(10)]
    finally:
        imap.stop()


def test_several_tasks_interleave_on_one_pool():
    im = IMap(worker_num=2, stride=7)
    a = im.add_task(sq, range(100))
    b = im.add_task(neg, range(50))
    c = im.add_task(sq, range(0))
    im.start()
    got_a, got_b = [], []
    ia, ib = im.get_task(a), im.get_task(b)
    for x, y in itertools.zip_longest(ia, ib):
        if x is not None:
            got_a.append(x)
        if y is not None:
            got_b.append(y)
    assert got_a == [x * x for x in range(100)]
    assert got_b == [-x for x in range(50)]
    assert list(im.get_task(c)) == []


def test_extra_args_and_kwargs():
    def f(x, a, b=0):
        return x + a + b
    im = IMap(worker_num=1)
    t = im.add_task(f, range(3), args=(10,), kwargs={"b": 100})
    assert list(im.get_task(t)) == [110, 111, 112]


def test_unordered_returns_everything():
    out = list(IMap(sleepy, range(200), worker_num=2, ordered=False, stride=10))
    assert sorted(out) == list(range(200))


def test_standalone_iteration_raises_the_workers_exception_and_goes_on():
    with IMap(fails_on_3, range(6), worker_num=2) as m:
        it = iter(m)
        assert [next(it) for _ in range(3)] == [0, 1, 2]
        with pytest.raises(KeyError) as info:
            next(it)
        # the worker's traceback is chained, as Pool.imap does
        cause = info.value.__cause__
        assert isinstance(cause, WorkerTraceback) and "fails_on_3" in str(cause)
        assert list(it) == [4, 5]


def test_skip_never_drops_a_placeholder_silently():
    with IMap(fails_on_3, range(6), worker_num=2, skip=True) as m:
        out = []
        for _ in range(6):
            try:
                out.append(m.next(timeout=30))
            except KeyError:
                out.append("raised")
        assert out == [0, 1, 2, "raised", 4, 5]


def test_next_with_timeout():
    im = IMap(worker_num=1, worker_type="thread")
    gate = threading.Event()
    im.add_task(lambda x: gate.wait(10) and x, [1, 2])
    with pytest.raises(TimeoutError):
        im.next(timeout=0.1)
    gate.set()
    assert im.next(timeout=10) == 1 and im.next(timeout=10) == 2
    with pytest.raises(StopIteration):
        im.next(timeout=10)


def test_buffer_bounds_how_far_the_input_runs_ahead():
    pulled = []

    def source():
        for i in itertools.count():
            pulled.append(i)
            yield i
    im = IMap(sq, source(), worker_num=2, stride=10, buffer=40)
    it = iter(im)
    for _ in range(5):
        next(it)
    # wait until the feeder has filled its budget, then check it stops there
    deadline = time.monotonic() + 5
    while len(pulled) < 40 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(pulled) <= 5 + 40 + 1
    im.stop()


def test_ten_million_items_stream_in_constant_memory():
    import psutil
    proc = psutil.Process()
    im = IMap(None, None, worker_num=2)
    t = im.add_task(neg, (i for i in range(10_000_000)))
    rss0 = None
    n = 0
    for n, _ in enumerate(im.get_task(t), 1):
        if n == 1_000_000:
            rss0 = proc.memory_info().rss
    assert n == 10_000_000
    assert proc.memory_info().rss - rss0 < 50 * 2**20


def test_pause_stops_pulling_and_resume_continues():
    pulled = []

    def source():
        for i in range(10_000):
            pulled.append(i)
            yield i
    im = IMap(sq, source(), worker_num=1, worker_type="thread", stride=5, buffer=10)
    it = iter(im)
    next(it)
    im.pause()
    for _ in range(9):  # consume what is buffered
        next(it)
    n = len(pulled)
    # the feeder may finish the pull it is in; after that nothing more arrives
    time.sleep(0.1)  # nothing to wait for: we are checking that nothing happens
    assert len(pulled) <= n + 5
    im.resume()
    assert sum(1 for _ in it) == 10_000 - 10


def test_stop_is_safe_to_repeat_and_a_stopped_map_never_looks_exhausted():
    im = IMap(sq, itertools.count(), worker_num=2)
    it = iter(im)
    assert next(it) == 0
    im.stop()
    im.stop()
    with pytest.raises(IMapError, match="stopped"):
        list(it)          # not [] : results were still to come
    with pytest.raises(IMapError, match="stopped"):
        im.next()


def test_next_after_stop_raises_even_when_every_result_was_taken():
    im = IMap(sq, range(3), worker_num=1, worker_type="thread")
    assert list(im) == [0, 1, 4]
    im.stop()
    with pytest.raises(IMapError, match="stopped"):
        im.next()


def test_bad_arguments_are_refused():
    with pytest.raises(IMapError, match="worker_type"):
        IMap(worker_type="gpu")
    with pytest.raises(IMapError, match="stride"):
        IMap(stride=0)
    im = IMap(worker_num=1)
    im.add_task(sq, [1])
    im.start()
    with pytest.raises(IMapError, match="before start"):
        im.add_task(sq, [1])
    with pytest.raises(IMapError, match="no task 5"):
        im.get_task(5)
    assert list(im.get_task(0)) == [1]


def test_input_that_raises_is_reported_to_the_consumer():
    def source():
        yield 1
        raise RuntimeError("disk on fire")
    with pytest.raises(RuntimeError, match="disk on fire"):
        list(IMap(sq, source(), worker_num=1))


def megabyte(x):
    return bytes(2**20)


def test_large_items_are_bounded_in_bytes_not_only_in_count(monkeypatch):
    from papy_engine.pool import policy
    monkeypatch.setattr(policy, "MAX_INFLIGHT_BYTES", 16 * 2**20)
    pulled = []

    def source():
        for i in range(400):
            pulled.append(i)
            yield i
    im = IMap(megabyte, source(), worker_num=2)
    ahead = 0
    for n, item in enumerate(im, 1):
        assert len(item) == 2**20
        if n > 20:  # once sizes are measured
            ahead = max(ahead, len(pulled) - n)
    assert n == 400
    # a count-based default would have let thousands of 1 MiB items run ahead
    assert ahead <= 16 + 8, ahead
