"""Direct transfer of items between processes: papy_engine.workers.io.

Transfers run between real processes: one spawned process dumps, another
loads.  Every test checks that nothing is left behind: files and fifos in the
item directory, /dev/shm segments and listening ports of the producer, and
rows of the sqlite store.
"""
from __future__ import annotations

import array
import hashlib
import io as _stdio
import multiprocessing
import os
import pickle
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import psutil
import pytest
from helpers import wait_until

from papy_engine import Worker, is_placeholder
from papy_engine.errors import WorkerError
from papy_engine.workers import io
from papy_engine.transfer import frames as _frames

TRANSPORTS = ["file", "fifo", "tcp", "shm", "sqlite"]
SERIALIZERS = ["pickle", "marshal", "json", "dill"]
BIG = 4 << 20
SMALL = {"name": "item", "values": [1, 2.5, None, True], "nested": {"k": "v"}}

# -- helpers run in the spawned processes (module level: spawn pickles by name) --


def big_item(serializer: str):
    """A 4 MiB payload the serializer can encode (JSON has no bytes type)."""
    if serializer == "json":
        return "x" * BIG
    return bytes(range(256)) * (BIG // 256)


def make_big(inbox):
    return big_item(inbox[0])


def digest_inbox(inbox):
    return digest(inbox[0])


def digest(obj) -> tuple[str, str]:
    data = obj.encode() if isinstance(obj, str) else bytes(obj)
    return type(obj).__name__, hashlib.sha256(data).hexdigest()


def produce(kind: str, transport: str, serializer: str, dir: str, timeout=60.0):
    item = SMALL if kind == "small" else big_item(serializer)
    loc = io.dump_item((item,), type=transport, serializer=serializer, dir=dir,
                       timeout=timeout)
    return os.getpid(), loc


def consume(loc, remove=True):
    item = Worker(io.load_item, kwargs={"remove": remove})((loc,))
    if is_placeholder(item) or isinstance(item, dict):
        return item
    return digest(item)


def produce_then_exit(dir: str, kinds, timeout=60.0):
    for transport in kinds:
        io.dump_item((b"z" * 100_000,), type=transport, dir=dir, timeout=timeout)


def produce_then_hang(dir: str, ready):
    for transport in ("file", "fifo", "shm", "sqlite"):
        io.dump_item((b"z" * 100_000,), type=transport, dir=dir)
    ready.set()
    time.sleep(60)


# -- leak probes ---------------------------------------------------------------


def leftovers(dir: str, pids=()) -> list[str]:
    """Every object an item may occupy, for the given producer pids."""
    found = [f"{dir}/{n}" for n in os.listdir(dir)
             if n.startswith("papy_") and n != "papy_items.sqlite3"]
    tags = tuple(f"papy_{pid}_" for pid in pids)
    if tags and os.path.isdir("/dev/shm"):
        found += [f"/dev/shm/{n}" for n in os.listdir("/dev/shm") if n.startswith(tags)]
    db = os.path.join(dir, "papy_items.sqlite3")
    if os.path.exists(db):
        with sqlite3.connect(db) as con:
            found += [f"row {k}" for (k,) in con.execute("SELECT key FROM papy_items")]
        con.close()
    for pid in pids:
        try:
            conns = psutil.Process(pid).net_connections(kind="inet")
        except psutil.NoSuchProcess:
            continue
        found += [f"port {c.laddr}" for c in conns if c.status == psutil.CONN_LISTEN]
    return found


def no_leftovers(dir, pids, timeout=5.0):
    left = []

    def clean():
        left[:] = leftovers(dir, pids)
        return not left
    assert wait_until(clean, timeout), f"left behind: {left}"


# -- fixtures ------------------------------------------------------------------


@pytest.fixture(scope="module")
def pools():
    """Two single-process spawn pools: a producer and a consumer."""
    ctx = multiprocessing.get_context("spawn")
    a, b = ctx.Pool(1), ctx.Pool(1)
    try:
        yield a, b
    finally:
        for p in (a, b):
            p.close()
            p.join()
    assert multiprocessing.active_children() == []


# -- transfers across processes ------------------------------------------------


@pytest.mark.timeout(60)
@pytest.mark.parametrize("serializer", SERIALIZERS)
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_transfer_between_processes(pools, tmp_path, transport, serializer):
    producer, consumer = pools
    for kind in ("small", "big"):
        pid, loc = producer.apply(produce, (kind, transport, serializer, str(tmp_path)))
        assert pid != os.getpid()
        assert len(pickle.dumps(loc)) < 512, "a locator must stay small"
        got = consumer.apply(consume, (loc,), )
        if kind == "small":
            assert got == SMALL
        else:
            assert got == digest(big_item(serializer))
    # shm segments go back to their producer's pool and to the OS after IDLE_S
    no_leftovers(str(tmp_path), [pid])


@pytest.mark.timeout(60)
def test_worker_composition_as_in_the_paper(pools, tmp_path):
    producer, consumer = pools
    up = Worker((make_big, io.dump_item), kwargs=({}, {"type": "tcp"}))
    loc = producer.apply(_call_worker, (up, "pickle"))
    assert isinstance(loc, io.ItemLocator) and loc.transport == "tcp"
    down = Worker((io.load_item, digest_inbox))
    assert consumer.apply(_call_worker, (down, loc)) == digest(big_item("pickle"))


def _call_worker(worker, value):
    return worker((value,))


@pytest.mark.timeout(30)
def test_shm_segments_are_recycled_and_stale_locators_refused(pools, tmp_path):
    producer, consumer = pools
    pid, first = producer.apply(produce, ("big", "shm", "pickle", str(tmp_path)))
    assert consumer.apply(consume, (first,)) == digest(big_item("pickle"))
    _, second = producer.apply(produce, ("small", "shm", "pickle", str(tmp_path)))
    assert second.address == first.address and second.key != first.key
    stale = consumer.apply(consume, (first,))
    assert isinstance(stale, WorkerError) and "holds no item" in stale.message
    assert consumer.apply(consume, (second,)) == SMALL
    no_leftovers(str(tmp_path), [pid])


# -- clear placeholders for bad input ------------------------------------------


def test_json_serializer_rejects_non_json_object(tmp_path):
    w = Worker((lambda inbox: inbox[0], io.dump_item),
               kwargs=({}, {"serializer": "json", "dir": str(tmp_path)}))
    out = w((b"\x00" * 10,))
    assert isinstance(out, WorkerError) and out.function == "dump_item"
    assert out.exc_type == "TypeError"
    assert "'json'" in out.message and "bytes" in out.message
    assert "dict" in out.message and "'pickle'" in out.message
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("kwargs, words", [
    ({"type": "carrier-pigeon"}, ["'carrier-pigeon'", "'file'", "'shm'", "'sqlite'"]),
    ({"serializer": "yaml"}, ["'yaml'", "'pickle'", "'marshal'", "'dill'"]),
    ({"timeout": -1}, ["timeout", "-1"]),
])
def test_bad_options_give_placeholders(tmp_path, kwargs, words):
    out = Worker(io.dump_item, kwargs=dict(kwargs, dir=str(tmp_path)))((1,))
    assert isinstance(out, WorkerError) and out.exc_type == "ValueError"
    for word in words:
        assert word in out.message
    assert os.listdir(tmp_path) == []


def test_load_item_needs_a_locator():
    out = Worker(io.load_item)(("/tmp/some-file",))
    assert isinstance(out, WorkerError) and "ItemLocator" in out.message


@pytest.mark.timeout(30)
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_locator_whose_data_is_gone(pools, tmp_path, transport):
    producer, consumer = pools
    pid, loc = producer.apply(produce, ("small", transport, "pickle", str(tmp_path)))
    assert consumer.apply(consume, (loc,)) == SMALL
    again = consumer.apply(consume, (loc,))
    assert isinstance(again, WorkerError) and again.exc_type == "TransferError"
    assert "is gone" in again.message and str(loc) in again.message
    no_leftovers(str(tmp_path), [pid])


def test_unknown_transport_in_a_locator():
    loc = io.ItemLocator("pigeon", "pickle", "nowhere", 10)
    out = Worker(io.load_item)((loc,))
    assert isinstance(out, WorkerError) and "'pigeon'" in out.message
    assert "'tcp'" in out.message


@pytest.mark.parametrize("transport", ["fifo", "tcp"])
def test_keeping_a_one_shot_item_is_refused(tmp_path, transport):
    loc = io.dump_item((1,), type=transport, dir=str(tmp_path))
    out = Worker(io.load_item, kwargs={"remove": False})((loc,))
    assert isinstance(out, WorkerError) and "remove=False" in out.message
    assert io.load_item((loc,)) == 1


@pytest.mark.parametrize("transport", ["file", "shm", "sqlite"])
def test_remove_false_keeps_the_item_until_its_lease_ends(tmp_path, transport):
    loc = io.dump_item(([1, 2],), type=transport, dir=str(tmp_path), timeout=0.3)
    assert io.load_item((loc,), remove=False) == [1, 2]
    assert io.load_item((loc,), remove=False) == [1, 2]
    no_leftovers(str(tmp_path), [os.getpid()])
    out = Worker(io.load_item)((loc,))
    assert is_placeholder(out) and "is gone" in out.message


# -- lifetimes: nobody consumes, the producer exits, or it is killed --------------


@pytest.mark.timeout(30)
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_producer_timeout_frees_an_item_nobody_loads(pools, tmp_path, transport):
    producer, _ = pools
    pid, loc = producer.apply(produce, ("big", transport, "pickle", str(tmp_path), 0.3))
    assert leftovers(str(tmp_path), [pid]), "the item should exist before its timeout"
    no_leftovers(str(tmp_path), [pid], timeout=10)


@pytest.mark.timeout(30)
def test_producer_exit_frees_unloaded_items(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    proc = ctx.Process(target=produce_then_exit, args=(str(tmp_path), TRANSPORTS))
    proc.start()
    proc.join(20)
    assert proc.exitcode == 0
    no_leftovers(str(tmp_path), [proc.pid], timeout=2)


@pytest.mark.timeout(30)
def test_cleanup_removes_what_a_killed_producer_left(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    ready = ctx.Event()
    proc = ctx.Process(target=produce_then_hang, args=(str(tmp_path), ready))
    proc.start()
    try:
        assert ready.wait(20)
        mine = io.dump_item(("still wanted",), type="file", dir=str(tmp_path))
        kept = io.dump_item(("kept",), type="file", dir=str(tmp_path), timeout=None)
        io.cleanup(str(tmp_path))  # may clear other runs' stale segments in /dev/shm
        assert len(leftovers(str(tmp_path), [proc.pid])) == 6, "live items are not stale"
        os.kill(proc.pid, signal.SIGKILL)
        proc.join(10)
    finally:
        if proc.is_alive():
            proc.kill()
            proc.join()
    before = leftovers(str(tmp_path), [proc.pid])
    assert len(before) == 6, before  # file, fifo, shm, row + our two files
    assert io.cleanup(str(tmp_path)) >= 4
    assert sorted(leftovers(str(tmp_path), [proc.pid])) == sorted(
        [mine.address, kept.address])
    assert io.load_item((mine,)) == "still wanted" and io.load_item((kept,)) == "kept"
    assert "papy_keep_" in kept.address


_TRACKER_SCRIPT = textwrap.dedent("""
    import multiprocessing, sys, warnings
    warnings.simplefilter("always")
    from papy_engine.workers import io

    def produce(n):
        return io.dump_item((bytes(n),), type="shm")

    def consume(loc):
        return len(io.load_item((loc,)))

    if __name__ == "__main__":
        for method in ("spawn", "fork"):
            ctx = multiprocessing.get_context(method)
            with ctx.Pool(1) as a, ctx.Pool(1) as b:
                for n in (10, 1 << 20, 3 << 20):
                    assert b.apply(consume, (a.apply(produce, (n,)),)) == n
                a.close(); b.close(); a.join(); b.join()
        print("ok")
""")


@pytest.mark.timeout(60)
def test_shm_across_processes_makes_no_resource_tracker_noise(tmp_path):
    script = tmp_path / "tracker.py"
    script.write_text(_TRACKER_SCRIPT)
    before = {n for n in os.listdir("/dev/shm") if n.startswith("papy_")}
    run = subprocess.run([sys.executable, "-W", "always", str(script)], capture_output=True,
                         text=True, timeout=50, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "ok"
    assert "resource_tracker" not in run.stderr and "leaked" not in run.stderr, run.stderr
    assert run.stderr == ""
    after = {n for n in os.listdir("/dev/shm") if n.startswith("papy_")}
    # other suites may run at the same time: only segments this run created count
    assert not {n for n in after - before if not _alive_owner(n)}


def _alive_owner(name: str) -> bool:
    pid = name.split("_")[1]
    return pid.isdigit() and psutil.pid_exists(int(pid))


# -- frames: out-of-band buffers -----------------------------------------------


def test_large_buffers_travel_out_of_band():
    payload = bytes(1 << 20)
    frame = _frames.encode(payload)
    assert len(frame.buffers) == 1 and frame.stream.nbytes < 200
    assert frame.buffers[0].obj is payload, "the item's memory is written directly"
    frame.release()
    assert len(_frames.encode(bytearray(1 << 20)).buffers) == 1
    # nested: the C pickler keeps bytes/bytearray in band; arrays go out of band
    nested = {"a": bytearray(1 << 20), "b": array.array("d", range(100_000)), "c": 1}
    frame = _frames.encode(nested)
    assert len(frame.buffers) == 1
    view = bytearray(frame.size)
    frame.write_into(memoryview(view))
    frame.release()
    out = _frames.decode(memoryview(view))
    assert out == nested and type(out["a"]) is bytearray and out["b"].typecode == "d"
    assert _frames.decode(memoryview(pickle_frame(memoryview(b"abc")))) == b"abc"


def pickle_frame(obj) -> bytearray:
    frame = _frames.encode(obj)
    out = bytearray(frame.size)
    frame.write_into(memoryview(out))
    frame.release()
    return out


def test_a_truncated_frame_is_reported():
    data = pickle_frame(bytes(1 << 20))
    with pytest.raises(ValueError, match="truncated"):
        _frames.decode(memoryview(data)[: len(data) // 2])


# -- the small io functions ----------------------------------------------------


def test_print_passes_the_item_on():
    out = _stdio.StringIO()
    assert io.print_(({"a": 1},), file=out) == {"a": 1}
    assert out.getvalue() == "{'a': 1}\n"


def test_serializer_functions_round_trip():
    obj = {"a": [1, 2], "b": "c"}
    assert io.pickle_loads((io.pickle_dumps((obj,)),)) == obj
    assert io.json_loads((io.json_dumps((obj,)),)) == obj
    out = Worker(io.json_dumps)(({1, 2},))
    assert isinstance(out, WorkerError) and "set" in out.message


@pytest.mark.parametrize("delimiter", [None, "END"])
def test_streams_round_trip(delimiter):
    # lines read from a file end with a newline: it must survive the round trip
    items = ["one\n", "two\nlines", "three", "four\n\n", "five\n"]
    handle = _stdio.StringIO()
    for item in items:
        io.dump_stream((item,), handle, delimiter=delimiter)
    handle.seek(0)
    assert list(io.load_stream(handle, delimiter=delimiter)) == items
    raw = _stdio.BytesIO()
    for item in items:
        io.dump_stream((item.encode(),), raw, delimiter=delimiter)
    raw.seek(0)
    assert list(io.load_stream(raw, delimiter=delimiter)) == [i.encode() for i in items]


def test_make_lines():
    assert list(io.make_lines(_stdio.StringIO("a\nb\n"))) == ["a\n", "b\n"]


# -- inside a real pipeline: two process-parallel pipers ------------------------


def make_item(inbox, serializer):
    return SMALL if inbox[0] == "small" else big_item(serializer)


def summarize(inbox):
    item = inbox[0]
    return item if isinstance(item, dict) else digest(item)


def fail(inbox):
    raise RuntimeError(f"no luck with {inbox[0]!r}")


def pair(inbox):
    return inbox


def shm_entries() -> set[str]:
    return {n for n in os.listdir("/dev/shm") if n.startswith("papy_")} \
        if os.path.isdir("/dev/shm") else set()


def leaked_shm(before: set[str]) -> list[str]:
    """Segments created since ``before`` whose producer is gone."""
    return [n for n in shm_entries() - before if not _alive_owner(n)]


def no_papy_workers() -> bool:
    """The pipeline's worker processes are gone (the module's spawn pools stay)."""
    return not [c for c in multiprocessing.active_children() if c.name.startswith("papy")]


def transfer_pipeline(tmp_path, combos, downstream=None, extra=None):
    from papy_engine import IMap, Piper, Plumber
    imap = IMap(worker_num=2, worker_type="process", stride=2)
    plumber = Plumber()
    outs = {}
    for transport, serializer in combos:
        tag = f"{transport}-{serializer}"
        up = Piper(Worker((make_item, io.dump_item), args=((serializer,), ()),
                          kwargs=({}, {"type": transport, "serializer": serializer,
                                       "dir": str(tmp_path)})),
                   parallel=imap, name=f"dump-{tag}")
        down = Piper(downstream or Worker((io.load_item, summarize)), parallel=imap,
                     name=f"load-{tag}", track=True)
        plumber.add_pipe((up, down))
        if extra is not None:
            plumber.add_pipe((extra(tag, imap), down))
        outs[tag] = down
    return plumber, outs


def expected(tag: str, kind: str):
    return SMALL if kind == "small" else digest(big_item(tag.split("-")[1]))


@pytest.mark.timeout(90)
def test_every_transport_and_serializer_in_a_pipeline(tmp_path):
    before = shm_entries()
    combos = [(t, s) for t in TRANSPORTS for s in SERIALIZERS]
    plumber, outs = transfer_pipeline(tmp_path, combos)
    kinds = ["big", "small", "big"]
    plumber.start([kinds] * len(plumber.get_inputs()))
    plumber.run()
    assert plumber.wait(timeout=80)
    assert plumber.state == "finished"
    for tag in outs:
        got = plumber.results[f"load-{tag}"]
        assert got == [expected(tag, k) for k in kinds], (tag, got)
    assert leftovers(str(tmp_path)) == [] and leaked_shm(before) == []
    assert no_papy_workers()


@pytest.mark.timeout(60)
def test_items_that_turn_into_placeholders_are_freed(tmp_path):
    """The consumer never calls load_item: a sibling input is a placeholder."""
    from papy_engine import Piper
    before = shm_entries()
    plumber, outs = transfer_pipeline(
        tmp_path, [(t, "pickle") for t in TRANSPORTS],
        downstream=Worker((pair, summarize)),
        extra=lambda tag, imap: Piper(fail, parallel=imap, name=f"fail-{tag}"))
    plumber.start([["big", "small"]] * len(plumber.get_inputs()))
    plumber.run()
    assert plumber.wait(timeout=50) and plumber.state == "finished"
    for tag in outs:
        got = plumber.results[f"load-{tag}"]
        assert all(isinstance(r, WorkerError) and "no luck" in r.message for r in got), got
    # The producer processes exited at the end of the run and freed what they held.
    assert leftovers(str(tmp_path)) == [] and leaked_shm(before) == []
    assert no_papy_workers()


@pytest.mark.timeout(60)
def test_a_stopped_run_leaves_nothing_behind(tmp_path):
    import itertools
    before = shm_entries()
    plumber, outs = transfer_pipeline(tmp_path, [(t, "pickle") for t in TRANSPORTS])
    plumber.start([itertools.repeat("big")] * len(plumber.get_inputs()))
    plumber.run()
    first = plumber.results  # poll until some items made it through every branch
    assert wait_until(lambda: all(len(v) >= 2 for v in plumber.results.values()), 30), first
    plumber.stop()
    assert plumber.state == "stopped"
    for tag in outs:
        got = plumber.results[f"load-{tag}"]
        assert got and all(r == expected(tag, "big") for r in got), (tag, got[:3])
    assert leftovers(str(tmp_path)) == [] and leaked_shm(before) == []
    assert no_papy_workers()
