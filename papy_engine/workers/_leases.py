"""Old home of :mod:`papy_engine.transfer.leases`, kept for ``plumber.py`` only.

``plumber.py`` (rewritten in parallel under issue 13) still imports
``from .workers import _leases``; delete this module once it imports
:mod:`papy_engine.transfer.leases` instead.
"""
from ..transfer.leases import begin_run, end_run

__all__ = ["begin_run", "end_run"]
