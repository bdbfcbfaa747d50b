"""Pipelines as executable Python scripts: the description, the writer and the loaders.

Three representations of one pipeline meet here::

    live Plumber --describe()--> PipelineDescription --render()--> script text
         ^                          ^      |                          |
         |                          |      +-----build()--------------+--> live Plumber
         +--------load()------------|---------------------------------+    (executes)
                                    +------read()  (static, ast only, never executes)

* :class:`PipelineDescription` is plain data: function references or source
  text, Python *expression source text* for arguments, literal options.  The
  editor opens and saves files through it without running user code.
* :func:`render` is the only writer; :func:`save` writes its text atomically.
* :func:`read` (in :mod:`papy_engine.script_reader`) parses a script with
  :mod:`ast`; :func:`load` executes it and calls ``pipeline()``.

``render(read(path))`` reproduces any file that :func:`render` wrote, and
``save -> load -> save`` gives the same text.
"""
from __future__ import annotations

import ast
import itertools
import linecache
import logging
import os
import sys as _sys
import traceback
import types as _types
from dataclasses import dataclass, field
from typing import Any

from .errors import ScriptError

__all__ = [
    "FuncRef", "NodeDesc", "ResourceDesc", "PipelineDescription", "DEFAULT_DOCSTRING",
    "NODE_DEFAULTS", "IMAP_DEFAULTS", "describe", "render", "script", "read", "build",
    "load", "save",
]

log = logging.getLogger(__name__)

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
    "skip_unreachable": False,
}

# Names the generated script binds itself (header imports and its own globals).
HEADER_NAMES = ("IMap", "Piper", "Plumber", "Worker", "imports")
SCRIPT_NAMES = frozenset(HEADER_NAMES + ("pipeline", "INPUTS", "LAYOUT", "papy_engine",
                                         "sys", "run_script_main"))
LINE = 88


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


# -- writing ---------------------------------------------------------------------
def describe(plumber, inputs: list[str] | None = None,
             layout: dict | None = None) -> PipelineDescription:
    """Describe a live Plumber (see :mod:`papy_engine.script_describe`).

    Args:
        plumber: the pipeline.
        inputs: INPUTS as expression source text (``["range(100)"]``); defaults
            to ``plumber.inputs_source``.
        layout: editor metadata; defaults to ``plumber.layout`` or ``{}``.

    Raises:
        ScriptError: for something that cannot be written (the message names
            the piper and the function or value).
    """
    from .script_describe import describe as _describe
    return _describe(plumber, inputs, layout)


def script(plumber, inputs: list[str] | None = None, layout: dict | None = None) -> str:
    """The script text of ``plumber``: ``render(describe(plumber, inputs, layout))``."""
    return render(describe(plumber, inputs, layout))


