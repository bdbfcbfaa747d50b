"""Faults: dying workers, hung functions, unpicklable data, clean shutdown."""
import ctypes
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from papy_engine import IMap, Piper, PiperError, Plumber, WorkerError, is_placeholder

pytestmark = [pytest.mark.timeout(90)]


def exit_on_5(inbox):
    if inbox[0] == 5:
        os._exit(3)
    return inbox[0]


def sigkill_on_5(inbox):
    if inbox[0] == 5:
        os.kill(os.getpid(), signal.SIGKILL)
    return inbox[0]


def segfault_on_5(inbox):
    if inbox[0] == 5:
        ctypes.string_at(0)
    return inbox[0]


def hang_on_3(inbox):
    if inbox[0] == 3:
        time.sleep(3600)
    return inbox[0]


def hang_every_4th(inbox):
    if inbox[0] % 4 == 0:
        time.sleep(3600)
    return inbox[0]


def unpicklable_on_2(inbox):
    if inbox[0] == 2:
        return threading.Lock()
    return inbox[0]


def run_one(func, data, wait_s=60, **piper_kw):
    imap = piper_kw.pop("imap", None) or IMap(worker_num=2)
    p = Plumber()
    p.add_piper(Piper(func, parallel=imap, track=True, **piper_kw))
    p.start([data])
    p.run()
    assert p.wait(wait_s)
    return p, p.results[p.postorder()[0].name]


@pytest.mark.parametrize("func,reason", [(exit_on_5, "exit code 3"),
                                         (sigkill_on_5, "SIGKILL"),
                                         (segfault_on_5, "SIGSEGV")])
def test_dying_worker_costs_only_its_item(func, reason):
    p, res = run_one(func, range(40))
    assert p.state == "finished"
    assert [r for i, r in enumerate(res) if i != 5] == [i for i in range(40) if i != 5]
    err = res[5]
    assert isinstance(err, WorkerError) and err.index == 5
    assert "died" in err.message and reason in err.message
    assert p.stats["pipers"][func.__name__]["errors"] == 1


def exit_on_15000(inbox):
    if inbox[0] == 15000:
        os._exit(3)
    return inbox[0]


def ident(inbox):
    return inbox[0]


@pytest.mark.parametrize("fused", [False, True], ids=["one piper", "fused chain"])
def test_a_death_inside_a_large_chunk_costs_only_its_item(fused):
    """Cheap items travel in chunks of thousands, evaluated without publishing
    each offset: a worker that dies inside one has the chunk's items run again
    one by one, and only the item that kills again becomes a placeholder."""
    imap = IMap(worker_num=2)
    pipers = [Piper(ident, parallel=imap)] if fused else []
    pipers.append(Piper(exit_on_15000, parallel=imap, track=True))
    p = Plumber()
    p.add_pipe(pipers) if fused else p.add_piper(pipers[0])
    p.start([range(30000)])
    p.run()
    assert p.wait(60) and p.state == "finished"
    res = p.results[pipers[-1].name]
    assert len(res) == 30000
    assert [r for i, r in enumerate(res) if i != 15000] == [i for i in range(30000) if i != 15000]
    err = res[15000]
    assert isinstance(err, WorkerError) and err.index == 15000 and "died" in err.message
    assert sum(s["errors"] for s in p.stats["pipers"].values()) == 1


def test_hung_function_times_out_and_the_worker_is_replaced():
    p, res = run_one(hang_on_3, range(12), timeout=0.5)
    assert isinstance(res[3], PiperError) and res[3].exc_type == "TimeoutError"
    assert res[3].index == 3
    assert [r for i, r in enumerate(res) if i != 3] == [i for i in range(12) if i != 3]
    st = p.stats["pipers"]["hang_on_3"]
    assert st["timeouts"] == 1 and st["errors"] == 1


def test_many_hangs_do_not_eat_the_pool():
    # 2 workers, 5 hangs: without replacement the pool would be gone after two
    p, res = run_one(hang_every_4th, range(20), timeout=0.3)
    assert [i for i, r in enumerate(res) if is_placeholder(r)] == [0, 4, 8, 12, 16]
    assert p.stats["pipers"]["hang_every_4th"]["timeouts"] == 5


def test_thread_pool_timeout_goes_on():
    gate = threading.Event()

    def wait_on_1(inbox):
        if inbox[0] == 1:
            gate.wait(30)
        return inbox[0]
    try:
        p, res = run_one(wait_on_1, range(6), timeout=0.3,
                         imap=IMap(worker_num=2, worker_type="thread"))
        assert isinstance(res[1], PiperError) and res[0] == 0 and res[5] == 5
    finally:
        gate.set()


def test_unpicklable_result_becomes_a_placeholder():
    p, res = run_one(unpicklable_on_2, range(6))
    assert isinstance(res[2], WorkerError) and "cannot be sent back" in res[2].message
    assert res[2].index == 2
    assert [r for i, r in enumerate(res) if i != 2] == [0, 1, 3, 4, 5]


