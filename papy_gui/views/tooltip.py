"""Tooltips: a small window shown while the pointer rests on a widget or a canvas item.

After IDLE's ``tooltip.Hovertip``: ``<Enter>`` schedules the tip (``after``),
``<Leave>`` or a click cancels or hides it. One :class:`Tooltips` per window
shows one tip at a time and cancels its pending ``after`` in :meth:`close`.
"""
from __future__ import annotations

import tkinter as tk
from collections.abc import Callable

DELAY_MS = 500


class Tooltips:
    """Tips for the widgets and canvas items of one window."""

    def __init__(self, root: tk.Misc, delay_ms: int = DELAY_MS) -> None:
        self.root = root
        self.delay_ms = delay_ms
        self.tip: tk.Toplevel | None = None
        self.text = ""  # the tip shown (or about to be), for tests and screenshots
        self._after: str | None = None

    def add(self, widget: tk.Misc, text: str | Callable[[], str]) -> None:
        """Show ``text`` (or what it returns) while the pointer is on ``widget``."""
        get = text if callable(text) else (lambda: text)
        widget.bind("<Enter>", lambda e: self.schedule(get(), e.x_root, e.y_root), add=True)
        widget.bind("<Leave>", lambda e: self.hide(), add=True)
        widget.bind("<ButtonPress>", lambda e: self.hide(), add=True)

    def add_canvas(self, canvas: tk.Canvas, tag: str,
                   text: Callable[[tuple[str, ...]], str]) -> None:
        """Show ``text(tags of the item)`` while the pointer is on an item tagged ``tag``."""
        def enter(event: tk.Event) -> None:
            tags = canvas.gettags("current")
            if tags:
                self.schedule(text(tags), event.x_root, event.y_root)
        canvas.tag_bind(tag, "<Enter>", enter)
        canvas.tag_bind(tag, "<Leave>", lambda e: self.hide())

    def schedule(self, text: str, x_root: int, y_root: int) -> None:
        self.hide()
        if text:
            self.text = text
            self._after = self.root.after(self.delay_ms, self.show, text, x_root, y_root)

    def show(self, text: str, x_root: int, y_root: int) -> None:
        """Show ``text`` near screen point (x_root, y_root) now."""
        self._after = None
        self.hide()
        self.text = text
        tip = self.tip = tk.Toplevel(self.root)
        tip.wm_overrideredirect(True)
        tip.wm_geometry(f"+{x_root + 14}+{y_root + 18}")
        tk.Label(tip, text=text, justify="left", background="#fffbe6", foreground="#1d2935",
                 relief="solid", borderwidth=1, padx=6, pady=3, wraplength=360).pack()

    def hide(self) -> None:
        if self._after is not None:
            self.root.after_cancel(self._after)
            self._after = None
        if self.tip is not None:
            try:
                self.tip.destroy()
            except tk.TclError:
                pass
            self.tip = None

    def close(self) -> None:
        self.hide()
