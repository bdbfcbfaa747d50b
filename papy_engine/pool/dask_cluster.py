"""Which Dask cluster an IMap uses: the ``dask=`` option, checked and turned into a client.

``IMap(dask=...)`` accepts

* a scheduler address, ``"tcp://host:8786"`` (or ``"tls://..."``, ``"host:8786"``):
  the pool opens its own client for each run and closes it afterwards;
* ``"local:N"`` (``"local"``: one worker per CPU): a ``LocalCluster`` of N
  single-thread worker processes listening on 127.0.0.1 only, owned by PaPy and
  tuned for it (:data:`CLUSTER_CONFIG`); the IMaps of one process that name the
  same N share it while any of them runs, and the last one closes it;
* a ``distributed`` cluster object (``LocalCluster``, ``SLURMCluster``, ...):
  a client of the pool's own, the cluster stays the caller's;
* a ``distributed.Client``: used as it is, and left open.

:func:`submit_queued` submits a chunk so that the scheduler, not a worker,
queues it until a thread is free.

Checking the option imports nothing (``distributed`` takes half a second to
import, and is an optional extra): :func:`check_dask` only asks whether it is
installed.  :func:`connect` imports it when a pool starts.
"""
from __future__ import annotations

import importlib.util
import logging
import os
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import IMapError

__all__ = ["INSTALL_HINT", "CLUSTER_CONFIG", "check_spec", "check_dask", "local_workers", "saved_spec",
           "Connection", "connect", "local_cluster", "submit_queued", "describe_failure"]

log = logging.getLogger(__name__)

INSTALL_HINT = ("Dask distributed is not installed; install the extra with "
                "pip install 'papy-studio[dask]'")

#: Scheduler settings of the clusters PaPy starts (and recommended for clusters
#: started for PaPy, see docs/cluster.md): a worker holds only the task it runs,
#: so a dying worker takes no innocent queued task with it; and a chunk whose
#: worker died is not re-run by Dask, so that IMap's own ``retries`` decide,
#: one item at a time (a culprit then costs only itself).
CLUSTER_CONFIG = {
    "distributed.scheduler.worker-saturation": 1.0,
    "distributed.scheduler.allowed-failures": 0,
}


def installed() -> bool:
    return importlib.util.find_spec("distributed") is not None


def local_workers(spec: str) -> int | None:
    """N of ``"local:N"`` (``"local"``: the number of CPUs), else None.

    Raises:
        IMapError: ``"local:..."`` with something else than a whole number >= 1.
    """
    if spec == "local":
        return os.cpu_count() or 1
    if not spec.startswith("local:"):
        return None
    n = spec[len("local:"):]
    if not n.isdigit() or int(n) < 1:
        raise IMapError(f"dask='local:N' needs a whole number of workers >= 1 (got {spec!r})")
    return int(n)


def check_spec(value: Any) -> Any:
    """Validate the form of a ``dask=`` option (nothing is imported); returns it.

    Raises:
        IMapError: not an address, "local:N", a cluster or a client (the
            message says what was given).
    """
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if not text or any(c.isspace() for c in text) or \
                (local_workers(text) is None and ":" not in text):
            raise IMapError(f"dask= must be a scheduler address like 'tcp://host:8786', "
                            f"'local:N', a Dask cluster or a Client (got {value!r})")
        return text
    if not (hasattr(value, "scheduler_address") or _is_client(value)):
        raise IMapError(f"dask= must be a scheduler address like 'tcp://host:8786', "
                        f"'local:N', a Dask cluster or a Client (got {value!r} that is a "
                        f"{type(value).__name__})")
    return value


def check_dask(value: Any) -> Any:
    """Validate an IMap's ``dask=`` option and that Dask is installed; returns it.

    Raises:
        IMapError: see :func:`check_spec`, or ``distributed`` is not installed
            (the message says how to install it).
    """
    value = check_spec(value)
    if value is not None and not installed():
        raise IMapError(f"IMap(dask=...): {INSTALL_HINT}")
    return value


def _is_client(value: Any) -> bool:
    return type(value).__module__.startswith("distributed") and hasattr(value, "submit")


def saved_spec(value: Any) -> str | None:
    """What a saved script writes for ``dask=``: the option as text.

    A ``LocalCluster`` (or a client of one) is saved as ``"local:N"``: its
    address dies with the process.  Another cluster or client is saved as its
    scheduler's address.
    """
    if value is None or isinstance(value, str):
        return value
    cluster = value if hasattr(value, "scheduler_address") else getattr(value, "cluster", None)
    if cluster is not None and type(cluster).__name__ == "LocalCluster":
        return f"local:{max(1, len(cluster.workers))}"
    if cluster is not None:
        return str(cluster.scheduler_address)
    return str(value.scheduler.address)


# -- connecting ------------------------------------------------------------------------
@dataclass
class Connection:
    """A client for one pool session, and how to let go of it."""

    client: Any
    where: str                          # for messages: the address, or "local:N"
    release: Callable[[], None]         # close what the session opened (safe to repeat)


