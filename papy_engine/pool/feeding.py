"""A task's feeder thread: pulls its input into the pool's ready queue, at the policy's pace.

The feeder waits while :meth:`.policy.Limits.may_pull` says the task holds
enough (the consumer's pace, its budget) -- on the manager's ``can_pull``,
which is notified only once it may pull again -- pulls the next batch of the
task's input, and queues it for the dispatcher as a *fed*
:class:`.records.Pending` entry (the dispatcher may cut one chunk from
several of them: :func:`.records.cut`).  When the input ends, or raises,
the task is *exhausted*.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from .records import Pending, Task

if TYPE_CHECKING:
    from .manager import PoolManager

__all__ = ["feed"]

log = logging.getLogger(__name__)

RECHECK_S = 0.5   # a waiting feeder looks again this often, even unwoken


def feed(mgr: PoolManager, task: Task) -> None:
    """Feed ``task``'s input to ``mgr`` until it ends, raises, or the pool stops."""
    assert task.batches is not None
    try:
        while True:
            with mgr.lock:
                while not mgr.stopping and not mgr.may_pull(task):
                    # woken when this may change (results stored or taken); the
                    # timeout covers what changes unannounced (slots joining)
                    mgr.can_pull.wait(RECHECK_S)
                if mgr.stopping:
                    return
            mgr.running.wait()
            try:
                batch = next(task.batches)
            except StopIteration:
                break
            if not isinstance(batch, list):
                batch = list(batch)
            if not batch:
                continue
            with mgr.lock:
                if mgr.stopping:
                    return
                mgr.ready.append(Pending(task, task.pulled, batch, fed=True))
                task.pulled += len(batch)
                task.held += len(batch)
            mgr.wake()
    except BaseException as exc:  # the input iterable itself raised
        log.error("IMap %s: the input of task %s raised %s: %s", mgr.name, task.name,
                  type(exc).__name__, exc)
        task.error = exc
    with mgr.lock:
        task.exhausted = True
        mgr.changed.notify_all()
    mgr.wake()
