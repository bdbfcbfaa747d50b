"""Scrollbars for the pipeline canvas.

The canvas places its drawing by its own transform (``CanvasView.scale``,
``ox``, ``oy``; zoom redraws), not by Tk's ``scrollregion``, so the bars are
computed here: the scrolled area is the drawing's bounding box (plus a
margin) joined with the visible area, and moving a bar pans the view.
Updated on view changes only (redraw, pan, zoom, fit, node moves), never on
a run's statistics tick.
"""
from __future__ import annotations

import tkinter as tk
from tkinter import ttk

from .canvas_view import NODE_H, NODE_W, CanvasView

MARGIN = 8  # pixels of empty canvas kept around the drawing (as CanvasView.clamp)
UNIT = 40    # pixels per arrow click


class CanvasScroll:
    def __init__(self, view: CanvasView, xbar: ttk.Scrollbar, ybar: ttk.Scrollbar) -> None:
        self.view = view
        self.xbar, self.ybar = xbar, ybar
        xbar.configure(command=lambda *a: self._scroll(0, *a))
        ybar.configure(command=lambda *a: self._scroll(1, *a))
        view.on_view_changed.append(self.update)

    def _extent(self, axis: int) -> tuple[float, float, float]:
        """(start, end) of the scrolled area in canvas pixels, and the view size."""
        c, view = self.view.canvas, self.view
        size = float(c.winfo_width() if axis == 0 else c.winfo_height())
        nodes = view.doc.nodes.values()
        if not nodes:
            return 0.0, size, size
        lo = min(n.x if axis == 0 else n.y for n in nodes)
        hi = max(n.x if axis == 0 else n.y for n in nodes) + (NODE_W if axis == 0 else NODE_H)
        a = lo * view.scale + (view.ox if axis == 0 else view.oy) - MARGIN
        b = hi * view.scale + (view.ox if axis == 0 else view.oy) + MARGIN
        return min(a, 0.0), max(b, size), size

    def fractions(self, axis: int) -> tuple[float, float]:
        """The visible part of the scrolled area, as the bar shows it."""
        start, end, size = self._extent(axis)
        total = max(1.0, end - start)
        return max(0.0, -start / total), min(1.0, (size - start) / total)

    def update(self) -> None:
        self.xbar.set(*self.fractions(0))
        self.ybar.set(*self.fractions(1))

    def _scroll(self, axis: int, op: str, *args: str) -> None:
        start, end, size = self._extent(axis)
        if op == "moveto":
            shift = -(start + float(args[0]) * (end - start))
        elif op == "scroll":
            step = UNIT if args[1] == "units" else size * 0.9
            shift = -int(args[0]) * step
        else:
            return
        # no further than the drawing's ends
        shift = max(min(shift, -start), size - end)
        if shift:
            self.view.pan(shift, 0) if axis == 0 else self.view.pan(0, shift)


def scrolled_canvas(master: tk.Misc) -> tuple[ttk.Frame, tk.Canvas, ttk.Scrollbar, ttk.Scrollbar]:
    """A frame holding the pipeline canvas and its two scrollbars."""
    box = ttk.Frame(master)
    canvas = tk.Canvas(box, background="#fafbfc", highlightthickness=0, takefocus=True)
    ybar = ttk.Scrollbar(box, orient="vertical")
    xbar = ttk.Scrollbar(box, orient="horizontal")
    canvas.grid(row=0, column=0, sticky="nsew")
    ybar.grid(row=0, column=1, sticky="ns")
    xbar.grid(row=1, column=0, sticky="ew")
    box.rowconfigure(0, weight=1)
    box.columnconfigure(0, weight=1)
    return box, canvas, xbar, ybar
