"""The static reader: a pipeline script -> :class:`~papy_engine.script.PipelineDescription`.

Only :mod:`ast` is used; nothing in the file is executed or imported, so the
editor can open any file safely.  Top-level statements are sorted into:

* the generated parts (shebang, docstring, ``from papy_engine import ...``,
  the ``__main__`` block), which :func:`~papy_engine.script.render` rewrites;
* ``def pipeline()``, parsed into resources, nodes and edges;
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

from .errors import ScriptError
from .script import (HEADER_NAMES, IMAP_DEFAULTS, NODE_DEFAULTS, FuncRef,
                     NodeDesc, PipelineDescription, ResourceDesc)

__all__ = ["read", "parse", "inputs_source"]

_PIPER_POSITIONAL = ("worker", "parallel", "consume", "produce", "spawn", "timeout", "ordered",
                     "branch", "debug", "name", "track", "repeat")
_WORKER_POSITIONAL = ("functions", "args", "kwargs", "name")


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
    """Parse the script at ``path`` (see :func:`papy_engine.script.read`)."""
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
            return [_seg(text, e) for e in stmt.value.elts]
    return None


def _seg(text: str, node: ast.AST) -> str:
    return ast.get_source_segment(text, node) or ast.unparse(node)


def _assigns(stmt: ast.stmt, name: str) -> TypeGuard[ast.Assign]:
    return (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], ast.Name) and stmt.targets[0].id == name)


def _callee(node: ast.AST) -> str | None:
    """``IMap`` for ``IMap(...)`` and ``papy_engine.IMap(...)``."""
    if isinstance(node, ast.Call):
        f = node.func
        if isinstance(f, ast.Name):
            return f.id
        if isinstance(f, ast.Attribute):
            return f.attr
    return None


def _dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


class _Parser:
    def __init__(self, text: str, filename: str) -> None:
        self.text, self.filename = text, filename
        self.lines = text.splitlines(True)

    def error(self, node: ast.AST | int | None, message: str) -> ScriptError:
        line = node if isinstance(node, int) else getattr(node, "lineno", None)
        where = f"{self.filename}:{line}" if line else self.filename
        return ScriptError(f"{where}: {message}")

    def literal(self, node: ast.expr, what: str):
        try:
            return ast.literal_eval(node)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            raise self.error(node, f"{what} must be a literal (got {_seg(self.text, node)!r})") \
                from None

    # -- pipeline() -------------------------------------------------------------------
    def pipeline(self, fn: ast.FunctionDef):
        res_vars: dict[str, str] = {}
        node_vars: dict[str, dict] = {}
        worker_vars: dict[str, tuple] = {}
        plumber_var = None
        resources: list[ResourceDesc] = []
        added: list[str] = []
        edges: list[tuple[str, str]] = []
        self.uses: dict[str, ast.AST] = {}  # function reference text -> first use
        body = fn.body
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            body = body[1:]
        for stmt in body:
            call = stmt.value if isinstance(stmt, (ast.Assign, ast.Expr)) \
                and isinstance(stmt.value, ast.Call) else None
            kind = _callee(call) if call is not None else None
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and call is not None \
                    and isinstance(stmt.targets[0], ast.Name) and kind in (
                        "IMap", "Piper", "Worker", "Plumber"):
                var = stmt.targets[0].id
                if kind == "IMap":
                    res = self.imap(call, var)
                    if any(r.name == res.name for r in resources):
                        raise self.error(stmt, f"two IMaps are named {res.name!r}")
                    resources.append(res)
                    res_vars[var] = res.name
                elif kind == "Worker":
                    worker_vars[var] = self.worker(call, worker_vars)
                elif kind == "Piper":
                    node = self.piper(call, res_vars, worker_vars)
                    if any(n["name"] == node["name"] for n in node_vars.values()):
                        raise self.error(stmt, f"two pipers are named {node['name']!r}")
                    node_vars[var] = node
                else:
                    if call.args or call.keywords:
                        raise self.error(stmt, "write Plumber() without arguments, then "
                                               "add_pipers/add_pipe")
                    plumber_var = var
                continue
            if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) \
                    and isinstance(stmt.value.func, ast.Attribute) \
                    and isinstance(stmt.value.func.value, ast.Name) \
                    and stmt.value.func.value.id == plumber_var and plumber_var is not None:
                self.plumber_call(stmt.value, node_vars, added, edges,
                                  lambda call: self.piper(call, res_vars, worker_vars))
                continue
            if isinstance(stmt, ast.Return) and isinstance(stmt.value, ast.Name) \
                    and stmt.value.id == plumber_var and plumber_var is not None:
                break
            raise self.error(stmt, "unsupported statement in pipeline(); it may only create "
                                   "IMaps, Workers, Pipers and a Plumber, add pipers and pipes, "
                                   "and return the Plumber")
        else:
            raise self.error(fn, "pipeline() must end with 'return <plumber>'")
        by_name = {n["name"]: n for n in node_vars.values()}
        nodes = [by_name[name] for name in added]
        return nodes, resources, edges

    def imap(self, call: ast.Call, var: str) -> ResourceDesc:
        if call.args:
            raise self.error(call, "IMap in pipeline() takes keyword arguments only")
        options, name = {}, var
        for kw in call.keywords:
            if kw.arg is None:
                raise self.error(call, "IMap(**...) is not supported; write the keywords out")
            value = self.literal(kw.value, f"IMap {kw.arg}=")
            if kw.arg == "name":
                name = value
            elif kw.arg in ("func", "iterable"):
                raise self.error(kw.value, f"IMap {kw.arg}= is not used in a pipeline (pipers "
                                           "add their own tasks)")
            else:
                options[kw.arg] = value
        order = list(IMAP_DEFAULTS)
        options = dict(sorted(options.items(),
                              key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order)))
        return ResourceDesc(name=name, options=options)

    def ref(self, node: ast.expr) -> str:
        name = _dotted(node)
        if name is None:
            raise self.error(node, "a node function must be a name (or module.name) defined or "
                                   f"imported in the script (got {_seg(self.text, node)!r})")
        self.uses.setdefault(name, node)
        return name

    def args_tuple(self, node: ast.expr | None, what: str) -> list[str]:
        if node is None or (isinstance(node, ast.Constant) and node.value is None):
            return []
        if not isinstance(node, (ast.Tuple, ast.List)) or any(
                isinstance(e, ast.Starred) for e in node.elts):
            raise self.error(node, f"{what} must be a tuple literal (got "
                                   f"{_seg(self.text, node)!r})")
        return [_seg(self.text, e) for e in node.elts]

    def kwargs_dict(self, node: ast.expr | None, what: str) -> dict[str, str]:
        if node is None or (isinstance(node, ast.Constant) and node.value is None):
            return {}
        if isinstance(node, ast.Dict):
            keys = [k.value for k in node.keys
                    if isinstance(k, ast.Constant) and isinstance(k.value, str)]
            if len(keys) == len(node.keys):  # no other keys, no **mapping (a None key)
                return {k: _seg(self.text, v) for k, v in zip(keys, node.values)}
        if isinstance(node, ast.Call) and _callee(node) == "dict" and not node.args:
            names = [k.arg for k in node.keywords if k.arg]
            if len(names) == len(node.keywords):  # no **mapping (arg None)
                return {k: _seg(self.text, kw.value) for k, kw in zip(names, node.keywords)}
        raise self.error(node, f"{what} must be a dict literal with str keys (got "
                               f"{_seg(self.text, node)!r})")

    def worker(self, call: ast.Call, worker_vars) -> tuple:
        given = self.bind(call, _WORKER_POSITIONAL, "Worker")
        funcs = given.get("functions")
        if funcs is None:
            raise self.error(call, "Worker needs its functions")
        if isinstance(funcs, (ast.Tuple, ast.List)):
            refs = [self.ref(e) for e in funcs.elts]
            n = len(refs)
            args = self.per_function(given.get("args"), n, self.args_tuple, "Worker args")
            kwargs = self.per_function(given.get("kwargs"), n, self.kwargs_dict, "Worker kwargs")
        else:
            refs = [self.ref(funcs)]
            args = [self.args_tuple(given.get("args"), "Worker args")]
            kwargs = [self.kwargs_dict(given.get("kwargs"), "Worker kwargs")]
        wname = self.literal(given["name"], "Worker name=") if "name" in given else None
        return refs, args, kwargs, wname

    def per_function(self, node, n, parse, what):
        if node is None or (isinstance(node, ast.Constant) and node.value is None):
            return [parse(None, what) for _ in range(n)]
        if not isinstance(node, (ast.Tuple, ast.List)) or len(node.elts) != n:
            raise self.error(node, f"{what} must be a tuple with one entry per function "
                                   f"(expected {n})")
        return [parse(e, what) for e in node.elts]

    def bind(self, call: ast.Call, positional, what) -> dict[str, ast.expr]:
        given: dict[str, ast.expr] = {}
        if len(call.args) > len(positional):
            raise self.error(call, f"too many positional arguments to {what}")
        for name, node in zip(positional, call.args):
            if isinstance(node, ast.Starred):
                raise self.error(node, f"{what}(*...) is not supported")
            given[name] = node
        for kw in call.keywords:
            if kw.arg is None:
                raise self.error(call, f"{what}(**...) is not supported; write the keywords out")
            if kw.arg not in positional:
                raise self.error(kw.value, f"{what} has no argument {kw.arg!r}")
            given[kw.arg] = kw.value
        return given

    def piper(self, call: ast.Call, res_vars, worker_vars) -> dict:
        given = self.bind(call, _PIPER_POSITIONAL, "Piper")
        w = given.pop("worker", None)
        if w is None:
            raise self.error(call, "Piper needs a worker")
        if isinstance(w, ast.Call) and _callee(w) == "Worker":
            refs, args, kwargs, wname = self.worker(w, worker_vars)
        elif isinstance(w, ast.Name) and w.id in worker_vars:
            refs, args, kwargs, wname = worker_vars[w.id]
        elif isinstance(w, (ast.Tuple, ast.List)):
            refs = [self.ref(e) for e in w.elts]
            args, kwargs, wname = [[] for _ in refs], [{} for _ in refs], None
        else:
            refs, args, kwargs, wname = [self.ref(w)], [[]], [{}], None
        options = dict(NODE_DEFAULTS)
        options["worker_name"] = wname
        name = wname or "_".join(r.rsplit(".", 1)[-1] for r in refs)
        for key, node in given.items():
            if key == "parallel":
                if isinstance(node, ast.Name) and node.id in res_vars:
                    options["parallel"] = res_vars[node.id]
                elif isinstance(node, ast.Constant) and node.value in (False, None):
                    options["parallel"] = None
                else:
                    raise self.error(node, "parallel= must name an IMap created in pipeline() "
                                           f"(got {_seg(self.text, node)!r})")
            elif key == "name":
                name = self.literal(node, "Piper name=")
            else:
                options[key] = self.literal(node, f"Piper {key}=")
        return {"name": name, "refs": refs, "args": args, "kwargs": kwargs, "options": options,
                "line": call.lineno}

    def plumber_call(self, call: ast.Call, node_vars, added, edges, inline) -> None:
        assert isinstance(call.func, ast.Attribute)  # pipeline() checked: <plumber>.<method>(...)
        method = call.func.attr

        def piper_var(node):
            if _callee(node) == "Piper":  # a Piper(...) written inline
                key = f"<inline {node.lineno}:{node.col_offset}>"
                if key not in node_vars:
                    node_vars[key] = inline(node)
                node = ast.Name(id=key, lineno=node.lineno)
            if not isinstance(node, ast.Name) or node.id not in node_vars:
                raise self.error(node, f"{_seg(self.text, node)!r} is not a Piper created in "
                                       "pipeline()")
            name = node_vars[node.id]["name"]
            if name not in added:
                added.append(name)
            return name

        def seq(node):
            if not isinstance(node, (ast.Tuple, ast.List)):
                raise self.error(node, f"{method}() needs a tuple or list literal here")
            return node.elts
        if len(call.args) != 1 or call.keywords:
            raise self.error(call, f"plumber.{method}() takes one argument here")
        arg = call.args[0]
        if method == "add_piper":
            piper_var(arg)
        elif method == "add_pipers":
            for e in seq(arg):
                piper_var(e)
        elif method in ("add_pipe", "add_pipes"):
            chains = [seq(arg)] if method == "add_pipe" else [seq(c) for c in seq(arg)]
            for chain in chains:
                names = [piper_var(e) for e in chain]
                for edge in zip(names, names[1:]):
                    if edge not in edges:
                        edges.append(edge)
        else:
            raise self.error(call, f"unsupported call plumber.{method}() in pipeline()")

    # -- the module ---------------------------------------------------------------
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
                    inputs = [_seg(self.text, e) for e in stmt.value.elts]
            elif _assigns(stmt, "LAYOUT"):
                used.add(i)
                layout = self.literal(stmt.value, "LAYOUT")
                if not isinstance(layout, dict):
                    raise self.error(stmt, "LAYOUT must be a dict literal")
            elif isinstance(stmt, ast.If) and isinstance(stmt.test, ast.Compare) \
                    and _dotted(stmt.test.left) == "__name__":
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
                factory = _callee(stmt.value) if isinstance(stmt.value, ast.Call) else None
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
        if isinstance(dec, ast.Call) and _dotted(dec.func) in ("imports", "papy_engine.imports"):
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
