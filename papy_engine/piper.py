"""Piper: one node of a pipeline -- a Worker plus how it is evaluated.

A Piper is a plain description (its Worker, its parallel resource and its
produce/spawn/consume, timeout and ordering options).  Evaluation lives in
:mod:`papy_engine.plumber` and :mod:`papy_engine.imap`; keeping the node a
value makes it easy to validate, save as a script and show in an editor.
"""
from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal

from .errors import PiperError
from .worker import Worker

if TYPE_CHECKING:  # imap imports the engine's evaluation machinery
    from .imap import IMap

__all__ = ["Piper", "branch_key"]

_ids = itertools.count()


def branch_key(branch: Any) -> tuple:
    """Sort key of a piper's ``branch`` among a downstream piper's inputs:
    None first, then numbers, then anything else by its text."""
    if branch is None:
        return (0,)
    if isinstance(branch, (int, float)) and not isinstance(branch, bool):
        return (1, 0, branch, "")
    return (1, 1, 0, str(branch))


def _callables(value: Any) -> bool:
    """True for a non-empty list or tuple of callables."""
    return (isinstance(value, (list, tuple)) and bool(value)
            and all(callable(f) for f in value))


def _positive_int(name: str, piper: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise PiperError(f"piper {piper!r}: {name!r} must be an int >= 1 "
                         f"(got {value!r} that is a {type(value).__name__})")
    return value


class Piper:
    """A pipeline node.

    Args:
        worker: a :class:`Worker`, a callable or a sequence of callables.
        parallel: False to evaluate in the driving thread, or an
            :class:`~papy_engine.imap.IMap` (several pipers may share one).
        consume: input items grouped into one inbox element (a list).
        produce: each result is a sequence of this many sub-items emitted one
            by one (``repeat=True``: the result itself is emitted that many times).
        spawn: the number of replicas processing consecutive sub-items.
        timeout: seconds allowed for one item on a parallel piper; a late
            result becomes a :class:`PiperError` placeholder.
        ordered: False lets results leave in completion order.
        branch: sorts this piper among the inputs of its downstream pipers.
        debug: raise exceptions instead of turning them into placeholders.
        name: unique within a pipeline; defaults to the worker's name.
        track: keep this piper's results in ``Plumber.results``.
        repeat: see ``produce``.

    Raises:
        PiperError: for invalid options (the message names the piper).
    """

    def __init__(self, worker: Worker | Callable | Sequence[Callable],
                 parallel: IMap | Literal[False] | None = False,
                 consume: int = 1, produce: int = 1, spawn: int = 1,
                 timeout: float | None = None, ordered: bool = True, branch: Any = None,
                 debug: bool = False, name: str | None = None, track: bool = False,
                 repeat: bool = False) -> None:
        if not isinstance(worker, Worker):
            if not callable(worker) and not _callables(worker):
                raise PiperError(f"a Piper needs a Worker, a callable or a sequence of "
                                 f"callables (got {worker!r} that is a "
                                 f"{type(worker).__name__})")
            worker = Worker(worker)
        self.worker = worker
        self.name = name if name is not None else worker.name
        self._default_name = name is None
        if not isinstance(self.name, str) or not self.name:
            raise PiperError(f"piper name must be a non-empty str (got {self.name!r})")
        label = self.name
        if parallel is not False and parallel is not None:
            from .imap import IMap
            if not isinstance(parallel, IMap):
                raise PiperError(f"piper {label!r}: 'parallel' must be False or an IMap "
                                 f"(got {parallel!r} that is a {type(parallel).__name__})")
        self.parallel: IMap | Literal[False] = parallel or False
        self.consume = _positive_int("consume", label, consume)
        self.produce = _positive_int("produce", label, produce)
        self.spawn = _positive_int("spawn", label, spawn)
        if timeout is not None:
            if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
                raise PiperError(f"piper {label!r}: 'timeout' must be a number > 0 or None "
                                 f"(got {timeout!r})")
            if not self.parallel:
                raise PiperError(f"piper {label!r}: 'timeout' needs a parallel piper "
                                 "(a serial function cannot be interrupted)")
        self.timeout = timeout
        self.ordered = bool(ordered)
        self.branch = branch
        self.debug = bool(debug)
        worker.debug = self.debug
        self.track = bool(track)
        self.repeat = bool(repeat)
        self.id = next(_ids)

    def __repr__(self) -> str:
        kind = f"parallel={self.parallel.name!r}" if self.parallel else "serial"
        return f"Piper({self.name!r}, {kind})"

    # Pipers are graph nodes: identity semantics.
    __hash__ = object.__hash__

    def __lt__(self, other: "Piper") -> bool:
        return self.id < other.id
