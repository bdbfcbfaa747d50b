"""The quick-add popup: type to filter node types, Enter or double click adds one."""
from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from tkinter import ttk

from ..model.palette import NodeType, Palette


class QuickAdd:
    def __init__(self, master: tk.Misc, palette: Palette,
                 choose: Callable[[NodeType], object], title: str = "Add node",
                 accept: Callable[[NodeType], bool] | None = None) -> None:
        self.palette = palette
        self.accept = accept  # offer only the types it accepts (e.g. balance-compatible)
        self._choose = choose
        self.top = tk.Toplevel(master)
        self.top.title(title)
        self.top.transient(master.winfo_toplevel())
        frame = ttk.Frame(self.top, padding=6)
        frame.pack(fill="both", expand=True)
        ttk.Label(frame, text=title).pack(anchor="w")
        self.var = tk.StringVar()
        self.entry = ttk.Entry(frame, textvariable=self.var, width=34)
        self.entry.pack(fill="x", pady=(2, 4))
        self.listbox = tk.Listbox(frame, height=10, activestyle="dotbox", exportselection=False)
        self.listbox.pack(fill="both", expand=True)
        self.types: list[NodeType] = []
        self.var.trace_add("write", lambda *_: self.refresh())
        for w in (self.entry, self.listbox):
            w.bind("<Return>", lambda e: self.choose_current())
            w.bind("<Escape>", lambda e: self.close())
        self.entry.bind("<Down>", lambda e: self._move(1))
        self.entry.bind("<Up>", lambda e: self._move(-1))
        self.listbox.bind("<Double-Button-1>", lambda e: self.choose_current())
        self.refresh()
        self.entry.focus_set()

    def place(self, x: int, y: int) -> None:
        self.top.geometry(f"+{x}+{y}")

    def refresh(self) -> None:
        self.types = [t for t in self.palette.search(self.var.get())
                      if self.accept is None or self.accept(t)]
        self.listbox.delete(0, "end")
        for t in self.types:
            self.listbox.insert("end", f"{t.name}   ({t.category})")
        if self.types:
            self.listbox.selection_set(0)

    def _move(self, step: int) -> str:
        sel = self.listbox.curselection()
        i = min(max(0, (sel[0] if sel else -1) + step), len(self.types) - 1)
        self.listbox.selection_clear(0, "end")
        self.listbox.selection_set(i)
        self.listbox.see(i)
        return "break"

    def choose_current(self) -> None:
        sel = self.listbox.curselection()
        if sel and self.types:
            t = self.types[sel[0]]
            self.close()
            self._choose(t)

    def close(self) -> None:
        try:
            self.top.destroy()
        except tk.TclError:
            pass
