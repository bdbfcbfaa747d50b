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
    "ScriptError": "errors", "is_placeholder": "errors",
    "Worker": "worker", "imports": "worker",
    "Piper": "piper",
    "Dagger": "dagger",
    "Plumber": "plumber",
    "IMap": "imap",
    "start_logger": "log",
    "script": "script",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'papy_engine' has no attribute {name!r}")
    if name == module:  # the script module, which is also callable (script.py)
        value = importlib.import_module(f"{__name__}.{module}")
    else:
        value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__():
    return __all__
