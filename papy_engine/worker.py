"""Worker: a composition of user functions evaluated on one inbox.

A node function takes an *inbox* -- a tuple with one element per incoming pipe
-- plus its own extra arguments, and returns one object.  A :class:`Worker`
chains several such functions, ``(f, g, h)`` computing ``h((g((f(inbox),)),))``,
and never raises: an exception becomes a :class:`~papy_engine.errors.WorkerError`
placeholder that is returned instead of the result, and a Worker whose inbox
holds a placeholder returns that placeholder untouched without calling anything.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from .errors import ITEM_ERRORS, PapyError, WorkerError, _Placeholder, none_is_placeholder

__all__ = ["Worker", "imports", "func_name"]

log = logging.getLogger(__name__)


def func_name(func: Callable) -> str:
    """A readable name for ``func`` (its ``__name__``, or its type's)."""
    return getattr(func, "__name__", None) or type(func).__name__


class Worker:
    """Compose node functions and evaluate them on inboxes.

    Args:
        functions: a callable or a sequence of callables, applied in order.
        args: with one callable its extra positional arguments (a tuple); with
            a sequence, one tuple per function.
        kwargs: like ``args``, with dicts of keyword arguments.
        name: defaults to the function names joined by ``_``.

    Raises:
        PapyError: when a function is not callable or args/kwargs do not match.
    """

    def __init__(self, functions: Callable | Sequence[Callable], args=None, kwargs=None,
                 name: str | None = None, debug: bool = False) -> None:
        if isinstance(functions, Worker):
            other = functions
            functions, args = other.functions, other.args if args is None else args
            kwargs = other.kwargs if kwargs is None else kwargs
            name = name or other.name
        funcs: tuple[Callable, ...]
        if callable(functions):
            single, funcs = True, (functions,)
        else:
            single, funcs = False, tuple(functions)
        if not funcs:
            raise PapyError("Worker needs at least one function (got an empty sequence)")
        for f in funcs:
            if not callable(f):
                raise PapyError(f"Worker functions must be callable (got {f!r} that is a "
                                f"{type(f).__name__})")
        n = len(funcs)
        self.functions: tuple[Callable, ...] = funcs
        self.args: tuple[tuple, ...] = self._per_function(args, n, single, tuple, "args")
        self.kwargs: tuple[dict, ...] = self._per_function(kwargs, n, single, dict, "kwargs")
        self.name: str = name or "_".join(func_name(f) for f in funcs)
        self.debug = debug
        # Placeholders created by this Worker (not passed through); the chunk
        # runner reads the difference to count and index new errors cheaply.
        self.errors_created = 0

    @staticmethod
    def _per_function(value, n, single, kind, what):
        if value is None:
            return tuple(kind() for _ in range(n))
        if single and n == 1 and isinstance(value, (tuple, list) if kind is tuple else dict):
            return (kind(value),)
        if not isinstance(value, (tuple, list)):
            want = "a tuple of extra arguments" if kind is tuple else "a dict of keywords"
            raise PapyError(f"Worker {what} must be {want}, or a list with one per function "
                            f"(got {value!r} that is a {type(value).__name__})")
        value = tuple(value)
        if len(value) != n:
            raise PapyError(f"Worker {what} must give one {kind.__name__} per function: "
                            f"expected {n}, got {len(value)}")
        out = []
        for v in value:
            v = kind() if v is None else v
            if not isinstance(v, (tuple, list) if kind is tuple else dict):
                raise PapyError(f"Worker {what} entries must be {kind.__name__}s "
                                f"(got {v!r} that is a {type(v).__name__})")
            out.append(kind(v))
        return tuple(out)

    def __call__(self, inbox: tuple) -> Any:
        for item in inbox:
            if isinstance(item, _Placeholder):
                if item.index is None:  # made for this inbox (a missing input)
                    self.errors_created += 1
                return item
        funcs, args, kwargs = self.functions, self.args, self.kwargs
        i = 0
        try:
            result = funcs[0](inbox, *args[0], **kwargs[0])
            for i in range(1, len(funcs)):
                result = funcs[i]((result,), *args[i], **kwargs[i])
            return result
        except ITEM_ERRORS as exc:
            if self.debug:
                raise
            return self._wrap(exc, i)

    def map(self, items: list, boxed: bool = False, progress=None) -> list:
        """Evaluate on every inbox of ``items`` (or on ``(item,)`` when ``boxed``).

        ``progress[1]`` is set to each item's offset before it runs, so that a
        supervisor can tell which item a dead worker process was holding --
        or, on the fast path, to -1 once for the whole chunk: "not observed",
        and the supervisor runs such a chunk's items again one by one (see
        ``pool.recovery``).  This is the engine's hot path: the common case --
        one function without extra arguments, items that are not placeholders --
        runs as ``map`` over ``zip(items)`` in C, at the cost of the calls alone.
        """
        if boxed and len(self.functions) == 1 and not self.args[0] and not self.kwargs[0] \
                and not self.debug and none_is_placeholder(items):
            if progress is not None:
                progress[1] = -1 if len(items) > 1 else 0
            return self._map_fast(self.functions[0], items)
        out: list = []
        append = out.append
        if progress is None:
            for x in items:
                append(self((x,) if boxed else x))
        else:
            for off, x in enumerate(items):
                progress[1] = off
                append(self((x,) if boxed else x))
        return out

    def _map_fast(self, f: Callable, items: list) -> list:
        """``[f((x,)) for x in items]``, an exception becoming its item's placeholder.

        ``list.extend`` keeps what it appended when ``f`` raises, and ``boxes``
        has then given exactly the item ``f`` raised on.  A StopIteration
        raised by ``f`` does not propagate: ``map`` passes it on as its own
        end, so the results just stop short.  That item is then run once more
        through :meth:`__call__`, which turns the exception into its
        placeholder (an item is never dropped).
        """
        out: list = []
        boxes = zip(items)
        while len(out) < len(items):
            try:
                out.extend(map(f, boxes))
            except ITEM_ERRORS as exc:      # f raised on the next box: go on after it
                out.append(self._wrap(exc, 0))
                continue
            if len(out) < len(items):       # f raised StopIteration on this one
                out.append(self((items[len(out)],)))
        return out

    def _passed(self, placeholder: _Placeholder) -> None:
        if placeholder.index is None:  # made for this inbox: count it as ours
            self.errors_created += 1

    def _wrap(self, exc: BaseException, i: int) -> WorkerError:
        self.errors_created += 1
        tb = exc.__traceback__   # shown from the user's function on, whichever path called it
        while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
            tb = tb.tb_next
        return WorkerError.from_exception(exc.with_traceback(tb),
                                          function=func_name(self.functions[i]))

    def __repr__(self) -> str:
        return f"Worker({self.name!r})"

    def __getstate__(self):
        state = self.__dict__.copy()
        state["errors_created"] = 0
        return state


def imports(modules: Sequence[str]):
    """Attach import statements to a function shipped by value to another host.

    ``@imports(["re", "numpy as np", "os.path"])`` makes the named modules
    available in the function's globals right before each call, wherever it
    runs.  The list is kept as ``func.papy_imports`` for the script writer.
    """
    mods = [modules] if isinstance(modules, str) else list(modules)
    for spec in mods:
        if not isinstance(spec, str) or not spec.strip():
            raise PapyError(f"imports() takes module names as strings (got {spec!r})")

    def decorate(func):
        func.papy_imports = mods
        return _ImportingFunction(func, mods)
    return decorate


class _ImportingFunction:
    """A function plus the imports it needs; importing happens at first call."""

    def __init__(self, func, modules):
        self.func, self.modules = func, list(modules)
        self.__name__ = func_name(func)
        self.__doc__ = getattr(func, "__doc__", None)
        self.__module__ = getattr(func, "__module__", None)  # type: ignore[assignment]  # as func's
        self.__qualname__ = getattr(func, "__qualname__", self.__name__)
        self.__wrapped__ = func
        self.papy_imports = self.modules
        self._done = False

    def _import(self):
        import importlib
        g = getattr(self.func, "__globals__", None)
        for spec in self.modules:
            parts = spec.split(" as ")
            modname = parts[0].strip()
            mod = importlib.import_module(modname)
            if len(parts) == 2:
                alias = parts[1].strip()
            else:
                alias = modname.split(".")[0]
                mod = importlib.import_module(alias)
            if g is not None:
                g[alias] = mod
        self._done = True

    def __call__(self, *args, **kwargs):
        if not self._done:
            self._import()
        return self.func(*args, **kwargs)

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_done"] = False
        return state
