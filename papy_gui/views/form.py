"""A two-column form whose fields commit on Return / focus-out and show the
model's refusal right under the field (``EditError.field`` picks the row),
in a frame that scrolls (scrollbar and mouse wheel).

Help and error text wraps to the form's width: the labels' ``wraplength``
follows each ``<Configure>`` of the form, so widening the panel unwraps it."""
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
        self._wrapped: list[tuple[ttk.Label, bool]] = []  # (label, spans both columns)
        self.bind("<Configure>", self._on_configure, add=True)

    def note(self, text: str, span: bool = False) -> ttk.Label:
        """A hint under the previous field (in the value column, or ``span``ning both)."""
        label = ttk.Label(self, text=text, style="Hint.TLabel", justify="left",
                          wraplength=230)
        label.grid(row=self._row, column=0 if span else 1, columnspan=2 if span else 1,
                   sticky="w")
        self._row += 1
        self._wrapped.append((label, span))
        return label

    @property
    def hints(self) -> list[ttk.Label]:
        """The hint labels under fields (in the value column)."""
        return [label for label, span in self._wrapped if not span]

    def _on_configure(self, event: tk.Event) -> None:
        self.rewrap(event.width)

    def rewrap(self, width: int) -> None:
        """Wrap hints and errors to ``width`` pixels of form (the value column's part)."""
        if width < 50:
            return
        bbox = self.grid_bbox(1, 0)
        value_x = bbox[0] if bbox and bbox[0] > 0 else width // 3
        for label, span in self._wrapped:
            label.configure(wraplength=max(80, (width if span else width - value_x) - 6))

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
        self._wrapped.append((err, True))
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
            self._wrapped.append((err, True))
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
        # The wheel scrolls the panel wherever the pointer is over it: one global
        # binding per window that checks the pointer's widget is inside this frame
        # (Tk sends wheel events to the widget under the pointer, e.g. an entry).
        for seq in ("<Button-4>", "<Button-5>", "<MouseWheel>"):
            self.bind_all(seq, self._on_wheel, add=True)

    def _on_wheel(self, event: tk.Event) -> str | None:
        widget, me = event.widget, str(self)
        if not isinstance(widget, tk.Misc) or not (str(widget) == me
                                                  or str(widget).startswith(me + ".")):
            return None
        if isinstance(widget, (tk.Text, tk.Listbox)):
            return None  # scrolls itself (a code editor in the form)
        if event.num == 4 or event.delta > 0:
            step = -1
        elif event.num == 5 or event.delta < 0:
            step = 1
        else:
            return None
        if self.canvas.yview() != (0.0, 1.0):  # nothing to scroll when it all fits
            self.canvas.yview_scroll(step * 2, "units")
        return "break"

    def scroll_top(self) -> None:
        self.canvas.yview_moveto(0)
