"""Placeholders found without checking every item: what a Checked list may skip.

A worker's reply, or a chunk a worker receives, whose unpickling made no
placeholder becomes a :class:`Checked` list, and evaluation then skips its
per-item placeholder check.  These tests hold the proof to its word: a
message that does hold a placeholder must still have it passed through.
"""
import pickle
import threading

import pytest

from papy_engine import IMap, Piper, PiperError, Plumber, Worker, WorkerError, is_placeholder
from papy_engine.errors import Checked, made_here
from papy_engine.pool.records import MERGE_ITEMS, Task

pytestmark = [pytest.mark.timeout(60)]

N = 6000
BAD = {0, 997, 2500, 4999, 5998}   # spread over several chunks of a run


def fail_some(inbox):
    if inbox[0] in BAD:
        raise ValueError(f"bad {inbox[0]}")
    return inbox[0]


def strict(inbox):
    """Fails loudly if it is ever handed a placeholder as an item."""
    assert not is_placeholder(inbox[0]), "called on a placeholder"
    return inbox[0] + 1


def test_made_here_counts_the_placeholders_this_thread_makes_or_unpickles():
    before = made_here()
    WorkerError("x")
    assert made_here() == before + 1
    data = pickle.dumps([1, WorkerError("w"), "s", PiperError("p")])
    before = made_here()
    pickle.loads(data)
    assert made_here() == before + 2
    before = made_here()
    pickle.loads(pickle.dumps([1, "WorkerError", ("papy_engine.errors",)]))
    assert made_here() == before
    t = threading.Thread(target=WorkerError, args=("elsewhere",))
    t.start()
    t.join()
    assert made_here() == before   # another thread's placeholder is not ours


def test_a_checked_list_is_trusted_so_only_proof_may_build_one():
    err = WorkerError("upstream", piper="up", index=3)
    calls = []
    plain = Worker(lambda inbox: calls.append(inbox[0])).map([1, err], boxed=True)
    assert plain[1] is err and calls == [1]            # a plain list is checked
    Worker(lambda inbox: calls.append(inbox[0])).map(Checked([1, err]), boxed=True)
    assert calls == [1, 1, err]                         # a Checked one is not


def test_checked_lists_lose_the_mark_when_copied_sliced_or_pickled():
    c = Checked([1, 2, 3])
    assert type(c[:2]) is list and type(c + [4]) is list
    assert type(pickle.loads(pickle.dumps(c))) is list and pickle.loads(pickle.dumps(c)) == c


def test_a_batch_taken_is_checked_only_when_every_chunk_joined_in_it_was():
    task = Task(0, "t", None, b"", None)
    task.pulled = task.held = 100
    task.store(0, Checked(["a0", "a1"]), 2, "")
    task.store(2, Checked(["b2"]), 1, "")
    got = task.take(MERGE_ITEMS)
    assert got.results == ["a0", "a1", "b2"] and type(got.results) is Checked
    task.store(3, Checked(["c3"]), 1, "")
    task.store(4, ["d4"], 1, "")                   # not known to be clean
    got = task.take(MERGE_ITEMS)
    assert got.results == ["c3", "d4"] and type(got.results) is list


def _outcome(results):
    """``{index: (exc_type, piper)}`` of the placeholders, and the plain results."""
    bad = {i: (r.exc_type, r.piper) for i, r in enumerate(results) if is_placeholder(r)}
    good = [r for r in results if not is_placeholder(r)]
    return bad, good


def test_a_placeholder_in_a_worker_s_reply_passes_the_serial_piper_after_it():
    seen = []

    def serial(inbox):   # runs in this process: it may record what it was called with
        seen.append(inbox[0])
        return inbox[0]
    p = Plumber()
    p.add_pipe([Piper(fail_some, parallel=IMap(worker_num=2), name="first"),
                Piper(serial, name="last", track=True)])
    p.start([range(N)])
    p.run()
    assert p.wait(30) and p.state == "finished"
    bad, good = _outcome(p.results["last"])
    assert bad == {i: ("ValueError", "first") for i in BAD}
    assert good == [x for x in range(N) if x not in BAD]
    assert not any(is_placeholder(x) for x in seen) and len(seen) == N - len(BAD)


@pytest.mark.parametrize("downstream", ["one piper", "a fused chain"])
def test_a_placeholder_in_a_chunk_passes_the_parallel_pipers_after_it(downstream):
    """The first piper's placeholders reach the next pool's workers inside
    chunks: there they must be passed on, not evaluated."""
    second = IMap(worker_num=2)
    pipers = [Piper(fail_some, parallel=IMap(worker_num=2), name="first"),
              Piper(strict, parallel=second, name="second")]
    if downstream == "a fused chain":
        pipers.append(Piper(strict, parallel=second, name="third"))
    last = pipers[-1]
    last.track = True
    p = Plumber()
    p.add_pipe(pipers)
    p.start([range(N)])
    p.run()
    assert p.wait(30) and p.state == "finished"
    bad, good = _outcome(p.results[last.name])
    assert bad == {i: ("ValueError", "first") for i in BAD}
    steps = len(pipers) - 1
    assert good == [x + steps for x in range(N) if x not in BAD]
