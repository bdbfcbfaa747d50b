"""Fusion: a linear chain of 1:1 pipers on one IMap runs as one task, and
nothing but the speed tells: results, per-piper statistics and placeholders
are those of the unfused run."""
import pytest

from papy_engine import IMap, Piper, Plumber, WorkerError, is_placeholder
from papy_engine.fusion import chains

pytestmark = [pytest.mark.timeout(60)]


def plus1(inbox):
    return inbox[0] + 1


def fail_on_7(inbox):
    if inbox[0] == 7:
        raise ValueError("seven")
    return inbox[0]


def times2(inbox):
    return inbox[0] * 2


def fail_on_20(inbox):
    if inbox[0] == 20:
        raise KeyError(20)
    return inbox[0]


def as_text(inbox):
    return str(inbox[0])


def stop_on_11(inbox):
    """StopIteration ends a C-level map quietly: the engine must not lose the item."""
    if inbox[0] % 11 == 0:
        raise StopIteration(inbox[0])
    return inbox[0]


STEPS = [plus1, fail_on_7, times2, fail_on_20, as_text]


def build(fuse, kind="process", **last):
    pool = IMap(worker_num=2, worker_type=kind)
    pipers = [Piper(f, parallel=pool) for f in STEPS]
    for k, v in last.items():
        setattr(pipers[-1], k, v)
    p = Plumber(fuse=fuse)
    p.add_pipe(pipers + [Piper(lambda inbox: inbox[0], name="sink", track=True)])
    return p


def run(p, data):
    p.start([data])
    p.run()
    assert p.wait(30) and p.state == "finished"
    return p


@pytest.mark.parametrize("kind", ["process", "thread"])
def test_a_fused_chain_gives_the_unfused_results_stats_and_placeholders(kind):
    fused = run(build(True, kind), range(50))
    plain = run(build(False, kind), range(50))
    assert fused.results == plain.results
    strip = {"busy_s", "throughput"}   # timings differ; counts and states may not
    assert ({n: {k: v for k, v in s.items() if k not in strip}
             for n, s in fused.stats["pipers"].items()} ==
            {n: {k: v for k, v in s.items() if k not in strip}
             for n, s in plain.stats["pipers"].items()})
    out = fused.results["sink"]
    errs = [r for r in out if is_placeholder(r)]
    assert [(e.piper, e.index) for e in errs] == [("fail_on_7", 6), ("fail_on_20", 9)]
    assert all(isinstance(e, WorkerError) for e in errs)
    assert [e.index for e in fused.errors("fail_on_7")] == [6]
    assert fused.errors("fail_on_7")[0].inbox == (7,)      # the inbox at that stage
    assert fused.stats["pipers"]["times2"]["busy_s"] > 0    # each stage timed in the worker


def test_fused_pipers_are_not_seen_from_outside_and_fuse_false_shows_them():
    fused = run(build(True), range(20))
    plain = run(build(False), range(20))
    assert fused.peek("times2") == []          # its items never left the worker
    assert plain.peek("times2")[-1] == 2 * 20
    assert fused.peek("as_text")[-1] == plain.peek("as_text")[-1] == "40"


def _chain_names(p):
    return [[q.name for q in c] for c in chains(p)]


def test_what_ends_a_chain():
    pool, other = IMap(worker_num=1), IMap(worker_num=1)
    a, b, c, d = (Piper(f, parallel=pool) for f in (plus1, times2, as_text, fail_on_7))
    p = Plumber()
    p.add_pipe((a, b, c, d))
    assert _chain_names(p) == [["plus1", "times2", "as_text", "fail_on_7"]]
    b.track = True                                         # someone reads b's results
    assert _chain_names(p) == [["plus1", "times2"], ["as_text", "fail_on_7"]]
    b.track = False
    assert _chain_names(p) == [["plus1", "times2", "as_text", "fail_on_7"]]
    assert [[q.name for q in ch] for ch in chains(p, {"times2"})] == \
        [["plus1", "times2"], ["as_text", "fail_on_7"]]   # a sink on b
    c.parallel = other                                     # another pool
    assert _chain_names(p) == [["plus1", "times2"]]
    c.parallel = pool
    c.timeout = 1.0                                        # a timed piper stays alone
    assert _chain_names(p) == [["plus1", "times2"]]
    c.timeout = None
    c.ordered = False
    assert _chain_names(p) == [["plus1", "times2"]]


