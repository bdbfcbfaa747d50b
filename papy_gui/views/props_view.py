"""The property panel: the selected node's options and the shared resources.

Rebuilt when the selection changes; refreshed in place after other edits so
that typing and tabbing between fields is not interrupted. Every change is a
Document edit; refusals appear under the field.
"""
from __future__ import annotations

import ast
import logging
import tkinter as tk
from collections.abc import Callable
from tkinter import filedialog, ttk

from ..model.document import Document
from ..model.errors import EditError
from ..model.items import format_remote
from ..model.palette import Palette, ParamInfo
from ..model.params import (bool_state, bool_text, check_value, field_key, field_kind,
                            spin_start, values_of, with_value)
from .form import Form, ScrolledFrame
from .highlight import CodeText

log = logging.getLogger(__name__)
SERIAL = "(serial)"


def split_args(text: str) -> tuple[list[str], dict[str, str]]:
    """``"1, 'a', k=2"`` -> ``(["1", "'a'"], {"k": "2"})`` keeping each expression's text."""
    text = text.strip()
    if not text:
        return [], {}
    src = f"f({text})"
    try:
        call = ast.parse(src, mode="eval").body
    except SyntaxError as exc:
        raise EditError(f"arguments are not valid Python: {exc.msg} (got {text!r})",
                        field="args") from None
    args = [ast.get_source_segment(src, a) for a in call.args]
    kwargs = {k.arg: ast.get_source_segment(src, k.value) for k in call.keywords if k.arg}
    return args, kwargs


def join_args(args: list[str], kwargs: dict[str, str]) -> str:
    return ", ".join(list(args) + [f"{k}={v}" for k, v in kwargs.items()])


