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
"""
from .evaluate import PLAIN, Mode, TaskCall, run_chunk
from .imap import Driver, IMap
from .slots import Done, Raised, Slot, SlotEvent, SlotSource, register

__all__ = ["IMap", "Driver", "Mode", "PLAIN", "TaskCall", "run_chunk", "Slot", "SlotSource",
           "SlotEvent", "Done", "Raised", "register"]
