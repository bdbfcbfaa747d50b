"""The window's size, position and pane splits, remembered between sessions.

Saved on close to ``window.json`` in the state directory
(:func:`papy_gui.model.files.save_window_state`) and applied at start-up:
the geometry at once (kept on the screen), the splits once the panes have
their size (``App._on_first_layout``).
"""
from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from .model import files

if TYPE_CHECKING:
    from .app import App

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


def restore_geometry(app: "App") -> dict:
    """Apply the saved size and position; returns the saved state (for the splits)."""
    state = files.load_window_state()
    root = app.root
    geometry = fit_geometry(str(state.get("geometry", "")), root.winfo_screenwidth(),
                            root.winfo_screenheight())
    if geometry:
        root.geometry(geometry)
    return state


def restore_splits(app: "App", state: dict) -> bool:
    """Apply the saved pane splits; False if there were none."""
    h, v = state.get("hpane"), state.get("vpane")
    if not (isinstance(h, list) and len(h) == 2 and isinstance(v, list) and len(v) == 1):
        return False
    try:
        app.hpane.sashpos(0, int(h[0]))
        app.hpane.sashpos(1, int(h[1]))
        app.vpane.sashpos(0, int(v[0]))
    except (ValueError, TypeError) as exc:
        log.debug("saved pane splits unusable: %s", exc)
        return False
    return True


def capture(app: "App") -> dict:
    root = app.root
    return {"geometry": root.geometry(),
            "hpane": [app.hpane.sashpos(0), app.hpane.sashpos(1)],
            "vpane": [app.vpane.sashpos(0)]}


def save(app: "App") -> None:
    files.save_window_state(capture(app))
