"""The loader: a live Plumber from a script file or from a description (executes code).

Two ways in::

    load(path):  read the file -> exec_text() -> pipeline() -> Plumber
    build(desc): render(desc) -> execute() -> make_pipeline() -> Plumber

:func:`execute` and :func:`make_pipeline` are the two halves of :func:`build`,
so that a caller (the editor) can run the user's module-level code once into
a namespace and then build a Plumber from it, when and where it chooses.

Every Plumber made here gets ``inputs_source`` (INPUTS as expression text, or
None), ``layout`` (LAYOUT) and its provenance, ``script_source``: a
:class:`~.model.ScriptSource` with the preamble and docstring of the
description it was built from, or None when the script is runnable but not
in the shape the reader describes.  :func:`~.describe.describe` keeps both
when the Plumber is saved again (:func:`source_of` reads it).
"""
from __future__ import annotations

import itertools
import linecache
import logging
import os
import traceback
from typing import Any

from ..errors import ScriptError
from .model import PipelineDescription, ScriptSource
from .reader import inputs_source, read, read_text
from .writer import render

__all__ = ["load", "load_namespace", "build", "execute", "make_pipeline", "exec_text",
           "source_of"]

log = logging.getLogger(__name__)

_counter = itertools.count(1)


def _script_error(exc: BaseException, filename: str, what: str) -> ScriptError:
    """A ScriptError for ``exc`` raised while running ``filename``, with its line."""
    if isinstance(exc, SyntaxError) and exc.filename == filename:
        return ScriptError(f"{filename}:{exc.lineno}: syntax error: {exc.msg}")
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == filename:
            line = frame.lineno
    where = f"{filename}:{line}" if line else filename
    return ScriptError(f"{where}: {what}: {type(exc).__name__}: {exc}")


def exec_text(text: str, filename: str, namespace: dict | None = None,
              file: str | None = None) -> dict:
    """Execute script ``text`` as a module (not as ``__main__``) and return its namespace.

    ``filename`` names the code (and the linecache entry, so that
    ``inspect.getsource`` finds the functions again when saving).

    Raises:
        ScriptError: a syntax error, or the code raised (names the line).
    """
    ns = {} if namespace is None else namespace
    saved_name = ns.get("__name__")
    if saved_name in (None, "__main__"):
        ns["__name__"] = "__papy_script__"
    if file is not None:
        ns["__file__"] = file
    ns.setdefault("__builtins__", __builtins__)
    try:
        code = compile(text, filename, "exec", dont_inherit=True)
    except SyntaxError as exc:
        raise _script_error(exc, filename, "syntax error") from None
    if not os.path.exists(filename):
        linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    try:
        exec(code, ns)
    except Exception as exc:
        raise _script_error(exc, filename, "running the script failed") from exc
    finally:
        if saved_name == "__main__":
            ns["__name__"] = saved_name
    return ns


def _call_pipeline(ns: dict, filename: str):
    """Call ``ns["pipeline"]()`` and check that it made a Plumber."""
    from ..dagger import Dagger  # networkx: only when a pipeline is built
    factory = ns.get("pipeline")
    if not callable(factory):
        raise ScriptError(f"{filename}:1: the script defines no pipeline() function")
    try:
        plumber = factory()
    except Exception as exc:
        raise _script_error(exc, filename, "pipeline() failed") from exc
    if not isinstance(plumber, Dagger):
        raise ScriptError(f"{filename}: pipeline() must return a Plumber (got {plumber!r} "
                          f"that is a {type(plumber).__name__})")
    return plumber


def _attach(plumber, desc: PipelineDescription | None, layout: dict,
            inputs: list[str] | None) -> None:
    plumber.inputs_source = inputs
    plumber.layout = layout
    plumber.script_source = (ScriptSource(desc.preamble, desc.docstring) if desc is not None
                             else None)


def source_of(plumber) -> ScriptSource | None:
    """The provenance the loader gave ``plumber`` (``plumber.script_source``), or None.

    None for a Plumber made in code, or loaded from a script the reader cannot
    describe.
    """
    return plumber.script_source


def load_namespace(path: str | os.PathLike) -> tuple[Any, dict]:
    """Execute the script at ``path`` and build its pipeline: ``(plumber, namespace)``.

    Raises:
        ScriptError: as :func:`load`.
    """
    filename, text = read_text(path)
    ns = exec_text(text, filename, file=os.path.abspath(filename))
    plumber = _call_pipeline(ns, filename)
    layout = ns.get("LAYOUT", {})
    if not isinstance(layout, dict):
        raise ScriptError(f"{filename}: LAYOUT must be a dict (got {type(layout).__name__})")
    try:
        desc: PipelineDescription | None = read(filename)
    except ScriptError as exc:  # runnable, but not in the shape the editor understands
        log.info("%s is not in the documented shape (%s); saving it rewrites it", filename, exc)
        desc = None
    _attach(plumber, desc, layout, inputs_source(text))
    return plumber, ns


def load(path: str | os.PathLike):
    """Execute the script at ``path``, call its ``pipeline()`` and return the Plumber.

    The Plumber gets ``inputs_source`` (INPUTS as expression text, or None),
    ``layout`` (LAYOUT) and ``script_source`` (see the module docstring).

    Raises:
        ScriptError: the file cannot be read, has a syntax error, raises, or
            has no ``pipeline()``; the message names the file and line.
    """
    return load_namespace(path)[0]


def execute(desc: PipelineDescription, namespace: dict | None = None, *,
            path: str | os.PathLike | None = None) -> dict:
    """Render ``desc`` and execute its module-level code once; returns the namespace.

    The namespace then holds the node functions, the preamble's names and
    ``pipeline``, which :func:`make_pipeline` calls; nothing is built yet.

    Args:
        desc: the description.
        namespace: the dict to execute the script in (e.g. a console's
            namespace, which then holds the node functions); a fresh one by default.
        path: the script's path, for ``__file__`` (data paths relative to it).

    Raises:
        ScriptError: when the description's code fails (names the line of the
            rendered script, which ``render(desc)`` shows).
    """
    filename = f"<papy-script-{next(_counter)}>"
    return exec_text(render(desc), filename, namespace,
                     file=os.path.abspath(os.fspath(path)) if path is not None else None)


def make_pipeline(namespace: dict, desc: PipelineDescription):
    """Call ``pipeline()`` of a namespace that :func:`execute` filled; returns the Plumber.

    The Plumber gets ``desc``'s INPUTS text, LAYOUT, preamble and docstring
    (``script_source``).

    Raises:
        ScriptError: no ``pipeline()``, it raised (names the line of the
            rendered script), or it did not return a Plumber.
    """
    factory = namespace.get("pipeline")
    code = getattr(factory, "__code__", None)  # a def made by execute(), or anything
    filename = code.co_filename if code is not None else "<namespace>"
    plumber = _call_pipeline(namespace, filename)
    _attach(plumber, desc, dict(desc.layout),
            list(desc.inputs_source) if desc.inputs_source is not None else None)
    return plumber


def build(desc: PipelineDescription, namespace: dict | None = None, *,
          path: str | os.PathLike | None = None):
    """Make a live Plumber from a description: :func:`execute`, then :func:`make_pipeline`.

    Args and Raises: as :func:`execute` and :func:`make_pipeline`.
    """
    return make_pipeline(execute(desc, namespace, path=path), desc)
