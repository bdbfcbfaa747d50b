"""Errors of the document model: user mistakes shown without a traceback."""
from __future__ import annotations

# The engine's base class, so callers can catch PapyError; the engine is part
# of this project (and imports no tkinter), so the import cannot fail.
from papy_engine.errors import PapyError


class EditError(PapyError):
    """An edit was refused; the document is unchanged.

    Attributes:
        field: the property (``"consume"``, ``"name"``...) the message belongs
            next to, or None for graph-level refusals (cycles, balance).
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