def test_unpicklable_input_becomes_a_placeholder():
    data = [1, threading.Lock(), 3]
    p, res = run_one(lambda inbox: inbox[0], data)
    assert res[0] == 1 and res[2] == 3
    assert isinstance(res[1], WorkerError) and "cannot be sent to a worker" in res[1].message


class Unloadable:
    """Pickles in the worker, but loading it runs int("not a number"): ValueError."""

    def __reduce__(self):
        return (int, ("not a number",))


def unloadable_on_3(inbox):
    return Unloadable() if inbox[0] == 3 else inbox[0]


def test_a_result_that_cannot_be_loaded_here_fails_alone_and_no_worker_dies(caplog):
    # It used to look like a dead worker: the worker was killed and replaced,
    # twice, and the item failed as "WorkerDied (it stopped responding)".
    imap = IMap(worker_num=2)
    p, res = run_one(unloadable_on_3, range(200), imap=imap)
    assert p.state == "finished"
    assert [r for i, r in enumerate(res) if i != 3] == [x for x in range(200) if x != 3]
    err = res[3]
    assert isinstance(err, WorkerError) and err.exc_type == "UnpicklingError", err
    assert err.index == 3 and err.piper == p.postorder()[0].name
    assert "cannot be loaded in the driving process" in err.message
    assert "not a number" in err.message and err.inbox == (3,)
    assert "died" not in caplog.text and "replacement" not in caplog.text


def exits_on_3(inbox):
    if inbox[0] == 3:
        sys.exit(2)   # a library that exits on bad input
    return inbox[0]


def exit_code(inbox):
    return inbox[0]


@pytest.mark.parametrize("where", ["process", "thread", "serial", "fused chain"])
def test_sys_exit_in_a_node_function_is_its_items_placeholder(where):
    # SystemExit is no Exception: it used to end the run 'failed' (mislabelled
    # "debug mode", with the wrong item) and the items after it were lost.
    p = Plumber()
    if where == "serial":
        first = Piper(exits_on_3, name="first", track=True)
        p.add_piper(first)
    else:
        imap = IMap(worker_num=2, worker_type="thread" if where == "thread" else "process")
        first = Piper(exits_on_3, parallel=imap, name="first", track=where != "fused chain")
        if where == "fused chain":
            p.add_pipe((first, Piper(exit_code, parallel=imap, name="second", track=True)))
        else:
            p.add_piper(first)
    p.start([range(300)])
    p.run()
    assert p.wait(60) and p.state == "finished"
    res = p.results["second" if where == "fused chain" else "first"]
    assert [r for i, r in enumerate(res) if i != 3] == [x for x in range(300) if x != 3]
    err = res[3]
    assert isinstance(err, WorkerError) and err.exc_type == "SystemExit", err
    assert err.piper == "first" and err.index == 3
    assert p.stats["pipers"]["first"]["errors"] == 1


def interrupts_on_3(inbox):
    if inbox[0] == 3:
        raise KeyboardInterrupt
    return inbox[0]


def test_a_keyboard_interrupt_raised_in_a_worker_fails_the_run_and_says_so(caplog):
    p = Plumber()
    p.add_piper(Piper(interrupts_on_3, parallel=IMap(worker_num=2), name="first"))
    p.start([range(300)])
    p.run()
    assert p.wait(60) and p.state == "failed"   # a failure of the run, not of an item
    assert isinstance(p.error, WorkerError) and p.error.exc_type == "KeyboardInterrupt"
    assert p.error.index in (3, None)   # None: evaluated on the fast path, no offset
    assert "raised: " in caplog.text and "debug mode" not in caplog.text


def test_a_result_of_a_fused_chain_that_cannot_be_loaded_names_the_last_piper():
    imap = IMap(worker_num=2)
    p = Plumber()
    p.add_pipe((Piper(exit_code, parallel=imap, name="a"),
                Piper(unloadable_on_3, parallel=imap, name="b", track=True)))
    p.start([range(50)])
    p.run()
    assert p.wait(60) and p.state == "finished"
    err = p.results["b"][3]
    assert isinstance(err, WorkerError) and err.exc_type == "UnpicklingError", err
    assert (err.piper, err.function, err.index) == ("b", "unloadable_on_3", 3)
    assert p.stats["pipers"]["b"]["errors"] == 1 and p.stats["pipers"]["a"]["errors"] == 0
    assert [r for i, r in enumerate(p.results["b"]) if i != 3] == \
        [x for x in range(50) if x != 3]


class OnlyPlainPickle:
    """Plain pickle takes it; the pool's pickler (ForkingPickler) refuses it."""

    def __init__(self, v):
        self.v = v


def _refuse(obj):
    raise TypeError("no ForkingPickler for this one")


@pytest.fixture
def refused_by_the_pool_pickler():
    from multiprocessing.reduction import ForkingPickler, register
    register(OnlyPlainPickle, _refuse)
    yield
    del ForkingPickler._extra_reducers[OnlyPlainPickle]


