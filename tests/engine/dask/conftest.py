"""The Dask tests' cluster: one real LocalCluster per module, on 127.0.0.1.

Two single-thread worker processes with nannies, and PaPy's scheduler settings
(:data:`papy_engine.pool.dask_cluster.CLUSTER_CONFIG`).  Its worker processes
are children of the test process, and tests kill some of them: the nannies'
replacements are the cluster's, not leftovers of the test, so the engine's
leftover-process check is narrowed here to processes that are not a running
cluster's workers; the fixture checks that every process is gone once the
cluster is closed.
"""
import json
import multiprocessing
import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

from helpers import wait_until

if os.environ.get("CI"):   # CI installs the extra: a missing one must fail, not skip
    import distributed  # noqa: F401
pytest.importorskip("distributed")

_running: list = []   # the clusters of this module, while they run


def cluster_pids(cluster) -> set[int]:
    """The pids of the cluster's worker processes now."""
    return {n.pid for n in list(cluster.workers.values()) if getattr(n, "pid", None)}


@pytest.fixture(scope="module")
def cluster():
    from papy_engine.pool.dask_cluster import local_cluster
    before = set(multiprocessing.active_children())
    c = local_cluster(2)   # n_workers=2, threads_per_worker=1, processes=True, 127.0.0.1
    _running.append(c)
    try:
        yield c
    finally:
        _running.remove(c)
        c.close(timeout=20)

        def left():
            return [p for p in multiprocessing.active_children() if p not in before]
        assert wait_until(lambda: not left(), 20), f"cluster processes left: {left()}"


@pytest.fixture(scope="module")
def client(cluster):
    from distributed import Client
    c = Client(cluster, set_as_default=False)
    yield c
    c.close()


@pytest.fixture(autouse=True)
def _no_leftover_children():
    """(Overrides the engine's check.)  No process is left but the cluster's workers."""
    before = set(multiprocessing.active_children())
    yield

    def left():
        ours = set().union(*(cluster_pids(c) for c in _running))
        return [p for p in multiprocessing.active_children()
                if p not in before and p.pid not in ours]
    assert wait_until(lambda: not left(), 10), f"worker processes left behind: {left()}"


def wait_for_workers(client, n=2, timeout=20):
    """Wait until the cluster has ``n`` worker threads again (after a kill)."""
    def ready():
        try:
            return sum(client.nthreads().values()) >= n
        except Exception:
            return False
    assert wait_until(ready, timeout, interval=0.05), \
        f"the cluster did not get {n} workers back"


def worker_pids(client) -> dict[str, int]:
    """Worker address -> pid of its process (workers dying now are left out)."""
    import os
    return client.run(os.getpid, on_error="ignore")


@contextmanager
def scheduler_and_worker(tmp_path: Path, nthreads: int = 2):
    """A ``dask scheduler`` and a ``dask worker`` as processes of their own, on
    127.0.0.1; yields ``(address, scheduler process)``.  Both are killed at the end."""
    info = tmp_path / "scheduler.json"
    dask = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
    procs = [subprocess.Popen(dask + ["--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                                      "--scheduler-file", str(info)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        assert wait_until(lambda: info.exists() and info.stat().st_size, 20, 0.05)
        address = json.loads(info.read_text())["address"]
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads",
             str(nthreads), "--no-nanny", "--no-dashboard", "--host", "127.0.0.1"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        yield address, procs[0]
    finally:
        for p in procs:
            p.kill()
            p.wait(10)
