"""Plain records of the document: functions, nodes, resources, and their options.

Owns the option tables (defaults, parsing from text typed in the property
panel, validation of one value). No tkinter, no engine import: the
property panel and the tests use the same parsing and messages.
"""
from __future__ import annotations

import ast
import copy
import logging
from dataclasses import dataclass, field
from typing import Any

from .errors import EditError

log = logging.getLogger(__name__)

#: Piper options and their defaults (DESIGN.md, Piper).
NODE_DEFAULTS: dict[str, Any] = {
    "parallel": None, "consume": 1, "produce": 1, "spawn": 1, "timeout": None,
    "ordered": True, "branch": None, "debug": False, "track": False, "repeat": False,
}

#: IMap options of a resource and their defaults (DESIGN.md, IMap).
RESOURCE_DEFAULTS: dict[str, Any] = {
    "worker_type": "process", "worker_num": None, "worker_remote": None,
    "stride": None, "buffer": None, "ordered": True, "skip": False,
}

_BOOL_KEYS = {"ordered", "debug", "track", "repeat", "skip"}
_POSITIVE_KEYS = {"consume", "produce", "spawn"}
_OPTIONAL_POSITIVE_KEYS = {"stride", "buffer"}


@dataclass
class Func:
    """One function of a node: imported (``module``) or written out (``source``)."""

    name: str
    module: str | None = None
    qualname: str | None = None
    source: str | None = None
    imports: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        if self.module and self.module != "__main__":
            return f"{self.module}.{self.qualname or self.name}"
        return self.qualname or self.name


@dataclass
class Node:
    """A piper of the document. ``options`` keeps only the keys that were set."""

    name: str
    functions: list[Func]
    args: list[list[str]] = field(default_factory=list)
    kwargs: list[dict[str, str]] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)
    x: float = 0.0
    y: float = 0.0

    def option(self, key: str) -> Any:
        return self.options.get(key, NODE_DEFAULTS[key])

    @property
    def out_n(self) -> int:
        return self.option("produce") * self.option("spawn")

    @property
    def in_n(self) -> int:
        return self.option("consume") * self.option("spawn")

    def copy(self) -> "Node":
        return copy.deepcopy(self)


@dataclass
class Resource:
    """A shared parallel pool (an IMap) that nodes name in ``parallel``."""

    name: str
    options: dict[str, Any] = field(default_factory=dict)

    def option(self, key: str) -> Any:
        return self.options.get(key, RESOURCE_DEFAULTS[key])

    def copy(self) -> "Resource":
        return copy.deepcopy(self)


def check_name(kind: str, name: Any) -> str:
    """A node or resource name must be a Python identifier (scripts use it)."""
    if not isinstance(name, str) or not name.isidentifier():
        raise EditError(f"{kind} name must be a Python identifier "
                        f"(got {name!r})", field="name")
    return name


def _parse_literal(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def parse_option(key: str, value: Any, table: dict[str, Any] = NODE_DEFAULTS) -> Any:
    """Turn a value typed in the property panel (often text) into an option value.

    Raises:
        EditError: with ``field=key`` and the expected vs. actual value.
    """
    if key not in table:
        raise EditError(f"unknown option {key!r} (expected one of {', '.join(table)})", field=key)
    if isinstance(value, str):
        text = value.strip()
        if key in ("parallel", "branch", "worker_type"):
            value = None if text in ("", "None") else text
            if key == "branch":
                value = _parse_literal(text) if text not in ("", "None") else None
        elif key == "worker_remote":
            value = parse_remote(text)
        else:
            value = None if text in ("", "None") else _parse_literal(text)
            if key in _BOOL_KEYS and isinstance(value, str):
                value = {"true": True, "false": False, "yes": True, "no": False}.get(value.lower(), value)
    return check_option(key, value)


def check_option(key: str, value: Any) -> Any:
    """Validate one already-typed option value; returns it or raises EditError."""
    def bad(expected: str) -> EditError:
        return EditError(f"{key!r} must be {expected} (got {value!r} that is a "
                         f"{type(value).__name__})", field=key)

    if key in _BOOL_KEYS:
        if not isinstance(value, bool):
            raise bad("True or False")
    elif key in _POSITIVE_KEYS:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise bad("an int >= 1")
    elif key in _OPTIONAL_POSITIVE_KEYS:
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise bad("None or an int >= 1")
    elif key == "worker_num":
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise bad("None or an int >= 0")
    elif key == "timeout":
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                  or value <= 0):
            raise bad("None or a number > 0")
    elif key == "worker_type":
        if value not in ("process", "thread"):
            raise bad("'process' or 'thread'")
    elif key == "branch":
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float, str))):
            raise bad("None, a number or a str")
    elif key == "parallel":
        if value is not None and not isinstance(value, str):
            raise bad("None or a resource name")
    elif key == "worker_remote":
        if value is not None:
            value = [(str(h), int(n)) for h, n in value]
    return value


def parse_remote(text: str) -> list[tuple[str, int]] | None:
    """``"host:port#2, other:18812"`` -> ``[("host:port", 2), ("other:18812", 1)]``."""
    text = text.strip()
    if not text or text == "None":
        return None
    hosts = []
    for part in text.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        addr, _, num = part.partition("#")
        host, _, port = addr.rpartition(":")
        if not host or not port.isdigit():
            raise EditError(f"remote host must look like HOST:PORT#N (got {part!r})",
                            field="worker_remote")
        if num and not num.isdigit():
            raise EditError(f"worker count after '#' must be an int (got {part!r})",
                            field="worker_remote")
        hosts.append((addr, int(num or 1)))
    return hosts


def format_remote(value: list | None) -> str:
    if not value:
        return ""
    return ", ".join(f"{h}#{n}" for h, n in value)


def function_name_of(source: str) -> str:
    """The name of the last top-level ``def`` in ``source``; EditError if none."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise EditError(f"syntax error in function source, line {exc.lineno}: {exc.msg}",
                        field="source") from None
    names = [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    if not names:
        raise EditError("the source must define a function with 'def name(inbox): ...'",
                        field="source")
    return names[-1]
