"""Finding node plugins, and the report that ``papy plugins`` prints.

(The command itself, its options and output formats, is
:mod:`papy_engine.cli.plugins`.)

Plugins come from three places, scanned in this order (the first plugin to
declare an import path keeps it):

1. ``bundled`` -- every public submodule of the ``papy_plugins`` package;
2. ``entry-point`` -- installed distributions advertising the entry-point group
   ``papy.plugins``; an entry point names a module (every ``@node`` function
   in it is listed) or a single ``@node`` function;
3. ``path`` -- the folders of ``PAPY_PLUGIN_PATH`` (``os.pathsep``-separated):
   each ``*.py`` file and each package folder (with ``__init__.py``) is a
   plugin, imported under its own name with the folder appended to
   ``sys.path`` (so worker processes started with "spawn" can import it too).

A plugin is one module.  If importing it fails for any reason (a syntax
error, a missing dependency, invalid ``@node`` metadata, even ``sys.exit()``)
or a node in it is malformed, the whole plugin is skipped and a
:class:`PluginFailure` records why; nothing propagates to the caller.
"""
from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import inspect
import logging
import os
import pkgutil
import sys
import threading
import traceback
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import Any

from .api import NodeSpec, PluginError, build_spec, resolve, spec_of

__all__ = ["discover", "plugins_report", "plugin_path", "add_plugin_path", "Registry",
           "PluginFailure", "PluginInfo", "ENTRY_POINT_GROUP", "BUNDLED_PACKAGE",
           "PATH_VARIABLE"]

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "papy.plugins"
BUNDLED_PACKAGE = "papy_plugins"
PATH_VARIABLE = "PAPY_PLUGIN_PATH"


@dataclass(frozen=True)
class PluginInfo:
    """A plugin that loaded: its name, where it came from, its nodes' import paths."""

    name: str
    source: str  # "bundled", "entry-point" or "path"
    location: str  # a file, a folder or an entry point's "module:attr"
    nodes: tuple[str, ...]


@dataclass(frozen=True)
class PluginFailure:
    """A plugin that was skipped, and why (``reason`` is one line)."""

    name: str
    source: str
    location: str
    reason: str
    details: str = ""  # the formatted traceback, when there is one

    def __str__(self) -> str:
        return f"{self.name} ({self.source}: {self.location}): {self.reason}"


class Registry:
    """The nodes found by :func:`discover` (read-only).

    Iterating gives :class:`NodeSpec` objects in discovery order; ``registry[path]``
    looks one up by import path.
    """

    def __init__(self, nodes: Sequence[NodeSpec], plugins: Sequence[PluginInfo],
                 failures: Sequence[PluginFailure]) -> None:
        self._nodes = {spec.import_path: spec for spec in nodes}
        self.plugins: tuple[PluginInfo, ...] = tuple(plugins)
        self.failures: tuple[PluginFailure, ...] = tuple(failures)

    def __iter__(self) -> Iterator[NodeSpec]:
        return iter(self._nodes.values())

    def __len__(self) -> int:
        return len(self._nodes)

    def __contains__(self, import_path: object) -> bool:
        return import_path in self._nodes

    def __getitem__(self, import_path: str) -> NodeSpec:
        try:
            return self._nodes[import_path]
        except KeyError:
            raise KeyError(f"no node {import_path!r} among {len(self)} discovered nodes") from None

    def get(self, import_path: str, default: NodeSpec | None = None) -> NodeSpec | None:
        return self._nodes.get(import_path, default)

    @property
    def nodes(self) -> list[NodeSpec]:
        return list(self._nodes.values())

    def categories(self) -> dict[str, list[NodeSpec]]:
        """``{category: [specs sorted by name]}``, categories sorted by name."""
        groups: dict[str, list[NodeSpec]] = {}
        for spec in self._nodes.values():
            groups.setdefault(spec.category, []).append(spec)
        return {c: sorted(groups[c], key=lambda s: s.name.lower()) for c in sorted(groups)}

    def search(self, text: str) -> list[NodeSpec]:
        """Nodes whose name, category, import path or description contain every word."""
        words = text.lower().split()
        return [s for s in self._nodes.values()
                if all(w in f"{s.name} {s.category} {s.import_path} {s.description}".lower()
                       for w in words)]

    def load(self, import_path: str):
        """The node function for ``import_path`` (imports it)."""
        return self[import_path].load()

    def to_dict(self) -> dict[str, Any]:
        return {"nodes": [s.to_dict() for s in self._nodes.values()],
                "plugins": [{"name": p.name, "source": p.source, "location": p.location,
                             "nodes": list(p.nodes)} for p in self.plugins],
                "failures": [{"name": f.name, "source": f.source, "location": f.location,
                              "reason": f.reason} for f in self.failures]}


# -- loading one plugin ---------------------------------------------------------

def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _scan(module: ModuleType, plugin: str) -> list[NodeSpec]:
    """The validated node specs of a module (raises PluginError for a bad one)."""
    specs = []
    for attr, value in list(vars(module).items()):
        if attr.startswith("_") or not hasattr(value, "papy_node"):
            continue
        if isinstance(value, ModuleType) or inspect.isclass(value):
            continue
        specs.append(_checked(value, plugin))
    return specs


