"""Errors of the document model: user mistakes shown without a traceback."""
from __future__ import annotations

try:  # the engine's base class when available, so callers can catch PapyError
    from papy_engine.errors import PapyError as _Base
except Exception:  # pragma: no cover - the engine is part of this project
    _Base = Exception


class EditError(_Base):
    """An edit was refused; the document is unchanged.

    Attributes:
        field: the property (``"consume"``, ``"name"``...) the message belongs
            next to, or None for graph-level refusals (cycles, balance).
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
