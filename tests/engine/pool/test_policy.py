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
    # in flight on 2 workers (3 chunks each), one chunk each waiting for the
    # sink, the sink's own batch and one input batch: never the whole budget
    assert ahead[0] <= 12 * per_chunk, ahead[0]
