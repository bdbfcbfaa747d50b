"""The pool package: a new slot kind plugs in, abandoned pools go away, records."""
import gc
import multiprocessing
from pathlib import Path

import pytest

from helpers import wait_until
from papy_engine import IMap, Piper, PiperError, Plumber
from papy_engine.pool import Done, register
from papy_engine.pool.evaluate import reply_for
from papy_engine.pool.slots import Slot, SlotSource, worker_types

pytestmark = [pytest.mark.timeout(60)]


# -- a slot kind written against the protocol alone --------------------------------------
class InlineSlot:
    """Evaluates each chunk on the dispatcher thread as it is sent (a toy kind)."""

    precise = True
    chunk_s = 0.01

    def __init__(self, number, post):
        self.number, self._post = number, post
        self.outstanding, self.tasks = [], set()
        self.timed_out, self.dead, self.replies = None, False, 0
        self._funcs = {}
        self.chunks_run = 0

    def wait_objects(self):
        return []

    def collect(self, ready, post):
        return True

    def send_task(self, task):
        self._funcs[task.id] = (task.func, task.name, task.mode)
        self.tasks.add(task.id)

    def send_chunk(self, serial, task, start, items):
        func, name, mode = self._funcs[task.id]
        reply = reply_for(func, name, mode, serial, start, items, [0.0, 0.0, 0.0])
        self.chunks_run += 1
        self._post(self, Done(*reply[1:]))
        return 0

    def drop_task(self, tid):
        self.tasks.discard(tid)

    def began(self, serial):
        return False

    def started_at(self, serial):
        return None

    def current_offset(self, serial):
        return 0

    def kill(self):
        self.dead = True
        return True

    def exit_reason(self):
        return "stopped"

    def stop(self, timeout):
        self.dead = True


class InlineSource:
    made: list = []

    def __init__(self, imap, post, numbers):
        self.n, self.post, self.numbers = imap.local_workers(), post, numbers

    def start(self):
        slots = [InlineSlot(next(self.numbers), self.post) for _ in range(self.n)]
        InlineSource.made.extend(slots)
        return slots

    def replace(self, dead):
        return InlineSlot(next(self.numbers), self.post)

    def pending(self):
        return False

    def describe_loss(self):
        return "inline slots were stopped"

    def close(self):
        pass


def _typed(slot: Slot, source: SlotSource) -> None:
    """(mypy would reject InlineSlot/InlineSource here if they broke the protocols)"""


def test_a_new_slot_kind_is_one_class_registered():
    register("inline", InlineSource)
    assert "inline" in worker_types()
    _typed(InlineSlot(0, print), InlineSource(IMap(worker_num=1), print, iter([])))
    pool = IMap(worker_num=2, worker_type="inline")
    a = Piper(lambda inbox: inbox[0] + 1, parallel=pool, name="a")
    b = Piper(lambda inbox: inbox[0] * 2, parallel=pool, name="b", track=True)
    p = Plumber()
    p.add_pipe((a, b))
    p.start([range(100)])
    p.run()
    assert p.wait(30)
    assert p.results["b"] == [(x + 1) * 2 for x in range(100)]
    assert sum(s.chunks_run for s in InlineSource.made) > 0


def test_an_unknown_worker_type_lists_the_registered_ones():
    with pytest.raises(Exception, match="'process', 'thread'"):
        IMap(worker_type="gpu")


# -- an abandoned IMap does not leave its pool behind -----------------------------------
def _fail_on_2(x):
    if x == 2:
        raise ValueError("two")
    return x


def test_an_abandoned_imap_stops_its_workers():
    def use_and_drop():
        it = iter(IMap(_fail_on_2, range(10**6), worker_num=2))
        assert [next(it), next(it)] == [0, 1]
        with pytest.raises(ValueError):
            next(it)
        assert multiprocessing.active_children()   # the pool still runs here
    use_and_drop()
    gc.collect()
    assert wait_until(lambda: multiprocessing.active_children() == [], 10)


# -- placeholders made by the pool stand for every sub-item ----------------------------
def _pair_or_hang(inbox):
    import time
    if inbox[0] == 1:
        time.sleep(30)
    return (inbox[0], -inbox[0])


