"""The writer: a :class:`~.model.PipelineDescription` -> script text.

:func:`render` is the only writer (deterministic: the same description gives
the same text); :func:`write_text` saves text atomically.  ``render(read(path))``
reproduces any file that :func:`render` wrote (see :mod:`.reader`).
:func:`identifier` and :func:`pretty` are shared with :mod:`.sources`, which
writes live functions and values as source.
"""
from __future__ import annotations

import ast
import keyword
import os
from typing import Any

from ..errors import ScriptError
from ..util import atomic_write
from .model import NODE_DEFAULTS, SCRIPT_NAMES, NodeDesc, PipelineDescription

__all__ = ["render", "render_pipeline", "worker_expr", "write_text", "identifier", "pretty",
           "LINE"]

#: The line width the writer aims for.
LINE = 88


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` atomically: a crash leaves the old file or the new one."""
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
    taken = set(globals_used) | set(SCRIPT_NAMES)
    # a local: it must not shadow a function or value of that name the nodes use
    plumber = identifier("plumber", taken, "_")
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
    lines.append(f"    {plumber} = Plumber()")
    order = [node_var[n.name] for n in desc.nodes]
    lines.append(_wrap_list(f"    {plumber}.add_pipers([", order, "])"))
    for chain in _chains(desc.edges):
        lines.append(_wrap_list(f"    {plumber}.add_pipe((", [node_var[n] for n in chain], "))"))
    lines.append(f"    return {plumber}")
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
