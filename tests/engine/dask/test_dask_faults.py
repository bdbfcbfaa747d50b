"""On a real Dask LocalCluster, failures cost what they cost on a local pool (issue 15).

A worker process SIGKILLed mid-run loses no item; an item that kills every
worker that runs it costs only itself; a hung item (also one holding the GIL)
times out as a PiperError and its worker process is replaced; losing the
scheduler turns the items in flight into placeholders, never a hang.
"""
import os
import signal
import time

import pytest

from dask_helpers import scheduler_and_worker, wait_for_workers, worker_pids
from helpers import collect, wait_until
from papy_engine import IMap, Piper, PiperError, Plumber, WorkerError, is_placeholder
from papy_engine.pool import dask_source

pytestmark = [pytest.mark.timeout(40)]


def sleepy(x):
    time.sleep(0.02)
    return 2 * x


def poison(x):
    if x == 7:
        os._exit(3)   # kills whichever worker runs it
    time.sleep(0.01)
    return x


def hangs(inbox):
    x = inbox[0]
    if x == 2:
        time.sleep(3600)
    if x == 5:
        sum(range(10 ** 13))   # a C loop holding the GIL: no signal, no cancel stops it
    return x


def test_a_worker_killed_mid_run_loses_no_item(client):
    wait_for_workers(client)
    victim = next(iter(worker_pids(client).values()))
    got = []
    with IMap(sleepy, range(80), worker_num=0, dask=client) as m:
        for x in m:
            got.append(x)
            if len(got) == 30:
                os.kill(victim, signal.SIGKILL)
    assert got == [2 * x for x in range(80)]
    wait_for_workers(client)
    assert victim not in worker_pids(client).values()   # the nanny started another


def test_an_item_that_kills_every_worker_costs_only_itself(client):
    wait_for_workers(client)
    with IMap(poison, range(40), worker_num=0, dask=client, retries=1) as m:
        out = collect(m)
    assert [r for i, r in enumerate(out) if i != 7] == [x for x in range(40) if x != 7]
    err = out[7]
    assert isinstance(err, WorkerError) and err.exc_type == "RemoteWorkerLost", err
    assert "died" in err.message and "KilledWorker" in err.message, err.message
    assert "tried 2 time(s)" in err.message and err.index == 7


def test_a_result_that_cannot_be_loaded_here_fails_alone(client):
    wait_for_workers(client)
    before = worker_pids(client)

    def unloadable_on_7(x):
        class Unloadable:
            def __reduce__(self):   # loads as int("not a number"): ValueError here
                return (int, ("not a number",))
        return Unloadable() if x == 7 else x
    with IMap(unloadable_on_7, range(40), worker_num=0, dask=client, retries=1) as m:
        out = collect(m)
    assert [r for i, r in enumerate(out) if i != 7] == [x for x in range(40) if x != 7]
    err = out[7]
    assert isinstance(err, WorkerError) and err.exc_type == "UnpicklingError", err
    assert "cannot be loaded in the driving process" in err.message and err.index == 7
    assert worker_pids(client) == before   # no worker was lost or restarted


def test_hung_items_time_out_and_their_workers_are_replaced(client):
    """One item sleeps, one holds the GIL: both become PiperErrors, both workers go."""
    wait_for_workers(client)
    before = set(worker_pids(client).values())
    p = Plumber()
    p.add_piper(Piper(hangs, parallel=IMap(worker_num=0, dask=client), timeout=1.0,
                      track=True))
    t0 = time.monotonic()
    p.start([range(8)])
    p.run()
    assert p.wait(20) and p.state == "finished"
    assert time.monotonic() - t0 < 10
    out = p.results["hangs"]
    assert [r for i, r in enumerate(out) if i not in (2, 5)] == [0, 1, 3, 4, 6, 7]
    assert all(isinstance(out[i], PiperError) and out[i].exc_type == "TimeoutError"
               for i in (2, 5)), out
    assert p.stats["pipers"]["hangs"]["timeouts"] == 2
    wait_for_workers(client)
    assert wait_until(lambda: not before & set(worker_pids(client).values()), 10)


def test_losing_the_scheduler_gives_placeholders_not_a_hang(tmp_path):
    from distributed import Client
    with scheduler_and_worker(tmp_path) as (address, scheduler):
        client = Client(address, timeout=1, set_as_default=False)   # reconnects for 1 s
        try:
            wait_for_workers(client, 2)
            m = IMap(lambda x: time.sleep(0.02) or 2 * x, range(300), worker_num=0,
                     dask=client)
            out = [m.next(timeout=10) for _ in range(20)]
            scheduler.kill()   # the scheduler is gone for good
            out += collect(m)
            m.stop()
        finally:
            client.close()
    assert len(out) == 300 and out[:20] == [2 * x for x in range(20)]
    lost = [r for r in out if is_placeholder(r)]
    assert lost and all(r.exc_type == "RemoteWorkerLost" for r in lost)
    assert all("scheduler" in r.message for r in lost), lost[0].message
    assert all(r == 2 * i for i, r in enumerate(out) if not is_placeholder(r))


def test_a_cluster_without_workers_fails_its_items_after_a_grace(monkeypatch):
    from distributed import Client, LocalCluster
    monkeypatch.setattr(dask_source, "NO_WORKER_WAIT_S", 1.0)
    cluster = LocalCluster(n_workers=1, threads_per_worker=1, processes=False, protocol="tcp://",
                           host="127.0.0.1", dashboard_address=None)
    client = Client(cluster, set_as_default=False)
    try:
        m = IMap(sleepy, range(100), worker_num=0, dask=client)
        out = [m.next(timeout=10) for _ in range(10)]
        cluster.scale(0)
        out += collect(m)
        m.stop()
    finally:
        client.close()
        cluster.close()
    assert len(out) == 100
    lost = [r for r in out if is_placeholder(r)]
    assert lost and all("no worker" in r.message for r in lost), lost[:1]
