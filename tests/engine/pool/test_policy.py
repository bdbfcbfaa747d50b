"""How much a pool holds: a slow consumer holds the input back (memory by need)."""
import time

import pytest

from papy_engine import IMap, Piper, Plumber
from papy_engine.pool.policy import MAX_CHUNK_BYTES

pytestmark = [pytest.mark.timeout(120)]


def kib(inbox):
    return bytes(1024)


@pytest.mark.parametrize("kind", ["process", "thread"])
def test_a_slow_consumer_holds_the_input_back_to_a_few_chunks(kind):
    pulled, consumed, ahead = [0], [0], [0]

    def source():
        for i in range(60_000):
            pulled[0] = i + 1
            yield i

    def slow_sink(inbox):
        consumed[0] += 1
        ahead[0] = max(ahead[0], pulled[0] - consumed[0])
        end = time.perf_counter() + 10e-6     # ~10 us per item: far slower than the pool
        while time.perf_counter() < end:
            pass
    p = Plumber()
    p.add_pipe((Piper(kib, parallel=IMap(worker_num=2, worker_type=kind)),
                Piper(slow_sink, name="sink")))
    p.start([source()])
    p.run()
    assert p.wait(100) and p.stats["pipers"]["sink"]["in"] == 60_000
    per_chunk = MAX_CHUNK_BYTES // 1024          # 1 KiB items
    # may_pull's bound with n = 2 workers: fewer than 3n chunks queued or
    # running, fewer than n waiting for the sink, then one pull of at most n
    # (5n = 10 chunks held by the pool); the sink's batch (up to n chunks) and
    # the item the feeder is pulling come on top: 12 chunks and a few items.
    # Before consumer pacing this was ~49,000 items (the 64 MiB budget).
    assert ahead[0] <= 13 * per_chunk, ahead[0]


def inc(inbox):
    return inbox[0] + 1


def test_a_chunk_may_span_two_pulls():
    """The driver hands its input over in small pulls; once the cost is known a
    chunk takes items from several of them, instead of one message per pull."""
    from papy_engine import Worker
    imap = IMap(worker_num=1, worker_type="thread")
    d = imap.driver()
    sizes: list[int] = []
    pulls = iter([[(i,) for i in range(j, j + 3)] for j in range(0, 30_000, 3)])
    tid = d.add_task(Worker(inc), pulls, name="inc",
                     on_chunk=lambda n, *rest: sizes.append(n))
    d.start_workers()
    d.start_threads()
    try:
        out = [r for batch in d.batches(tid) for r in batch.results]
    finally:
        d.stop()
    assert out == list(range(1, 30_001))
    assert sum(sizes) == 30_000
    assert max(sizes) > 3, sizes[:50]   # before: every chunk within one pull of 3


def test_a_dask_slot_s_slow_start_grows_by_its_round_trip():
    """Chunks aim at 100 ms on Dask slots, ten local round trips: once the
    first items are measured the slow start licenses ten times what is done,
    not twice, so the first full chunks go out after one round trip."""
    from papy_engine.pool.policy import Limits
    from papy_engine.pool.records import Task
    task = Task(0, "t", None, b"", None, budget=10**6)
    task.cost, task.done = 0.005, 8
    local, dask = Limits(None, None), Limits(None, None)
    dask.chunk_s = 0.1
    assert local.limit(task, 4) == 16          # max(4n, 2 * done)
    assert dask.limit(task, 4) == 80           # 10 * done
    assert dask.chunk_size(task, 2, 10**6, dask.chunk_s) == 20   # 100 ms of 5 ms items


def test_guided_scheduling_keeps_a_fifth_of_the_target_per_chunk():
    """At the end of the input, chunks shrink to share the last items out, but
    not below a fifth of the slot's target: a Dask task costs milliseconds."""
    from papy_engine.pool.policy import Limits
    from papy_engine.pool.records import Task
    task = Task(0, "t", None, b"", None, budget=10**6)
    task.cost = 0.005
    limits = Limits(None, None)
    assert limits.chunk_size(task, 2, 3, 0.1) == 4      # 20 ms of 5 ms items, not 1
    assert limits.chunk_size(task, 2, 400, 0.1) == 20   # the full target when plenty wait
    assert limits.chunk_size(task, 2, 3, 0.01) == 1     # local: one 5 ms item is enough
