"""The undo command stack: a list of recorded edits with a clean mark."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Command:
    """One user edit: ``ops`` is a list of ``(do_op, undo_op)`` primitive pairs."""

    label: str
    ops: list = field(default_factory=list)


class UndoStack:
    """Commands before ``index`` are done; those after it can be redone.

    ``clean`` is the index at which the document was last saved (None once
    that state can no longer be reached, e.g. after undo + a new edit).
    """

    def __init__(self, limit: int = 500) -> None:
        self.commands: list[Command] = []
        self.index = 0
        self.clean: int | None = 0
        self.limit = limit

    def push(self, cmd: Command) -> None:
        if self.clean is not None and self.clean > self.index:
            self.clean = None
        del self.commands[self.index:]
        self.commands.append(cmd)
        if len(self.commands) > self.limit:
            del self.commands[0]
            self.clean = None if self.clean in (None, 0) else self.clean - 1
        self.index = len(self.commands)

    def pop_undo(self) -> Command | None:
        if not self.can_undo():
            return None
        self.index -= 1
        return self.commands[self.index]

    def pop_redo(self) -> Command | None:
        if not self.can_redo():
            return None
        self.index += 1
        return self.commands[self.index - 1]

    def undo_command(self) -> Command | None:
        """The command :meth:`pop_undo` would return, left in place."""
        return self.commands[self.index - 1] if self.can_undo() else None

    def redo_command(self) -> Command | None:
        return self.commands[self.index] if self.can_redo() else None

    def can_undo(self) -> bool:
        return self.index > 0

    def can_redo(self) -> bool:
        return self.index < len(self.commands)

    def undo_label(self) -> str | None:
        return self.commands[self.index - 1].label if self.can_undo() else None

    def redo_label(self) -> str | None:
        return self.commands[self.index].label if self.can_redo() else None

    def is_clean(self) -> bool:
        return self.clean == self.index

    def set_clean(self) -> None:
        self.clean = self.index

    def clear(self) -> None:
        self.commands.clear()
        self.index = 0
        self.clean = 0
