"""PaPy engine: parallel pipelines of ordinary Python functions.

Public names are imported lazily so that worker processes, which only need
:mod:`papy_engine.worker`, start fast and never import networkx.
"""
from __future__ import annotations

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "PapyError": "errors", "WorkerError": "errors", "PiperError": "errors",
    "DaggerError": "errors", "PlumberError": "errors", "IMapError": "errors",
    "ScriptError": "errors", "ResultsError": "errors", "is_placeholder": "errors",
    "Worker": "worker", "imports": "worker",
    "Piper": "piper",
    "Dagger": "dagger",
    "Plumber": "plumber",
    "IMap": "imap",
    "start_logger": "log",
}

# ``script`` is a subpackage: ``from papy_engine import script`` (and ``*``)
# imports it through the import system, not through __getattr__.
__all__ = sorted(_EXPORTS) + ["__version__", "script"]


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'papy_engine' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__():
    return __all__
