"""How much a pool holds: a slow consumer holds the input back (memory by need)."""
import time

import pytest

from papy_engine import IMap, Piper, Plumber
from papy_engine.pool.policy import MAX_CHUNK_BYTES, MAX_REPLY_BYTES
from papy_engine.pool.records import MERGE_ITEMS
from papy_engine.wiring import TARGET_PULL_S

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
    per_chunk = MAX_REPLY_BYTES // 1024          # 1 KiB results
    pull = int(TARGET_PULL_S / 10e-6)            # the input's pull: 50 ms of the sink's work
    # may_pull's bound with n = 2 workers: fewer than 3n chunks queued or
    # running and fewer than n waiting for the sink (4n = 8 chunks held by the
    # pool) let the feeder take one more pull from the input; the sink's batch
    # (the chunks ready when it took them, MERGE_ITEMS items at most) and the
    # item the feeder is pulling come on top: ~18,000 items. (The bound once
    # counted a pull as n chunks; under load a pull of ~4,000 items overran it.)
    # Before consumer pacing this was ~49,000 items (the 64 MiB budget).
    assert ahead[0] <= 8 * per_chunk + pull + MERGE_ITEMS + per_chunk, ahead[0]


def test_a_chunk_spans_pulls_but_never_a_re_queued_entry():
    """The feeder queues each pull as an entry; the dispatcher cuts a chunk
    across consecutive pulls of one task (a pull's remainder does not go out
    as a small chunk), but an entry recovery re-queued goes alone (a lost
    chunk's items re-run one per chunk), and another task's entry ends it."""
    from collections import deque

    from papy_engine.pool.records import Pending, Task, cut
    a, b = Task(0, "a", None, b"", None), Task(1, "b", None, b"", None)
    ready = deque([Pending(a, 0, [0, 1, 2], fed=True), Pending(a, 3, [3, 4, 5], fed=True),
                   Pending(a, 6, [6, 7, 8], fed=True), Pending(b, 0, ["x"], fed=True)])
    assert cut(ready, 8) == (0, [0, 1, 2, 3, 4, 5, 6, 7])   # three pulls, one chunk
    assert ready[0].offset == 2 and len(ready) == 2
    assert cut(ready, 8) == (8, [8])                         # task b's entry ends it
    assert cut(ready, 8) == (0, ["x"]) and not ready
    # re-queued entries (recovery: fed=False) go alone, before and after fed ones
    ready = deque([Pending(a, 10, [10]), Pending(a, 11, [11]),
                   Pending(a, 12, [12, 13], fed=True), Pending(a, 14, [14]),
                   Pending(a, 15, [15], fed=True)])
    assert [cut(ready, 8) for _ in range(4)] == [(10, [10]), (11, [11]), (12, [12, 13]),
                                                  (14, [14])]
    assert cut(ready, 8) == (15, [15]) and not ready
    # a gap in the indices (never between one feeder's pulls) ends a chunk too
    ready = deque([Pending(a, 0, [0], fed=True), Pending(a, 5, [5], fed=True)])
    assert cut(ready, 8) == (0, [0])


def test_a_dask_slot_s_slow_start_grows_by_its_round_trip():
    """Chunks aim at 100 ms on Dask slots, ten local round trips: once the
    first items are measured the slow start licenses ten times what is done,
    not twice, so the first full chunks go out after one round trip."""
    from papy_engine.pool.policy import Limits
    from papy_engine.pool.records import Task
    task = Task(0, "t", None, b"", None, budget=10**6)
    task.cost, task.done, task.consumed = 0.005, 8, 8   # done, and taken by the consumer
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