@pytest.mark.timeout(30)
def test_input_only_plain_pickle_takes_becomes_a_placeholder(refused_by_the_pool_pickler):
    # Tried alone with plain pickle, the item passes: it used to go back in
    # the queue, fail to go out again, and so on forever -- a run that hung.
    data = [1, 2, OnlyPlainPickle(3), 4, 5]
    p, res = run_one(lambda inbox: inbox[0], data, wait_s=20)
    assert p.state == "finished"
    assert [res[i] for i in (0, 1, 3, 4)] == [1, 2, 4, 5]
    assert isinstance(res[2], WorkerError) and res[2].index == 2
    assert "no ForkingPickler for this one" in res[2].message

def test_stop_with_a_hung_item_still_returns_with_timeout():
    imap = IMap(worker_num=2)
    p = Plumber()
    p.add_piper(Piper(hang_every_4th, parallel=imap, timeout=0.5, track=True))
    # (at most 50 hangs even if everything was pulled before stop(): <= ~15 s)
    p.start([range(200)])
    p.run()
    p.stop()
    assert p.state == "stopped"
    assert len(p.results["hang_every_4th"]) == p.stats["inputs"]["hang_every_4th"]


ENGINE_THREADS = ("papy-drain", "papy-imap", "papy-thread", "papy-reader")


def _threads():
    return {t for t in threading.enumerate() if t.name.startswith(ENGINE_THREADS)}


def test_no_threads_or_fds_left_after_runs():
    before_fds = len(os.listdir("/proc/self/fd"))
    for _ in range(3):
        run_one(exit_on_5, range(20))
    from helpers import wait_until
    assert wait_until(lambda: not _threads(), 10), _threads()
    assert len(os.listdir("/proc/self/fd")) <= before_fds


def test_interpreter_exit_mid_run_leaves_no_process(tmp_path):
    script = tmp_path / "mid.py"
    script.write_text(
        "import os, time\n"
        "from papy_engine import IMap, Piper, Plumber\n"
        "def slow(i):\n    time.sleep(0.01); return i[0]\n"
        "if __name__ == '__main__':\n"
        "    p = Plumber(); p.add_piper(Piper(slow, parallel=IMap(worker_num=2)))\n"
        "    p.start([range(10**6)]); p.run()\n"
        "    import multiprocessing as mp\n"
        "    while len(mp.active_children()) < 2: time.sleep(0.01)\n"
        "    print(' '.join(str(c.pid) for c in mp.active_children()), flush=True)\n")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=60)
    pids = [int(x) for x in out.stdout.split()]
    assert len(pids) == 2, out.stderr
    from helpers import wait_until

    def gone():
        return all(not os.path.exists(f"/proc/{pid}") or
                   open(f"/proc/{pid}/stat").read().split()[2] == "Z" for pid in pids)
    assert wait_until(gone, 10)


def test_engine_never_imports_tkinter():
    code = ("import sys; sys.modules['tkinter'] = None\n"
            "import papy_engine, pkgutil, importlib\n"
            "for m in pkgutil.walk_packages(papy_engine.__path__, 'papy_engine.'):\n"
            "    if m.name.endswith('cli'): continue\n"
            "    importlib.import_module(m.name)\n"
            "from papy_engine import *\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_a_fork_server_is_used_once_threads_exist():
    from papy_engine.pool.starting import default_start_method
    stop = threading.Event()
    t = threading.Thread(target=stop.wait)
    t.start()
    try:
        assert default_start_method() == "forkserver"
        assert list(IMap(abs, [-1, -2], worker_num=1)) == [1, 2]
    finally:
        stop.set()
        t.join()


def test_no_temp_files_or_shared_memory_left_behind():
    import tempfile
    dirs = ["/dev/shm", tempfile.gettempdir()]
    before = {d: set(os.listdir(d)) for d in dirs if os.path.isdir(d)}
    run_one(exit_on_5, range(50))
    run_one(hang_on_3, range(6), timeout=0.3)
    for d, names in before.items():
        new = {n for n in set(os.listdir(d)) - names if n.startswith(("pym", "papy", "psm"))}
        assert not new, (d, new)


ORPHAN = """
import itertools, sys, time
from papy_engine import IMap

def slow(x):
    time.sleep(0.01)
    return x

if __name__ == "__main__":
    m = IMap(slow, itertools.count(), worker_num=2)
    m.next()
    print("ready", flush=True)
    time.sleep(600)
"""


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["TERM", "KILL"])
def test_workers_leave_when_the_driving_process_is_killed(tmp_path, sig):
    # A forked worker inherited the parent's end of its own input pipe, so it
    # never saw that pipe end: killed, the driving process left both workers
    # running for ever, adopted by init.
    import psutil
    script = tmp_path / "orphan.py"
    script.write_text(ORPHAN)
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        workers = psutil.Process(proc.pid).children()
        assert len(workers) == 2
        proc.send_signal(sig)
        proc.wait(10)
        gone, alive = psutil.wait_procs(workers, timeout=10)
        assert not alive, [w.pid for w in alive]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
