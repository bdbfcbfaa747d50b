"""Typed node parameters: one field per parameter from plugin metadata.

A node function's extra arguments are stored as expression text (positional
``args`` and ``kwargs``, as the script writer keeps them). For a function with
metadata (``ParamInfo``: name, default, type, doc) the property panel shows
one field per parameter; this module maps the stored arguments to those
fields, validates what is typed into one (a Python expression; a literal
must match the declared type), and writes it back; it also picks the kind of
field (check box, spin box, entry) and finds the required parameters left
empty before a run. A function without metadata gets one free-text field of
Python arguments (:func:`split_args` / :func:`join_args`). No tkinter here.
"""
from __future__ import annotations

import ast
from collections.abc import Callable, Mapping, Sequence
from typing import Literal

from .errors import EditError
from .items import FuncRef, Node, func_label
from .palette import NodeType, ParamInfo

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


def split_args(text: str) -> tuple[list[str], dict[str, str]]:
    """``"1, 'a', k=2"`` -> ``(["1", "'a'"], {"k": "2"})`` keeping each expression's text.

    Raises:
        EditError: the text is not a valid Python argument list (``field="args"``).
    """
    text = text.strip()
    if not text:
        return [], {}
    src = f"f({text})"
    try:
        call = ast.parse(src, mode="eval").body
    except SyntaxError as exc:
        raise EditError(f"arguments are not valid Python: {exc.msg} (got {text!r})",
                        field="args") from None
    if not isinstance(call, ast.Call):  # "x)(y" parses as another expression
        raise EditError(f"arguments are not valid Python (got {text!r})", field="args")
    args = [ast.get_source_segment(src, a) or "" for a in call.args]
    kwargs = {k.arg: ast.get_source_segment(src, k.value) or "" for k in call.keywords if k.arg}
    return args, kwargs


def join_args(args: list[str], kwargs: dict[str, str]) -> str:
    """The text :func:`split_args` reads back as ``(args, kwargs)``."""
    return ", ".join(list(args) + [f"{k}={v}" for k, v in kwargs.items()])


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


def field_kind(param: ParamInfo) -> Literal["bool", "int", "text"]:
    """The widget for ``param``: a check box for ``bool``, a spin box for ``int``
    (or ``int | None``: free typing stays possible), an entry for anything else."""
    allowed = accepted_types(param.type)
    if allowed == (bool,):
        return "bool"
    if allowed is not None and set(allowed) in ({int}, {int, type(None)}):
        return "int"
    return "text"


def _literal(text: str) -> object:
    try:
        return ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return ...  # not a literal


def bool_state(param: ParamInfo, text: str) -> bool | None:
    """What a check box shows for the stored ``text`` (empty: the default);
    None when it is no bool literal (an expression, or required and unset)."""
    value = _literal(text if text.strip() else param.default)
    return value if isinstance(value, bool) else None


def bool_text(param: ParamInfo, value: bool) -> str:
    """The text a check box commits: empty (the default) when it equals the default."""
    if not param.required and _literal(param.default) is value:
        return ""
    return repr(value)


def spin_start(param: ParamInfo, text: str) -> str:
    """The value a spin box arrow starts from: the stored int, else the default, else 0."""
    for candidate in (text, param.default):
        value = _literal(candidate) if candidate.strip() else ...
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
    return "0"


class MissingParamError(EditError):
    """A required parameter of a node is empty (refused at Run).

    Attributes:
        node: the node's name; index: which of its functions; param: the parameter.
    """

    def __init__(self, node: str, index: int, func: str, param: ParamInfo) -> None:
        super().__init__(f"node {node!r}: required parameter {param.name!r} of {func} is "
                         f"empty: select the node and fill it in ({param.type})",
                         field=field_key(param.name))
        self.node, self.index, self.param = node, index, param


def check_required(nodes: Mapping[str, Node],
                   find_type: Callable[[FuncRef], NodeType | None]) -> None:
    """Refuse (before anything runs) the first node with a required parameter unset.

    ``find_type`` gives a function's palette type (``Palette.find_for``); a
    function without metadata is not checked.

    Raises:
        MissingParamError: naming the node and the parameter.
    """
    for name, node in nodes.items():
        for i, func in enumerate(node.functions):
            ntype = find_type(func)
            if ntype is None or not ntype.params:
                continue
            args = node.args[i] if i < len(node.args) else []
            kwargs = node.kwargs[i] if i < len(node.kwargs) else {}
            values = values_of(ntype.params, args, kwargs)
            for p in ntype.params:
                if p.required and not values.get(p.name, "").strip():
                    raise MissingParamError(name, i, func_label(func), p)
