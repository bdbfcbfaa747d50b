"""The pool: IMap, its workers, and how a new kind of worker plugs in.

* :mod:`.imap` -- :class:`IMap` (the API) and :class:`Driver` (what a
  pipeline driver uses);
* :mod:`.manager` -- the :class:`~.manager.PoolManager` that owns a pool's
  slots, feeder threads and dispatcher, and :mod:`.recovery`, its failure
  policy; :mod:`.policy` -- budgets and chunk sizes;
* :mod:`.records` -- tasks, pending items and chunks in flight;
* :mod:`.slots` -- the :class:`~.slots.Slot` protocol, the messages slots
  post, and the registry of slot kinds; :mod:`.process` and :mod:`.thread`
  -- the local kinds (remote servers: :mod:`papy_engine.remote`);
* :mod:`.evaluate` -- what every worker runs on a chunk.

Names are imported lazily: a worker process imports only :mod:`.process`
and :mod:`.evaluate`, not the dispatcher's machinery (nor dill, until a task
needs it), so workers start fast.
"""
from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "IMap": "imap", "Driver": "imap",
    "Mode": "evaluate", "PLAIN": "evaluate", "TaskCall": "evaluate", "run_chunk": "evaluate",
    "Slot": "slots", "SlotSource": "slots", "SlotEvent": "slots", "Done": "slots",
    "Raised": "slots", "register": "slots",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'papy_engine.pool' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
