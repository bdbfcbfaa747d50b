"""A results folder as a program that starts its own runs sees it (the editor).

``papy run`` drives :func:`~.session.open_results` and its
:class:`~.session.Session` from one loop.  A program that builds and starts
Plumbers on one thread and asks its user on another (the editor: a runner
thread, the Tk thread) needs two more things, here:

* :func:`unfinished_run` -- what a folder holds, read without changing it, so
  that the user can be offered to resume it (None: nothing to resume, a
  fresh run may write there);
* :func:`exit_status` -- the status ``papy run`` would record in the
  journal's end record for a run that ended with these statistics, for
  ``Session.close(state, exit_status(plumber.stats))``.

The rest is :func:`~.session.open_results` as ``papy run`` calls it.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .lock import lock_holder
from .session import peek_journal

__all__ = ["Unfinished", "unfinished_run", "exit_status"]

#: ``papy run``'s exit statuses (papy_engine.cli.status), as the end record keeps them
_OK, _ERRORS, _INTERRUPTED = 0, 1, 130


@dataclass(frozen=True)
class Unfinished:
    """An unfinished run found in a results folder (see :func:`unfinished_run`).

    Attributes:
        directory: the folder.
        ended: how its last session ended: ``"stopped"``, ``"failed"``, or None
            when it did not end at all (killed, crashed, the machine went down).
        complete: input piper -> how many of its items have all their results written.
        results: result records durably written, over every file.
        busy: None, or why it cannot be resumed now (another run writes it).
    """
    directory: Path
    ended: str | None
    complete: dict[str, int] = field(default_factory=dict)
    results: int = 0
    busy: str | None = None

    def describe(self) -> str:
        """One sentence for the user: how it ended and how far it got."""
        how = {None: "was interrupted", "stopped": "was stopped",
               "failed": "failed"}.get(self.ended, f"ended {self.ended}")
        items = " and ".join(f"{n:,} items of input {name!r}"
                             for name, n in self.complete.items()) or "no input item"
        return (f"the run in {self.directory} {how} with the results of {items} "
                f"complete ({self.results:,} results written)")


def unfinished_run(directory: str | os.PathLike) -> Unfinished | None:
    """The unfinished run in ``directory`` that a fresh run would refuse to overwrite.

    None when the folder has no journal, an unreadable one, a finished run,
    or a run that wrote nothing durable yet (a new run may start there; a
    resume would start from item 0 anyway).  Reads the journal and, when
    there is a run to offer, whether another run holds the folder's lock now
    (:func:`~.lock.lock_holder`); changes nothing in the folder.
    """
    directory = Path(directory)
    state = peek_journal(directory)
    if state is None or state.finished:
        return None
    results = sum(records for _size, records in state.files.values())
    if not state.done and not any(size for size, _ in state.files.values()):
        return None
    per_unit = (state.header.get("shape") or {}).get("per_unit") or {}
    complete = {name: len(state.done) * int(n) for name, n in per_unit.items()}
    return Unfinished(directory, (state.end or {}).get("state"), complete, results,
                      lock_holder(directory))


def exit_status(stats: dict, failed: bool = False) -> int:
    """The exit status of a run that ended with ``stats`` (``Plumber.stats``), as
    ``papy run`` computes it: 0 every item finished, 1 placeholders or a failure
    (``failed``: the run raised), 130 stopped."""
    state = stats.get("state")
    if failed or state == "failed":
        return _ERRORS
    if state == "stopped":
        return _INTERRUPTED
    pipers = stats.get("pipers", {}).values()
    return _ERRORS if any(p.get("errors") for p in pipers) else _OK
