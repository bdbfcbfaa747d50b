"""Exit statuses of the ``papy`` commands, and the error for a user's mistake."""
from __future__ import annotations

from ..errors import PapyError

__all__ = ["EXIT_OK", "EXIT_ERRORS", "EXIT_USAGE", "EXIT_INTERRUPTED", "UsageError"]

#: every item finished without a placeholder
EXIT_OK = 0
#: some items became placeholders, or the engine failed
EXIT_ERRORS = 1
#: a usage, load or setup error
EXIT_USAGE = 2
#: stopped by Ctrl-C (the pulled items were all accounted for)
EXIT_INTERRUPTED = 130


class UsageError(PapyError):
    """A user mistake: ``papy`` prints it without a traceback and exits with status 2."""
