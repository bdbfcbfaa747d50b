"""IMap, at the path DESIGN.md documents; it lives in :mod:`papy_engine.pool`."""
from .pool.imap import IMap

__all__ = ["IMap"]
