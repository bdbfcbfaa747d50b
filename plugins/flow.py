"""Flow: pass, zip and join the inputs of a node (fan-in/fan-out).

These are the core functions of :mod:`papy_engine.workers.core`, registered
as nodes here; a saved pipeline imports them from ``papy_engine.workers.core``.
Every one of them accepts any number of input pipes.
"""
from __future__ import annotations

from papy_engine.plugin import node
from papy_engine.workers import core

__all__ = ["ipasser", "npasser", "spasser", "nzipper", "szipper", "njoiner", "sjoiner",
           "plugger"]

_FLOW = {"category": "flow", "variadic": True}

ipasser = node(**_FLOW)(core.ipasser)
npasser = node(**_FLOW)(core.npasser)
spasser = node(**_FLOW)(core.spasser)
nzipper = node(inputs=2, **_FLOW)(core.nzipper)
szipper = node(inputs=2, **_FLOW)(core.szipper)
njoiner = node(inputs=2, **_FLOW)(core.njoiner)
sjoiner = node(inputs=2, **_FLOW)(core.sjoiner)
plugger = node(**_FLOW)(core.plugger)
