"""Pipelines as executable Python scripts: the description, the writer and the loaders.

Three representations of one pipeline meet here::

    live Plumber --describe()--> PipelineDescription --render()--> script text
         ^                          ^      |                          |
         |                          |      +--execute()+make_pipeline() = build()
         |                          |                                 |   (executes)
         +--------load()------------|---------------------------------+
                                    +------read()  (static, ast only, never executes)

* :mod:`.model` -- :class:`PipelineDescription` and its parts: plain data,
  function references or source text, Python *expression source text* for
  arguments, literal options.  The editor opens and saves files through it
  without running user code.
* :mod:`.writer` -- :func:`render` is the only writer; :func:`write_text`
  writes text atomically.
* :mod:`.reader` -- :func:`read` parses a script with :mod:`ast`
  (``def pipeline()`` itself in :mod:`.pipeline_def`).
* :mod:`.describe` -- :func:`describe` a live Plumber (functions and values
  as source: :mod:`.sources`, :mod:`.lambdas`, :mod:`.names`, :mod:`.portable`);
  :func:`script` and :func:`save` render it.
* :mod:`.loader` -- :func:`load` executes a file; :func:`build` a description
  (:func:`execute` then :func:`make_pipeline`).

``render(read(path))`` reproduces any file that :func:`render` wrote, and
``save -> load -> save`` gives the same text.
"""
from .describe import describe, save, script
from .loader import build, exec_text, execute, load, load_namespace, make_pipeline, source_of
from .model import (DEFAULT_DOCSTRING, IMAP_DEFAULTS, NODE_DEFAULTS, FuncRef, NodeDesc,
                    PipelineDescription, ResourceDesc, ScriptSource)
from .names import unbound_names
from .reader import parse, read
from .sources import preamble_for
from .writer import render, write_text

__all__ = [
    "FuncRef", "NodeDesc", "ResourceDesc", "PipelineDescription", "ScriptSource",
    "DEFAULT_DOCSTRING",
    "NODE_DEFAULTS", "IMAP_DEFAULTS", "describe", "render", "script", "read", "parse",
    "build", "execute", "make_pipeline", "exec_text", "source_of", "load",
    "load_namespace", "save", "write_text", "preamble_for", "unbound_names",
]