def save(plumber, path: str | os.PathLike, inputs: list[str] | None = None,
         layout: dict | None = None) -> None:
    """Write ``plumber`` as a script at ``path`` atomically (temp file, then rename)."""
    write_text(path, script(plumber, inputs, layout))


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` atomically: a crash leaves the old file or the new one."""
    from .util import atomic_write
    atomic_write(path, text)


def _tuple(items: list[str]) -> str:
    if len(items) == 1:
        return f"({items[0]},)"
    return "(" + ", ".join(items) + ")"


def _dict(items: dict[str, str]) -> str:
    return "{" + ", ".join(f"{k!r}: {v}" for k, v in items.items()) + "}"


def worker_expr(node: NodeDesc) -> str:
    """The expression ``pipeline()`` uses for a node's Worker (or bare function)."""
    refs = [f.name for f in node.functions]
    wname = node.options.get("worker_name")
    has_args = any(node.args) or any(node.kwargs)
    if len(refs) == 1:
        if not has_args and wname is None:
            return refs[0]
        parts = [refs[0]]
        if node.args[0]:
            parts.append(f"args={_tuple(node.args[0])}")
        if node.kwargs[0]:
            parts.append(f"kwargs={_dict(node.kwargs[0])}")
    else:
        parts = [_tuple(refs)]
        if any(node.args):
            parts.append("args=" + _tuple([_tuple(a) if a else "()" for a in node.args]))
        if any(node.kwargs):
            parts.append("kwargs=" + _tuple([_dict(k) for k in node.kwargs]))
        if not has_args and wname is None:
            return parts[0]
    if wname is not None:
        parts.append(f"name={wname!r}")
    return "Worker(" + ", ".join(parts) + ")"


def _call(target: str, func: str, parts: list[str], indent: str) -> str:
    line = f"{indent}{target} = {func}(" + ", ".join(parts) + ")"
    if len(line) <= LINE and "\n" not in line:
        return line
    inner = indent + "    "
    return (f"{indent}{target} = {func}(\n"
            + "".join(f"{inner}{p},\n" for p in parts) + f"{indent})")


def identifier(name: str, taken: set[str], suffix: str) -> str:
    """A valid, unused Python identifier for ``name`` (``suffix`` on a clash)."""
    import keyword
    ident = "".join(c if c.isalnum() or c == "_" else "_" for c in name) or "_"
    if not ident.isidentifier() or ident[0].isdigit():
        ident = "n_" + ident
    if keyword.iskeyword(ident):
        ident += "_"
    if ident in taken:
        ident += suffix
    base, n = ident, 2
    while ident in taken:
        ident, n = f"{base}_{n}", n + 1
    taken.add(ident)
    return ident


def _expr_names(texts) -> set[str]:
    names: set[str] = set()
    for t in texts:
        try:
            tree = ast.parse(t, mode="eval")
        except SyntaxError:
            continue
        names.update(n.id for n in ast.walk(tree) if isinstance(n, ast.Name))
    return names


def render_pipeline(desc: PipelineDescription) -> str:
    """The ``def pipeline()`` function of a description."""
    globals_used = {f.name.split(".")[0] for n in desc.nodes for f in n.functions}
    globals_used |= _expr_names(a for n in desc.nodes for al in n.args for a in al)
    globals_used |= _expr_names(v for n in desc.nodes for kw in n.kwargs for v in kw.values())
    taken = set(globals_used) | set(SCRIPT_NAMES) | {"plumber"}
    lines = ["def pipeline() -> Plumber:",
             '    """Build the pipeline: IMaps (shared pools), Pipers (nodes), pipes (edges)."""']
    res_var: dict[str, str] = {}
    for res in desc.resources:
        var = identifier(res.name, taken, "_pool")
        res_var[res.name] = var
        parts = [f"{k}={v!r}" for k, v in res.options.items()] + [f"name={res.name!r}"]
        lines.append(_call(var, "IMap", parts, "    "))
    if desc.resources:
        lines.append("")
    node_var: dict[str, str] = {}
    for node in desc.nodes:
        var = identifier(node.name, taken, "_node")
        node_var[node.name] = var
        parts = [worker_expr(node), f"name={node.name!r}"]
        opts = node.options
        if opts.get("parallel") is not None:
            if opts["parallel"] not in res_var:
                raise ScriptError(f"node {node.name!r} uses an unknown resource "
                                  f"{opts['parallel']!r}")
            parts.append(f"parallel={res_var[opts['parallel']]}")
        for key, default in NODE_DEFAULTS.items():
            if key in ("parallel", "worker_name"):
                continue
            value = opts.get(key, default)
            if value != default or type(value) is not type(default):
                parts.append(f"{key}={value!r}")
        lines.append(_call(var, "Piper", parts, "    "))
    lines.append("")
    lines.append("    plumber = Plumber()")
    order = [node_var[n.name] for n in desc.nodes]
    lines.append(_wrap_list("    plumber.add_pipers([", order, "])"))
    for chain in _chains(desc.edges):
        lines.append(_wrap_list("    plumber.add_pipe((", [node_var[n] for n in chain], "))"))
    lines.append("    return plumber")
    return "\n".join(lines) + "\n"


def _wrap_list(head: str, items: list[str], tail: str) -> str:
    line = head + ", ".join(items) + tail
    if len(line) <= LINE:
        return line
    indent = " " * (len(head) - len(head.lstrip()) + 4)
    return head + "\n" + "".join(f"{indent}{i},\n" for i in items) + indent[4:] + tail


def _chains(edges: list[tuple[str, str]]) -> list[list[str]]:
    """Merge consecutive edges ``(a, b), (b, c)`` into chains ``[a, b, c]``."""
    chains: list[list[str]] = []
    for up, down in edges:
        if chains and chains[-1][-1] == up:
            chains[-1].append(down)
        else:
            chains.append([up, down])
    return chains


def pretty(value: Any, column: int = 0, level: int = 0, width: int = LINE) -> str:
    """``repr`` of a literal, broken over lines when it does not fit in ``width``.

    Args:
        column: where the literal starts on its first line.
        level: the indentation of that line (nested items get ``level + 4``).

    Containers of containers get one item per line; containers of scalars are
    filled line by line.  Sets are sorted so that the text does not depend on
    hash randomization.
    """
    if isinstance(value, (set, frozenset)) and value:
        try:
            items = sorted(value)
        except TypeError:
            items = list(value)
        flat = "{" + ", ".join(repr(v) for v in items) + "}"
        if isinstance(value, frozenset):
            return f"frozenset({flat})"
    else:
        items = value
        flat = repr(value)
    if column + len(flat) <= width or not isinstance(value, (dict, list, tuple, set)) \
            or not value:
        return flat
    inner = level + 4
    pad = " " * inner
    if isinstance(value, dict):
        body = [f"{pad}{k!r}: {pretty(v, inner + len(repr(k)) + 2, inner, width)},"
                for k, v in value.items()]
        return "{\n" + "\n".join(body) + "\n" + " " * level + "}"
    open_, close = "[]" if isinstance(value, list) else "{}" if isinstance(value, set) else "()"
    if not any(isinstance(v, (dict, list, tuple, set, frozenset)) for v in items):
        body, line = [], pad
        for v in items:
            piece = repr(v) + ","
            if line.strip() and len(line) + 1 + len(piece) > width:
                body.append(line)
                line = pad
            line += (" " if line.strip() else "") + piece
        body.append(line)
    else:
        body = [f"{pad}{pretty(v, inner, inner, width)}," for v in items]
    return open_ + "\n" + "\n".join(body) + "\n" + " " * level + close


def _format_literal(name: str, value: Any) -> str:
    return f"{name} = {pretty(value, len(name) + 3, 0)}\n"


def render(desc: PipelineDescription) -> str:
    """The script text of a description (deterministic; see the module docstring).

    Raises:
        ScriptError: when the description is inconsistent (unknown resource).
    """
    out: list[str] = ["#!/usr/bin/env python3\n"]
    if desc.docstring:
        doc = desc.docstring.replace("\\", "\\\\").replace('"""', '\\"""')
        if doc.endswith('"'):
            doc = doc[:-1] + '\\"'
        out.append(f'"""{doc}"""\n')
    uses_imports = any(f.imports for n in desc.nodes for f in n.functions)
    header = ["IMap"] if desc.resources else []
    header += ["Piper", "Plumber", "Worker"] + (["imports"] if uses_imports else [])
    out.append(f"from papy_engine import {', '.join(header)}\n")
    imported: dict[str, list[str]] = {}
    for ref in _unique_refs(desc):
        if ref.module is not None and not (ref.module == "builtins" and ref.qualname == ref.name):
            first = ref.qualname.split(".")[0] if ref.qualname else ref.name
            alias = ref.name.split(".")[0]
            spec = first if alias == first else f"{first} as {alias}"
            imported.setdefault(ref.module, [])
            if spec not in imported[ref.module]:
                imported[ref.module].append(spec)
    for module in sorted(imported):
        out.append(_wrap_import(module, sorted(imported[module])))
    blocks: list[str] = []
    if desc.preamble.strip():
        blocks.append(desc.preamble.strip("\n") + "\n")
    for ref in _unique_refs(desc):
        if ref.source is None:
            continue
        src = ref.source.strip("\n") + "\n"
        if ref.imports and _is_def(src, ref.name):
            src = f"@imports({ref.imports!r})\n" + src
        blocks.append(src)
    blocks.append(render_pipeline(desc))
    tail = ""
    if desc.inputs_source is not None:
        tail += _wrap_list("INPUTS = [", list(desc.inputs_source), "]") + "\n"
    elif not _binds(desc.preamble, "INPUTS"):
        tail += "INPUTS = None\n"
    tail += _format_literal("LAYOUT", desc.layout)
    blocks.append(tail)
    blocks.append('if __name__ == "__main__":\n'
                  "    import sys\n\n"
                  "    from papy_engine.cli import run_script_main\n\n"
                  "    sys.exit(run_script_main(pipeline, INPUTS, sys.argv[1:]))\n")
    return "".join(out) + "\n\n" + "\n\n".join(blocks)


def _wrap_import(module: str, names: list[str]) -> str:
    line = f"from {module} import {', '.join(names)}"
    if len(line) <= LINE:
        return line + "\n"
    return f"from {module} import (\n" + "".join(f"    {n},\n" for n in names) + ")\n"


def _unique_refs(desc: PipelineDescription):
    seen: set[str] = set()
    for node in desc.nodes:
        for ref in node.functions:
            if ref.name not in seen:
                seen.add(ref.name)
                yield ref


def _is_def(src: str, name: str) -> bool:
    """True when ``src`` is just a def of ``name`` (not a closure factory)."""
    try:
        tree = ast.parse(src)
    except SyntaxError:
        return False
    return (len(tree.body) == 1 and isinstance(tree.body[0], (ast.FunctionDef, ast.AsyncFunctionDef))
            and tree.body[0].name == name)


def _binds(code: str, name: str) -> bool:
    if not code.strip():
        return False
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return False
    for stmt in tree.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if stmt.name == name:
                return True
        for node in ast.walk(stmt) if isinstance(stmt, (ast.Assign, ast.AnnAssign)) else ():
            if isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Store):
                return True
    return False


# -- reading and loading ---------------------------------------------------------
def read(path: str | os.PathLike) -> PipelineDescription:
    """Parse a script statically (never executes it) into a description.

    Raises:
        ScriptError: syntax error, no ``pipeline()``, an unknown name or a
            shape it cannot describe; the message names the file and line.
    """
    from .script_reader import read as _read
    return _read(path)


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


def execute(text: str, filename: str, namespace: dict | None = None,
            file: str | None = None) -> dict:
    """Execute script ``text`` as a module (not as ``__main__``) and return its namespace.

    ``filename`` names the code (and the linecache entry, so that
    ``inspect.getsource`` finds the functions again when saving).
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


def _make_pipeline(ns: dict, filename: str):
    from .dagger import Dagger
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


def _attach(plumber, desc: PipelineDescription | None, layout, inputs_source) -> None:
    plumber.inputs_source = inputs_source
    plumber.layout = layout
    # Kept so that saving a loaded pipeline keeps the user's extra code.
    plumber.script_preamble = desc.preamble if desc is not None else None
    plumber.script_docstring = desc.docstring if desc is not None else DEFAULT_DOCSTRING


def load_namespace(path: str | os.PathLike) -> tuple[Any, dict]:
    """Execute the script at ``path`` and build its pipeline: ``(plumber, namespace)``."""
    from .script_reader import inputs_source as _inputs_source
    from .script_reader import read_text
    filename, text = read_text(path)
    ns = execute(text, filename, file=os.path.abspath(filename))
    plumber = _make_pipeline(ns, filename)
    layout = ns.get("LAYOUT", {})
    if not isinstance(layout, dict):
        raise ScriptError(f"{filename}: LAYOUT must be a dict (got {type(layout).__name__})")
    try:
        desc = read(filename)
    except ScriptError as exc:  # runnable, but not in the shape the editor understands
        log.info("%s is not in the documented shape (%s); saving it rewrites it", filename, exc)
        desc = None
    _attach(plumber, desc, layout, _inputs_source(text))
    return plumber, ns


def load(path: str | os.PathLike):
    """Execute the script at ``path``, call its ``pipeline()`` and return the Plumber.

    The Plumber gets ``inputs_source`` (INPUTS as expression text, or None) and
    ``layout`` (LAYOUT) from the script.

    Raises:
        ScriptError: the file cannot be read, has a syntax error, raises, or
            has no ``pipeline()``; the message names the file and line.
    """
    return load_namespace(path)[0]


def build(desc: PipelineDescription, namespace: dict | None = None, *,
          path: str | os.PathLike | None = None):
    """Make a live Plumber from a description (executes its imports and sources).

    Args:
        desc: the description.
        namespace: the dict to execute the script in (e.g. a console's
            namespace, which then holds the node functions); a fresh one by default.
        path: the script's path, for ``__file__`` (data paths relative to it).

    Raises:
        ScriptError: when the description's code fails (names the line of the
            rendered script, which ``render(desc)`` shows).
    """
    text = render(desc)
    filename = f"<papy-script-{next(_counter)}>"
    ns = execute(text, filename, namespace,
                 file=os.path.abspath(os.fspath(path)) if path is not None else None)
    plumber = _make_pipeline(ns, filename)
    _attach(plumber, desc, dict(desc.layout),
            list(desc.inputs_source) if desc.inputs_source is not None else None)
    return plumber



class _ScriptModule(_types.ModuleType):
    """``papy_engine.script`` is this module *and* the ``script()`` function.

    DESIGN.md names both ``papy_engine/script.py`` and "a ``papy_engine.script``
    function that returns the text"; a callable module satisfies both, and
    ``from papy_engine import script`` gives the same object whatever was
    imported before.
    """

    def __call__(self, plumber, inputs=None, layout=None) -> str:
        return script(plumber, inputs=inputs, layout=layout)


_sys.modules[__name__].__class__ = _ScriptModule
