"""How worker processes start: fork, or a fork server with the main module preloaded.

A process that runs threads must not fork (a lock held by another thread at
the time of the fork stays locked in the child), so its workers come from a
*fork server*: a single-threaded process started once, which forks each
worker from a state where the engine's worker side and dill are already
imported.  A worker also needs the program's main module, because items may
be instances of classes defined there (pickled by reference).  multiprocessing
re-runs the main script in every worker to get it, unless the fork server
preloads it -- and on CPython 3.11 and 3.12 that preloading never happens:
the server looks for a ``main_path`` its parent no longer passes (CPython
issues gh-126631 and gh-137996, fixed in 3.13 and 3.14 in 2025).  A program
whose main script imports the engine then paid ~0.2 s of imports (networkx)
in every worker.  :func:`start_fork_server` passes the path, so the server
runs the main script once and its workers inherit it.
"""
from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
from collections.abc import Iterator
from multiprocessing import get_context
from typing import Any

from ..errors import IMapError

__all__ = ["context", "default_start_method", "start", "start_fork_server"]

log = logging.getLogger(__name__)

WORKER_SIDE = "papy_engine.pool.process"   # what a worker runs, preloaded by the server
_lock = threading.Lock()   # one thread at a time swaps get_preparation_data


def default_start_method() -> str:
    """``fork`` while this process has a single OS thread, else ``forkserver``.

    Forking a process that runs other threads (ours, a Tk notifier, a BLAS
    pool) can deadlock the child on a lock held at the time of the fork;
    ``/proc/self/task`` counts every OS thread, not just Python's.  A fork
    server is safe with threads, and after the first pool nearly as fast as
    a fork (``spawn`` pays a new interpreter and its imports for every worker).
    """
    env = os.environ.get("PAPY_START_METHOD")
    if env:
        return env
    if sys.platform.startswith("linux"):
        try:
            if len(os.listdir("/proc/self/task")) == 1:
                return "fork"
        except OSError:
            pass
        return "forkserver"
    return "spawn"


def context(method: str) -> Any:
    """The multiprocessing context for ``method`` (with the fork server running,
    its main module preloaded, when ``method`` is ``"forkserver"``)."""
    ctx = get_context(method)
    if method == "forkserver":
        _start(ctx)
    return ctx


def start(proc: Any, method: str) -> None:
    """``proc.start()``; IMapError when the fork server died running the main
    script (its traceback is on stderr), instead of an EOFError from the pipe."""
    try:
        proc.start()
    except (EOFError, ConnectionError) as exc:
        if method != "forkserver":
            raise
        main = getattr(sys.modules.get("__main__"), "__file__", None)
        raise IMapError(
            f"the fork server that starts worker processes stopped ({exc}): it runs the "
            f"main script{f' {main}' if main else ''} once for all workers, and that "
            "failed (see the traceback above). Keep the code that runs the pipeline "
            "inside an `if __name__ == '__main__':` block.") from exc


def start_fork_server() -> bool:
    """Start the fork server now, if this process would use one; True if it did.

    It otherwise starts with the first pool that needs it, which then pays
    for a new interpreter and its imports (a few hundred milliseconds).  A
    program that will run pools later (the editor) calls this early, off its
    UI thread.  The server lives as long as this process.
    """
    if default_start_method() != "forkserver":
        return False
    context("forkserver")
    return True


def _start(ctx: Any) -> None:
    """Preload the main module, the worker side and dill in the fork server,
    and start it unless it runs (a cheap check when it does)."""
    from multiprocessing import forkserver
    with _lock:
        ctx.set_forkserver_preload(["__main__", WORKER_SIDE, "dill"])
        with _main_path_passed():
            forkserver.ensure_running()


@contextlib.contextmanager
def _main_path_passed() -> Iterator[None]:
    """While a fork server starts, name the main script where the server looks.

    ``forkserver.ensure_running`` keeps ``main_path`` and ``sys_path`` of
    ``spawn.get_preparation_data()``, which says ``init_main_from_path``
    instead; the extra key is ignored by everything else that reads it.
    """
    from multiprocessing import spawn
    real = spawn.get_preparation_data

    def with_main_path(name: str) -> dict:
        data = real(name)
        if "init_main_from_path" in data:
            data.setdefault("main_path", data["init_main_from_path"])
        return data

    spawn.get_preparation_data = with_main_path
    try:
        yield
    finally:
        spawn.get_preparation_data = real
