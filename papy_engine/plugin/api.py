"""Node plugins: the ``@node`` decorator and the metadata it attaches.

A *plugin* is a Python module whose module-level functions are marked with
:func:`node`.  The decorator validates the metadata right away, stores a
frozen :class:`NodeSpec` on the function as ``func.papy_node`` and returns
**the function itself**, so plugin nodes stay plain functions: they pickle by
reference and a saved pipeline imports them (``from papy_plugins.text import
grep``) instead of copying their source.

Example::

    from papy_engine.plugin import node

    @node(category="text", icon="text")
    def shout(inbox, suffix: str = "!"):
        '''Upper-case the text and add a suffix.

        Args:
            suffix: appended to the result.
        '''
        return inbox[0].upper() + suffix

Finding plugins (the bundled ``papy_plugins`` package, the ``papy.plugins``
entry-point group and the folders of ``PAPY_PLUGIN_PATH``) lives in
:mod:`papy_engine.plugin.discovery`; the package :mod:`papy_engine.plugin`
exports the public names of both.
"""
from __future__ import annotations

import dataclasses
import importlib
import inspect
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import PapyError

__all__ = [
    "node", "NodeSpec", "Param", "PluginError", "REQUIRED", "CATEGORY_ICONS",
    "spec_of", "resolve", "build_spec",
]

#: Categories with an icon in ``assets/`` (``node-<icon>-16.png`` and ``-32``).
#: Other categories are allowed and get the generic ``plugin`` icon.
CATEGORY_ICONS = ("files", "text", "records", "shell", "numbers", "sequences",
                  "flow", "parallel", "plugin")

_ICON_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_ARGS_HEADERS = ("args:", "arguments:", "parameters:")


class PluginError(PapyError):
    """A plugin or a node declaration is invalid (the message names it)."""


class _Required:
    """The default of a parameter that has none (it must be given)."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "REQUIRED"

    def __reduce__(self):
        return "REQUIRED"


REQUIRED = _Required()


@dataclass(frozen=True)
class Param:
    """One parameter of a node function (after the inbox).

    Attributes:
        name: the keyword to pass it by.
        default: its default value, or :data:`REQUIRED`.
        type: a type name for editors (``"int"``, ``"str"``, ``"float | None"``,
            ``"any"``): the annotation's text, else the default's type.
        doc: one-line help, from the docstring's ``Args:`` section or ``params=``.
    """

    name: str
    default: Any = REQUIRED
    type: str = "any"
    doc: str = ""

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


@dataclass(frozen=True)
class NodeSpec:
    """What the palette, the property panel and the script writer know of a node.

    Attributes:
        name: the display name (defaults to the function's name).
        import_path: ``module.function``, e.g. ``"papy_plugins.text.grep"``.
        category: palette group (see :data:`CATEGORY_ICONS`).
        description: the docstring, dedented.
        params: the function's parameters after the inbox.
        inputs: how many input pipes the node expects (the minimum if variadic).
        variadic: the node accepts any number of inputs >= ``inputs``.
        produce, consume, spawn: suggested Piper options (hints, not enforced).
        parallel: a hint that the node is worth running on a pool.
        icon: the icon name in ``assets/`` (``node-<icon>-<size>.png``).
        plugin: the plugin (module or entry point) the node was found in;
            None until discovery sets it.
    """

    name: str
    import_path: str
    category: str
    description: str
    params: tuple[Param, ...] = ()
    inputs: int = 1
    variadic: bool = False
    produce: int = 1
    consume: int = 1
    spawn: int = 1
    parallel: bool = False
    icon: str = "plugin"
    plugin: str | None = field(default=None, compare=False)

    @property
    def module(self) -> str:
        return self.import_path.rpartition(".")[0]

    @property
    def attr(self) -> str:
        return self.import_path.rpartition(".")[2]

    @property
    def summary(self) -> str:
        """The first line of the description."""
        return self.description.strip().splitlines()[0] if self.description.strip() else ""

    def load(self) -> Callable:
        """Import and return the node function (raises PluginError)."""
        return resolve(self.import_path)

    def piper_options(self) -> dict[str, int]:
        """The hints as keyword arguments for :class:`~papy_engine.piper.Piper`."""
        return {"produce": self.produce, "consume": self.consume, "spawn": self.spawn}

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (defaults that JSON cannot hold become their repr)."""
        data = dataclasses.asdict(self)
        data["params"] = [
            {"name": p.name, "required": p.required, "type": p.type, "doc": p.doc,
             "default": None if p.required else _jsonable(p.default)}
            for p in self.params]
        data["summary"] = self.summary
        return data


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: _jsonable(v) for k, v in value.items()}
    return repr(value)


