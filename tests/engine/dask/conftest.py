"""The Dask tests' cluster: one real LocalCluster per module, on 127.0.0.1.

Two single-thread worker processes with nannies, and PaPy's scheduler settings
(:data:`papy_engine.pool.dask_cluster.CLUSTER_CONFIG`).  Its worker processes
are children of the test process, and tests kill some of them: the nannies'
replacements are the cluster's, not leftovers of the test, so the engine's
leftover-process check is narrowed here to processes that are not a running
cluster's workers; the fixture checks that every process is gone once the
cluster is closed.  The tests' helpers are in :mod:`dask_helpers` (a test module
imports them from there: a Dask worker that unpickles a test's function imports
its module, and ``conftest`` there could be another folder's conftest).
"""
import multiprocessing
import os

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