def test_a_feeder_is_woken_only_once_it_may_pull():
    """Results stored or taken wake the task's feeder only when it may pull
    again: a feeder woken for nothing takes the GIL from a busy consumer (a
    serial piper in the driving process) just to go back to sleep."""
    import threading

    from papy_engine.pool.manager import PoolManager
    from papy_engine.pool.policy import Limits
    from papy_engine.pool.records import Task

    wakes = []

    class Counting(threading.Condition):
        def notify_all(self):
            wakes.append(1)
            super().notify_all()

    mgr = PoolManager("p", Limits(None, None), retries=0)
    mgr.can_pull = Counting(mgr.lock)
    task = Task(0, "t", None, b"", None)
    task.feeder = threading.current_thread()   # it has a feeder (which waits)
    mgr.tasks.append(task)
    mgr.limits.set_budgets(mgr.tasks, "p")
    mgr.nslots = 2
    # a long run at 10 us per item: chunks of 1,000 (10 ms); the feeder may
    # pull while fewer than 3 chunks per slot are queued or running and fewer
    # than one per slot wait for the consumer
    task.cost = 1e-5
    task.done = task.consumed = task.next_out = 100_000
    task.pulled, task.held = 106_000, 6_000
    task.take_cap = 4096                           # a consumer past its slow start
    assert not mgr.may_pull(task)                  # 6 chunks busy

    mgr.store(task, 100_000, list(range(1000)), 1000, [], 0.01)
    assert mgr.may_pull(task) and len(wakes) == 1  # 5 busy, 1 waiting: room
    task.pulled, task.held = 107_000, 7_000        # the feeder pulled a chunk
    mgr.store(task, 101_000, list(range(1000)), 1000, [], 0.01)
    assert not mgr.may_pull(task) and len(wakes) == 1   # 2 waiting: no wake-up
    task.pulled, task.held = 109_000, 9_000        # (two more pulled earlier)
    assert len(mgr.take(task).results) == 2000     # both chunks, in one batch
    assert not mgr.may_pull(task) and len(wakes) == 1   # still 7 busy: no wake-up
    mgr.store(task, 102_000, list(range(1000)), 1000, [], 0.01)
    mgr.store(task, 103_000, list(range(1000)), 1000, [], 0.01)
    assert len(wakes) == 1                         # 2 waiting
    assert len(mgr.take(task).results) == 2000
    assert mgr.may_pull(task) and len(wakes) == 2  # the consumer freed room
    mgr.stopping = True
    with mgr.lock:
        mgr.notify_all()                           # stopping wakes every feeder
    assert len(wakes) == 3


def test_a_batch_taken_joins_the_next_chunks_already_in_up_to_a_chunk_s_most():
    """A consumer (a serial piper) pays a hand-over per batch it takes, so a
    batch holds every result that is ready in order, not one worker's chunk;
    never past MERGE_ITEMS items, and never across a gap."""
    from papy_engine.pool.records import Task
    task = Task(0, "t", None, b"", None)
    task.pulled = task.held = 10_000
    task.store(0, ["a0", "a1"], 2, "A")
    task.store(2, ["b2"], 1, "B")
    task.store(5, ["d5"], 1, "D")          # 3 and 4 are still out
    got = task.take(MERGE_ITEMS)
    assert got == (["a0", "a1", "b2"], "AB", 0) and task.consumed == 3
    assert task.take(MERGE_ITEMS) is None             # 3 is not in: no skipping ahead
    task.store(3, ["c3", "c4"], 2, "")
    assert task.take(MERGE_ITEMS) == (["c3", "c4", "d5"], "D", 3)
    big = MERGE_ITEMS - 10
    task.store(6, ["x"] * big, big, "")
    task.store(6 + big, ["y"] * 20, 20, "")   # would pass MERGE_ITEMS: taken next
    assert len(task.take(MERGE_ITEMS).results) == big
    assert task.take(MERGE_ITEMS) == (["y"] * 20, "", 6 + big)
    assert task.held == 10_000 - 6 - big - 20 and task.consumed == 6 + big + 20


def test_with_a_fixed_buffer_a_batch_taken_is_one_chunk():
    """Results taken no longer count against the task's buffer: when the user
    fixed it (stride=, buffer=), a consumer takes one chunk at a time, so the
    input never runs further ahead than the buffer and a chunk."""
    from papy_engine.pool.manager import PoolManager
    from papy_engine.pool.policy import Limits
    from papy_engine.pool.records import Task
    for limits, sizes in ((Limits(10, 40), [10, 10]), (Limits(None, None), [20])):
        mgr = PoolManager("p", limits, retries=0)
        task = Task(0, "t", None, b"", None)
        mgr.tasks.append(task)
        mgr.limits.set_budgets(mgr.tasks, "p")
        task.pulled = task.held = 20
        task.take_cap = 4096   # a consumer past its slow start (see the next test)
        mgr.store(task, 0, list(range(10)), 10, [], 0.01)
        mgr.store(task, 10, list(range(10, 20)), 10, [], 0.01)
        got = [len(mgr.take(task, timeout=1).results) for _ in sizes]
        assert got == sizes and task.consumed == 20


def test_a_consumer_starts_with_one_result_and_doubles_up_to_its_pace():
    """A consumer's takes start at one result and at most double, up to about
    TARGET_TAKE_S of its own measured work; a stored chunk is split for it
    and the rest stays in order."""
    from papy_engine.pool.manager import PoolManager
    from papy_engine.pool.policy import TARGET_TAKE_S, Limits
    from papy_engine.pool.records import Task
    mgr = PoolManager("p", Limits(None, None), retries=0)
    task = Task(0, "t", None, b"", None)
    mgr.tasks.append(task)
    mgr.limits.set_budgets(mgr.tasks, "p")
    task.pulled = task.held = 100
    mgr.store(task, 0, list(range(100)), 100, [], 0.01)
    got = [mgr.take(task, timeout=1).results for _ in range(4)]
    assert [len(g) for g in got] == [1, 2, 4, 8]
    assert sum(got, []) == list(range(15)) and task.next_out == 15
    task.consumer_cost = TARGET_TAKE_S / 3    # measured: three results per take
    assert mgr.limits.take_size(task) == 3


