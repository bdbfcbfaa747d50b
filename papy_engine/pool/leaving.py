"""How a pool's workers leave: asked together, kept warm, or early once the work is done.

A process takes milliseconds to exit (its whole address space is torn down),
so the manager asks every worker to stop before it waits for any, and hands
healthy idle ones to :mod:`.warm` when a later pool may reuse them.  When
every item is evaluated and no input can bring more, the workers leave at
once, while consumers still take the results -- not once the results are
all taken -- unless one may still serve an item it dumped for direct
transfer (it must outlive the run: see :meth:`.slots.Slot.holds_items`), or
a source may yet bring slots.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .manager import PoolManager

__all__ = ["early", "shutdown"]

log = logging.getLogger(__name__)


def early(mgr: PoolManager) -> bool:
    """Let the workers go if the work is done (on the dispatcher thread); True if they left."""
    with mgr.lock:
        done = (bool(mgr.tasks) and not mgr.ready and not mgr.chunks
                and all(t.exhausted for t in mgr.tasks))
    if not done or not mgr.slots or any(s.holds_items() for s in mgr.slots) \
            or any(src.pending() for src in mgr.sources):
        return False
    log.debug("IMap %s: every item evaluated, the workers leave", mgr.name)
    shutdown(mgr, mgr.stop_timeout)
    return True


def shutdown(mgr: PoolManager, timeout: float) -> None:
    """Stop the workers -- or hand healthy idle ones back to be kept warm."""
    slots, mgr.slots = mgr.slots, []
    leaving = []
    for s in slots:
        try:
            source = mgr.source_of.get(id(s))
            if mgr.failure is None and source is not None and source.keep(s):
                continue
            s.ask_stop()   # every worker exits at once; then wait for each
            leaving.append(s)
        except Exception:
            log.exception("IMap %s: stopping worker %s", mgr.name, s.number)
    for s in leaving:
        try:
            s.stop(timeout)
        except Exception:
            log.exception("IMap %s: stopping worker %s", mgr.name, s.number)
    for src in mgr.sources:
        src.close()   # also slots still reconnecting or not yet joined
