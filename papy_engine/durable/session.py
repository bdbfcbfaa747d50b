"""A session of a durable run: open a results folder, fresh or resumed, and close it.

:func:`open_results` is what ``papy run --results DIR [--resume [--force]]``
and the editor's "Save results to..." call before ``Plumber.start``::

    session = open_results(DIR, plumber, datas, resume=True)   # lock, check, compact
    plumber.start(session.datas, sinks=session.sinks)          # inputs skip done units
    ...
    session.close(plumber.state, exit_code)                    # last commit, end record

A fresh session refuses a folder that holds an unfinished run (it would
destroy what a resume can still use); a resumed one refuses a changed script
(unless ``force``), a pipeline whose results cannot be mapped to input items
(see :mod:`.units`), and a folder with results but no journal.
"""
from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import PlumberError, ResultsError
from ..results import file_name, pipers_to_write
from .files import FileState, compact
from .fingerprint import differences, fingerprint
from .inputs import InputFeed
from .journal import (JOURNAL, Journal, JournalState, append_record, fsync_dir,
                      read_journal)
from .lock import DirLock
from .mapping import Mapper
from .units import UnitPlan, plan_units
from .unitset import UnitSet
from .writer import Writer

__all__ = ["open_results", "Session", "peek_journal"]

log = logging.getLogger(__name__)


@dataclass
class Session:
    """An open results folder (see :func:`open_results`).

    Attributes:
        datas: the inputs to start the pipeline with (they skip completed units),
            or None when a resumed run had already finished: nothing to do.
        sinks: the ``sinks`` for ``Plumber.start``.
        paths: piper -> its result file.
        notes: what the session did, for the user (resumed, forced, ...).
        previous: the end record of the run found in the folder, if it finished.
        refusal: why this pipeline could not be resumed, or None.
    """
    directory: Path
    datas: list | None
    sinks: dict
    paths: dict[str, Path]
    notes: list[str] = field(default_factory=list)
    previous: dict | None = None
    refusal: str | None = None
    writer: Writer | None = None
    lock: DirLock | None = None

    def close(self, state: str | None, exit_code: int | None = None) -> None:
        """End the session (``state`` None: abandon it, refusal); safe to repeat."""
        writer, self.writer = self.writer, None
        try:
            if writer is not None:
                writer.close(state, exit_code)
        finally:
            if self.lock is not None:
                self.lock.release()


def peek_journal(directory: str | os.PathLike) -> JournalState | None:
    """The journal state of ``directory`` without locking it (None: none there)."""
    try:
        return read_journal(directory)
    except ValueError:
        return None


def open_results(directory: str | os.PathLike, plumber: Any, datas: list, *,
                 script_path: str | os.PathLike | None = None, resume: bool = False,
                 force: bool = False, interval: float = 1.0) -> Session:
    """Lock ``directory`` and prepare it for a run of ``plumber`` on ``datas``.

    Args:
        resume: continue the run recorded there (nothing there: start one).
        force: with ``resume``, accept a changed script or inputs that cannot
            be checked (the user vouches that the finished results still hold).
        interval: the longest time, in seconds, between two commits.

    Raises:
        ResultsError: the folder is locked by another run, or cannot be
            resumed (the message says why and what to do).
        PlumberError: ``datas`` has the wrong number of inputs.
        DaggerError: the graph is empty, cyclic or unbalanced.
    """
    plumber.validate()
    inputs = plumber.get_inputs()
    datas = list(datas)
    if len(datas) != len(inputs):
        raise PlumberError(f"start() needs one iterable per input piper: expected "
                           f"{len(inputs)}, got {len(datas)}")
    directory = Path(directory)
    lock = DirLock(directory)
    lock.acquire()
    try:
        return _open(directory, lock, plumber, datas, script_path, resume, force, interval)
    except BaseException:
        lock.release()
        raise