def test_a_timeout_in_a_producing_piper_keeps_downstream_groups_whole():
    pool = IMap(worker_num=2)
    make = Piper(_pair_or_hang, parallel=pool, produce=2, timeout=0.5, name="make")
    join = Piper(lambda inbox: inbox, consume=2, name="join", track=True)
    p = Plumber()
    p.add_pipe((make, join))
    p.start([range(4)])
    p.run()
    assert p.wait(30)
    out = p.results["join"]
    assert len(out) == 4
    assert out[0] == ([0, 0],) and out[2] == ([2, -2],) and out[3] == ([3, -3],)
    assert isinstance(out[1], PiperError) and out[1].exc_type == "TimeoutError"
    assert p.stats["pipers"]["make"]["timeouts"] == 1
    assert p.stats["pipers"]["make"]["out"] == 8


FORK_SERVER_SCRIPT = '''
import os, threading
from papy_engine import IMap, Piper, Plumber
def shout(inbox):
    print("hello", inbox[0], flush=True)
    return inbox[0]
if __name__ == "__main__":
    stop = threading.Event()
    threading.Thread(target=stop.wait, daemon=True).start()   # workers now come
    list(IMap(abs, [1], worker_num=1))                         # from a fork server
    fd = os.open(os.environ["OUT"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    os.dup2(fd, 1)                              # stdout moves after the server started
    p = Plumber()
    p.add_piper(Piper(shout, parallel=IMap(worker_num=1)))
    p.start([range(2)])
    p.run()
    p.wait()
    stop.set()
'''


@pytest.mark.timeout(60)
def test_workers_from_a_fork_server_print_where_the_parent_prints_now(tmp_path):
    import os
    import subprocess
    import sys
    script, out = tmp_path / "s.py", tmp_path / "out.txt"
    script.write_text(FORK_SERVER_SCRIPT)
    subprocess.run([sys.executable, str(script)], env=dict(os.environ, OUT=str(out)),
                   check=True, timeout=50)
    assert out.read_text() == "hello 0\nhello 1\n"


# -- warm workers -----------------------------------------------------------------------
def _pid(inbox):
    import os
    return os.getpid()


@pytest.mark.parametrize("kind", ["process", "thread"])
def test_warm_workers_serve_the_next_pool_with_the_same_settings(kind):
    import threading

    from papy_engine.pool import warm
    warm.keep_warm()
    try:
        def run(pool):
            p = Plumber()
            p.add_piper(Piper(_pid if kind == "process" else
                              (lambda inbox: threading.get_ident()), parallel=pool,
                              track=True, name="who"))
            p.start([range(200)])
            p.run()
            assert p.wait(30)
            return set(p.results["who"])
        first = run(IMap(worker_num=2, worker_type=kind))
        if kind == "process":
            before = set(multiprocessing.active_children())
            assert len(before) == 2 and warm.idle_count() == 2   # kept, not stopped
        second = run(IMap(worker_num=2, worker_type=kind))       # a new IMap, same settings
        assert second <= first                                   # no new worker
        if kind == "process":
            assert set(multiprocessing.active_children()) == before
            third = run(IMap(worker_num=2, worker_type=kind, start_method="spawn"))
            assert not third & first                             # other settings: new ones
    finally:
        warm.keep_warm(False)
    assert warm.idle_count() == 0


def test_a_warm_worker_forgets_the_last_runs_tasks_and_items(tmp_path):
    from papy_engine import Worker
    from papy_engine.pool import warm
    from papy_engine.workers import io

    def run(piper):
        p = Plumber()
        p.add_piper(piper)
        p.start([range(3)])
        p.run()
        assert p.wait(30)
        return p.results[piper.name]
    warm.keep_warm()
    try:
        for label in ("first", "second"):   # task 0 of each run: never the old function
            got = run(Piper(lambda inbox, t=label: f"{t}-{inbox[0]}", name="say",
                            parallel=IMap(worker_num=1), track=True))
            assert got == [f"{label}-{i}" for i in range(3)]
        locs = run(Piper(Worker((lambda inbox: inbox[0], io.dump_item),
                                kwargs=({}, {"dir": str(tmp_path)})),
                         parallel=IMap(worker_num=1), track=True, name="dump"))
        assert len(locs) == 3 and warm.idle_count() == 1
        # the warm worker frees what nobody loaded as it goes idle
        assert wait_until(lambda: not list(tmp_path.iterdir()), 10)
    finally:
        warm.keep_warm(False)


def test_prestart_starts_the_fork_server_a_threaded_process_will_use():
    import threading

    import psutil

    from papy_engine.pool import warm
    from papy_engine.pool.starting import default_start_method
    done = threading.Event()
    other = threading.Thread(target=done.wait)     # a process with threads (an editor)
    other.start()
    try:
        assert default_start_method() == "forkserver"
        warm.prestart().join(30)

        def servers():
            return [p for p in psutil.Process().children()
                    if "forkserver" in " ".join(p.cmdline())]
        assert len(servers()) == 1
        with IMap(abs, range(-5, 5), worker_num=2, worker_type="process") as m:
            assert list(m) == [abs(x) for x in range(-5, 5)]
        assert len(servers()) == 1    # the pool used it: no second server
    finally:
        done.set()
        other.join()