def _checked(func: Any, plugin: str) -> NodeSpec:
    """Re-validate the spec attached to ``func`` against the function as it is now."""
    spec = getattr(func, "papy_node", None)
    label = getattr(func, "__qualname__", repr(func))
    if not isinstance(spec, NodeSpec):
        raise PluginError(f"{label}.papy_node must be a NodeSpec made by @node "
                          f"(got {spec!r} that is a {type(spec).__name__})")
    # Rebuilding from the same metadata catches specs edited or hand-made after
    # the decorator ran (parameters that do not exist, bad counts ...).
    fresh = build_spec(func, spec.name, category=spec.category, description=spec.description,
                       params={p.name: {"doc": p.doc, "type": p.type} for p in spec.params
                               if p.doc},
                       inputs=spec.inputs, variadic=spec.variadic, produce=spec.produce,
                       consume=spec.consume, spawn=spec.spawn, parallel=spec.parallel,
                       icon=spec.icon)
    if fresh.import_path != spec.import_path:
        raise PluginError(f"node {spec.name!r}: its import path {spec.import_path!r} does "
                          f"not match the function ({fresh.import_path!r})")
    if resolve(spec.import_path) is not func:
        raise PluginError(f"node {spec.name!r}: importing {spec.import_path!r} does not give "
                          f"the decorated function back; nodes must be module-level "
                          f"functions, not rebound or wrapped")
    return replace(spec, plugin=plugin)


class _Collector:
    def __init__(self) -> None:
        self.nodes: dict[str, NodeSpec] = {}
        self.plugins: list[PluginInfo] = []
        self.failures: list[PluginFailure] = []

    def fail(self, name: str, source: str, location: str, exc: BaseException | str) -> None:
        if isinstance(exc, BaseException):
            reason = _reason(exc)
            details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        else:
            reason, details = exc, ""
        log.warning("plugin %s (%s: %s) skipped: %s", name, source, location, reason)
        self.failures.append(PluginFailure(name, source, location, reason, details))

    def add(self, name: str, source: str, location: str, load) -> None:
        """Run ``load() -> list[NodeSpec]``; record the plugin or its failure."""
        try:
            specs = load()
        except (Exception, SystemExit) as exc:  # a plugin must never crash the caller
            self.fail(name, source, location, exc)
            return
        paths = []
        for spec in specs:
            if spec.import_path not in self.nodes:
                self.nodes[spec.import_path] = spec
                paths.append(spec.import_path)
        self.plugins.append(PluginInfo(name, source, location, tuple(paths)))


def _import(name: str, reload: bool) -> ModuleType:
    """Import ``name``; with ``reload``, import it afresh from its source.

    A fresh import (rather than ``importlib.reload``) drops nodes that were
    renamed or deleted.  If it fails, the old modules are put back so that
    functions already in a pipeline still pickle by reference.
    """
    if not reload or name not in sys.modules:
        return importlib.import_module(name)
    old = {m: sys.modules.pop(m) for m in list(sys.modules)
           if m == name or m.startswith(name + ".")}
    try:
        return importlib.import_module(name)
    except BaseException:
        for m in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
            del sys.modules[m]
        sys.modules.update(old)
        raise


# -- the three sources ----------------------------------------------------------

def _bundled(out: _Collector) -> None:
    try:
        package = importlib.import_module(BUNDLED_PACKAGE)
    except Exception as exc:
        out.fail(BUNDLED_PACKAGE, "bundled", "", exc)
        return
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        name = f"{BUNDLED_PACKAGE}.{info.name}"
        location = str(Path(info.module_finder.path, info.name))  # type: ignore[union-attr]
        location += "" if info.ispkg else ".py"
        out.add(name, "bundled", location,
                lambda name=name: _scan(importlib.import_module(name), name))


def _entry_points(out: _Collector) -> None:
    try:
        eps = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
    except Exception as exc:
        out.fail(ENTRY_POINT_GROUP, "entry-point", "", exc)
        return
    for ep in sorted(eps, key=lambda e: (e.name, e.value)):
        def load(ep=ep) -> list[NodeSpec]:
            target = ep.load()
            if isinstance(target, ModuleType):
                return _scan(target, ep.name)
            if spec_of(target) is not None or hasattr(target, "papy_node"):
                return [_checked(target, ep.name)]
            raise PluginError(f"entry point {ep.name} = {ep.value!r} must name a module or "
                              f"an @node function (got a {type(target).__name__})")
        out.add(ep.name, "entry-point", ep.value, load)


def plugin_path() -> list[Path]:
    """The user plugin folders named by ``PAPY_PLUGIN_PATH``, in order."""
    raw = os.environ.get(PATH_VARIABLE, "")
    return [Path(p).expanduser() for p in raw.split(os.pathsep) if p.strip()]


def add_plugin_path() -> list[str]:
    """Append the ``PAPY_PLUGIN_PATH`` folders to ``sys.path`` (once); returns them.

    Cheap (imports nothing): call it before loading a saved script whose
    nodes come from user plugins (``from my_plugin import node_func``).
    """
    added = []
    for folder in plugin_path():
        if folder.is_dir():
            path = str(folder.resolve())
            if path not in sys.path:
                sys.path.append(path)
            added.append(path)
    return added


