"""The property panel: the selected node's options and the shared resources.

Rebuilt when the selection changes; refreshed in place after other edits so
that typing and tabbing between fields is not interrupted. Every change is a
Document edit; refusals appear under the field. A function's source is
applied by "Apply source" (the status line says how it went), and when the
selection moves to another node with unapplied source text, that text is
applied -- or, if it does not parse, the user is asked whether to discard
it or keep editing (the selection then stays).
"""
from __future__ import annotations

import logging
import tkinter as tk
from collections.abc import Callable
from tkinter import ttk

from ..model.document import Document
from ..model.events import DocEvent
from ..model.items import format_remote, func_label
from ..model.palette import Palette, ParamInfo
from ..model.params import (bool_state, bool_text, check_value, field_key, field_kind,
                            join_args, spin_start, split_args, values_of, with_value)
from .dialogs import Dialogs
from .form import Form, ScrolledFrame
from .highlight import CodeText

log = logging.getLogger(__name__)
SERIAL = "(serial)"


class PropsView(ttk.Frame):
    """The right-hand panel: a form for the selected node, and the resources."""

    def __init__(self, master: tk.Misc, doc: Document, palette: Palette,
                 message: Callable[[str, bool], None], dialogs: Dialogs) -> None:
        super().__init__(master, padding=(8, 6))
        self.palette = palette
        self.message = message
        self.dialogs = dialogs
        self.doc = doc
        self.node_form: Form | None = None
        self.res_form: Form | None = None
        self._res_shown: str | None = None  # the resource whose form is built
        self.code: CodeText | None = None
        self._code_index = 0
        self._loaded_source = ""  # what the code editor was given: more is unapplied
        self._staying = False     # re-selecting a node whose source was kept
        self._shown: tuple | None = None
        self.title = ttk.Label(self, text="Properties", style="Heading.TLabel")
        self.title.pack(anchor="w")
        res = ttk.Frame(self)
        res.pack(fill="x", side="bottom")
        scroller = self.scroller = ScrolledFrame(self, width=260)
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

    def _on_doc(self, event: DocEvent, data: dict) -> None:
        if event == "selection_changed" and not self._staying and not self._leave_node():
            return
        if event in ("selection_changed", "changed", "node_renamed", "resources_changed",
                     "lock_changed"):
            self.refresh()

    # -- unapplied source ----------------------------------------------------------
    def source_pending(self) -> bool:
        """The code editor holds text that is not the node's source yet."""
        return self.code is not None and self.code.winfo_exists() and \
            self.code.value() != self._loaded_source

    def _leave_node(self) -> bool:
        """The selection moved: apply (or drop) the shown node's unapplied source.
        False when the user keeps editing: the old node is selected again."""
        old = self._shown[0] if self._shown else None
        sel = self.doc.selection
        if old not in self.doc.nodes:  # deleted (or undone): its text goes with it
            return True
        if (len(sel) == 1 and sel[0] == old) or not self.source_pending():
            return True
        if self.commit_pending():
            return True
        self._staying = True
        try:
            self.doc.select([old])
        finally:
            self._staying = False
        return False

    def commit_pending(self) -> bool:
        """Apply unapplied source text; if it is refused, ask whether to discard it.
        True when nothing unapplied is left."""
        if not self.source_pending() or self.apply_source(self._code_index):
            return True
        name = self._shown[0] if self._shown else "?"
        error = self.node_form.error_text("source") if self.node_form else ""
        if self.dialogs.ask_yes_no("Unapplied source", f"The source typed for node {name} "
                                   f"was not applied:\n{error}\n\nDiscard it? (No: keep "
                                   "editing it)"):
            self._loaded_source = self.code.value() if self.code else ""
            self.message(f"discarded the unapplied source of node {name}", False)
            return True
        return False

    def apply_source(self, index: int = 0) -> bool:
        """"Apply source": the code editor's text becomes function ``index``'s
        source (one undo step); the outcome goes to the status line."""
        f, code = self.node_form, self.code
        name = self._shown[0] if self._shown else None
        if f is None or code is None or name not in self.doc.nodes:
            return False
        text = code.value()
        if f.commit("source", lambda: self.doc.set_function_source(name, text, index)):
            self._loaded_source = text
            fname = self.doc.nodes[name].functions[index].name
            self.message(f"applied the source of node {name} (function {fname})", False)
            return True
        self.message(f"source of node {name} not applied: {f.error_text('source')}", True)
        return False

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
            self.scroller.scroll_top()  # each node's form starts with its name
        elif node is not None:
            self._load_node_values(name)
            self._set_title(name)   # the lock comes and goes with runs
        self._refresh_resources()

    def _set_title(self, name: str) -> None:
        locked = " (locked: running)" if self.doc.locked else ""
        self.title.configure(text=f"Node {name}{locked}")

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
        self._set_title(name)
        f = self.node_form = Form(self.body)
        f.pack(fill="both", expand=True)
        doc = self.doc
        cur = lambda: self._shown[0]  # noqa: E731 - the name may change after a rename
        f.entry("name", "Name", name, lambda v: doc.rename_node(cur(), v.strip()))
        for i, func in enumerate(node.functions):
            ntype = self.palette.find_for(func)
            f.heading(f"ƒ {func_label(func)}")
            if ntype is not None and ntype.summary:
                f.note(ntype.summary, span=True)
            if ntype is not None and ntype.params:
                self._param_fields(f, i, ntype.params)
            else:  # no metadata: one free-text field of Python arguments
                f.entry(f"args{i}", "Arguments", "",
                        lambda v, i=i: doc.set_args(cur(), i, *split_args(v)))
            if func.source is not None:
                self.code, self._code_index, self._loaded_source = \
                    CodeText(f, height=8, width=36), i, func.source
                f.custom(self.code, key="source")
                self.code.set(func.source)
                f.button("Apply source", lambda i=i: self.apply_source(i))
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
            f.note(hint)

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
        if self.code is not None and focus is not self.code and not self.source_pending():
            src = node.functions[self._code_index].source or ""
            if self.code.value() != src:  # e.g. undo of a source edit
                self.code.set(src)
            self._loaded_source = src
        put("parallel", node.option("parallel") or SERIAL)
        for key in ("consume", "produce", "spawn"):
            put(key, str(node.option(key)))
        timeout, branch = node.option("timeout"), node.option("branch")
        put("timeout", "" if timeout is None else str(timeout))
        put("branch", "" if branch is None else repr(branch))
        for key in ("ordered", "repeat", "track", "debug"):
            put(key, bool(node.option(key)))
        put("input", self.doc.inputs.get(name, ""))

    def focus_field(self, key: str) -> bool:
        """Put the cursor in field ``key`` of the node form, its text selected
        (False if the form has no such field)."""
        form = self.node_form
        widget = form.widgets.get(key) if form is not None else None
        if not isinstance(widget, ttk.Entry):
            return False
        widget.focus_set()
        widget.select_range(0, "end")
        return True

    def show_error(self, key: str, text: str) -> None:
        """Show ``text`` under field ``key`` of the node form (if it has one)."""
        if self.node_form is not None:
            self.node_form.show_error(key, text)

    def _cmd_choose_files(self) -> None:
        paths = self.dialogs.ask_open_paths("Input files")
        form, name = self.node_form, self._shown[0] if self._shown else None
        if paths and form is not None and name:
            form.commit("input", lambda: self.doc.set_input(name, repr(list(paths))))

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
        shown = self._res_shown
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
        f.entry("dask", "Dask", "", lambda v: doc.set_resource_option(name, "dask", v))
        f.note("a scheduler address (tcp://host:8786) or local:N; Number 0 runs on the "
               "cluster alone")
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
        f.vars["dask"].set(res.option("dask") or "")
        f.vars["ordered"].set(bool(res.option("ordered")))
        f.vars["skip"].set(bool(res.option("skip")))
