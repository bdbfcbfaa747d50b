"""Plain records of the document: nodes, resources, and their options.

A node's functions are the engine's own records
(:class:`papy_engine.script.FuncRef`), and the option tables are the
engine's (``NODE_DEFAULTS`` for pipers, ``IMAP_DEFAULTS`` for resources), so
the editor and the script format cannot drift apart. Owns parsing option
text typed in the property panel and validating one value. No tkinter here:
the property panel and the tests use the same parsing and messages.
"""
from __future__ import annotations

import ast
import copy
import logging
from dataclasses import dataclass, field
from typing import Any

from papy_engine.errors import IMapError
from papy_engine.pool.dask_cluster import check_spec
from papy_engine.script import IMAP_DEFAULTS, NODE_DEFAULTS, FuncRef

from .errors import EditError

log = logging.getLogger(__name__)

__all__ = ["NODE_DEFAULTS", "IMAP_DEFAULTS", "FuncRef", "Node", "Resource", "func_label",
           "check_name", "parse_option", "check_option", "parse_remote", "format_remote",
           "function_name_of"]

_BOOL_KEYS = {"ordered", "debug", "track", "repeat", "skip", "skip_unreachable"}
_POSITIVE_KEYS = {"consume", "produce", "spawn"}
_OPTIONAL_POSITIVE_KEYS = {"stride", "buffer"}
_TEXT_KEYS = {"parallel", "worker_type", "worker_name", "start_method", "dask"}  # None, or text
START_METHODS = ("fork", "spawn", "forkserver")


def func_label(func: FuncRef) -> str:
    """How the editor names a node function: ``module.qualname``, or its own name."""
    if func.module and func.module != "__main__":
        return f"{func.module}.{func.qualname or func.name}"
    return func.qualname or func.name


@dataclass
class Node:
    """A piper of the document. ``options`` keeps only the keys that were set."""

    name: str
    functions: list[FuncRef]
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
        return self.options.get(key, IMAP_DEFAULTS[key])

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
        if key in _TEXT_KEYS:
            value = None if text in ("", "None") else text
        elif key == "branch":
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
    elif key == "retries":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise bad("an int >= 0")
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
    elif key == "worker_name":
        if value is not None and not isinstance(value, str):
            raise bad("None or a str")
    elif key == "start_method":
        if value is not None and value not in START_METHODS:
            raise bad("None, " + ", ".join(map(repr, START_METHODS)))
    elif key == "worker_remote":
        if value is not None:
            value = [(str(h), int(n)) for h, n in value]
    elif key == "dask":   # a scheduler address or local:N (a document keeps text only)
        if value is not None and not isinstance(value, str):
            raise bad("None, a scheduler address or 'local:N'")
        try:
            value = check_spec(value)
        except IMapError as exc:
            raise EditError(str(exc), field=key) from None
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