def _folder(out: _Collector, folder: Path, reload: bool) -> None:
    if not folder.is_dir():
        out.fail(str(folder), "path", str(folder),
                 f"{PATH_VARIABLE} names {str(folder)!r}, which is not a folder")
        return
    folder = folder.resolve()
    if str(folder) not in sys.path:
        sys.path.append(str(folder))
    importlib.invalidate_caches()
    entries = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(("_", ".")):
            continue
        if entry.suffix == ".py" and entry.is_file():
            entries.append((entry.stem, entry))
        elif entry.is_dir() and (entry / "__init__.py").is_file():
            entries.append((entry.name, entry))
    for name, entry in entries:
        out.add(name, "path", str(entry),
                lambda name=name, entry=entry: _scan(_import_user(name, entry, reload), name))


def _import_user(name: str, entry: Path, reload: bool) -> ModuleType:
    if not name.isidentifier():
        raise PluginError(f"{entry.name!r} is not an importable module name; rename it "
                          f"to letters, digits and underscores")
    # Plugins are imported under their own names so that they pickle by
    # reference; refuse a name that some other module already answers to.
    loaded = sys.modules.get(name)
    spec = importlib.util.find_spec(name) if loaded is None else None
    origin = getattr(loaded, "__file__", None) if loaded is not None else (
        spec.origin if spec is not None else None)
    if origin is None or Path(origin).resolve().parent not in (entry, entry.parent):
        raise PluginError(f"the name {name!r} is taken by another module ({origin or 'built-in'})"
                          f"; rename the plugin {str(entry)!r}")
    return _import(name, reload)


# -- public API -----------------------------------------------------------------

_lock = threading.RLock()  # a plugin that calls discover() while imported must not deadlock
_cache: dict[tuple[str, ...], Registry] = {}


def discover(refresh: bool = False, paths: Sequence[str | os.PathLike] | None = None) -> Registry:
    """Find every plugin and return the :class:`Registry` of their nodes.

    The result is cached per plugin path; ``refresh=True`` scans again and
    reloads user plugins (from ``PAPY_PLUGIN_PATH``) that were already imported,
    so an edited plugin shows its changes.  Never raises for a broken plugin:
    see ``Registry.failures``.

    Args:
        refresh: scan again instead of returning the cached registry.
        paths: user plugin folders to use instead of ``PAPY_PLUGIN_PATH``.
    """
    folders = [Path(p).expanduser() for p in paths] if paths is not None else plugin_path()
    key = tuple(str(f) for f in folders)
    with _lock:
        if not refresh and key in _cache:
            return _cache[key]
        out = _Collector()
        _bundled(out)
        _entry_points(out)
        for folder in folders:
            _folder(out, folder, reload=refresh)
        registry = Registry(list(out.nodes.values()), out.plugins, out.failures)
        _cache[key] = registry
        return registry


def plugins_report(registry: Registry | None = None, *, verbose: bool = False,
                   category: str | None = None) -> str:
    """The text that ``papy plugins`` prints: plugins, their nodes, failures and why.

    Args:
        registry: defaults to ``discover()``.
        verbose: add import paths, parameters, hints and failure tracebacks.
        category: list only the nodes of this category.
    """
    registry = registry if registry is not None else discover()
    lines = [f"{len(registry)} nodes from {len(registry.plugins)} plugins"
             + (f"; {len(registry.failures)} plugins failed" if registry.failures else "")]
    for plugin in registry.plugins:
        specs = [registry[p] for p in plugin.nodes]
        if category is not None:
            specs = [s for s in specs if s.category == category]
            if not specs:
                continue
        lines += ["", f"{plugin.name}  [{plugin.source}] {plugin.location}"]
        if not specs:
            lines.append("  (no @node functions)")
        width = max((len(s.name) for s in specs), default=0)
        for s in specs:
            lines.append(f"  {s.name:<{width}}  {s.category:<9}  {s.summary}")
            if verbose:
                lines.append(f"  {'':<{width}}  import: {s.import_path}")
                hints = [f"inputs={s.inputs}{'+' if s.variadic else ''}"]
                hints += [f"{k}={v}" for k, v in s.piper_options().items() if v != 1]
                hints += ["parallel"] if s.parallel else []
                lines.append(f"  {'':<{width}}  {' '.join(hints)}  icon={s.icon}")
                for p in s.params:
                    default = "required" if p.required else f"= {p.default!r}"
                    lines.append(f"  {'':<{width}}    {p.name}: {p.type} {default}"
                                 + (f"  -- {p.doc}" if p.doc else ""))
    if registry.failures:
        lines += ["", "Failed plugins (skipped):"]
        for f in registry.failures:
            lines.append(f"  {f.name}  [{f.source}] {f.location}")
            lines.append(f"    {f.reason}")
            if verbose and f.details:
                lines += [f"      {t}" for t in f.details.rstrip().splitlines()]
    return "\n".join(lines) + "\n"