class PropsView(ttk.Frame):
    def __init__(self, master: tk.Misc, doc: Document, palette: Palette,
                 message: Callable[[str, bool], None]) -> None:
        super().__init__(master, padding=(8, 6))
        self.palette = palette
        self.message = message
        self.doc = doc
        self.node_form: Form | None = None
        self.res_form: Form | None = None
        self.code: CodeText | None = None
        self._shown: tuple | None = None
        self.title = ttk.Label(self, text="Properties", style="Heading.TLabel")
        self.title.pack(anchor="w")
        res = ttk.Frame(self)
        res.pack(fill="x", side="bottom")
        scroller = ScrolledFrame(self, width=260)
        scroller.pack(fill="both", expand=True)
        self.body = scroller.inner
        ttk.Label(res, text="Resources (shared pools)", style="Heading.TLabel").pack(anchor="w", pady=(8, 2))
        row = ttk.Frame(res)
        row.pack(fill="x")
        self.res_list = tk.Listbox(row, height=3, width=16, exportselection=False)
        self.res_list.pack(side="left", fill="x", expand=True)
        ttk.Button(row, text="+", width=3, command=self._cmd_add_resource).pack(side="top")
        ttk.Button(row, text="−", width=3, command=self._cmd_remove_resource).pack(side="top")
        self.res_list.bind("<<ListboxSelect>>", self._on_res_select)
        self.res_body = ttk.Frame(res)
        self.res_body.pack(fill="x")
        self.set_document(doc)

    def set_document(self, doc: Document) -> None:
        self.doc.unsubscribe(self._on_doc)
        self.doc = doc
        doc.subscribe(self._on_doc)
        self._shown = None
        self.refresh()

    def _on_doc(self, event: str, data: dict) -> None:
        if event in ("selection_changed", "changed", "reset", "node_renamed", "resources_changed"):
            self.refresh()

    # -- node form ----------------------------------------------------------------
    def refresh(self) -> None:
        sel = self.doc.selection
        name = sel[0] if len(sel) == 1 else None
        node = self.doc.nodes.get(name) if name else None
        key = (name, tuple(f.source is not None for f in node.functions),
               name in self.doc.input_nodes(), tuple(self.doc.resources)) if node else (None,)
        if key != self._shown:
            self._shown = key
            self._build_node_form(name)
        elif node is not None:
            self._load_node_values(name)
        self._refresh_resources()

    def _build_node_form(self, name: str | None) -> None:
        for w in self.body.winfo_children():
            w.destroy()
        self.node_form, self.code = None, None
        if name is None:
            n = len(self.doc.selection)
            text = f"{n} nodes selected" if n else "Select a node to edit it.\nDrag nodes in from the palette."
            ttk.Label(self.body, text=text, style="Hint.TLabel").pack(anchor="w", pady=8)
            self.title.configure(text="Properties")
            return
        node = self.doc.nodes[name]
        self.title.configure(text=f"Node {name}")
        f = self.node_form = Form(self.body)
        f.pack(fill="both", expand=True)
        doc = self.doc
        cur = lambda: self._shown[0]  # noqa: E731 - the name may change after a rename
        f.entry("name", "Name", name, lambda v: doc.rename_node(cur(), v.strip()))
        for i, func in enumerate(node.functions):
            ntype = self.palette.find_for(func)
            f.heading(f"ƒ {func.label}")
            if ntype is not None and ntype.summary:
                ttk.Label(f, text=ntype.summary, style="Hint.TLabel", wraplength=260).grid(
                    row=f._row, column=0, columnspan=2, sticky="w")
                f._row += 1
            if ntype is not None and ntype.params:
                self._param_fields(f, i, ntype.params)
            else:  # no metadata: one free-text field of Python arguments
                f.entry(f"args{i}", "Arguments", "",
                        lambda v, i=i: doc.set_args(cur(), i, *split_args(v)))
            if func.source is not None:
                self.code = CodeText(f, height=8, width=36)
                f.custom(self.code, key="source")
                f.button("Apply source", lambda i=i: f.commit(
                    "source", lambda: doc.set_function_source(cur(), self.code.value(), i)))
        f.heading("Piper options")
        values = [SERIAL] + list(doc.resources)
        f.combo("parallel", "Parallel", SERIAL, values,
                lambda v: doc.set_option(cur(), "parallel", None if v == SERIAL else v))
        for key in ("consume", "produce", "spawn"):
            f.spin(key, key.capitalize(), 1, lambda v, k=key: doc.set_option(cur(), k, v))
        f.entry("timeout", "Timeout (s)", "", lambda v: doc.set_option(cur(), "timeout", v))
        f.entry("branch", "Branch", "", lambda v: doc.set_option(cur(), "branch", v))
        for key in ("ordered", "repeat", "track", "debug"):
            f.check(key, key.capitalize(), False, lambda v, k=key: doc.set_option(cur(), k, v))
        if name in doc.input_nodes():
            f.heading("Input")
            f.entry("input", "Expression", "", lambda v: doc.set_input(cur(), v))
            f.button("Choose files…", self._cmd_choose_files)
        self._load_node_values(name)

    def _param_fields(self, f: Form, i: int, params: tuple[ParamInfo, ...]) -> None:
        """One field per parameter (check box for bool, spin box for int, else an
        entry); its type, default and doc under it."""
        for p in params:
            key, label = f"{i}:{field_key(p.name)}", p.name + (" *" if p.required else "")
            commit = lambda v, p=p: self._set_param(i, params, p, v)  # noqa: E731
            kind = field_kind(p)
            if kind == "bool":
                f.check(key, label, False, lambda v, p=p, c=commit: c(bool_text(p, v)))
            elif kind == "int":
                w = f.spin(key, label, "", commit, from_=-2**31, to=2**31 - 1)
                seed = lambda e, p=p, v=f.vars[key]: v.set(spin_start(p, v.get()))  # noqa: E731
                w.bind("<<Increment>>", seed)  # an arrow on an empty field starts
                w.bind("<<Decrement>>", seed)  # from the default, not from -2**31
            else:
                f.entry(key, label, "", commit)
            hint = f"{p.type}, " + ("required" if p.required else f"default {p.default}")
            if p.doc:
                hint += f" — {p.doc}"
            ttk.Label(f, text=hint, style="Hint.TLabel", wraplength=230, justify="left").grid(
                row=f._row, column=1, sticky="w")
            f._row += 1

    def _set_param(self, i: int, params: tuple[ParamInfo, ...], param: ParamInfo,
                   text: str) -> None:
        name = self._shown[0] if self._shown else None
        if name is None or name not in self.doc.nodes:
            return
        value = check_value(param, text)
        node = self.doc.nodes[name]
        args = node.args[i] if i < len(node.args) else []
        kwargs = node.kwargs[i] if i < len(node.kwargs) else {}
        new_args, new_kwargs = with_value(params, args, kwargs, param.name, value)
        if (new_args, new_kwargs) != (list(args), dict(kwargs)):
            self.doc.set_args(name, i, new_args, new_kwargs)

    def _load_node_values(self, name: str) -> None:
        f, node = self.node_form, self.doc.nodes[name]
        if f is None:
            return
        focus = self.focus_get()

        def put(key: str, value) -> None:
            var = f.vars.get(key)
            if var is not None and f.widgets.get(key) is not focus:
                var.set(value)

        put("name", name)
        for i, func in enumerate(node.functions):
            args = node.args[i] if i < len(node.args) else []
            kwargs = node.kwargs[i] if i < len(node.kwargs) else {}
            put(f"args{i}", join_args(args, kwargs))
            ntype = self.palette.find_for(func)
            if ntype is not None and ntype.params:
                values = values_of(ntype.params, args, kwargs)
                for p in ntype.params:
                    key, text = f"{i}:{field_key(p.name)}", values.get(p.name, "")
                    if field_kind(p) != "bool":
                        put(key, text)
                        continue
                    state = bool_state(p, text)  # None: an expression or unset
                    put(key, bool(state))
                    f.widgets[key].state(["alternate" if state is None else "!alternate"])
        if self.code is not None and focus is not self.code:
            src = next((fn.source for fn in node.functions if fn.source is not None), "")
            if self.code.value() != src:
                self.code.set(src)
        put("parallel", node.option("parallel") or SERIAL)
        for key in ("consume", "produce", "spawn"):
            put(key, str(node.option(key)))
        timeout, branch = node.option("timeout"), node.option("branch")
        put("timeout", "" if timeout is None else str(timeout))
        put("branch", "" if branch is None else repr(branch))
        for key in ("ordered", "repeat", "track", "debug"):
            put(key, bool(node.option(key)))
        put("input", self.doc.inputs.get(name, ""))

    def _cmd_choose_files(self) -> None:
        paths = filedialog.askopenfilenames(parent=self, title="Input files")
        if paths and self._shown and self._shown[0]:
            self.node_form.commit("input", lambda: self.doc.set_input(self._shown[0], repr(list(paths))))

    # -- resources -----------------------------------------------------------------
    def _refresh_resources(self) -> None:
        names = list(self.doc.resources)
        if list(self.res_list.get(0, "end")) != names:
            self.res_list.delete(0, "end")
            for n in names:
                self.res_list.insert("end", n)
        sel = self.doc.selected_resource
        self.res_list.selection_clear(0, "end")
        if sel in names:
            self.res_list.selection_set(names.index(sel))
        shown = getattr(self, "_res_shown", None)
        if sel != shown or (sel and self.res_form is None):
            self._build_res_form(sel)
        elif sel:
            self._load_res_values(sel)

    def _on_res_select(self, _event=None) -> None:
        sel = self.res_list.curselection()
        self.doc.select_resource(self.res_list.get(sel[0]) if sel else None)

    def _cmd_add_resource(self) -> None:
        name = self.doc.add_resource(worker_type="thread", worker_num=2)
        self.doc.select_resource(name)

    def _cmd_remove_resource(self) -> None:
        if self.doc.selected_resource:
            self.doc.remove_resource(self.doc.selected_resource)

    def _build_res_form(self, name: str | None) -> None:
        self._res_shown = name
        for w in self.res_body.winfo_children():
            w.destroy()
        self.res_form = None
        if name is None or name not in self.doc.resources:
            return
        f = self.res_form = Form(self.res_body)
        f.pack(fill="x")
        doc = self.doc
        f.combo("worker_type", "Workers", "", ["process", "thread"],
                lambda v: doc.set_resource_option(name, "worker_type", v))
        f.entry("worker_num", "Number", "", lambda v: doc.set_resource_option(name, "worker_num", v))
        f.entry("worker_remote", "Remote", "", lambda v: doc.set_resource_option(name, "worker_remote", v))
        f.entry("stride", "Stride", "", lambda v: doc.set_resource_option(name, "stride", v))
        f.entry("buffer", "Buffer", "", lambda v: doc.set_resource_option(name, "buffer", v))
        f.check("ordered", "Ordered", True, lambda v: doc.set_resource_option(name, "ordered", v))
        f.check("skip", "Skip", False, lambda v: doc.set_resource_option(name, "skip", v))
        self._load_res_values(name)

    def _load_res_values(self, name: str) -> None:
        res, f = self.doc.resources.get(name), self.res_form
        if res is None or f is None:
            return
        for key in ("worker_num", "stride", "buffer"):
            v = res.option(key)
            f.vars[key].set("" if v is None else str(v))
        f.vars["worker_type"].set(res.option("worker_type"))
        f.vars["worker_remote"].set(format_remote(res.option("worker_remote")))
        f.vars["ordered"].set(bool(res.option("ordered")))
        f.vars["skip"].set(bool(res.option("skip")))
