"""A two-column form whose fields commit on Return / focus-out and show the
model's refusal right under the field (``EditError.field`` picks the row)."""
from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from tkinter import ttk

from ..model.errors import EditError


class Form(ttk.Frame):
    def __init__(self, master: tk.Misc, **kw) -> None:
        super().__init__(master, **kw)
        self.columnconfigure(1, weight=1)
        self.vars: dict[str, tk.Variable] = {}
        self.widgets: dict[str, tk.Widget] = {}
        self.errors: dict[str, ttk.Label] = {}
        self._row = 0

    def destroy(self) -> None:
        """Destroy the widgets and drop the Tk variables here, on the Tk thread.

        Form and widgets reference each other, so without this the variables
        would be freed by the cyclic GC -- on whatever thread runs it, maybe an
        engine thread, and ``Variable.__del__`` calls Tcl.
        """
        super().destroy()
        self.vars.clear()
        self.widgets.clear()
        self.errors.clear()

    def heading(self, text: str) -> None:
        ttk.Label(self, text=text, style="Heading.TLabel").grid(
            row=self._row, column=0, columnspan=2, sticky="w", pady=(8, 2))
        self._row += 1

    def _place(self, key: str, label: str, widget: tk.Widget, tip: str = "") -> None:
        ttk.Label(self, text=label).grid(row=self._row, column=0, sticky="w", padx=(0, 6), pady=1)
        widget.grid(row=self._row, column=1, sticky="ew", pady=1)
        self.widgets[key] = widget
        err = ttk.Label(self, text="", style="Error.TLabel", wraplength=230, justify="left")
        err.grid(row=self._row + 1, column=0, columnspan=2, sticky="w")
        err.grid_remove()
        self.errors[key] = err
        self._row += 2

    def entry(self, key: str, label: str, value: str, commit: Callable[[str], None]) -> ttk.Entry:
        var = tk.StringVar(value=value)
        w = ttk.Entry(self, textvariable=var)
        self.vars[key] = var
        w.bind("<Return>", lambda e: self.commit(key, lambda: commit(var.get())))
        w.bind("<FocusOut>", lambda e: self.commit(key, lambda: commit(var.get())))
        self._place(key, label, w)
        return w

    def combo(self, key: str, label: str, value: str, values: list[str],
              commit: Callable[[str], None], readonly: bool = True) -> ttk.Combobox:
        var = tk.StringVar(value=value)
        w = ttk.Combobox(self, textvariable=var, values=values,
                         state="readonly" if readonly else "normal")
        self.vars[key] = var
        w.bind("<<ComboboxSelected>>", lambda e: self.commit(key, lambda: commit(var.get())))
        if not readonly:
            w.bind("<Return>", lambda e: self.commit(key, lambda: commit(var.get())))
            w.bind("<FocusOut>", lambda e: self.commit(key, lambda: commit(var.get())))
        self._place(key, label, w)
        return w

    def spin(self, key: str, label: str, value: int | str, commit: Callable[[str], None],
             from_: int = 1, to: int = 10_000) -> ttk.Spinbox:
        var = tk.StringVar(value=str(value))
        w = ttk.Spinbox(self, textvariable=var, from_=from_, to=to, increment=1, width=8,
                        command=lambda: self.commit(key, lambda: commit(var.get())))
        self.vars[key] = var
        w.bind("<Return>", lambda e: self.commit(key, lambda: commit(var.get())))
        w.bind("<FocusOut>", lambda e: self.commit(key, lambda: commit(var.get())))
        self._place(key, label, w)
        return w

    def check(self, key: str, label: str, value: bool, commit: Callable[[bool], None]) -> ttk.Checkbutton:
        var = tk.BooleanVar(value=value)
        w = ttk.Checkbutton(self, variable=var,
                            command=lambda: self.commit(key, lambda: commit(var.get())))
        self.vars[key] = var
        self._place(key, label, w)
        return w

    def button(self, text: str, command: Callable[[], None]) -> ttk.Button:
        w = ttk.Button(self, text=text, command=command)
        w.grid(row=self._row, column=1, sticky="w", pady=2)
        self._row += 1
        return w

    def custom(self, widget: tk.Widget, key: str | None = None) -> None:
        widget.grid(row=self._row, column=0, columnspan=2, sticky="nsew", pady=2)
        self.rowconfigure(self._row, weight=1)
        self._row += 1
        if key:
            err = ttk.Label(self, text="", style="Error.TLabel", wraplength=230)
            err.grid(row=self._row, column=0, columnspan=2, sticky="w")
            err.grid_remove()
            self.errors[key] = err
            self._row += 1

    def commit(self, key: str, action: Callable[[], None]) -> bool:
        """Run ``action``; an EditError is shown under its field and returns False."""
        try:
            action()
        except EditError as exc:
            self.show_error(exc.field if exc.field in self.errors else key, str(exc))
            return False
        self.show_error(key, "")
        return True

    def show_error(self, key: str, text: str) -> None:
        label = self.errors.get(key)
        if label is None:
            return
        label.configure(text=text)
        if text:
            label.grid()
        else:
            label.grid_remove()

    def error_text(self, key: str) -> str:
        label = self.errors.get(key)
        return str(label.cget("text")) if label is not None else ""


class ScrolledFrame(ttk.Frame):
    """A frame whose ``inner`` child scrolls vertically (for long forms)."""

    def __init__(self, master: tk.Misc, **kw) -> None:
        super().__init__(master, **kw)
        self.canvas = tk.Canvas(self, highlightthickness=0, borderwidth=0,
                                background=ttk.Style(self).lookup("TFrame", "background") or None)
        self.bar = ttk.Scrollbar(self, orient="vertical", command=self.canvas.yview)
        self.canvas.configure(yscrollcommand=self.bar.set)
        self.bar.pack(side="right", fill="y")
        self.canvas.pack(side="left", fill="both", expand=True)
        self.inner = ttk.Frame(self.canvas)
        self._win = self.canvas.create_window(0, 0, window=self.inner, anchor="nw")
        self.inner.bind("<Configure>", lambda e: self.canvas.configure(
            scrollregion=self.canvas.bbox("all")))
        self.canvas.bind("<Configure>", lambda e: self.canvas.itemconfigure(self._win, width=e.width))
