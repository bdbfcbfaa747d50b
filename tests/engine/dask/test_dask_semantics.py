"""IMap on a real Dask LocalCluster keeps every guarantee of a local pool (issue 15).

Ordered and unordered results, memory bounded by the budgets, placeholders,
pause, stop, chunks sized per slot kind, slots following the cluster's
threads, mixed pools, pipelines and saved scripts.  Faults (dead workers,
poison and hung items, a lost scheduler) are in test_dask_faults.py.
"""
import itertools
import os
import sys
import threading
import time
import uuid
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, assume, given, settings

from dask_helpers import wait_for_workers, worker_pids
from helpers import ROOT, collect, wait_until

# the generated-pipeline oracle (its functions must be importable on the workers,
# which start after this module is imported)
sys.path.insert(0, str(ROOT / "tests" / "engine" / "semantics"))
import pipeline_build  # noqa: E402
from pipeline_strategies import cases  # noqa: E402
from papy_engine import IMap, Piper, Plumber, WorkerError, is_placeholder
from papy_engine.pool import dask_slot
from papy_engine.pool.dask_cluster import saved_spec

pytestmark = [pytest.mark.timeout(30)]


def sq(x):
    return x * x


def slow_sq(x):
    time.sleep(0.002)
    return x * x


def slow_sq_box(inbox):
    return slow_sq(inbox[0])


def sq_where(x):
    time.sleep(0.002)
    return x * x, os.getpid()


def fails_on_3(inbox):
    if inbox[0] % 10 == 3:
        raise ValueError(f"bad {inbox[0]}")
    return inbox[0]


def nap(x):
    time.sleep(0.05 if x % 3 == 0 else 0.001)
    return x


def nap_30ms(x):
    time.sleep(0.03)
    return x


def papy_tasks(dask_scheduler=None):
    """On the scheduler: the PaPy tasks queued there, and (processing, threads)
    of every worker."""
    queued = sum(1 for ts in dask_scheduler.queued if str(ts.key).startswith("papy-chunk-"))
    return queued, [(len(ws.processing), ws.nthreads) for ws in dask_scheduler.workers.values()]


def counting(n, pulled):
    for i in range(n):
        pulled.append(i)
        yield i


def test_ordered_results_on_the_cluster(client):
    with IMap(sq, range(300), worker_num=0, dask=client) as m:
        assert list(m) == [x * x for x in range(300)]
    # the pool's own threads are gone; the client given to it is left open
    assert not [t.name for t in threading.enumerate() if t.name.startswith("papy-")]
    assert client.status == "running"


def test_unordered_results_all_arrive(client):
    with IMap(nap, range(60), worker_num=0, dask=client, ordered=False) as m:
        out = list(m)
    assert sorted(out) == list(range(60))


def test_a_slow_consumer_does_not_pull_the_input_ahead(client):
    pulled: list = []
    m = IMap(sq, counting(10_000, pulled), worker_num=0, dask=client, stride=10, buffer=40)
    it = iter(m)
    for i in range(30):
        assert next(it) == i * i
        # the feeder stays within its budget whatever the consumer's pace
        assert len(pulled) <= (i + 1) + 40 + 10
    assert wait_until(lambda: len(pulled) >= 30 + 40, 5)   # it fills the budget ...
    assert not wait_until(lambda: len(pulled) > 31 + 40 + 10, 0.3)   # ... and stops there
    m.stop()


def test_exceptions_become_placeholders_in_a_pipeline_and_raise_standalone(client):
    p = Plumber()
    p.add_piper(Piper(fails_on_3, parallel=IMap(worker_num=0, dask=client), track=True))
    p.start([range(40)])
    p.run()
    assert p.wait(20) and p.state == "finished"
    out = p.results["fails_on_3"]
    assert [r for r in out if not is_placeholder(r)] == [x for x in range(40) if x % 10 != 3]
    errs = [r for r in out if is_placeholder(r)]
    assert [(e.exc_type, e.index, e.piper) for e in errs] == \
        [("ValueError", i, "fails_on_3") for i in (3, 13, 23, 33)]
    assert p.stats["pipers"]["fails_on_3"]["errors"] == 4
    with IMap(int, ["1", "x", "3"], worker_num=0, dask=client) as m:
        got = collect(m)
    assert got[0] == 1 and got[2] == 3 and isinstance(got[1], ValueError)


def test_pause_stops_pulling_and_resume_goes_on(client):
    pulled: list = []
    m = IMap(sq, counting(100, pulled), worker_num=0, dask=client, stride=5, buffer=20)
    it = iter(m)
    next(it)
    m.pause()
    for _ in range(19):   # consume what is held
        next(it)
    n = len(pulled)
    assert not wait_until(lambda: len(pulled) > n + 5, 0.5)   # at most the pull under way
    m.resume()
    assert sum(1 for _ in it) == 100 - 20
    m.stop()


