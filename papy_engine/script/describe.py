"""Describe a live Plumber as a :class:`~.model.PipelineDescription`, and save it.

:func:`describe` walks the pipers, IMaps and pipes; how each function and
argument becomes source is :mod:`.sources`.  :func:`script` and :func:`save`
are ``render(describe(...))`` to text and to a file.  A Plumber made by the
loader keeps the preamble and docstring of its script
(:class:`~.model.ScriptSource`, read by :func:`~.loader.source_of`).
"""
from __future__ import annotations

import ast
import inspect
import os

from ..errors import ScriptError
from ..pool.dask_cluster import saved_spec
from ..worker import func_name
from .loader import source_of
from .model import (IMAP_DEFAULTS, NODE_DEFAULTS, NodeDesc, PipelineDescription, ResourceDesc,
                    ScriptSource)
from .portable import check_portable
from .sources import Context, is_literal
from .writer import render, write_text

__all__ = ["describe", "script", "save"]


def _node(piper, ctx: Context, resource: str | None) -> NodeDesc:
    worker = piper.worker
    refs = [ctx.ref(f, piper.name) for f in worker.functions]
    args = [[ctx.expr(v, f"argument {i} of piper {piper.name!r}", piper.name)
             for i, v in enumerate(a)] for a in worker.args]
    kwargs = [{k: ctx.expr(v, f"keyword {k!r} of piper {piper.name!r}", piper.name)
               for k, v in kw.items()} for kw in worker.kwargs]
    default_name = "_".join(func_name(f) for f in worker.functions)
    options = dict(NODE_DEFAULTS)
    for key in NODE_DEFAULTS:
        if key not in ("parallel", "worker_name"):
            options[key] = getattr(piper, key)
    options["parallel"] = resource
    options["worker_name"] = None if worker.name == default_name else worker.name
    for key in ("branch", "timeout"):
        if not is_literal(options[key]):
            raise ScriptError(f"cannot save piper {piper.name!r}: {key}={options[key]!r} is "
                              "not a literal")
    return NodeDesc(name=piper.name, functions=refs, args=args, kwargs=kwargs, options=options)


def _edges(plumber) -> list[tuple[str, str]]:
    """All edges, ordered so that paths come out as chains (``a -> b -> c`` reads better)."""
    seen: set = set()
    out: list[tuple[str, str]] = []
    for p in plumber.postorder():
        for c in plumber.children_of(p):
            u, v = p, c
            while (u, v) not in seen:
                seen.add((u, v))
                out.append((u.name, v.name))
                nxt = [w for w in plumber.children_of(v) if (v, w) not in seen]
                if not nxt:
                    break
                u, v = v, nxt[0]
    return out


def describe(plumber, inputs: list[str] | None = None,
             layout: dict | None = None) -> PipelineDescription:
    """Describe a live Plumber.

    Args:
        plumber: the pipeline.
        inputs: INPUTS as expression source text (``["range(100)"]``); defaults
            to ``plumber.inputs_source``.
        layout: editor metadata; defaults to ``plumber.layout`` or ``{}``.

    Raises:
        ScriptError: for something that cannot be written (the message names
            the piper and the function or value).
    """
    if inputs is None:
        inputs = plumber.inputs_source
    if layout is None:
        layout = plumber.layout or {}
    if not isinstance(layout, dict) or not is_literal(layout):
        raise ScriptError(f"cannot save the layout: it must be a dict of literals (got "
                          f"{type(layout).__name__})")
    if inputs is not None:
        inputs = [str(i) for i in inputs]
        for text in inputs:
            try:
                ast.parse(text, mode="eval")
            except SyntaxError as exc:
                raise ScriptError(f"cannot save INPUTS: {text!r} is not a Python expression "
                                  f"({exc.msg})") from None
    source = source_of(plumber) or ScriptSource()
    preamble = source.preamble
    ctx = Context(preamble)
    modules = set()
    for piper in plumber.pipers:
        for f in piper.worker.functions:
            ctx.node_funcs.update({id(f), id(inspect.unwrap(f))})
            modules.add(getattr(f, "__module__", None))  # a callable object may have none
    check_portable(m for m in modules if isinstance(m, str))  # one subprocess at most
    resources: list[ResourceDesc] = []
    by_id: dict[int, str] = {}
    nodes: list[NodeDesc] = []
    for piper in plumber.pipers:
        imap, res = piper.parallel, None
        if imap:
            if id(imap) not in by_id:
                resources.append(_resource(imap, resources))
                by_id[id(imap)] = resources[-1].name
            res = by_id[id(imap)]
        nodes.append(_node(piper, ctx, res))
    extra = ctx.extra_preamble()
    if preamble.strip() and extra:
        preamble = preamble.rstrip("\n") + "\n\n\n" + extra
    elif extra:
        preamble = extra
    return PipelineDescription(nodes=nodes, resources=resources, edges=_edges(plumber),
                               inputs_source=inputs, layout=layout, preamble=preamble,
                               docstring=source.docstring)


def _resource(imap, resources: list[ResourceDesc]) -> ResourceDesc:
    """The description of an IMap not described yet (its non-default options)."""
    name = imap.name or f"imap_{len(resources)}"
    if any(r.name == name for r in resources):
        raise ScriptError(f"two different IMaps are both named {name!r}; IMap names "
                          "must be unique to be saved")
    options = {}
    for key, default in IMAP_DEFAULTS.items():
        value = getattr(imap, key)
        if key == "dask":   # a cluster or client is saved as text: "local:N" or its address
            value = saved_spec(value)
        if value != default:
            if not is_literal(value):
                raise ScriptError(f"cannot save IMap {name!r}: {key}={value!r} is "
                                  "not a literal")
            options[key] = value
    return ResourceDesc(name=name, options=options)


def script(plumber, inputs: list[str] | None = None, layout: dict | None = None) -> str:
    """The script text of ``plumber``: ``render(describe(plumber, inputs, layout))``."""
    return render(describe(plumber, inputs, layout))


def save(plumber, path: str | os.PathLike, inputs: list[str] | None = None,
         layout: dict | None = None) -> None:
    """Write ``plumber`` as a script at ``path`` atomically (temp file, then rename)."""
    write_text(path, script(plumber, inputs, layout))
