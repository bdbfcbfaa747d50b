"""The window's size, position and pane splits, remembered between sessions.

Saved on close to ``window.json`` in the state directory
(:func:`papy_gui.model.files.save_window_state`) and applied at start-up:
the geometry at once (kept on the screen), the splits once the panes have
their size (``App._on_first_layout``). The splits are those of ``hpane``
(palette | canvas | properties) and ``vpane`` (above | the bottom notebook).
"""
from __future__ import annotations

import logging
import re
import tkinter as tk
from tkinter import ttk

from .model import files

log = logging.getLogger(__name__)
_GEOMETRY = re.compile(r"^(\d+)x(\d+)([+-]-?\d+)([+-]-?\d+)$")


def fit_geometry(geometry: str, screen_w: int, screen_h: int,
                 min_w: int = 900, min_h: int = 600) -> str | None:
    """``"WxH+X+Y"`` made to fit a screen of ``screen_w`` x ``screen_h`` (None if unreadable)."""
    m = _GEOMETRY.match(geometry or "")
    if not m:
        return None
    w = min(max(int(m[1]), min_w), screen_w)
    h = min(max(int(m[2]), min_h), screen_h)
    x = min(max(int(m[3]), 0), max(0, screen_w - w))
    y = min(max(int(m[4]), 0), max(0, screen_h - h))
    return f"{w}x{h}+{x}+{y}"


def restore_geometry(root: tk.Tk) -> dict:
    """Apply the saved size and position; returns the saved state (for the splits)."""
    state = files.load_window_state()
    geometry = fit_geometry(str(state.get("geometry", "")), root.winfo_screenwidth(),
                            root.winfo_screenheight())
    if geometry:
        root.geometry(geometry)
    return state


def restore_splits(hpane: ttk.PanedWindow, vpane: ttk.PanedWindow, state: dict) -> bool:
    """Apply the saved pane splits; False if there were none."""
    h, v = state.get("hpane"), state.get("vpane")
    if not (isinstance(h, list) and len(h) == 2 and isinstance(v, list) and len(v) == 1):
        return False
    try:
        hpane.sashpos(0, int(h[0]))
        hpane.sashpos(1, int(h[1]))
        vpane.sashpos(0, int(v[0]))
    except (ValueError, TypeError) as exc:
        log.debug("saved pane splits unusable: %s", exc)
        return False
    return True


def capture(root: tk.Tk, hpane: ttk.PanedWindow, vpane: ttk.PanedWindow) -> dict:
    return {"geometry": root.geometry(), "hpane": [hpane.sashpos(0), hpane.sashpos(1)],
            "vpane": [vpane.sashpos(0)]}


def save(root: tk.Tk, hpane: ttk.PanedWindow, vpane: ttk.PanedWindow) -> None:
    files.save_window_state(capture(root, hpane, vpane))