def _open(directory: Path, lock: DirLock, plumber: Any, datas: list, script_path: Any,
          resume: bool, force: bool, interval: float) -> Session:
    plan = plan_units(plumber, pipers_to_write(plumber))
    fp = fingerprint(plumber, script_path)
    try:
        state = read_journal(directory)
    except ValueError as exc:
        raise ResultsError(f"{directory}: {exc}") from None
    _remove_temp_files(directory, state)
    notes: list[str] = []
    if state is not None and state.finished and resume:
        notes.append(f"the run in {directory} finished; nothing to resume")
        session = Session(directory, None, {}, _paths(directory, state.header["files"]),
                          notes, previous=state.end, lock=lock)
        return session
    if state is None or not resume:
        _check_fresh(directory, plan, state, resume, notes)
        return _fresh(directory, lock, plumber, plan, fp, datas, notes, interval)
    return _resumed(directory, lock, plumber, plan, fp, state, datas, force, notes, interval)


def _remove_temp_files(directory: Path, state: JournalState | None) -> None:
    """Temp files a run killed while rewriting a file left behind (we hold the lock)."""
    names = [JOURNAL] + list((state.header.get("files") or {}).values() if state else [])
    for name in names:
        try:
            (directory / f"{name}.tmp").unlink()
        except FileNotFoundError:
            pass


def _check_fresh(directory: Path, plan: UnitPlan, state: JournalState | None, resume: bool,
                 notes: list[str]) -> None:
    if state is not None and not state.finished and (
            state.done or any(size for size, _ in state.files.values())):
        raise ResultsError(
            f"{directory} holds an unfinished run ({len(state.done)} units complete): "
            "add --resume to continue it, or write to another folder (or delete this one)")
    if resume:
        found = [file_name(w) for w in plan.written if (directory / file_name(w)).exists()]
        if found:
            raise ResultsError(f"{directory} holds results ({', '.join(found)}) but no "
                               "journal (written by an older PaPy, or by hand): which of "
                               "them are complete is unknown, so the run cannot be resumed")
        notes.append(f"nothing to resume in {directory}: starting a new run")


def _paths(directory: Path, files: dict[str, str]) -> dict[str, Path]:
    return {w: directory / name for w, name in files.items()}


def _file_names(written: list[str]) -> dict[str, str]:
    names: dict[str, str] = {}
    for w in written:
        fname, n = file_name(w), 2
        while fname in names.values():
            fname, n = file_name(f"{w}_{n}"), n + 1
        names[w] = fname
    return names


def _header(plan: UnitPlan, fp: dict, files: dict[str, str]) -> dict:
    return {"fingerprint": fp, "shape": plan.shape(), "files": files,
            "refusal": plan.refusal, "created": round(time.time(), 3)}


def _fresh(directory: Path, lock: DirLock, plumber: Any, plan: UnitPlan, fp: dict,
           datas: list, notes: list[str], interval: float) -> Session:
    files = _file_names(plan.written)
    paths = _paths(directory, files)
    for p in paths.values():
        with open(p, "wb"):
            pass
    fsync_dir(directory)
    journal = Journal(directory, _header(plan, fp, files),
                      {"files": {w: [0, 0] for w in files}, "done": []})
    states = {w: FileState(0, 0, -1, True) for w in files}
    return _start(directory, lock, plumber, plan, paths, states, journal, Mapper(plan),
                  datas, UnitSet(), None, notes, interval, sessions=0)


