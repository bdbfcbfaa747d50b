"""Tooltips on the canvas: what a port is for, what an error badge counts."""
from __future__ import annotations

import tkinter as tk

from ..model.run_state import RunState
from .tooltip import Tooltips

PORT_IN = "input port: drop a pipe here from another node's output ▸"
PORT_OUT = ("output port: drag to another node's input ● to connect, or onto empty canvas "
            "to add one")


class CanvasTips:
    """The tips of the canvas items tagged ``port_in``, ``port_out`` and ``badge``."""

    def __init__(self, tips: Tooltips, canvas: tk.Canvas, run_state: RunState) -> None:
        self.run_state = run_state
        tips.add_canvas(canvas, "port_in", lambda tags: PORT_IN)
        tips.add_canvas(canvas, "port_out", lambda tags: PORT_OUT)
        tips.add_canvas(canvas, "badge", self.badge_tip)

    def badge_tip(self, tags: tuple[str, ...]) -> str:
        """The tooltip of the error badge of the node named in ``tags``."""
        name = next((t[2:] for t in tags if t.startswith("n:")), "")
        errors = self.run_state.pipers.get(name, {}).get("errors", 0)
        failed = self.run_state.failure_at(name)
        if failed is not None:   # the run's own failure, not an item's
            return (f"the run failed at {name}: {failed['exc_type']}: {failed['message']} "
                    "(the Log tab has the traceback)")
        return (f"{errors} item(s) of {name} became errors (placeholders); click to list "
                "them in the Errors tab (traceback, inbox, Debug in console)")