def connect(value: Any) -> Connection:
    """Open a client for ``value`` (see the module docstring).

    Raises:
        IMapError: the scheduler cannot be reached, or the cluster cannot start.
    """
    try:
        from distributed import Client
    except ImportError as exc:
        raise IMapError(f"IMap(dask=...): {INSTALL_HINT}") from exc
    if _is_client(value):
        return Connection(value, str(value.scheduler.address), lambda: None)
    n = local_workers(value) if isinstance(value, str) else None
    if n is not None:
        cluster = _acquire_local(n)
        try:
            client = Client(cluster, set_as_default=False)
        except Exception:
            _release_local(n, cluster)
            raise
        def release() -> None:
            _close(client)
            _release_local(n, cluster)
        return Connection(client, f"local:{n}", _once(release))
    where = value if isinstance(value, str) else str(value.scheduler_address)
    try:
        client = Client(value, set_as_default=False)
    except Exception as exc:
        raise IMapError(f"cannot reach the Dask scheduler at {where}: "
                        f"{type(exc).__name__}: {exc}") from exc
    return Connection(client, where, _once(lambda: _close(client)))


def _once(fn: Callable[[], Any]) -> Callable[[], None]:
    done: list[bool] = []

    def run() -> None:
        if not done:
            done.append(True)
            fn()
    return run


def _close(client: Any) -> None:
    try:
        client.close(timeout=5)
    except Exception:
        log.debug("closing a Dask client", exc_info=True)


def local_cluster(n: int, **kwargs: Any) -> Any:
    """A ``LocalCluster`` of ``n`` single-thread worker processes on 127.0.0.1,
    with :data:`CLUSTER_CONFIG` (what ``dask="local:N"`` starts)."""
    import dask
    from distributed import LocalCluster
    options = dict(n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
                   dashboard_address=None, silence_logs=logging.ERROR,
                   # the scheduler's health/metrics server: a free port, not 8787
                   scheduler_kwargs={"dashboard_address": ":0"})
    options.update(kwargs)
    with dask.config.set(CLUSTER_CONFIG):
        return LocalCluster(**options)


_local_lock = threading.Lock()
_local: dict[int, list] = {}   # N -> [cluster, sessions using it]


def _acquire_local(n: int) -> Any:
    with _local_lock:
        entry = _local.get(n)
        if entry is None:
            log.info("starting a local Dask cluster of %d worker process(es)", n)
            try:
                entry = _local[n] = [local_cluster(n), 0]
            except Exception as exc:
                raise IMapError(f"the local Dask cluster (local:{n}) did not start: "
                                f"{type(exc).__name__}: {exc}") from exc
        entry[1] += 1
        return entry[0]


def _release_local(n: int, cluster: Any) -> None:
    with _local_lock:
        entry = _local.get(n)
        if entry is None or entry[0] is not cluster:
            return
        entry[1] -= 1
        if entry[1] > 0:
            return
        del _local[n]
    try:
        cluster.close(timeout=10)
    except Exception:
        log.warning("closing the local Dask cluster (local:%d) failed", n, exc_info=True)


# -- submitting ---------------------------------------------------------------------
def submit_queued(client: Any, key: str, func: Callable[..., Any], *args: Any,
                  workers: list[str] | None = None) -> Any:
    """``client.submit(func, *args, key=key)``, but marked a *data producer*.

    The scheduler queues only root-ish tasks itself (with a finite
    ``worker-saturation``); a lone task counts as one only once its group
    has more tasks than twice the cluster's threads, and until then goes
    straight to a worker's queue, where it dies with that worker.  A data
    producer is root-ish from the first, so a chunk waits at the scheduler
    until a thread is free.  Worker restrictions (``workers``) make any task
    go straight to a worker.  Uses Dask's internal task spec; without it
    (another Dask version), a plain ``client.submit``.
    """
    where = {"workers": workers, "allow_other_workers": True} if workers else {}
    try:
        from dask._expr import LLGExpr
        from dask._task_spec import Task
        graph = LLGExpr({key: Task(key, func, *args, _data_producer=True)},
                        _determ_token=uuid.uuid4().hex)   # as submit: no tokenizing
    except (ImportError, TypeError):
        return client.submit(func, *args, key=key, pure=False, **where)
    return client.get(graph, key, sync=False, fifo_timeout="100ms", **where)


# -- messages ------------------------------------------------------------------------
def describe_failure(outcome: Any) -> str:
    """Why the cluster gave no result for a chunk, from what ``as_completed`` yielded.

    ``outcome`` is an exception, or ``(type, exception, traceback)`` for a
    task that erred.
    """
    exc = outcome[1] if isinstance(outcome, tuple) and len(outcome) == 3 else outcome
    kind = type(exc).__name__
    if kind == "KilledWorker":
        last = getattr(getattr(exc, "last_worker", None), "address", "?")
        return f"the Dask worker {last} died while running it (KilledWorker)"
    reason = getattr(exc, "reason", None)
    if reason:   # FutureCancelledError
        return f"the Dask cluster dropped it ({kind}: {reason})"
    text = str(exc).splitlines()[0][:200] if str(exc) else ""
    return f"the Dask cluster gave no result ({kind}{': ' + text if text else ''})"
