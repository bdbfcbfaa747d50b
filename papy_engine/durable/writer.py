"""Writing results durably: the sinks, the commit thread, the end of a session.

Data flow::

    piper streams --sink(first, results, first_eval)--> encode (in the piper's thread)
        --under the lock--> write() to the result files (unbuffered), Tracker (units complete)
    commit thread, every second or every few thousand results:
        under the lock: note the files' sizes, take the units completed
        outside it:     fsync every file, then append a commit to the journal (fsynced)

so a commit never names bytes or units that are not on disk.  A failure to
write or fsync is kept and raised from the next sink call: the run then
fails instead of going on with results that would be lost.  When a run
finishes, the records are checked against the input lengths before the
journal says so (:meth:`Writer._check_complete`).
"""
from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from ..errors import ResultsError, _Placeholder
from ..results import encode
from .files import FileState, sort_file
from .inputs import InputFeed
from .journal import Journal
from .mapping import Mapper
from .tracker import Tracker
from .units import UnitPlan
from .unitset import UnitSet

__all__ = ["Writer"]

log = logging.getLogger(__name__)

ROTATE = 20_000   # journal records before the journal is rewritten as one


def _write_all(f: IO[bytes], data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = f.write(view)
        view = view[n or 0:]


class Writer:
    """The files, sinks and commits of one session (made by :mod:`.session`)."""

    def __init__(self, plan: UnitPlan, paths: dict[str, Path], states: dict[str, FileState],
                 journal: Journal, mapper: Mapper, tracking: bool, *, interval: float = 1.0,
                 max_pending: int = 4096, done: UnitSet | None = None) -> None:
        self.plan, self.paths, self.journal, self.mapper = plan, paths, journal, mapper
        self.tracker = Tracker(plan) if tracking else None
        self.tracking = tracking          # False: the pipeline cannot be resumed
        self.feeds: list[InputFeed] = []
        self.interval, self.max_pending = interval, max_pending
        # Unbuffered: a batch is one write(), and a worker process forked later
        # inherits no Python-level buffer that it could flush into our files.
        self._files: dict[str, IO[bytes]] = {w: open(p, "ab", buffering=0)
                                              for w, p in paths.items()}
        self._size = {w: s.size for w, s in states.items()}
        self._records = {w: s.records for w, s in states.items()}
        self._last_i = {w: s.last_i for w, s in states.items()}
        self._sorted = {w: s.sorted for w, s in states.items()}
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._pending = 0
        self._closing = False
        self.error: BaseException | None = None
        self._last: tuple | None = None
        self.done = UnitSet(done.ranges() if done else ())   # every unit known complete
        # Started with the first results, not before: a process pool forks its
        # workers only while the process has a single thread (pool/process.py).
        self._thread: threading.Thread | None = None

    # -- sinks ---------------------------------------------------------------------
    def sinks(self) -> dict[str, Any]:
        out: dict[str, Any] = {w: self._sink(w) for w in self.plan.written}
        for u, tap in self.mapper.taps.items():
            if u not in out:
                out[u] = lambda first, results, first_eval, tap=tap: tap.record(
                    first, len(results), first_eval)
        return out

    def _sink(self, w: str):
        prod, loose = self.plan.produce[w], self.plan.loose(w)
        per = self.plan.evals.get(w, 1)
        tap = self.mapper.taps.get(w)
        canonical: Callable[[str, int], int] = self.mapper.canonical
        fix: Callable | None = self._error_index
        if not self.tracking:  # not resumable: number results as they come
            canonical, fix = (lambda _w, e: e), None
        identity = not self.tracking or self.mapper.is_identity(w)

        def write(first: int, results: list, first_eval: int = 0) -> None:
            if self.error is not None:
                raise ResultsError(f"writing results failed: {self.error}") from self.error
            n = len(results)
            if not n:
                return
            if tap is not None:
                tap.record(first, n, first_eval)
            n_evals = -(-n // prod)
            evs: Any = (range(first_eval, first_eval + n_evals) if identity else
                        [canonical(w, first_eval + j) for j in range(n_evals)])
            if loose:
                base = self._records[w]
                text = "".join([encode(base + k, r, evs[k // prod], fix) + "\n"
                                for k, r in enumerate(results)])
            elif prod == 1:
                text = "".join([encode(evs[k], r, None, fix) + "\n"
                                for k, r in enumerate(results)])
            else:
                text = "".join([encode(evs[k // prod] * prod + k % prod, r, None, fix) + "\n"
                                for k, r in enumerate(results)])
            units: dict[int, int] = {}
            for j, ev in enumerate(evs):
                units[ev // per] = units.get(ev // per, 0) + min(prod, n - j * prod)
            span = (evs[0] * prod, evs[-1] * prod + (n - 1) % prod)
            self._store(w, text.encode("utf-8", "surrogatepass"), n, units,
                        None if loose else span)
        return write

    def _store(self, w: str, data: bytes, n: int, units: dict[int, int],
               span: tuple[int, int] | None) -> None:
        """Append a batch's records to ``w``'s file and count its units (one lock)."""
        with self._lock:
            if self._thread is None and not self._closing:
                self._thread = threading.Thread(target=self._loop, daemon=True,
                                                name="papy-results-commit")
                self._thread.start()
            _write_all(self._files[w], data)
            self._size[w] += len(data)
            self._records[w] += n
            if span is not None:   # ordered: still sorted if it continues past the last i
                self._sorted[w] = self._sorted[w] and span[0] > self._last_i[w]
                self._last_i[w] = max(self._last_i[w], span[1])
            if self.tracker is not None:
                self.tracker.add_counts(w, units)
            self._pending += n
            if self._pending >= self.max_pending:
                self._cond.notify_all()

    def _error_index(self, ph: _Placeholder) -> Any:
        if ph.index is None or not self.mapper.known(ph.piper or ""):
            return ph.index
        try:
            return self.mapper.canonical(ph.piper, ph.index)  # type: ignore[arg-type]
        except LookupError:
            return ph.index

    def input_ended(self, name: str, total: int) -> None:
        with self._lock:
            if self.tracker is not None:
                self.tracker.input_ended(name, total)

    # -- commits -------------------------------------------------------------------
    def _loop(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._closing or self._pending >= self.max_pending,
                                    timeout=self.interval)
                closing = self._closing
            if self.error is None:
                try:
                    self.commit()
                except Exception as exc:
                    log.exception("committing results failed")
                    self.error = exc
            if closing:
                return

    def commit(self) -> None:
        """Make what was written so far durable and say so in the journal."""
        with self._lock:
            files = {w: [self._size[w], self._records[w]] for w in self._files}
            verified = all(feed.verified for feed in self.feeds)
            done = self.tracker.take() if verified and self.tracker is not None else None
            inputs = {feed.name: list(feed.checkpoint()) for feed in self.feeds}
            unchecked = {feed.name: feed.unchecked for feed in self.feeds if feed.unchecked}
            self._pending = 0
        key = (repr(files), repr(inputs))
        if key == self._last and not done:
            return
        for f in self._files.values():
            os.fsync(f.fileno())
        record: dict[str, Any] = {"kind": "commit", "files": files, "inputs": inputs,
                                  "t": round(time.time(), 3)}
        if done:
            record["done"] = done.ranges()
            self.done.update(done)
        if unchecked:
            record["unchecked"] = unchecked
        if self.journal.lines >= ROTATE:   # a run of days: keep the journal small
            self.journal.rewrite(dict(record, done=self.done.ranges()))
        else:
            self.journal.append(record)
        self._last = key

    def close(self, state: str | None, exit_code: int | None = None) -> None:
        """End the session: last commit, sort ordered files of a finished run, end record.

        ``state`` None abandons the session (no end record: it can be resumed).
        """
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join()
        try:
            if self.error is None:
                self._finish(state, exit_code)
        except Exception as exc:
            log.exception("closing the results failed")
            self.error = exc
        finally:
            for f in self._files.values():
                f.close()
            self.journal.close()
        if self.error is not None:
            raise ResultsError(f"writing results failed: {self.error}") from self.error

    def _finish(self, state: str | None, exit_code: int | None) -> None:
        self.commit()
        if state is None:
            return
        if state == "finished":
            self._check_complete()
            self._sort()
        self.journal.append({"kind": "end", "state": state, "exit": exit_code,
                             "t": round(time.time(), 3)})

    def _check_complete(self) -> None:
        """A finished run has every unit complete and every result once: else say so
        (no end record, so the folder stays resumable) rather than claim it finished."""
        tracker = self.tracker
        if tracker is None:
            return
        evals = self.plan.evaluations(tracker.totals)
        units = tracker.units_total()
        problems = []
        for w in self.plan.written:
            n = evals[w]
            want = None if n is None else n * self.plan.produce[w]
            if want is not None and self._records[w] != want:
                problems.append(f"{w!r} has {self._records[w]} results, {want} expected")
        if units is not None and self.done.ranges() != ([[0, units]] if units else []):
            problems.append(f"complete units {self.done.ranges()}, expected [[0, {units}]]")
        if problems:
            raise ResultsError("the run finished but its results are not whole: "
                               + "; ".join(problems))

    def _sort(self) -> None:
        for w, ok in self._sorted.items():
            if not ok and not self.plan.loose(w):
                self._files[w].close()
                sort_file(self.paths[w])
                self._files[w] = open(self.paths[w], "ab", buffering=0)
