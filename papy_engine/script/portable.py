"""Whether a saved script may import a module, or must carry the source instead.

The writer imports a node function from its module when the module is
importable.  But importable *here* is not importable *anywhere*: a module
next to the user's own script (``sys.path[0]``), one in the current
directory, or a test module that pytest put on ``sys.path`` is found by this
process only, and a script that imports it fails as soon as it runs from
another directory (issue 11).  Such modules are *local*: functions and
classes from them are written out as source, like ``__main__`` functions.

A module is *portable* when a fresh interpreter of the same environment (the
same executable and environment variables, so installed, editable and
``PYTHONPATH`` packages count) started in an empty directory finds the same
file for its top-level package.  Answering exactly needs that interpreter:
``sys.path`` alone does not say which entries came from the environment, and
editable installs are found by meta-path finders, not by path entries.  So
one subprocess is asked (``importlib.util.find_spec`` only locates a module,
it never runs it) for the names that the fast paths below cannot answer, and
the answers are cached for the life of the process.
"""
from __future__ import annotations

import importlib.util
import json
import logging
import os
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Iterable

__all__ = ["portable", "check_portable", "location"]

log = logging.getLogger(__name__)

#: top-level module name -> portable?
_CACHE: dict[str, bool] = {}

_FIND = """\
import importlib.util, json, sys
out = {}
for name in sys.argv[1:]:
    try:
        spec = importlib.util.find_spec(name)
    except Exception:
        spec = None
    out[name] = None if spec is None else [spec.origin,
                                           list(spec.submodule_search_locations or [])]
print(json.dumps(out))
"""


def _real(path: str | None) -> str | None:
    return os.path.realpath(path) if path else None


def _here(top: str) -> tuple[str | None, set[str]] | None:
    """(origin file, package directories) of ``top`` in this process, None if unknown."""
    module = sys.modules.get(top)
    spec = getattr(module, "__spec__", None) if module is not None else None
    if spec is None:
        try:
            spec = importlib.util.find_spec(top)
        except (ImportError, ValueError):
            return None
    if spec is None:
        return None
    origin = spec.origin if spec.has_location else None
    return _real(origin), {p for p in map(_real, spec.submodule_search_locations or []) if p}


def _installed_dirs() -> list[str]:
    """The standard library and this environment's site-packages."""
    paths = sysconfig.get_paths()
    dirs = {paths.get(k) for k in ("stdlib", "platstdlib", "purelib", "platlib")}
    return sorted(p for p in map(_real, dirs) if p)


def _fast(top: str) -> bool | None:
    """Answer without a subprocess when that is certain, else None."""
    if top == "__main__":
        return False
    if top in sys.builtin_module_names or top in sys.stdlib_module_names:
        return True
    here = _here(top)
    if here is None:
        return False  # not importable even here
    origin, dirs = here
    if origin is None and not dirs:
        return True  # built in or frozen
    files = [origin] if origin else sorted(dirs)
    installed = _installed_dirs()
    if all(any(f == d or f.startswith(d + os.sep) for d in installed) for f in files):
        return True
    return None


def _ask(names: list[str]) -> dict[str, bool]:
    """Ask a fresh interpreter, in an empty directory, where it finds ``names``."""
    with tempfile.TemporaryDirectory(prefix="papy-find-") as empty:
        try:
            proc = subprocess.run([sys.executable, "-c", _FIND, *names], cwd=empty,
                                  capture_output=True, text=True, timeout=60)
            found = json.loads(proc.stdout)
        except (OSError, ValueError, subprocess.SubprocessError) as exc:
            # cannot tell: keep the import (what this process can do)
            log.warning("cannot check where a fresh interpreter finds %s (%s); "
                        "importing them in saved scripts", ", ".join(names), exc)
            return {n: True for n in names}
    out = {}
    for name in names:
        there, here = found.get(name), _here(name)
        if there is None or here is None:
            out[name] = False
            continue
        origin, dirs = _real(there[0]), {p for p in map(_real, there[1]) if p}
        out[name] = (origin == here[0]) if here[0] else bool(dirs & here[1])
    return out


def check_portable(modules: Iterable[str]) -> dict[str, bool]:
    """``{module: portable}`` for dotted module names (one subprocess at most)."""
    tops = {m: m.split(".")[0] for m in modules}
    unknown = []
    for top in sorted(set(tops.values())):
        if top not in _CACHE:
            fast = _fast(top)
            if fast is None:
                unknown.append(top)
            else:
                _CACHE[top] = fast
    if unknown:
        _CACHE.update(_ask(unknown))
    return {m: _CACHE[top] for m, top in tops.items()}


def portable(module: str) -> bool:
    """True when a script run from any directory imports ``module`` as this process does."""
    return check_portable([module])[module]


def location(module: str) -> str:
    """Where this process finds ``module`` (for messages)."""
    here = _here(module.split(".")[0])
    if here is None:
        return "an unknown place"
    origin, dirs = here
    return os.path.dirname(origin) if origin else ", ".join(sorted(dirs))
