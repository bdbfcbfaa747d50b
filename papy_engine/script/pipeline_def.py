"""Parsing ``def pipeline()`` of a script into resources, nodes and edges (static, :mod:`ast`).

:class:`PipelineParser` accepts what :func:`~.writer.render_pipeline` writes
and the hand-written variants of it: IMaps, Workers and Pipers bound to
names or written inline, one Plumber, ``add_piper(s)``/``add_pipe(s)`` calls,
and ``return <plumber>``.  It records each function reference it meets in
``uses``; :mod:`.reader` then finds where the module defines or imports it.
"""
from __future__ import annotations

import ast

from ..errors import ScriptError
from .model import IMAP_DEFAULTS, NODE_DEFAULTS, ResourceDesc

__all__ = ["PipelineParser", "Source", "segment", "callee", "dotted"]

_PIPER_POSITIONAL = ("worker", "parallel", "consume", "produce", "spawn", "timeout", "ordered",
                     "branch", "debug", "name", "track", "repeat")
_WORKER_POSITIONAL = ("functions", "args", "kwargs", "name")


def segment(text: str, node: ast.AST) -> str:
    return ast.get_source_segment(text, node) or ast.unparse(node)



def callee(node: ast.AST) -> str | None:
    """``IMap`` for ``IMap(...)`` and ``papy_engine.IMap(...)``."""
    if isinstance(node, ast.Call):
        f = node.func
        if isinstance(f, ast.Name):
            return f.id
        if isinstance(f, ast.Attribute):
            return f.attr
    return None


def dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


class Source:
    """A script's text and name, for messages that point at a line."""

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
            raise self.error(node, f"{what} must be a literal (got {segment(self.text, node)!r})") \
                from None


class PipelineParser(Source):
    """Parses one ``def pipeline()``; see the module docstring."""

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
            kind = callee(call) if call is not None else None
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
        name = dotted(node)
        if name is None:
            raise self.error(node, "a node function must be a name (or module.name) defined or "
                                   f"imported in the script (got {segment(self.text, node)!r})")
        self.uses.setdefault(name, node)
        return name

    def args_tuple(self, node: ast.expr | None, what: str) -> list[str]:
        if node is None or (isinstance(node, ast.Constant) and node.value is None):
            return []
        if not isinstance(node, (ast.Tuple, ast.List)) or any(
                isinstance(e, ast.Starred) for e in node.elts):
            raise self.error(node, f"{what} must be a tuple literal (got "
                                   f"{segment(self.text, node)!r})")
        return [segment(self.text, e) for e in node.elts]

    def kwargs_dict(self, node: ast.expr | None, what: str) -> dict[str, str]:
        if node is None or (isinstance(node, ast.Constant) and node.value is None):
            return {}
        if isinstance(node, ast.Dict):
            keys = [k.value for k in node.keys
                    if isinstance(k, ast.Constant) and isinstance(k.value, str)]
            if len(keys) == len(node.keys):  # no other keys, no **mapping (a None key)
                return {k: segment(self.text, v) for k, v in zip(keys, node.values)}
        if isinstance(node, ast.Call) and callee(node) == "dict" and not node.args:
            names = [k.arg for k in node.keywords if k.arg]
            if len(names) == len(node.keywords):  # no **mapping (arg None)
                return {k: segment(self.text, kw.value) for k, kw in zip(names, node.keywords)}
        raise self.error(node, f"{what} must be a dict literal with str keys (got "
                               f"{segment(self.text, node)!r})")

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
        if isinstance(w, ast.Call) and callee(w) == "Worker":
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
                                           f"(got {segment(self.text, node)!r})")
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
            if callee(node) == "Piper":  # a Piper(...) written inline
                key = f"<inline {node.lineno}:{node.col_offset}>"
                if key not in node_vars:
                    node_vars[key] = inline(node)
                node = ast.Name(id=key, lineno=node.lineno)
            if not isinstance(node, ast.Name) or node.id not in node_vars:
                raise self.error(node, f"{segment(self.text, node)!r} is not a Piper created in "
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
