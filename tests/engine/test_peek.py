"""Seeing the data: peek at a piper's last results, its errors with their inbox,
what node functions print, and how far a run has got."""
import threading

import pytest

from helpers import wait_until
from papy_engine import DaggerError, IMap, Piper, PiperError, Plumber, WorkerError
from papy_engine.peek import ITEM_BYTES, PeekBuffer, Truncated
from papy_engine.stats import rate_and_eta

pytestmark = [pytest.mark.timeout(60)]


def inc(inbox):
    return inbox[0] + 1


def big(inbox):
    return b"x" * (10 * ITEM_BYTES) if inbox[0] % 2 else inbox[0]


def odd_fails(inbox):
    if inbox[0] % 2:
        raise ValueError(f"odd {inbox[0]}")
    return inbox[0]


def shout(inbox):
    print(f"item {inbox[0]}")
    return inbox[0]


def run(p, *datas, **kw):
    p.start(list(datas), **kw)
    p.run()
    assert p.wait(30)
    return p


# -- peek ----------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", [None, "thread", "process"])
def test_peek_gives_the_last_results_in_order_after_the_run(kind):
    par = IMap(worker_num=2, worker_type=kind) if kind else False
    p = Plumber()
    p.add_piper(Piper(inc, parallel=par))
    run(p, range(1000))
    assert p.peek("inc") == list(range(981, 1001))
    assert p.peek("inc", 3, indexed=True) == [(997, 998), (998, 999), (999, 1000)]


def test_peek_during_the_run_sees_what_passed_so_far():
    gate = threading.Event()

    def held(inbox):
        if inbox[0] == 5:
            gate.wait(20)
        return inbox[0]
    p = Plumber(stride=1)
    p.add_piper(Piper(held))
    p.start([range(10)])
    p.run()
    try:
        assert wait_until(lambda: p.peek("held") == [0, 1, 2, 3, 4], 10)
    finally:
        gate.set()
    assert p.wait(10) and p.peek("held", 100) == list(range(10))


def test_large_results_are_kept_as_truncated_stand_ins():
    p = Plumber()
    p.add_piper(Piper(big))
    run(p, range(4))
    kept = p.peek("big")
    assert kept[0] == 0 and kept[2] == 2
    assert isinstance(kept[1], Truncated) and kept[1].type_name == "bytes"
    assert kept[1].size >= 10 * ITEM_BYTES and kept[1].text.startswith("b'xxx")
    assert len(kept[1].text) < 3000


def test_a_peek_buffer_is_bounded_by_count_and_bytes():
    buf = PeekBuffer(keep=50, total_bytes=10_000)
    buf.add(0, list(range(1000)))
    assert [i for i, _ in buf.last(1000)] == list(range(950, 1000))
    buf.add(1000, ["y" * 3000] * 10)   # 30 kB of strings: only a few fit
    kept = buf.last(1000)
    assert 1 <= len(kept) <= 4 and kept[-1][0] == 1009


def test_a_batch_of_one_kind_is_kept_as_the_general_path_keeps_it():
    """Scalars and small strings or bytes are sized without a call per item;
    what is kept, and the byte bound, are those of the item-by-item path."""
    from papy_engine.peek import _keepable
    for batch in (list(range(300)), ["ab" * k for k in range(300)],
                  [b"x" * 100] * 299 + [b"y" * (ITEM_BYTES + 1)],    # one too large
                  [None, 1.5, "s", b"b", True] * 60):
        fast = PeekBuffer(keep=100, total_bytes=6_000)
        fast.add(7, batch)
        kept, total = [], 0                  # the item-by-item rule, by hand
        for i, item in enumerate(batch[-100:]):
            value, size = _keepable(item)
            kept.append((7 + 200 + i, value, size))
            total += size
            while len(kept) > 100 or total > 6_000:
                total -= kept.pop(0)[2]
        assert fast.last(100) == [(i, v) for i, v, _ in kept]


def test_peek_names_the_piper():
    p = Plumber()
    p.add_piper(Piper(inc))
    assert p.peek("inc") == []
    with pytest.raises(DaggerError, match="nope"):
        p.peek("nope")