@pytest.mark.skipif(not hasattr(__import__("fcntl"), "F_GETPIPE_SZ"), reason="Linux pipes")
def test_a_worker_s_pipes_hold_a_whole_chunk_within_a_budget(monkeypatch):
    """A 1 MiB reply fits its pipe (one read, not sixteen that each take the GIL
    back from a serial piper); only so many pipes are widened at a time, and
    stopping a worker gives its share back."""
    import fcntl

    from papy_engine.pool import pipes, process
    from papy_engine.pool.starting import default_start_method
    before = pipes._widened[0]
    monkeypatch.setattr(pipes, "PIPE_BUDGET", before + 3)
    slots = [process.ProcessSlot(i, default_start_method()) for i in range(2)]
    try:
        replies = [fcntl.fcntl(s.result_r.fileno(), fcntl.F_GETPIPE_SZ) for s in slots]
        tasks = [fcntl.fcntl(s.task_w.fileno(), fcntl.F_GETPIPE_SZ) for s in slots]
        assert replies == [pipes.PIPE_BYTES] * 2
        assert tasks[0] == pipes.PIPE_BYTES and tasks[1] < pipes.PIPE_BYTES  # budget
        assert pipes._widened[0] == before + 3
    finally:
        for s in slots:
            s.stop(5)
    assert pipes._widened[0] == before


def test_a_pool_asks_every_worker_to_stop_before_it_waits_for_any():
    """Workers exit together: a process takes milliseconds to exit, and
    waiting for each before asking the next added them up."""
    from papy_engine.pool.manager import PoolManager
    from papy_engine.pool.policy import Limits
    calls = []

    class Leaving:
        def __init__(self, number):
            self.number = number

        def ask_stop(self):
            calls.append(("ask", self.number))

        def stop(self, timeout):
            calls.append(("wait", self.number))

    mgr = PoolManager("p", Limits(None, None), retries=0)
    mgr.slots = [Leaving(0), Leaving(1), Leaving(2)]
    mgr.shutdown_slots(1.0)
    assert calls == [("ask", 0), ("ask", 1), ("ask", 2), ("wait", 0), ("wait", 1), ("wait", 2)]
    assert mgr.slots == []


def test_process_workers_asked_to_stop_all_exit():
    from papy_engine.pool.process import ProcessSlot
    from papy_engine.pool.starting import default_start_method
    slots = [ProcessSlot(i, default_start_method()) for i in range(3)]
    for s in slots:
        s.ask_stop()
        s.ask_stop()    # safe to repeat
    assert wait_until(lambda: not any(s.proc.is_alive() for s in slots), 10)
    assert [s.proc.exitcode for s in slots] == [0, 0, 0]   # they left on their own
    for s in slots:
        s.stop(1.0)
        assert s.dead



class MarksItsLoading:
    """A task function that leaves a file where it is unpickled (in the worker)."""

    def __init__(self, path):
        self.path = path

    def __setstate__(self, state):
        self.__dict__.update(state)
        Path(self.path).touch()

    def __call__(self, x):
        return x


def test_workers_get_every_task_s_function_as_the_pool_starts(tmp_path):
    """A worker loads the functions while the pool's threads start, not when
    its first chunk waits for them: here the input gives its first item only
    once the worker has loaded the function."""
    loaded = tmp_path / "loaded"

    def items():
        yield "loaded" if wait_until(loaded.exists, 10) else "not loaded"
    assert list(IMap(MarksItsLoading(str(loaded)), items(), worker_num=1,
                     worker_type="process")) == ["loaded"]


def _workers():
    return [p for p in multiprocessing.active_children() if p.name.startswith("papy-worker")]


def test_workers_leave_once_the_work_is_done_before_results_are_taken():
    """Every item evaluated and the input exhausted: the worker processes exit
    (they take milliseconds to) while the results still wait to be taken."""
    m = IMap(abs, range(-500, 0), worker_num=2, worker_type="process")
    it = iter(m)
    first = [next(it) for _ in range(300)]   # the input follows the consumer's pace
    assert wait_until(lambda: not _workers(), 10)
    assert first + list(it) == [abs(x) for x in range(-500, 0)]