def test_stop_accounts_for_every_pulled_item(client):
    pulled: list = []
    pipe = Piper(slow_sq_box, parallel=IMap(worker_num=0, dask=client), track=True)
    p = Plumber()
    p.add_piper(pipe)
    p.start([counting(100_000, pulled)])
    p.run()
    assert wait_until(lambda: len(p.results.get("slow_sq_box", [])) >= 50, 15)
    p.stop()
    assert p.state == "stopped"
    out = p.results["slow_sq_box"]
    assert len(out) == len(pulled) < 100_000
    assert out == [x * x for x in range(len(out))]


def test_chunks_aim_at_100_ms_on_dask_slots_and_10_ms_on_local_ones(client, monkeypatch):
    sizes: dict[str, list[int]] = {"dask": [], "local": []}
    from papy_engine.pool import thread as thread_slots
    for kind, cls in (("dask", dask_slot.DaskSlot), ("local", thread_slots.ThreadSlot)):
        def spy(self, serial, task, start, items, _send=cls.send_chunk, _k=kind):
            sizes[_k].append(len(items))
            return _send(self, serial, task, start, items)
        monkeypatch.setattr(cls, "send_chunk", spy)
    with IMap(slow_sq, range(800), worker_num=1, worker_type="thread", dask=client) as m:
        assert list(m) == [x * x for x in range(800)]
    # ~2 ms items: ~50 per Dask chunk, ~5 per local one, once the cost is measured
    assert max(sizes["dask"]) >= 20 and max(sizes["local"]) <= 10, sizes
    assert sum(sizes["dask"]) + sum(sizes["local"]) == 800


def test_slots_follow_the_cluster_as_workers_join_and_leave(cluster, client):
    m = IMap(nap, itertools.count(), worker_num=0, dask=client)
    it = iter(m)
    next(it)
    mgr = m._mgr

    def live():
        return sum(1 for s in list(mgr.slots) if not s.draining)
    per = dask_slot.SLOTS_PER_THREAD   # one chunk running, one queued at the scheduler
    assert per == 2 and live() == 2 * per
    cluster.scale(3)
    try:
        assert wait_until(lambda: (next(it), live())[1] == 3 * per, 20)
    finally:
        cluster.scale(2)
    assert wait_until(lambda: (next(it), live())[1] == 2 * per and len(mgr.slots) == 2 * per,
                      20)
    # the budgets follow: the pool counts the slots left, not the most it had
    assert mgr.nslots == 2 * per and mgr.nworkers == 2
    m.stop()
    wait_for_workers(client, 2)


def test_the_next_chunks_wait_at_the_scheduler_not_on_the_workers(client):
    """Two slots per cluster thread: while each thread runs a chunk, the next ones
    wait in the scheduler's queue (no client round trip between two chunks), and
    no worker holds more tasks than it has threads (one that dies takes no
    innocent chunk with it)."""
    wait_for_workers(client)
    seen: list = []

    def queued_at_the_scheduler():
        seen.append(client.run_on_scheduler(papy_tasks))
        return seen[-1][0] > 0
    with IMap(nap_30ms, range(150), worker_num=0, dask=client) as m:
        it = iter(m)
        out = [next(it)]
        assert len(m._mgr.slots) == dask_slot.SLOTS_PER_THREAD * 2
        assert wait_until(queued_at_the_scheduler, 10), seen[-5:]
        out += list(it)
    assert out == list(range(150))
    assert all(busy <= threads for _, workers in seen for busy, threads in workers), seen


def test_a_chunk_waits_at_the_scheduler_from_the_first(client):
    """Not only once its Dask task group is large: a lone task goes straight to a
    worker's queue until its group has more than twice the cluster's threads."""
    from papy_engine.pool.dask_cluster import submit_queued
    wait_for_workers(client)
    token = uuid.uuid4().hex[:12]
    futures = [submit_queued(client, f"papy-chunk-{token}-{i}", time.sleep, 1.0)
               for i in range(4)]

    def placed():
        queued, workers = client.run_on_scheduler(papy_tasks)
        return (queued, workers) if queued + sum(b for b, _ in workers) == 4 else None
    seen = wait_until(placed, 10)
    client.gather(futures)
    assert seen and seen[0] == 2 and all(busy <= threads for busy, threads in seen[1]), seen


def test_a_pool_mixes_local_workers_and_the_cluster(client):
    with IMap(sq_where, range(200), worker_num=1, worker_type="thread", dask=client) as m:
        out = list(m)
    assert [r for r, _ in out] == [x * x for x in range(200)]
    pids = {pid for _, pid in out}
    assert os.getpid() in pids and len(pids) >= 2, pids   # a thread here, and the cluster