def test_fan_out_and_produce_break_chains():
    pool = IMap(worker_num=1)
    a, b, c = Piper(plus1, parallel=pool), Piper(times2, parallel=pool), Piper(
        as_text, parallel=pool)
    p = Plumber()
    p.add_pipe((a, b))
    p.add_pipe((a, c))                                     # a feeds two pipers
    assert chains(p) == []
    pair = Piper(lambda inbox: (inbox[0], inbox[0]), parallel=pool, produce=2, name="pair")
    q = Plumber()
    q.add_pipe((Piper(plus1, parallel=pool), pair,
                Piper(lambda inbox: inbox, parallel=pool, consume=2, name="back")))
    assert chains(q) == []


def test_no_fusion_while_output_is_captured():
    events = []
    p = build(True, kind="thread")
    p.add_listener(lambda e: e["event"] == "output" and events.append(e))
    p.start([range(5)], capture_output=True)
    p.run()
    assert p.wait(30)
    assert p.peek("times2") == [2, 4, 6, 8, 10]            # each piper ran on its own


def fail_on_4321(inbox):
    if inbox[0] == 4321:
        raise ValueError("late")
    return inbox[0]


def same(results):
    """Results with placeholders by what they say (a traceback's line numbers may differ)."""
    return [(type(r).__name__, r.exc_type, r.message, r.piper, r.index) if is_placeholder(r)
            else r for r in results]


def test_late_errors_in_big_chunks_name_their_piper():
    """Big chunks take the composed path: an item that raises there is redone
    stage by stage, so its placeholder still names the piper that made it."""
    def build_late(fuse):
        pool = IMap(worker_num=2)
        p = Plumber(fuse=fuse)
        p.add_pipe([Piper(f, parallel=pool) for f in (plus1, fail_on_4321, times2)] +
                   [Piper(lambda inbox: inbox[0], name="sink", track=True)])
        return p
    fused, plain = run(build_late(True), range(20000)), run(build_late(False), range(20000))
    assert same(fused.results["sink"]) == same(plain.results["sink"])
    (err,) = [r for r in fused.results["sink"] if is_placeholder(r)]
    assert (err.piper, err.index, err.inbox) == ("fail_on_4321", 4320, (4321,))
    assert fused.stats["pipers"]["fail_on_4321"]["errors"] == 1
    assert fused.stats["pipers"]["times2"]["in"] == 20000


def _said(r):
    """A result, or what a placeholder says (its traceback's lines aside)."""
    if is_placeholder(r):
        return (type(r).__name__, r.piper, r.index, r.exc_type, str(r.exception))
    return r


@pytest.mark.parametrize("seed", range(20))
def test_the_composed_loop_gives_what_stage_by_stage_gives(seed):
    """In the worker: a chunk through the generated loop of a chain -- with
    placeholders arriving and items raising at any stage, anywhere in the
    chunk -- equals the chunk run stage by stage, and the progress it
    publishes ends on the chunk's last item."""
    import random

    from papy_engine.pool.chain import SAMPLE, Chain
    from papy_engine.worker import Worker
    rnd = random.Random(seed)
    n = rnd.choice([SAMPLE + 1, 50, 700])
    items = [rnd.randrange(40) for _ in range(n)]
    for off in rnd.sample(range(n), rnd.randrange(4)):
        items[off] = WorkerError("upstream", exc_type="ValueError", piper="up", index=off)

    steps = rnd.choice([STEPS, [as_text, times2],     # as_text would take a placeholder
                        [plus1, stop_on_11, times2]])

    def chain():
        return Chain([(Worker(f), f.__name__) for f in steps])
    progress = [0, 0, 0]
    fast = chain().run(list(items), 1000, True, progress)
    slow = chain().staged(list(items), 1000, True, None)
    assert len(fast[0]) == len(slow[0]) == n      # one result or placeholder per item
    assert [_said(r) for r in fast[0]] == [_said(r) for r in slow[0]]
    assert fast[1] == slow[1]                     # the placeholders made here, by offset
    assert progress[1] == -1                      # not observed item by item