def _resumed(directory: Path, lock: DirLock, plumber: Any, plan: UnitPlan, fp: dict,
             state: JournalState, datas: list, force: bool, notes: list[str],
             interval: float) -> Session:
    header = state.header
    changes = differences(header.get("fingerprint", {}), fp)
    if changes and not force:
        raise ResultsError(f"the script changed since the run in {directory} started, so "
                           "its results may not match: " + "; ".join(changes)
                           + ".  Resume with --force if the finished results still hold")
    if plan.refusal:
        raise ResultsError(f"cannot resume the run in {directory}: {plan.refusal}")
    if header.get("shape") != plan.shape():
        raise ResultsError(f"cannot resume the run in {directory}: the pipeline's shape "
                           "changed (its written pipers or their consume/produce rates), so "
                           "its finished results cannot be matched to input items, even "
                           "with --force")
    if state.unchecked and not force:
        what = "; ".join(f"input {k!r}: {v}" for k, v in state.unchecked.items())
        raise ResultsError(f"cannot check that the inputs give the same items as in the run "
                           f"in {directory} ({what} cannot be compared across runs).  Resume "
                           "with --force if they do")
    if changes:
        notes.append("resuming despite changes (--force): " + "; ".join(changes))
    paths = _paths(directory, header["files"])
    # Say so before touching the files: a crash while compacting leaves files
    # shorter than the journal claims, which is then expected (and safe: compacting
    # only drops records of units that are not complete).
    append_record(directory, state, {"kind": "compact", "t": round(time.time(), 3)})
    states = _compact_all(plan, paths, state)
    header = dict(header, fingerprint=fp)
    journal = Journal(directory, header,
                      {"files": {w: [s.size, s.records] for w, s in states.items()},
                       "done": state.done.ranges(), "inputs": state.inputs,
                       "unchecked": state.unchecked})
    expect = None if force else state.inputs
    notes.append(_resume_note(directory, plan, state))
    return _start(directory, lock, plumber, plan, paths, states, journal,
                  Mapper(plan, state.done), datas, state.done, expect, notes, interval,
                  sessions=state.sessions)


def _compact_all(plan: UnitPlan, paths: dict[str, Path],
                 state: JournalState) -> dict[str, FileState]:
    out = {}
    for w, path in paths.items():
        per, prod, loose = plan.evals[w], plan.produce[w], plan.loose(w)
        done = state.done

        def keep(i: int, e: int | None, per=per, prod=prod, loose=loose) -> bool:
            ev = e if loose else i // prod
            return ev is not None and (ev // per) in done
        limit = state.files.get(w, [0, 0])[0]
        if state.compacting and path.exists():
            limit = min(limit, path.stat().st_size)
        out[w] = compact(path, limit, keep, loose)
    return out


def _resume_note(directory: Path, plan: UnitPlan, state: JournalState) -> str:
    items = " and ".join(f"{len(state.done) * plan.per_unit[a]:,} items of input {a!r}"
                         for a in plan.inputs)
    return (f"resuming the run in {directory} (session {state.sessions + 1}): the results "
            f"of {items or 'no input items'} are complete; running the rest")


def _start(directory: Path, lock: DirLock, plumber: Any, plan: UnitPlan,
           paths: dict[str, Path], states: dict[str, FileState], journal: Journal,
           mapper: Mapper, datas: list, done: UnitSet, expect: dict | None,
           notes: list[str], interval: float, sessions: int) -> Session:
    tracking = plan.refusal is None
    writer = Writer(plan, paths, states, journal, mapper, tracking, interval=interval,
                    done=done)
    feeds = []
    for p, data in zip(plumber.get_inputs(), datas):
        per = plan.per_unit.get(p.name) if tracking else None
        want = (expect or {}).get(p.name)
        feeds.append(InputFeed(p.name, data, per, skip=done,
                               expect=tuple(want) if want and per else None,
                               on_end=writer.input_ended))
    # Inputs that feed no written piper are neither skipped nor checked.
    writer.feeds = [f for f, p in zip(feeds, plumber.get_inputs()) if p.name in plan.per_unit]
    journal.append({"kind": "session", "n": sessions + 1, "pid": os.getpid(),
                    "resume": bool(done) or expect is not None, "t": round(time.time(), 3)})
    return Session(directory, list(feeds), writer.sinks(), paths, notes,
                   refusal=plan.refusal, writer=writer, lock=lock)
