"""The palette: node types by category, a search box, and the selected type's docs.

Drag an entry onto the canvas (or double click it) to add a node; the drop is
handed to ``drop(ntype, x_root, y_root)``, which the app points at the canvas.
"""
from __future__ import annotations

import logging
import tkinter as tk
from collections.abc import Callable
from tkinter import ttk

from ..model.palette import NodeType, Palette

log = logging.getLogger(__name__)


class PaletteView(ttk.Frame):
    def __init__(self, master: tk.Misc, palette: Palette,
                 drop: Callable[[NodeType, int | None, int | None], object],
                 icons: dict | None = None) -> None:
        super().__init__(master, padding=(6, 6, 2, 6))
        self.palette = palette
        self.drop = drop
        self.icons = icons or {}
        ttk.Label(self, text="Nodes", style="Heading.TLabel").pack(anchor="w")
        self.search_var = tk.StringVar()
        self.search = ttk.Entry(self, textvariable=self.search_var, width=24)
        self.search.pack(fill="x", pady=(4, 4))
        self.search_var.trace_add("write", lambda *_: self.refresh())
        box = ttk.Frame(self)  # the tree and its scrollbar: there are more nodes than rows
        box.pack(fill="both", expand=True)
        self.tree = ttk.Treeview(box, show="tree", selectmode="browse", height=14)
        self.tree.column("#0", width=200)
        bar = ttk.Scrollbar(box, orient="vertical", command=self.tree.yview)
        self.tree.configure(yscrollcommand=bar.set)
        bar.pack(side="right", fill="y")
        self.tree.pack(side="left", fill="both", expand=True)
        self.doc_text = tk.Text(self, height=7, width=28, wrap="word", relief="flat",
                                background="#f6f7f9", padx=6, pady=4, font="TkDefaultFont")
        self.doc_text.pack(fill="x", pady=(6, 0))
        self.doc_text.configure(state="disabled")
        self._items: dict[str, NodeType] = {}
        self._dragging: NodeType | None = None
        self.tree.bind("<<TreeviewSelect>>", self._on_select)
        self.tree.bind("<ButtonPress-1>", self._on_press)
        self.tree.bind("<B1-Motion>", self._on_motion)
        self.tree.bind("<ButtonRelease-1>", self._on_release)
        self.tree.bind("<Double-Button-1>", self._on_double)
        self.tree.bind("<Return>", self._on_double)
        self.tree.tag_configure("empty", foreground="#5a6470")
        self.refresh()

    def refresh(self) -> None:
        self.tree.delete(*self.tree.get_children())
        self._items.clear()
        text = self.search_var.get()
        for cat, types in self.palette.categories(text).items():
            icon = self.icons.get(types[0].icon) if types else None
            kw = {"image": icon} if icon else {}
            parent = self.tree.insert("", "end", text=f" {cat}", open=True, **kw)
            for t in types:
                iid = self.tree.insert(parent, "end", text=f" {t.name}")
                self._items[iid] = t
        first = next(iter(self._items), None)
        if text and first:
            self.tree.selection_set(first)
            self.tree.see(first)
        elif text.strip():  # say so, rather than show an empty list and stale docs
            self.tree.insert("", "end", text=f" No node matches {text.strip()!r}",
                             tags=("empty",))
            self.show_doc(None)
            self._write_doc("Try a shorter word, or a category (text, files, core). "
                            "Names, categories and descriptions are searched.")

    def visible_names(self) -> list[str]:
        return [t.name for t in self._items.values()]

    def item_of(self, name: str) -> str | None:
        for iid, t in self._items.items():
            if t.name == name:
                return iid
        return None

    def _on_select(self, _event=None) -> None:
        sel = self.tree.selection()
        t = self._items.get(sel[0]) if sel else None
        self.show_doc(t)

    def _write_doc(self, text: str) -> None:
        self.doc_text.configure(state="normal")
        self.doc_text.insert("end", text)
        self.doc_text.configure(state="disabled")

    def show_doc(self, t: NodeType | None) -> None:
        self.doc_text.configure(state="normal")
        self.doc_text.delete("1.0", "end")
        if t is not None:
            self.doc_text.insert("end", t.name + "\n", ("title",))
            self.doc_text.insert("end", (t.description.strip() or "(no description)") + "\n")
            for p in t.params:
                default = "required" if p.required else f"= {p.default}"
                self.doc_text.insert("end", f"• {p.name}: {p.type} {default}\n")
        self.doc_text.tag_configure("title", font=("TkDefaultFont", 10, "bold"))
        self.doc_text.configure(state="disabled")

    def _on_press(self, event: tk.Event) -> None:
        iid = self.tree.identify_row(event.y)
        self._dragging = self._items.get(iid)

    def _on_motion(self, _event: tk.Event) -> None:
        if self._dragging is not None:
            self.tree.configure(cursor="plus")

    def _on_release(self, event: tk.Event) -> None:
        t, self._dragging = self._dragging, None
        self.tree.configure(cursor="")
        if t is None:
            return
        target = self.winfo_containing(event.x_root, event.y_root)
        if target is not None and target is not self.tree:
            self.drop(t, event.x_root, event.y_root)

    def _on_double(self, event: tk.Event) -> str:
        sel = self.tree.selection()
        t = self._items.get(sel[0]) if sel else None
        if t is not None:
            self.drop(t, None, None)
        return "break"