def test_a_slow_consumer_holds_a_fast_producer_to_its_own_pace():
    """Until the consumer's pace is known the slow start counts what it is
    done with; once known, what is held is about TARGET_INFLIGHT_S of it."""
    from papy_engine.pool.policy import TARGET_INFLIGHT_S, Limits
    from papy_engine.pool.records import Task
    limits = Limits(None, None)
    task = Task(0, "t", None, b"", None, budget=10**6)
    task.cost, task.done = 1e-6, 50_000            # fast items, many done
    assert limits.limit(task, 2) == 8              # nothing consumed yet: 4n
    task.consumed, task.consumer_cost, task.consumer_s = 40, 0.01, 0.02   # 10 ms each
    assert limits.limit(task, 2) == 2 + int(TARGET_INFLIGHT_S / 0.01)
    task.consumer_cost = 1e-7                      # a consumer faster than the pool
    task.consumed = 50_000
    assert limits.limit(task, 2) == 100_000        # the slow start: twice what is done


def test_a_cold_first_chunk_does_not_hold_the_cost_estimate_up():
    """The cost per item is an average by items: a worker's first one-item
    chunk (page faults, first calls) counts for one item, so the chunks that
    follow grow at once; and a change of cost still shows within a chunk."""
    from papy_engine.pool.records import Task
    task = Task(0, "t", None, b"", None)
    task.note_cost(1e-4, 1)              # 100 us: a cold worker's first item
    task.note_cost(100 * 1e-6, 100)      # then 1 us per item
    assert task.cost == pytest.approx((1e-4 + 1e-4) / 101)
    assert task.cost < 2.1e-6            # (an average by chunks said 50 us)
    for _ in range(20):
        task.note_cost(4096 * 1e-6, 4096)
    assert task.cost == pytest.approx(1e-6, rel=0.01)
    task.note_cost(4096 * 1e-5, 4096)    # items became ten times dearer
    assert task.cost == pytest.approx(5.5e-6, rel=0.01)


def test_a_chunk_fits_a_pipe_one_way_and_its_reply_may_be_twice_that():
    """A chunk sent holds at most MAX_CHUNK_BYTES of pickles (it fits a
    widened pipe, so the dispatcher never waits to write it); its reply may
    hold MAX_REPLY_BYTES (every reply costs the driving process a hand-over:
    large results come in half as many)."""
    from papy_engine.pool.policy import Limits
    from papy_engine.pool.records import Task
    limits = Limits(None, None)
    task = Task(0, "t", None, b"", None, budget=10**6)
    task.cost = 1e-7                                   # cheap: bytes decide
    task.note_bytes("in", 1024)
    assert limits.chunk_size(task, 2, 10**6) == MAX_CHUNK_BYTES // 1024
    small_in = Task(1, "u", None, b"", None, budget=10**6)
    small_in.cost = 1e-7
    small_in.note_bytes("in", 8)
    small_in.note_bytes("out", 1024)
    assert limits.chunk_size(small_in, 2, 10**6) == MAX_REPLY_BYTES // 1024
    assert MAX_REPLY_BYTES == 2 * MAX_CHUNK_BYTES
    task.note_bytes("out", 1024)                       # both: the chunk sent binds
    assert limits.chunk_size(task, 2, 10**6) == MAX_CHUNK_BYTES // 1024
    assert task.item_bytes == 1024 and small_in.item_bytes == 1024


def test_large_results_come_in_replies_larger_than_a_pipe(monkeypatch):
    """Real workers: 1 KiB results of cheap items come back in replies of up
    to MAX_REPLY_BYTES, over a pipe of half that (the dispatcher reads a
    reply in two parts), every result whole and in order."""
    from papy_engine.pool import pipes
    from papy_engine.pool.process import ProcessSlot
    sizes = []
    post = ProcessSlot._post

    def measured(self, data, handle):
        sizes.append(len(data))
        return post(self, data, handle)
    monkeypatch.setattr(ProcessSlot, "_post", measured)
    n = 30_000
    with IMap(_stamped, range(n), worker_num=2, worker_type="process") as m:
        got = list(m)
    assert got == [_stamped(i) for i in range(n)]
    assert pipes.PIPE_BYTES < max(sizes) <= MAX_REPLY_BYTES + 64 * 1024, max(sizes)


def _stamped(i):
    return i.to_bytes(8, "little") * 128       # 1 KiB, its own for every item
