"""The fingerprint of a pipeline script, and what changed between two of them.

A results folder records the fingerprint of the script that wrote it, and a
resumed run compares its own: results of the old script must not be mixed
with results of a changed one.  The fingerprint covers what decides the
results -- each piper's options (not its pool: worker counts, pool kinds,
remote workers and strides change speed, not results), its functions'
source and arguments, the pipes, the INPUTS expressions and the script's
other code (imports, helpers, constants) -- as short digests, plus the
plain option values, so that :func:`differences` can say what changed.
"""
from __future__ import annotations

import hashlib
import inspect
import logging
import os
import re
from typing import Any

from .units import is_unordered

__all__ = ["fingerprint", "differences"]

log = logging.getLogger(__name__)

_OPTIONS = ("consume", "produce", "spawn", "repeat", "branch", "timeout", "debug", "track")


def _h(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def _stable(value: Any) -> str:
    """A repr that is the same in every process (no addresses)."""
    if callable(value) and hasattr(value, "__qualname__"):
        return f"{getattr(value, '__module__', '?')}.{value.__qualname__}:{_source(value)}"
    if isinstance(value, (list, tuple)):
        inner = ", ".join(_stable(v) for v in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_stable(k)}: {_stable(v)}" for k, v in value.items()) + "}"
    return re.sub(r" at 0x[0-9a-fA-F]+", "", repr(value))


def _source(func: Any) -> str:
    func = getattr(func, "__wrapped__", func)
    try:
        return _h(inspect.getsource(func))
    except (OSError, TypeError):
        return "-"   # a builtin, or no source to be found: its name stands for it


def _piper(p: Any) -> dict:
    w = p.worker
    options = {k: getattr(p, k) for k in _OPTIONS}
    options["ordered"] = not is_unordered(p)
    functions = [f"{getattr(f, '__module__', '?')}.{getattr(f, '__qualname__', repr(f))}"
                 for f in w.functions]
    body = "|".join(f"{name}:{_source(f)}:{_stable(a)}:{_stable(k)}"
                    for name, f, a, k in zip(functions, w.functions, w.args, w.kwargs))
    return {"options": {k: v if isinstance(v, (int, float, str, bool, type(None))) else repr(v)
                        for k, v in options.items()},
            "functions": _h(body), "names": [n.rsplit(".", 1)[-1] for n in functions]}


def _texts(plumber: Any, script_path: str | os.PathLike | None) -> tuple[str, str]:
    """``(INPUTS text, other code)`` of the script the pipeline came from."""
    inputs = getattr(plumber, "inputs_source", None)
    source = getattr(plumber, "script_source", None)
    if inputs is not None and source is not None:
        return "\n".join(inputs), source.preamble
    if script_path is not None:
        from ..errors import ScriptError
        from ..script import read
        try:
            desc = read(script_path)
            if desc.inputs_source is not None:
                return "\n".join(desc.inputs_source), desc.preamble
        except ScriptError:
            pass
        try:
            with open(script_path, encoding="utf-8") as f:
                text = f.read()
            return text, text   # not in the documented shape: the whole text counts
        except OSError:
            log.warning("cannot read %s for its fingerprint", script_path)
    return "\n".join(inputs or []), source.preamble if source is not None else ""


def fingerprint(plumber: Any, script_path: str | os.PathLike | None = None) -> dict:
    """The fingerprint of ``plumber`` and of the script it came from (JSON-ready).

    Args:
        plumber: the pipeline (loaded from a script, built by the editor, or made
            by a script's ``pipeline()``).
        script_path: the script file, when the Plumber does not say its INPUTS
            text and other code itself (``python SCRIPT.py``).
    """
    inputs, code = _texts(plumber, script_path)
    pipes = sorted((u.name, c.name) for u in plumber.postorder() for c in plumber.children_of(u))
    return {"pipers": {p.name: _piper(p) for p in plumber.postorder()},
            "pipes": _h(repr(pipes) + repr([p.name for p in plumber.get_inputs()])),
            "inputs": _h(inputs), "code": _h(code)}


def differences(old: dict, new: dict) -> list[str]:
    """What changed from fingerprint ``old`` to ``new``, one short sentence each."""
    out: list[str] = []
    po, pn = old.get("pipers", {}), new.get("pipers", {})
    out += [f"piper {n!r} was removed" for n in po if n not in pn]
    out += [f"piper {n!r} is new" for n in pn if n not in po]
    for name in [n for n in pn if n in po]:
        a, b = po[name], pn[name]
        for key in sorted(set(a["options"]) | set(b["options"])):
            if a["options"].get(key) != b["options"].get(key):
                out.append(f"piper {name!r}: {key} {a['options'].get(key)!r} -> "
                           f"{b['options'].get(key)!r}")
        if a["functions"] != b["functions"]:
            names = ", ".join(b["names"])
            out.append(f"piper {name!r}: its function ({names}) or its arguments changed")
    if old.get("pipes") != new.get("pipes"):
        out.append("the pipes between the pipers changed")
    if old.get("inputs") != new.get("inputs"):
        out.append("INPUTS changed")
    if old.get("code") != new.get("code"):
        out.append("the script's other code (imports, helpers, constants) changed")
    return out
