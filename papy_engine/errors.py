"""Exceptions and placeholders of the engine.

Every error the engine raises is a :class:`PapyError`.  Two of them double as
*placeholders*: values that take the place of a result that could not be
computed and flow downstream through the pipeline instead of stopping it.

* :class:`WorkerError` -- a node function raised, or the process running it died.
* :class:`PiperError` -- a piper-level failure, such as a timeout.

Placeholders carry only plain strings and ints, so they pickle across
processes and hosts even when the original exception object would not.

Evaluation checks every item for a placeholder before it takes its fast
path.  A :class:`Checked` list spares it that check: the engine builds one
only where it has proof, a message unpickled without making a single
placeholder (:func:`made_here` counts them, per thread).
"""
from __future__ import annotations

import threading
import traceback as _tb
from typing import Any, TypeGuard

__all__ = [
    "PapyError", "WorkerError", "PiperError", "DaggerError", "PlumberError",
    "IMapError", "ScriptError", "ResultsError", "WorkerTraceback", "is_placeholder",
]


class PapyError(Exception):
    """Base class of every error raised by PaPy."""


_made = threading.local()   # placeholders each thread has made (see made_here)


def made_here() -> int:
    """How many placeholders the calling thread has made so far, unpickled or new.

    Unchanged across ``pickle.loads(data)`` means ``data`` held none: every
    instance is made by ``_Placeholder.__new__``, and in the thread that
    unpickles it.
    """
    return getattr(_made, "n", 0)


class Checked(list):
    """A list of items known to hold no placeholder (see :func:`made_here`).

    The engine's evaluation then skips its per-item check; a plain list
    means "not known".  Slices, concatenations and pickles are plain lists
    again: the proof holds only where it was made.
    """

    __slots__ = ()

    def __reduce__(self):
        return (list, (), None, iter(self))


class _Placeholder(PapyError):
    """Common behaviour of :class:`WorkerError` and :class:`PiperError`."""

    _FIELDS = ("exc_type", "message", "traceback", "function", "piper", "index")
    # Optional extras: pickled only when set, and not part of equality.
    # ``exception`` is the original exception object (when it pickles), kept
    # so that a standalone IMap can raise it like ``Pool.imap`` does;
    # ``inbox`` is the inbox the item failed on, to reproduce the failure
    # (None when it was too large or could not be pickled: ``inbox_note``
    # then says so and shows the start of its repr).
    _EXTRAS = ("exception", "inbox", "inbox_note")

    def __new__(cls, *args: Any, **kwargs: Any):
        _made.n = getattr(_made, "n", 0) + 1   # every instance, new or unpickled
        return super().__new__(cls, *args, **kwargs)

    def __init__(self, message: str = "", *, exc_type: str | None = None,
                 traceback: str = "", function: str | None = None,
                 piper: str | None = None, index: int | None = None) -> None:
        super().__init__(message)
        self.exc_type = exc_type or type(self).__name__
        self.message = str(message)
        self.traceback = traceback
        self.function = function
        self.piper = piper
        self.index = index
        self.exception: BaseException | None = None
        self.inbox: Any = None
        self.inbox_note: str | None = None

    @classmethod
    def from_exception(cls, exc: BaseException, function: str | None = None,
                       **fields: Any):
        """Build a placeholder describing ``exc`` (type, message, traceback)."""
        text = "".join(_tb.format_exception(type(exc), exc, exc.__traceback__))
        return cls(str(exc), exc_type=type(exc).__name__, traceback=text,
                   function=function, **fields)

    def __reduce__(self):
        extras = {f: getattr(self, f) for f in self._EXTRAS if getattr(self, f, None) is not None}
        return (_rebuild, (type(self), tuple(getattr(self, f) for f in self._FIELDS), extras))

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and all(
            getattr(self, f) == getattr(other, f) for f in self._FIELDS)

    __hash__ = PapyError.__hash__

    def __str__(self) -> str:
        where = []
        if self.piper is not None:
            where.append(f"piper {self.piper!r}")
        if self.index is not None:
            where.append(f"item {self.index}")
        if self.function is not None:
            where.append(f"function {self.function!r}")
        loc = f" ({', '.join(where)})" if where else ""
        return f"{self.exc_type}: {self.message}{loc}"

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(exc_type={self.exc_type!r}, message={self.message!r}, "
                f"function={self.function!r}, piper={self.piper!r}, index={self.index!r})")


def _rebuild(cls, values, extras=None):
    obj = cls.__new__(cls)
    PapyError.__init__(obj, values[1])
    for name, value in zip(cls._FIELDS, values):
        setattr(obj, name, value)
    for name in cls._EXTRAS:
        setattr(obj, name, (extras or {}).get(name))
    return obj


class WorkerTraceback(PapyError):
    """The formatted traceback of an exception raised in a worker.

    Raised exceptions of a standalone IMap are chained to it (``raise exc
    from WorkerTraceback(text)``), as ``multiprocessing.Pool`` does, so the
    worker's frames show up under the re-raised exception.
    """

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text

    def __str__(self) -> str:
        return f"\n\"\"\"\n{self.text.rstrip()}\n\"\"\""


class WorkerError(_Placeholder):
    """A node function raised (or its worker process died) for one item."""


class PiperError(_Placeholder):
    """A piper-level failure for one item, e.g. a result that came too late."""


class DaggerError(PapyError):
    """An invalid pipeline graph: a cycle, unbalanced pipes, unknown pipers."""


class PlumberError(PapyError):
    """Run control was used wrongly (wrong number of inputs, bad state)."""


class IMapError(PapyError):
    """An IMap was misconfigured or used in the wrong state."""


class ScriptError(PapyError):
    """A pipeline script could not be written or read (names file and line)."""


class ResultsError(PapyError):
    """A results folder cannot be written or resumed (names the folder and the reason)."""


def raise_worker_error(err: _Placeholder) -> None:
    """Raise what a placeholder stands for, as ``Pool.imap`` raises a worker's error.

    The original exception when the worker could send it (chained to the
    worker's traceback), else the placeholder itself.
    """
    exc, err.exception = err.exception, None   # (the raised exception's traceback must
    if exc is None:                            # not be kept alive through the placeholder)
        raise err
    raise exc from WorkerTraceback(err.traceback)


def is_placeholder(obj: object) -> TypeGuard[_Placeholder]:
    """Return True when ``obj`` is a :class:`WorkerError` or :class:`PiperError`."""
    return isinstance(obj, _Placeholder)


#: What a node function may raise that becomes its item's placeholder: every
#: Exception, and SystemExit (a library calling sys.exit() on one bad item).
#: KeyboardInterrupt is not an item's error: Ctrl-C belongs to the driving process.
ITEM_ERRORS = (Exception, SystemExit)

PLACEHOLDER_TYPES = frozenset({WorkerError, PiperError})   # exact types: one set lookup


def none_is_placeholder(items: list) -> bool:
    """True when no item of ``items`` is a placeholder: known for a
    :class:`Checked` list, else one pass over the items' types in C."""
    return type(items) is Checked or PLACEHOLDER_TYPES.isdisjoint(map(type, items))
