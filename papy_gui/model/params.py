"""Typed node parameters: one field per parameter from plugin metadata.

A node function's extra arguments are stored as expression text (positional
``args`` and ``kwargs``, as the script writer keeps them). For a function with
metadata (``ParamInfo``: name, default, type, doc) the property panel shows
one field per parameter; this module maps the stored arguments to those
fields, validates what is typed into one (a Python expression; a literal
must match the declared type), and writes it back. No tkinter here.
"""
from __future__ import annotations

import ast
from collections.abc import Sequence

from .errors import EditError
from .palette import ParamInfo

# declared type name -> Python types a literal of it may have
_TYPES: dict[str, tuple[type, ...]] = {
    "int": (int,), "float": (int, float), "complex": (int, float, complex), "str": (str,),
    "bytes": (bytes,), "bool": (bool,), "list": (list,), "tuple": (tuple,), "dict": (dict,),
    "set": (set,), "None": (type(None),), "NoneType": (type(None),),
    "Collection": (list, tuple, set, frozenset, dict, str, bytes),
    "Sequence": (list, tuple, str, bytes), "Iterable": (list, tuple, set, frozenset, dict, str),
}


def field_key(param: str) -> str:
    """The form key (and ``EditError.field``) of parameter ``param``."""
    return f"param:{param}"


def accepted_types(declared: str) -> tuple[type, ...] | None:
    """Python types allowed for ``declared`` (``"int | None"``), None if unknown/any."""
    allowed: list[type] = []
    for part in declared.split("|"):
        base = part.strip().split("[", 1)[0].strip().rpartition(".")[2]
        if base not in _TYPES:
            return None  # "any", "Any", a class we do not know: do not check
        allowed.extend(_TYPES[base])
    return tuple(allowed) or None


def check_value(param: ParamInfo, text: str) -> str | None:
    """Validate the text typed for ``param``; None means "use the default".

    Raises:
        EditError: with ``field=field_key(param.name)`` and expected vs. actual.
    """
    text = text.strip()
    key = field_key(param.name)
    if not text:
        if param.required:
            raise EditError(f"{param.name!r} is required ({param.type})", field=key)
        return None
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise EditError(f"{param.name!r} must be a Python expression: {exc.msg} "
                        f"(got {text!r})", field=key) from None
    try:
        value = ast.literal_eval(tree)
    except (ValueError, SyntaxError, TypeError):
        return text  # a name or a call: evaluated when the pipeline is built
    allowed = accepted_types(param.type)
    if allowed is None:
        return text
    is_bool = isinstance(value, bool)
    if not isinstance(value, allowed) or (is_bool and bool not in allowed):
        raise EditError(f"{param.name!r} must be {param.type} (got {text} that is a "
                        f"{type(value).__name__})", field=key)
    return text


def values_of(params: Sequence[ParamInfo], args: Sequence[str],
              kwargs: dict[str, str]) -> dict[str, str]:
    """``{param name: expression text}`` of the parameters that are set."""
    out = {p.name: a for p, a in zip(params, args)}
    out.update({k: v for k, v in kwargs.items() if any(p.name == k for p in params)})
    return out


def with_value(params: Sequence[ParamInfo], args: Sequence[str], kwargs: dict[str, str],
               name: str, text: str | None) -> tuple[list[str], dict[str, str]]:
    """New ``(args, kwargs)`` with parameter ``name`` set to ``text`` (None: default).

    A parameter given by position stays positional while it can (clearing one
    turns the later positional ones into keywords, so none shifts); keywords
    the metadata does not know are kept.
    """
    args, kwargs = list(args), dict(kwargs)
    names = [p.name for p in params]
    pos = names.index(name)
    if pos < len(args):
        if text is not None:
            args[pos] = text
            return args, kwargs
        for later in range(pos + 1, len(args)):
            if later < len(names):
                kwargs[names[later]] = args[later]
        del args[pos:]
        return args, kwargs
    if text is None:
        kwargs.pop(name, None)
    else:
        kwargs[name] = text
    return args, kwargs
