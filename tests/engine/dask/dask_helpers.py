"""Helpers of the Dask tests (waiting for workers, their pids, a scheduler and a
worker as processes of their own); see conftest.py for the cluster fixture."""
import json
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

from helpers import wait_until


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
