"""The data model of a pipeline script: plain data, and the constants of the format.

A leaf module (it imports nothing of PaPy): the writer (:mod:`.writer`), the
reader (:mod:`.reader`), the describer (:mod:`.describe`), the loader
(:mod:`.loader`) and the editor all use these types.  A
:class:`PipelineDescription` holds function references or source text,
Python *expression source text* for arguments, and literal options; the
editor opens and saves files through it without running user code.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "FuncRef", "NodeDesc", "ResourceDesc", "PipelineDescription", "DEFAULT_DOCSTRING",
    "NODE_DEFAULTS", "IMAP_DEFAULTS", "HEADER_NAMES", "SCRIPT_NAMES", "ScriptSource",
]

#: The module docstring written when a description does not carry its own.
DEFAULT_DOCSTRING = (
    "A PaPy pipeline.\n\n"
    "Run it headless with ``papy run THIS_FILE`` or ``python THIS_FILE``\n"
    "(``--help`` lists the options), or open it with ``papy gui THIS_FILE``.\n"
)

#: Piper options of a :class:`NodeDesc` and their defaults (``worker_name``
#: None means the Worker's default name, its functions' names joined by ``_``).
NODE_DEFAULTS: dict[str, Any] = {
    "parallel": None, "consume": 1, "produce": 1, "spawn": 1, "timeout": None,
    "ordered": True, "branch": None, "debug": False, "track": False, "repeat": False,
    "worker_name": None,
}

#: IMap keyword arguments kept in :attr:`ResourceDesc.options`, with defaults.
IMAP_DEFAULTS: dict[str, Any] = {
    "worker_num": None, "worker_type": "process", "worker_remote": None, "stride": None,
    "buffer": None, "ordered": True, "skip": False, "start_method": None, "retries": 1,
    "skip_unreachable": False, "dask": None,
}

#: Names imported by the generated script's header line ``from papy_engine import ...``.
HEADER_NAMES = ("IMap", "Piper", "Plumber", "Worker", "imports")
#: Names the generated script binds itself (header imports and its own globals).
SCRIPT_NAMES = frozenset(HEADER_NAMES + ("pipeline", "INPUTS", "LAYOUT", "papy_engine",
                                         "sys", "run_script_main"))


@dataclass
class FuncRef:
    """One node function.

    Attributes:
        name: how ``pipeline()`` refers to it (an identifier, or ``Class.attr``).
        module: set when it is imported from an importable module.
        qualname: its ``__qualname__`` in ``module`` (None for source functions).
        source: set when it is written out as source: a ``def`` (without its
            ``@imports`` decorator), or top-level statements that bind ``name``
            (a closure factory, which keeps any decorator inside).
        imports: the ``@imports`` module specs, e.g. ``["re", "numpy as np"]``.
    """
    name: str
    module: str | None = None
    qualname: str | None = None
    source: str | None = None
    imports: list[str] = field(default_factory=list)


@dataclass
class NodeDesc:
    """One piper: its Worker's functions, their arguments and the piper options.

    ``args[i]`` / ``kwargs[i]`` hold expression source text for function ``i``;
    ``options`` has every key of :data:`NODE_DEFAULTS` (``parallel`` is a
    resource name or None).
    """
    name: str
    functions: list[FuncRef]
    args: list[list[str]]
    kwargs: list[dict[str, str]]
    options: dict


@dataclass
class ResourceDesc:
    """One IMap shared by name; ``options`` holds non-default IMap keywords as literals."""
    name: str
    options: dict


@dataclass
class PipelineDescription:
    """A whole script as data (see the module docstring).

    ``edges`` are ``(upstream, downstream)`` node names; ``nodes`` are in the
    order they are added to the Plumber (which sets input order on ties).
    ``inputs_source`` is None when the script has no ``INPUTS`` list literal.
    ``preamble`` is extra top-level code (imports, constants, helpers) kept
    verbatim; ``docstring`` is the module docstring ("" for none).
    """
    nodes: list[NodeDesc]
    resources: list[ResourceDesc]
    edges: list[tuple[str, str]]
    inputs_source: list[str] | None
    layout: dict
    preamble: str
    docstring: str = DEFAULT_DOCSTRING

    def node(self, name: str) -> NodeDesc:
        """The node called ``name`` (KeyError if none)."""
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(name)


@dataclass(frozen=True)
class ScriptSource:
    """A Plumber's provenance: the parts of its script that are not the pipeline.

    The loader sets it as ``plumber.script_source`` on every Plumber it makes
    (see :mod:`.loader`), and :func:`~.describe.describe` keeps both parts
    when that Plumber is saved again.

    Attributes:
        preamble: extra top-level code, verbatim; :func:`~.describe.describe`
            adds to it only what the node functions need and it lacks.
        docstring: the module docstring ("" for none).
    """
    preamble: str = ""
    docstring: str = DEFAULT_DOCSTRING
