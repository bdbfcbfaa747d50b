"""The static reader: a pipeline script -> :class:`~.model.PipelineDescription`.

Only :mod:`ast` is used; nothing in the file is executed or imported, so the
editor can open any file safely.  Top-level statements are sorted into:

* the generated parts (shebang, docstring, ``from papy_engine import ...``,
  the ``__main__`` block), which :func:`~.writer.render` rewrites;
* ``def pipeline()``, parsed into resources, nodes and edges (:mod:`.pipeline_def`);
* ``INPUTS = [...]`` (element source text) and ``LAYOUT = {...}`` (a literal);
* node functions: the imports, defs and assignments that bind a name that
  ``pipeline()`` uses as a function;
* everything else: the *preamble*, kept verbatim (with its comments).
"""
from __future__ import annotations

import ast
import builtins
import os
from typing import TypeGuard

from ..errors import ScriptError
from .model import HEADER_NAMES, FuncRef, NodeDesc, PipelineDescription
from .pipeline_def import PipelineParser, callee, dotted, segment

__all__ = ["read", "parse", "inputs_source", "read_text"]


def read_text(path: str | os.PathLike) -> tuple[str, str]:
    """``(filename, text)`` of a script; ScriptError naming the file if unreadable."""
    filename = os.fspath(path)
    try:
        with open(filename, encoding="utf-8") as fh:
            return filename, fh.read()
    except OSError as exc:
        raise ScriptError(f"{filename}: cannot read the script: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ScriptError(f"{filename}: not a UTF-8 text file ({exc.reason})") from None


def read(path: str | os.PathLike) -> PipelineDescription:
    """Parse a script statically (never executes it) into a description.

    Raises:
        ScriptError: syntax error, no ``pipeline()``, an unknown name or a
            shape it cannot describe; the message names the file and line.
    """
    filename, text = read_text(path)
    return parse(text, filename)


def inputs_source(text: str) -> list[str] | None:
    """The element source texts of a top-level ``INPUTS = [...]``, or None."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    for stmt in tree.body:
        if _assigns(stmt, "INPUTS") and isinstance(stmt.value, ast.List):
            return [segment(text, e) for e in stmt.value.elts]
    return None



def _assigns(stmt: ast.stmt, name: str) -> TypeGuard[ast.Assign]:
    return (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], ast.Name) and stmt.targets[0].id == name)


class _Parser(PipelineParser):
    """Sorts a module's statements (see the module docstring) around its ``pipeline()``."""

    def block(self, i: int, stmts) -> tuple[int, int]:
        """0-based line range [start, end) of statement i with the comments above it."""
        start = stmts[i - 1].end_lineno if i else 0
        end = stmts[i].end_lineno
        while start < end and not self.lines[start].strip():
            start += 1
        if i == 0:
            while start < end and self.lines[start].startswith("#!"):
                start += 1
        return start, end

    def text_of(self, indices, stmts, replace=None) -> str:
        """The text of statements ``indices``: consecutive runs verbatim, runs apart by 2 lines.

        ``replace`` maps a statement index to the text that stands for it.
        """
        replace = replace or {}
        runs: list[list[int]] = []
        for i in sorted(indices):
            if runs and runs[-1][-1] == i - 1 and i not in replace \
                    and runs[-1][-1] not in replace:
                runs[-1].append(i)
            else:
                runs.append([i])
        parts = []
        for run in runs:
            if run[0] in replace:
                parts.append(replace[run[0]])
                continue
            start = self.block(run[0], stmts)[0]
            end = self.block(run[-1], stmts)[1]
            parts.append("".join(self.lines[start:end]).rstrip() + "\n")
        return "\n\n".join(parts)

    def parse(self) -> PipelineDescription:
        try:
            tree = ast.parse(self.text, self.filename)
        except SyntaxError as exc:
            raise self.error(exc.lineno, f"syntax error: {exc.msg}") from None
        stmts = tree.body
        used: set[int] = set()
        docstring = ""
        if stmts and isinstance(stmts[0], ast.Expr) and isinstance(stmts[0].value, ast.Constant) \
                and isinstance(stmts[0].value.value, str):
            docstring = stmts[0].value.value
            used.add(0)
        fn = None
        inputs: list[str] | None = None
        layout: dict = {}
        extra_imports: dict[int, str] = {}
        header_seen = False
        for i, stmt in enumerate(stmts):
            if isinstance(stmt, ast.FunctionDef) and stmt.name == "pipeline":
                fn = stmt
                used.add(i)
            elif _assigns(stmt, "INPUTS") and (isinstance(stmt.value, ast.List) or (
                    isinstance(stmt.value, ast.Constant) and stmt.value.value is None)):
                used.add(i)
                if isinstance(stmt.value, ast.List):
                    inputs = [segment(self.text, e) for e in stmt.value.elts]
            elif _assigns(stmt, "LAYOUT"):
                used.add(i)
                layout = self.literal(stmt.value, "LAYOUT")
                if not isinstance(layout, dict):
                    raise self.error(stmt, "LAYOUT must be a dict literal")
            elif isinstance(stmt, ast.If) and isinstance(stmt.test, ast.Compare) \
                    and dotted(stmt.test.left) == "__name__":
                used.add(i)
            elif isinstance(stmt, ast.ImportFrom) and stmt.module == "papy_engine" \
                    and not stmt.level and not header_seen \
                    and all(a.name in HEADER_NAMES and not a.asname for a in stmt.names):
                used.add(i)
                header_seen = True
        if fn is None:
            raise self.error(1, "the script defines no pipeline() function")
        raw_nodes, resources, edges = self.pipeline(fn)
        refs = self.resolve(stmts, used, extra_imports)
        nodes = [NodeDesc(name=n["name"], functions=[refs[r] for r in n["refs"]],
                          args=n["args"], kwargs=n["kwargs"], options=n["options"])
                 for n in raw_nodes]
        pre_idx = [i for i in range(len(stmts)) if i not in used or i in extra_imports]
        preamble = self.text_of(pre_idx, stmts, extra_imports) if pre_idx else ""
        return PipelineDescription(nodes=nodes, resources=resources, edges=edges,
                                   inputs_source=inputs, layout=layout, preamble=preamble,
                                   docstring=docstring)

    def resolve(self, stmts, used: set[int], extra_imports) -> dict[str, FuncRef]:
        """Find the definition of every function reference used in pipeline()."""
        refs: dict[str, FuncRef] = {}
        wanted = {name.split(".")[0]: name for name in self.uses}
        defs = {s.name: i for i, s in enumerate(stmts)
                if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)) and i not in used}
        for i, stmt in enumerate(stmts):
            if i in used:
                continue
            if isinstance(stmt, ast.ImportFrom):
                keep = []
                for alias in stmt.names:
                    local = alias.asname or alias.name
                    if local in wanted and local not in {r.split(".")[0] for r in refs}:
                        if stmt.level:
                            raise self.error(stmt, "relative imports cannot be used for node "
                                                   "functions of a script")
                        full = wanted[local]
                        rest = full[len(local):]
                        refs[full] = FuncRef(name=full, module=stmt.module,
                                             qualname=alias.name + rest)
                    else:
                        keep.append(alias)
                if len(keep) < len(stmt.names):
                    used.add(i)
                    if keep:
                        extra_imports[i] = _import_text(stmt.module, keep, stmt.level)
            elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name in wanted:
                used.add(i)
                refs[wanted[stmt.name]] = self.def_ref(stmt, i, stmts)
            elif isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 \
                    and isinstance(stmt.targets[0], ast.Name) and stmt.targets[0].id in wanted \
                    and wanted[stmt.targets[0].id] not in refs:
                name = stmt.targets[0].id
                used.add(i)
                idx = [i]
                factory = callee(stmt.value) if isinstance(stmt.value, ast.Call) else None
                if factory in defs and not self.referenced_elsewhere(factory, stmts, i,
                                                                     defs[factory]):
                    idx.append(defs[factory])
                    used.add(defs[factory])
                refs[name] = FuncRef(name=name, source=self.text_of(idx, stmts),
                                     imports=self.inner_imports(stmts[idx[-1]], name))
        for full, node in self.uses.items():
            if full in refs:
                continue
            top = full.split(".")[0]
            if hasattr(builtins, top):  # len, or str.upper
                refs[full] = FuncRef(name=full, module="builtins", qualname=full)
                continue
            raise self.error(node, f"unknown name {full!r}: a node function must be imported "
                                   "('from module import name') or defined in the script")
        return refs

    def referenced_elsewhere(self, name: str, stmts, *skip: int) -> bool:
        for j, s in enumerate(stmts):
            if j in skip:
                continue
            if any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(s)):
                return True
        return False

    def inner_imports(self, stmt, name: str) -> list[str]:
        for node in ast.walk(stmt):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
                for dec in node.decorator_list:
                    found = self.imports_of(dec)
                    if found is not None:
                        return found
        return []

    def imports_of(self, dec: ast.expr) -> list[str] | None:
        if isinstance(dec, ast.Call) and dotted(dec.func) in ("imports", "papy_engine.imports"):
            if len(dec.args) != 1 or dec.keywords:
                raise self.error(dec, "@imports takes one list of module names")
            value = self.literal(dec.args[0], "@imports(...)")
            return [value] if isinstance(value, str) else list(value)
        return None

    def def_ref(self, stmt, i: int, stmts) -> FuncRef:
        start, end = self.block(i, stmts)
        lines = self.lines[start:end]
        imports: list[str] = []
        drop: set[int] = set()
        for dec in stmt.decorator_list:
            found = self.imports_of(dec)
            if found is not None:
                imports = found
                drop.update(range(dec.lineno - 1 - start, dec.end_lineno - start))
        text = "".join(ln for k, ln in enumerate(lines) if k not in drop).rstrip() + "\n"
        return FuncRef(name=stmt.name, source=text, imports=imports)


def _import_text(module: str | None, aliases, level: int = 0) -> str:
    names = ", ".join(a.name + (f" as {a.asname}" if a.asname else "") for a in aliases)
    return f"from {'.' * level}{module or ''} import {names}\n"


def parse(text: str, filename: str = "<script>") -> PipelineDescription:
    """Parse script ``text`` (``filename`` is used in messages)."""
    return _Parser(text, filename).parse()