# -- errors and their inbox --------------------------------------------------------------
@pytest.mark.parametrize("kind", [None, "thread", "process"])
def test_errors_lists_the_placeholders_made_at_a_piper_with_their_inbox(kind):
    par = IMap(worker_num=2, worker_type=kind) if kind else False
    p = Plumber()
    p.add_pipe((Piper(odd_fails, parallel=par), Piper(inc, name="after")))
    run(p, range(10))
    errs = p.errors("odd_fails")
    assert sorted(e.index for e in errs) == [1, 3, 5, 7, 9]
    assert all(isinstance(e, WorkerError) and e.inbox == (e.index,) for e in errs)
    assert p.errors("after") == []           # passed through, not created there
    e = errs[0]
    with pytest.raises(ValueError):          # the failure reproduces from the inbox
        odd_fails(e.inbox)


def test_a_timed_out_item_keeps_its_inbox():
    def hang_on_2(inbox):
        import time
        if inbox[0] == 2:
            time.sleep(30)
        return inbox[0]
    p = Plumber()
    p.add_piper(Piper(hang_on_2, parallel=IMap(worker_num=2), timeout=0.5))
    run(p, range(4))
    (err,) = p.errors("hang_on_2")
    assert isinstance(err, PiperError) and err.exc_type == "TimeoutError"
    assert err.inbox == (2,)


def test_an_inbox_too_large_to_keep_is_noted_not_kept():
    def fail(inbox):
        raise ValueError("no")
    p = Plumber()
    p.add_piper(Piper(fail, parallel=IMap(worker_num=1)))
    run(p, [b"z" * (2 * 1024 * 1024)])
    (err,) = p.errors("fail")
    assert err.inbox is None
    assert "cap" in err.inbox_note and "b'zzz" in err.inbox_note


def test_errors_are_bounded_but_counted():
    p = Plumber()
    p.add_piper(Piper(odd_fails))
    run(p, range(3000))
    assert len(p.errors("odd_fails")) == 1000
    assert p.stats["pipers"]["odd_fails"]["errors"] == 1500


# -- output ----------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", [None, "thread", "process"])
def test_printed_output_is_captured_per_piper_in_result_order(kind, capsys):
    par = IMap(worker_num=2, worker_type=kind) if kind else False
    events = []
    p = Plumber()
    p.add_piper(Piper(shout, parallel=par))
    p.add_listener(lambda e: e["event"] == "output" and events.append(e))
    run(p, range(50), capture_output=True)
    text = "".join(e["text"] for e in events)
    assert text == "".join(f"item {i}\n" for i in range(50))
    assert {e["piper"] for e in events} == {"shout"}
    assert "item" not in capsys.readouterr().out      # nothing reached stdout


def test_without_capture_prints_go_to_stdout(capfd):
    p = Plumber()
    p.add_piper(Piper(shout, parallel=IMap(worker_num=1)))
    run(p, range(3))
    assert capfd.readouterr().out == "item 0\nitem 1\nitem 2\n"


# -- progress --------------------------------------------------------------------------------
def test_progress_is_known_when_the_inputs_have_a_length():
    def pair(inbox):
        return (inbox[0], inbox[0])
    p = Plumber()
    p.add_pipe((Piper(pair, produce=2), Piper(lambda inbox: inbox, consume=2, name="g")))
    assert run(p, range(10)).stats["progress"]["done"] == 10
    assert p.stats["progress"]["total"] == 10
    assert rate_and_eta(p.stats)[0] == 1.0 and rate_and_eta(p.stats)[2] == 0.0
    gen = Plumber()
    gen.add_piper(Piper(inc))
    run(gen, (x for x in range(10)))
    assert gen.stats["progress"]["total"] is None and gen.stats["progress"]["done"] == 10
    assert rate_and_eta(gen.stats)[0] is None and rate_and_eta(gen.stats)[1] > 0


def test_progress_counts_up_during_the_run():
    gate = threading.Event()

    def held(inbox):
        if inbox[0] == 10:
            gate.wait(20)
        return inbox[0]
    p = Plumber(stride=1)
    p.add_piper(Piper(held))
    p.start([range(20)])
    p.run()
    try:
        assert wait_until(lambda: rate_and_eta(p.stats)[0] == 0.5, 10)
        fraction, rate, eta = rate_and_eta(p.stats)
        assert rate > 0 and eta == pytest.approx(10 / rate)
    finally:
        gate.set()
    assert p.wait(10) and rate_and_eta(p.stats)[0] == 1.0


def test_rate_and_eta_leave_out_paused_time():
    snap = {"elapsed_s": 30.0, "progress": {"done": 10, "total": 40, "paused_s": 20.0}}
    assert rate_and_eta(snap) == (0.25, 1.0, 30.0)
    assert rate_and_eta({"elapsed_s": 0.0, "progress": {"done": 0, "total": 5,
                                                           "paused_s": 0.0}}) == (0.0, 0.0, None)
