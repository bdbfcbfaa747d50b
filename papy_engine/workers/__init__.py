"""Built-in node functions.

* :mod:`papy_engine.workers.core` -- passers, zippers, joiners and the plugger,
  the fan-in/fan-out helpers of the original PaPy.
* :mod:`papy_engine.workers.io` -- printing, files, serializers and direct
  inter-process transfer of large items (import it as
  ``papy_engine.workers.io``).

Only ``core`` is imported eagerly: it has no dependencies, and worker
processes that unpickle a core function should not pay for ``io``.
"""
from . import core

__all__ = ["core"]
