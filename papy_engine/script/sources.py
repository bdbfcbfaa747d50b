"""How live functions and values become script source: the context of one description.

This is the half of the writer that looks at live objects (:mod:`.describe`
walks the Plumber and asks a :class:`Context` for each function and argument):

* a function from an importable module becomes an import (aliased when its
  name is taken or shadows a builtin) -- importable from any directory: a
  module that only this process finds through its ``sys.path`` (next to the
  user's script, a test module) is *local* (:mod:`.portable`)
  and its functions and classes are written out as source instead;
* any other function is written out as source (``inspect``), lambdas as a
  ``def`` (:mod:`.lambdas`), closures over constants as a small factory that
  rebinds them, and decorated functions with their decorators (``@imports``
  kept separately);
* the globals such a function needs (modules, importable objects, literal
  constants, helper functions) are added to the preamble, unless the preamble
  of a loaded script already binds them;
* Worker arguments become expression source text (``repr`` of literals, the
  name of an importable object, or of a function written out as source).

:func:`preamble_for` applies the same global-name analysis to code typed in
an editor: the preamble that binds names as a live namespace (a console) does.
"""
from __future__ import annotations

import ast
import builtins
import importlib
import inspect
import logging
import re
import textwrap
from typing import Any

from ..errors import ScriptError
from ..worker import func_name
from .lambdas import lambda_node
from .model import SCRIPT_NAMES, FuncRef
from .names import ast_names, code_globals, from_imports, top_level_names
from .portable import location, portable
from .writer import identifier, pretty

__all__ = ["Context", "is_literal", "importable", "preamble_for"]

log = logging.getLogger(__name__)


def is_literal(value: Any) -> bool:
    """True when ``repr(value)`` reads back (``ast.literal_eval``) as an equal value."""
    try:
        back = ast.literal_eval(repr(value))
    except Exception:
        return False
    return type(back) is type(value) and back == value


def importable(obj: Any) -> tuple[str, str] | None:
    """``(module, qualname)`` when importing ``module`` and following ``qualname``
    gives ``obj``, and ``module`` imports from any directory (it is not local)."""
    module = getattr(obj, "__module__", None)
    if module is None and hasattr(obj, "__objclass__"):  # e.g. str.upper
        module = getattr(obj.__objclass__, "__module__", None)
    qual = getattr(obj, "__qualname__", None)
    if not isinstance(module, str) or not isinstance(qual, str) or module == "__main__" \
            or "<" in qual:
        return None
    try:
        target: Any = importlib.import_module(module)
        for part in qual.split("."):
            target = getattr(target, part)
    except Exception:
        return None
    return (module, qual) if target is obj and portable(module) else None


def _is_imports_wrapper(func: Any) -> bool:
    return hasattr(func, "papy_imports") and hasattr(func, "func") and hasattr(func, "modules")


def _is_imports_decorator(dec: ast.expr) -> bool:
    target = dec.func if isinstance(dec, ast.Call) else dec
    return (isinstance(target, ast.Name) and target.id == "imports") or \
        (isinstance(target, ast.Attribute) and target.attr == "imports")


def preamble_for(names, namespace: dict, preamble: str = "") -> str:
    """Top-level code that binds each of ``names`` as ``namespace`` does.

    The analysis :func:`describe` applies to the globals of ``__main__``
    functions, for names taken from a live namespace (an editor's console):
    a module or an importable object becomes an import, a literal a constant,
    a function or class without a portable module its source, which brings
    what *it* uses too.  Names ``preamble`` binds already, and names missing
    from ``namespace``, are skipped.

    Raises:
        ScriptError: a value that cannot be written (an open file, a lock...),
            naming the variable.
    """
    ctx = Context(preamble)
    for n in sorted(names):
        if n in ctx.preamble_names or n in SCRIPT_NAMES or n not in namespace:
            continue
        ctx.bind_global(n, namespace[n], f"the console's {n!r}")
    return ctx.extra_preamble()


