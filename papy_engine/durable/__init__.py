"""Durable results: a run's results on disk survive its crash, and the run resumes.

``papy run SCRIPT --results DIR`` writes each written piper's results to
``DIR/<piper>.jsonl`` (:mod:`papy_engine.results`) and a journal,
``DIR/.papy-journal``, that says durably which of them are complete;
``--resume`` continues the run where it stopped.  The parts:

* :mod:`.units` -- which input items each result depends on (the unit plan),
  and which pipelines cannot be resumed exactly;
* :mod:`.mapping` -- a resumed run's evaluations back to an uninterrupted run's;
* :mod:`.tracker` -- which units are complete;
* :mod:`.inputs` -- inputs that skip complete units and check they give the same items;
* :mod:`.journal`, :mod:`.files`, :mod:`.writer` -- the journal, the result
  files, and the commit thread that ties them;
* :mod:`.fingerprint`, :mod:`.lock` -- a changed script and a second writer are refused;
* :mod:`.session` -- :func:`open_results`, what a run calls.

See docs/long-runs.md for what is guaranteed.
"""
from .journal import JOURNAL, read_journal
from .lock import LOCK, DirLock
from .session import Session, open_results, peek_journal
from .units import UnitPlan, plan_units

__all__ = ["open_results", "Session", "peek_journal", "read_journal", "plan_units",
           "UnitPlan", "DirLock", "JOURNAL", "LOCK"]
