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