def test_a_pipeline_shares_one_dask_pool_and_its_script_keeps_dask(cluster, client, tmp_path):
    pool = IMap(worker_num=0, dask="tcp://127.0.0.1:8786", name="cluster")
    a = Piper(fails_on_3, parallel=pool, name="a")
    b = Piper(fails_on_3, parallel=pool, name="b", track=True)
    p = Plumber()
    p.add_pipe((a, b))
    p.save(tmp_path / "pipe.py", inputs=["range(20)"])
    text = (tmp_path / "pipe.py").read_text()
    assert "dask='tcp://127.0.0.1:8786'" in text
    loaded = Plumber.load(tmp_path / "pipe.py")
    imaps = {id(x.parallel): x.parallel for x in loaded.pipers}
    (again,) = imaps.values()
    assert again.dask == "tcp://127.0.0.1:8786" and again.worker_num == 0
    assert saved_spec(cluster) == saved_spec(client) == "local:2"   # a LocalCluster's
    assert saved_spec(client.scheduler.address) == client.scheduler.address  # address dies
    again.dask = client       # run it here, on the test cluster
    loaded.start([range(20)])
    loaded.run()
    assert loaded.wait(20) and loaded.state == "finished"
    out = loaded.results["b"]
    assert len(out) == 20 and sum(isinstance(r, WorkerError) for r in out) == 2


def test_a_local_cluster_of_its_own_leaves_no_process_or_thread():
    before = {t.ident for t in threading.enumerate()}
    with IMap(sq, range(200), worker_num=0, dask="local:1") as m:
        assert list(m) == [x * x for x in range(200)]

    def extra():   # Dask's process-wide offload executor outlives every client
        return [t.name for t in threading.enumerate() if t.ident not in before
                and not t.name.startswith("Dask-Offload")]
    assert wait_until(lambda: not extra(), 10), extra()


# Dask's threads in this process (its event loop: tornado's periodic callbacks
# and distributed's retries add random jitter) draw from the global `random`
# while Hypothesis draws a case; Hypothesis sees the global state move and
# blames the strategy, which uses no `random` of its own.
@pytest.mark.filterwarnings("ignore:Do not use the `random` module inside strategies")
@given(case=cases())
@settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck))
def test_generated_pipelines_on_dask_pools_match_the_reference(client, case):
    """A few examples of the engine's oracle with every pool on the cluster."""
    assume(case.parallel)   # some piper runs on the cluster
    # Every Dask chunk costs a round trip, and the generator's "big" cases (a few
    # thousand items) with tiny buffers mean thousands of chunks: keep 200 per input.
    spec = replace(case.spec, inputs=[data[:200] for data in case.spec.inputs])
    case = replace(case, spec=spec, pools=[replace(p, kind="dask") for p in case.pools])
    pipeline_build.DASK = client
    plumber = pipeline_build.build(case)
    plumber.start(case.spec.inputs)
    plumber.run()
    assert plumber.wait(20) and plumber.state == "finished", (case, plumber.state)
    problems = pipeline_build.mismatches(case.spec, plumber)
    assert not problems, "\n".join([repr(case)] + problems)


def test_papy_run_dask_puts_every_parallel_imap_on_the_cluster(client, capsys):
    import subprocess
    from papy_engine.cli import main
    r = subprocess.run([sys.executable, "-m", "papy_engine.cli", "run",
                        str(ROOT / "examples" / "where.py"), "--quiet",
                        "--dask", client.scheduler.address],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("item")]
    assert len(lines) == 12
    cluster_pids = {str(p) for p in worker_pids(client).values()}
    for ln in lines:   # both of its IMaps ran on the cluster's worker processes
        stages = dict(part.split(": ", 1) for part in ln.split(" -> ")[1].split("; "))
        assert stages["process"].split()[2] in cluster_pids, ln
        assert stages["thread"].split()[2] in cluster_pids, ln
    assert main(["run", str(ROOT / "examples" / "where.py"), "--dask", "local:two"]) == 2
    assert "local:N" in capsys.readouterr().err


def test_closing_a_session_wakes_the_collector_at_once(client, monkeypatch):
    """A pool's end does not wait out the collector's poll for results: with a
    poll of a minute, a run still ends promptly (it cost every run 0.25 s;
    without the wake-up, close() gives up on the collector after 10 s)."""
    from papy_engine.pool import dask_source
    monkeypatch.setattr(dask_source, "COLLECT_POLL_S", 60.0)
    done = threading.Event()

    def run():
        with IMap(sq, range(20), worker_num=0, dask=client) as m:
            assert list(m) == [x * x for x in range(20)]
        done.set()
    t = threading.Thread(target=run, daemon=True)
    t.start()
    assert done.wait(5), "the pool's close waited for the collector's poll"
