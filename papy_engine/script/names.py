"""Static name analysis of Python code for the script writer: which names a
piece of code binds at its top level and which globals it reads.

Only :mod:`ast`, :func:`compile` and :mod:`dis`; nothing is executed.
"""
from __future__ import annotations

import ast
import builtins
import dis
import inspect

__all__ = ["GLOBAL_OPS", "code_globals", "ast_names", "top_level_names", "from_imports",
           "unbound_names"]

GLOBAL_OPS = {"LOAD_GLOBAL", "LOAD_NAME", "STORE_GLOBAL", "DELETE_GLOBAL"}


def code_globals(code) -> set[str]:
    """The global names ``code`` and the code nested in it read, write or delete."""
    return {ins.argval for c in code_objects(code) for ins in dis.get_instructions(c)
            if ins.opname in GLOBAL_OPS}


def ast_names(nodes) -> set[str]:
    """Every name that appears in the expressions ``nodes`` (None entries skipped)."""
    out: set[str] = set()
    for node in nodes:
        if node is not None:
            out |= {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
    return out


def top_level_names(code: str) -> set[str]:
    """Names bound at the top level of ``code``."""
    if not code.strip():
        return set()
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return set()
    names: set[str] = set()
    for stmt in tree.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(stmt.name)
            continue
        for node in ast.walk(stmt):  # also what `try: import x` or an `if` binds
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names.update((a.asname or a.name).split(".")[0] for a in node.names)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
    return names


def unbound_names(text: str) -> set[str]:
    """Global names that script ``text`` reads but never binds (builtins and
    ``__dunder__`` names excepted): what it would take from a namespace it was
    executed in, e.g. an editor's console.  Empty if ``text`` does not compile.
    """
    try:
        code = compile(text, "<script>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return set()
    used = {ins.argval for c in code_objects(code) for ins in dis.get_instructions(c)
            if ins.opname in ("LOAD_GLOBAL", "LOAD_NAME")}  # reads only
    bound = top_level_names(text)
    return {n for n in used if n not in bound and not hasattr(builtins, n)
            and not (n.startswith("__") and n.endswith("__"))}


def code_objects(code):
    """``code`` and every code object nested in it (functions, lambdas, comprehensions)."""
    yield code
    for const in code.co_consts:
        if inspect.iscode(const):
            yield from code_objects(const)


def from_imports(code: str) -> dict[tuple[str, str], str]:
    """``(module, name) -> local name`` for the ``from module import name`` lines of ``code``."""
    try:
        tree = ast.parse(code) if code.strip() else None
    except SyntaxError:
        tree = None
    out: dict[tuple[str, str], str] = {}
    for stmt in tree.body if tree else ():
        if isinstance(stmt, ast.ImportFrom) and stmt.module and not stmt.level:
            for a in stmt.names:
                out.setdefault((stmt.module, a.name), a.asname or a.name)
    return out