def spec_of(func: Any) -> NodeSpec | None:
    """The :class:`NodeSpec` attached to ``func`` by :func:`node`, or None."""
    spec = getattr(func, "papy_node", None)
    return spec if isinstance(spec, NodeSpec) else None


def resolve(import_path: str) -> Callable:
    """Import ``"package.module.function"`` and return the function.

    Raises:
        PluginError: when the module cannot be imported or has no such name.
    """
    module_name, _, attr = import_path.rpartition(".")
    if not module_name or not attr:
        raise PluginError(f"an import path must look like 'module.function' "
                          f"(got {import_path!r})")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise PluginError(f"cannot import module {module_name!r} for node "
                          f"{import_path!r}: {type(exc).__name__}: {exc}") from exc
    try:
        return getattr(module, attr)
    except AttributeError:
        raise PluginError(f"module {module_name!r} has no node function {attr!r}") from None


def _type_name(annotation: Any, default: Any) -> str:
    if annotation is not inspect.Parameter.empty:
        if isinstance(annotation, str):
            return annotation
        if isinstance(annotation, type):
            return annotation.__name__
        return str(annotation).replace("typing.", "")
    if default is REQUIRED or default is None:
        return "any"
    return type(default).__name__


def _docstring_args(doc: str) -> dict[str, str]:
    """Parse a Google-style ``Args:`` section into ``{name: text}``."""
    docs: dict[str, str] = {}
    lines = doc.splitlines()
    inside, indent, current = False, None, None
    for line in lines:
        stripped = line.strip()
        if not inside:
            inside = stripped.lower() in _ARGS_HEADERS
            continue
        if not stripped:
            current = None
            continue
        here = len(line) - len(line.lstrip())
        if indent is None:
            indent = here
        if here < indent or (here == indent and stripped.endswith(":") and " " not in stripped):
            break  # the next section ("Returns:") or dedented text
        match = re.match(r"^(\*{0,2}\w+)\s*(\([^)]*\))?\s*:\s*(.*)$", stripped)
        if here == indent and match:
            current = match.group(1).lstrip("*")
            docs[current] = match.group(3)
        elif current is not None:
            docs[current] = f"{docs[current]} {stripped}".strip()
    return docs


