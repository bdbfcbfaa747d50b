"""Each node's throughput over the run, for the sparklines (no display)."""
import pytest

from papy_gui.model.throughput import ThroughputHistory, sparkline

pytestmark = pytest.mark.timeout(30)


def pipers(**counts):
    return {n: {"in": c, "state": "running"} for n, c in counts.items()}


def test_a_stalling_node_is_a_flat_line_at_the_end():
    h = ThroughputHistory(size=100, bucket_s=1.0)
    for t in range(11):
        # fast works steadily; slow works, then stalls from t=6
        h.sample(float(t), pipers(fast=10 * t, slow=5 * min(t, 6)))
    assert h.rates["fast"] == [10.0] * 10
    assert h.rates["slow"] == [5.0] * 6 + [0.0] * 4
    assert h.sparkline("slow") == "██████▁▁▁▁" and h.sparkline("fast") == "█" * 10


def test_buckets_merge_so_the_line_spans_the_whole_run():
    h = ThroughputHistory(size=8, bucket_s=1.0)
    for t in range(41):
        h.sample(float(t), pipers(a=t))
    assert len(h.rates["a"]) < 8 and h.bucket_s > 1.0
    assert all(r == pytest.approx(1.0) for r in h.rates["a"])


def test_pauses_are_left_out_and_the_end_closes_the_line():
    h = ThroughputHistory(size=100, bucket_s=1.0)
    h.sample(0.0, pipers(a=0))
    h.sample(1.0, pipers(a=4))
    h.sample(1.5, pipers(a=6), paused=True)   # the half bucket before the pause counts
    h.sample(30.0, pipers(a=6), paused=True)  # nothing while paused
    h.sample(31.0, pipers(a=6))
    h.sample(32.0, pipers(a=10))
    h.sample(32.5, {"a": {"in": 12, "state": "finished"}}, ended=True)
    h.sample(40.0, pipers(a=99))  # after the end: ignored
    assert h.rates["a"] == [4.0, 4.0, 4.0, 4.0]


def test_a_node_not_working_has_no_rate():
    h = ThroughputHistory(size=100, bucket_s=1.0)
    h.sample(0.0, {"late": {"in": 0, "state": "idle"}})
    h.sample(1.0, {"late": {"in": 0, "state": "idle"}})
    assert h.rates["late"] == [None] and h.sparkline("late") == " "
    assert sparkline([0.0, 1.0, 2.0, None, 4.0]) == "▁▃▅ █"