class Context:
    """Names and extra code collected while describing one plumber."""

    def __init__(self, preamble: str) -> None:
        self.preamble = preamble
        self.preamble_names = top_level_names(preamble)
        self.preamble_imports = from_imports(preamble)
        self.bound: dict[str, Any] = {}      # script name -> object it binds
        self.refs: dict[int, FuncRef] = {}   # id(function) -> its FuncRef
        self.keep: list[Any] = []            # keep ids valid
        self.import_lines: list[str] = []
        self.const_lines: list[str] = []
        self.helper_blocks: list[str] = []
        self.node_funcs: set[int] = set()

    def taken(self, name: str, obj: Any) -> bool:
        if name in self.bound:
            return self.bound[name] is not obj
        return name in SCRIPT_NAMES or name in self.preamble_names

    def claim(self, name: str, obj: Any) -> str:
        base, n = name, 2
        while self.taken(name, obj):
            name, n = f"{base}_{n}", n + 1
        self.bound[name] = obj
        return name

    # -- node functions -----------------------------------------------------------
    def ref(self, func: Any, piper: str) -> FuncRef:
        key = id(func)
        if key in self.refs:
            return self.refs[key]
        self.keep.append(func)
        imports: list[str] = []
        inner = func
        if _is_imports_wrapper(func):
            imports, inner = list(func.modules), func.func
        where = importable(func)
        if where is not None:
            ref = self._imported_ref(func, *where)
            ref.imports = imports
        else:
            ref = self._source_ref(func, inner, imports, piper)
        self.refs[key] = ref
        return ref

    def _imported_ref(self, obj: Any, module: str, qual: str) -> FuncRef:
        first, _, rest = qual.partition(".")
        top = importlib.import_module(module)
        top_obj = getattr(top, first)
        if module == "builtins" and not self.taken(first, top_obj):
            self.bound[first] = top_obj
            return FuncRef(name=qual, module=module, qualname=qual)
        name = first
        if self.taken(name, top_obj) or (hasattr(builtins, name) and module != "builtins"):
            name = self.claim(f"{module.rsplit('.', 1)[-1]}_{first}".lstrip("_"), top_obj)
        else:
            self.bound[name] = top_obj
        return FuncRef(name=name + (f".{rest}" if rest else ""), module=module, qualname=qual)

    def _source_ref(self, func: Any, inner: Any, imports: list[str], piper: str) -> FuncRef:
        label = f"function {func_name(func)!r} of piper {piper!r}"
        if not inspect.isfunction(inspect.unwrap(inner)):
            raise ScriptError(f"cannot save {label}: a {type(inner).__name__} is neither an "
                              "importable function nor a Python function with source "
                              "(use a def, or Worker args instead of functools.partial)")
        raw = func_name(inner)
        want = identifier(piper, set(), "") if raw == "<lambda>" else raw
        name = self.claim(want, func)
        source = self._function_source(inner, name, label, keep_imports=False)
        return FuncRef(name=name, source=source, imports=imports)

    def _function_source(self, func: Any, name: str, label: str, keep_imports: bool) -> str:
        """Source text binding ``name`` to ``func`` (a def or a closure factory)."""
        target = inspect.unwrap(func)
        # A closure's factory keeps the @imports decorator on the inner def.
        keep_imports = keep_imports or bool(target.__closure__)
        try:
            if func_name(target) == "<lambda>":
                text, dec_names = self._lambda_def(target, name)
            else:
                text, dec_names = self._def_text(func, name, label, keep_imports)
        except (OSError, TypeError) as exc:
            raise ScriptError(f"cannot save {label}: its source code is not available "
                              f"({exc}); define it in a file or import it from a module") from None
        self._need_globals(target, dec_names, label, getattr(func, "papy_imports", ()))
        if target.__closure__:
            return self._closure_factory(target, name, text, label)
        return text

    def _def_text(self, func, name: str, label: str,
                  keep_imports: bool) -> tuple[str, set[str]]:
        """The def's source renamed to ``name``, and the names its decorators use."""
        lines, _ = inspect.getsourcelines(func)
        text = textwrap.dedent("".join(lines))
        tree = ast.parse(text)
        node = tree.body[0] if tree.body else None
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) \
                or node.name != func_name(inspect.unwrap(func)):
            raise ScriptError(f"cannot save {label}: its source is not a plain def (a decorator "
                              "without functools.wraps?)")
        src_lines = text.splitlines(True)
        drop: set[int] = set()
        dec_names: set[str] = set()
        for dec in node.decorator_list:
            if _is_imports_decorator(dec):
                if not keep_imports:  # "@" is on the first line of the decorator expression
                    # end_lineno is None only for hand-built nodes, never parsed ones.
                    drop.update(range(dec.lineno - 1, dec.end_lineno or dec.lineno))
            else:
                dec_names |= ast_names([dec])
        dec_names |= ast_names(node.args.defaults + node.args.kw_defaults)
        def_line = node.lineno - 1
        if name != node.name:
            src_lines[def_line] = re.sub(rf"\bdef\s+{re.escape(node.name)}\b", f"def {name}",
                                         src_lines[def_line], count=1)
        kept = [ln for i, ln in enumerate(src_lines) if i not in drop]
        return "".join(kept).rstrip() + "\n", dec_names

    def _lambda_def(self, func, name: str) -> tuple[str, set[str]]:
        """A def equivalent to the lambda ``func``, and the names its defaults use."""
        node, expr = lambda_node(func)
        body = ast.get_source_segment(expr, node.body) or ast.unparse(node.body)
        if "\n" in body:
            body = ast.unparse(node.body)
        names = ast_names(node.args.defaults + node.args.kw_defaults)
        return f"def {name}({ast.unparse(node.args)}):\n    return {body}\n", names

    def _closure_factory(self, func, name: str, text: str, label: str) -> str:
        body: list[str] = []
        for var, cell in zip(func.__code__.co_freevars, func.__closure__):
            try:
                value = cell.cell_contents
            except ValueError:
                raise ScriptError(f"cannot save {label}: closure variable {var!r} is "
                                  "unbound") from None
            body.append(self._binding(var, value, f"{label} (closure variable {var!r})"))
        inner = textwrap.indent(text, "    ")
        return (f"def _make_{name}():\n" + "".join(f"    {b}\n" for b in body) + "\n"
                + inner + f"    return {name}\n\n\n{name} = _make_{name}()\n")

    def _binding(self, var: str, value: Any, label: str) -> str:
        """One statement binding ``var`` to ``value`` (an import or a literal)."""
        if inspect.ismodule(value):
            mod = value.__name__
            if not portable(mod):
                raise ScriptError(
                    f"cannot save {label}: module {mod!r} is importable only through this "
                    f"process's sys.path (it lives in {location(mod)}), so the script would "
                    f"fail elsewhere; import the functions it needs (from {mod} import ...), "
                    "which are then written out as source, or install the module")
            return f"import {mod}" if mod == var else f"import {mod} as {var}"
        where = importable(value) if callable(value) else None
        if where is not None and "." not in where[1]:
            spec = where[1] if where[1] == var else f"{where[1]} as {var}"
            return f"from {where[0]} import {spec}"
        if is_literal(value):
            return f"{var} = {pretty(value, len(var) + 3, 0)}"
        raise ScriptError(f"cannot save {label}: {value!r} (a {type(value).__name__}) is "
                          "not a literal, a module or an importable object")

    def _need_globals(self, func, extra: set[str], label: str, provided) -> None:
        names = code_globals(func.__code__) | extra
        provided = {(s.split(" as ")[1] if " as " in s else s.split(".")[0]).strip()
                    for s in provided}
        g = func.__globals__
        for n in sorted(names):
            if n in provided or n in self.preamble_names or n in SCRIPT_NAMES:
                continue
            if n in g and id(g[n]) in self.node_funcs:
                continue  # a node function: written (and named) by ref()
            if n not in g:
                if not hasattr(builtins, n):
                    log.warning("%s uses the global %r, which is not defined", label, n)
                continue
            self.bind_global(n, g[n], label)

    def bind_global(self, n: str, value: Any, label: str) -> None:
        """Add what binds global ``n`` to ``value`` (an import, a constant, a helper's
        source) to the extra preamble, once; ScriptError if it cannot be written."""
        if n in self.bound:
            if self.bound[n] is value:
                return
            raise ScriptError(f"cannot save {label}: it uses the global {n!r}, but that name "
                              "is already used in the script for something else")
        self.bound[n] = value
        if inspect.isfunction(inspect.unwrap(value)) and importable(value) is None:
            self.helper_blocks.append(self._function_source(
                value, n, f"helper {n!r} of {label}", keep_imports=True))
        elif inspect.isclass(value) and importable(value) is None:
            try:
                self.helper_blocks.append(textwrap.dedent(inspect.getsource(value)))
            except (OSError, TypeError):
                raise ScriptError(f"cannot save {label}: the source of class {n!r} is not "
                                  "available") from None
        else:
            line = self._binding(n, value, f"{label} (global {n!r})")
            (self.const_lines if "=" in line and not line.startswith(("import", "from"))
             else self.import_lines).append(line)

    def extra_preamble(self) -> str:
        parts = []
        if self.import_lines:
            parts.append("\n".join(sorted(set(self.import_lines))) + "\n")
        if self.const_lines:
            parts.append("\n".join(self.const_lines) + "\n")
        parts += self.helper_blocks
        return "\n\n".join(parts)

    # -- arguments ----------------------------------------------------------------
    def expr(self, value: Any, label: str, piper: str = "") -> str:
        if is_literal(value):
            return repr(value)
        where = importable(value) if not inspect.ismodule(value) else None
        if where is not None:
            module, qual = where
            first, _, rest = qual.partition(".")
            top_obj = getattr(importlib.import_module(module), first)
            known = self.preamble_imports.get((module, first))
            if known is not None:  # the preamble of a loaded script imports it already
                self.bound.setdefault(known, top_obj)
                return known + (f".{rest}" if rest else "")
            if self.bound.get(first) is top_obj:
                name = first
                if not any(r.module == module and r.name.split(".")[0] == first
                           for r in self.refs.values()):
                    self.import_lines.append(_import_line(module, first, name))
            else:
                name = self.claim(first, top_obj)
                if module != "builtins" or name != first:
                    self.import_lines.append(_import_line(module, first, name))
            return name + (f".{rest}" if rest else "")
        if inspect.isfunction(inspect.unwrap(value)) and func_name(value) != "<lambda>":
            # a function without a portable module: written out as source, once
            if id(value) in self.node_funcs:
                return self.ref(value, piper).name
            known = next((n for n, obj in self.bound.items() if obj is value), None)
            if known is not None:
                return known
            name = self.claim(func_name(value), value)
            self.helper_blocks.append(self._function_source(value, name, label, True))
            return name
        raise ScriptError(f"cannot save {label}: {value!r} (a {type(value).__name__}) cannot "
                          "be written as Python source; use literals or importable objects")


def _import_line(module: str, first: str, name: str) -> str:
    return f"from {module} import {first}" + (f" as {name}" if name != first else "")