def _check_int(label: str, what: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise PluginError(f"{label}: {what!r} must be an int >= 1 "
                          f"(got {value!r} that is a {type(value).__name__})")
    return value


def build_spec(func: Callable, name: str | None = None, *, category: str = "other",
               description: str | None = None,
               params: Mapping[str, str | Mapping[str, str]] | None = None,
               inputs: int = 1, variadic: bool = False, produce: int = 1,
               consume: int = 1, spawn: int = 1, parallel: bool = False,
               icon: str | None = None) -> NodeSpec:
    """Validate a node declaration and return its :class:`NodeSpec`.

    Takes the same arguments as :func:`node`, plus the function.  Checks, in
    order: the function, the metadata, the description, the signature.

    Raises:
        PluginError: with a message naming the node and the offending field.
    """
    where = getattr(func, "__qualname__", repr(func))  # func may be any object here
    module = getattr(func, "__module__", None)
    label = f"node {name or getattr(func, '__name__', where)!r} ({module}.{where})"
    if not inspect.isfunction(func):
        raise PluginError(f"{label}: @node decorates plain functions (got {func!r} that "
                          f"is a {type(func).__name__})")
    if "<" in where or not module:
        raise PluginError(f"{label}: a node must be a module-level function so that it "
                          f"pickles by reference and scripts can import it")
    if name is None:
        name = func.__name__
    icon = _check_metadata(label, name, category, icon, variadic=variadic, parallel=parallel,
                           counts={"inputs": inputs, "produce": produce, "consume": consume,
                                   "spawn": spawn})
    doc = inspect.cleandoc(description if description is not None else (func.__doc__ or ""))
    if not isinstance(doc, str) or not doc.strip():
        raise PluginError(f"{label}: a node needs a description: write a docstring "
                          f"or pass description=")
    return NodeSpec(name=name.strip(), import_path=f"{module}.{where}", category=category.strip(),
                    description=doc, params=_params(func, label, doc, params), inputs=inputs,
                    variadic=variadic, produce=produce, consume=consume, spawn=spawn,
                    parallel=parallel, icon=icon)


def _check_metadata(label: str, name: Any, category: Any, icon: Any, *, variadic: Any,
                    parallel: Any, counts: dict[str, Any]) -> str:
    """Check the declared name, category, icon, counts and flags; returns the icon."""
    if not isinstance(name, str) or not name.strip() or "\n" in name:
        raise PluginError(f"{label}: 'name' must be a one-line, non-empty str (got {name!r})")
    if not isinstance(category, str) or not category.strip():
        raise PluginError(f"{label}: 'category' must be a non-empty str (got {category!r})")
    if icon is None:
        icon = category if category in CATEGORY_ICONS else "plugin"
    if not isinstance(icon, str) or not _ICON_RE.match(icon):
        raise PluginError(f"{label}: 'icon' must be a lower-case name like 'text' "
                          f"(got {icon!r})")
    for what, value in counts.items():
        _check_int(label, what, value)
    for what, value in (("variadic", variadic), ("parallel", parallel)):
        if not isinstance(value, bool):
            raise PluginError(f"{label}: {what!r} must be a bool (got {value!r})")
    return icon


def _params(func: Callable, label: str, doc: str,
            given: Mapping[str, str | Mapping[str, str]] | None) -> tuple[Param, ...]:
    """The parameters after the inbox, with help from ``given`` or the docstring."""
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError) as exc:
        raise PluginError(f"{label}: cannot read the signature: {exc}") from exc
    sig_params = list(signature.parameters.values())
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                  inspect.Parameter.VAR_POSITIONAL)
    if not sig_params or sig_params[0].kind not in positional:
        raise PluginError(f"{label}: a node function takes the inbox as its first "
                          f"positional argument (got signature {signature})")
    own = [p for p in sig_params[1:]
           if p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)]
    if sig_params[0].kind is inspect.Parameter.VAR_POSITIONAL:
        own = [p for p in sig_params if p.kind is inspect.Parameter.KEYWORD_ONLY]
    overrides = _overrides(label, func, signature, {p.name for p in own}, given)
    param_docs = _docstring_args(doc)
    out = []
    for p in own:
        default = REQUIRED if p.default is inspect.Parameter.empty else p.default
        extra = overrides.get(p.name, {})
        out.append(Param(name=p.name, default=default,
                         type=str(extra.get("type") or _type_name(p.annotation, default)),
                         doc=str(extra.get("doc") or param_docs.get(p.name, ""))))
    return tuple(out)


def _overrides(label: str, func: Callable, signature: inspect.Signature, known: set[str],
               given: Mapping[str, str | Mapping[str, str]] | None
               ) -> dict[str, Mapping[str, str]]:
    """``params=`` checked against the parameters, each as ``{"doc": ..., "type": ...}``."""
    overrides: dict[str, Mapping[str, str]] = {}
    for key, value in (given or {}).items():
        if key not in known:
            raise PluginError(f"{label}: params names {key!r}, which is not a parameter of "
                              f"{func.__name__}{signature}")
        if isinstance(value, str):
            value = {"doc": value}
        if not isinstance(value, Mapping) or set(value) - {"doc", "type"}:
            raise PluginError(f"{label}: params[{key!r}] must be a str (its help) or a dict "
                              f"with 'doc' and/or 'type' (got {value!r})")
        overrides[key] = value
    return overrides


def node(name: str | Callable | None = None, **meta: Any) -> Callable:
    """Declare a node function: attach a validated :class:`NodeSpec` to it.

    Use as ``@node`` or ``@node("display name", category="text", ...)``.  The
    function is returned unchanged (it gains a ``papy_node`` attribute), so it
    stays picklable by reference.  The description comes from the docstring;
    parameter help from its ``Args:`` section.

    Args:
        name: the display name (default: the function's ``__name__``).
        category: palette group, e.g. ``"text"`` (default ``"other"``).
        description: overrides the docstring.
        params: ``{param: "help"}`` or ``{param: {"doc": ..., "type": ...}}``.
        inputs: number of input pipes (default 1); ``variadic=True`` for "or more".
        produce, consume, spawn: suggested Piper options (default 1).
        parallel: hint that the node is worth running on a pool.
        icon: an icon name (default: the category's, else ``"plugin"``).

    Raises:
        PluginError: when the metadata is invalid -- at import time, so that
            discovery reports the plugin as broken and skips it.
    """
    if callable(name):
        func = name
        func.papy_node = build_spec(func, **meta)  # type: ignore[attr-defined]  # a function attribute
        return func

    def decorate(func: Callable) -> Callable:
        func.papy_node = build_spec(func, name, **meta)  # type: ignore[attr-defined]  # as above
        return func
    return decorate
