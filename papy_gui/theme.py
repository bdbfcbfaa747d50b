"""The look: a light ttk theme built on "clam", fonts, and icons from assets/.

High-DPI: Tk sizes fonts given in points by ``tk scaling`` (pixels per point,
1.33 at 96 dpi); pixel sizes (tree rows, icons, the canvas) follow
:func:`ui_scale`, and the 32 px icons are used from a scaling of 1.5 up.
"""
from __future__ import annotations

import logging
import tkinter as tk
from pathlib import Path
from tkinter import font as tkfont
from tkinter import ttk

log = logging.getLogger(__name__)
def _assets() -> Path:
    """``assets/`` of a source checkout, else the copy installed as ``papy_assets``."""
    here = Path(__file__).resolve().parent.parent / "assets"
    if (here / "icons").is_dir():
        return here
    try:
        import importlib.util
        spec = importlib.util.find_spec("papy_assets")
        if spec and spec.submodule_search_locations:
            return Path(list(spec.submodule_search_locations)[0])
    except (ImportError, ValueError):
        pass
    return here


ASSETS = _assets()
BG, PANEL, ACCENT, TEXT, MUTED = "#eef1f5", "#f7f8fa", "#1f78d1", "#1d2935", "#5a6470"


BASE_SCALING = 96 / 72  # tk scaling at 96 dpi
LARGE_ICONS_FROM = 1.5  # tk scaling from which the 32 px icons are used


def tk_scaling(root: tk.Misc) -> float:
    return float(root.tk.call("tk", "scaling"))


def ui_scale(root: tk.Misc) -> float:
    """How much larger than at 96 dpi pixel-sized things should be (>= 1)."""
    return max(1.0, tk_scaling(root) / BASE_SCALING)


def icon_size(root: tk.Misc) -> int:
    return 32 if tk_scaling(root) >= LARGE_ICONS_FROM else 16


def apply(root: tk.Tk) -> ttk.Style:
    style = ttk.Style(root)
    if "clam" in style.theme_names():
        style.theme_use("clam")
    base = tkfont.nametofont("TkDefaultFont")
    base.configure(size=10)
    for name in ("TkTextFont", "TkMenuFont", "TkHeadingFont"):
        tkfont.nametofont(name).configure(size=10)
    root.configure(background=BG)
    style.configure(".", background=BG, foreground=TEXT)
    style.configure("TFrame", background=BG)
    style.configure("Panel.TFrame", background=PANEL)
    style.configure("Toolbar.TFrame", background="#e3e7ed")
    style.configure("TLabel", background=BG, foreground=TEXT)
    style.configure("Heading.TLabel", font=(base.actual("family"), 10, "bold"))
    style.configure("Hint.TLabel", foreground=MUTED)
    style.configure("Error.TLabel", foreground="#c0392b", font=(base.actual("family"), 9))
    style.configure("Status.TLabel", background="#e3e7ed", padding=(8, 2))
    style.configure("Status.TFrame", background="#e3e7ed")
    # "." gives every element the window's background, the progress bar's too
    style.configure("Horizontal.TProgressbar", background="#3d8bd9", troughcolor="#d5dae0",
                    bordercolor="#c3cad3", lightcolor="#6aa7e6", darkcolor="#2f6fb0")
    style.configure("StatusError.TLabel", background="#fde2e2", foreground="#a11d1d", padding=(8, 2))
    style.configure("Toolbutton", padding=(8, 4), background="#e3e7ed")
    style.map("Toolbutton", background=[("active", "#d3dae3"), ("disabled", "#e3e7ed")])
    ui = ui_scale(root)
    style.configure("Treeview", rowheight=round(22 * ui), background="white",
                    fieldbackground="white")
    style.configure("Treeview.Heading", font=(base.actual("family"), 9, "bold"))
    style.configure("TNotebook.Tab", padding=(12, 4))
    return style


def load_icon(root: tk.Misc, names: list[str]) -> tk.PhotoImage | None:
    """The first PNG of ``assets/`` matching one of ``names`` (stems), or None."""
    for stem in names:
        path = next((d / f"{stem}.png" for d in (ASSETS / "icons", ASSETS)
                     if (d / f"{stem}.png").exists()), None)
        if path is not None:
            try:
                return tk.PhotoImage(master=root, file=str(path))
            except tk.TclError as exc:
                log.debug("icon %s unreadable: %s", path, exc)
    return None


def toolbar_icon(root: tk.Misc, action: str) -> tk.PhotoImage | None:
    size = icon_size(root)
    stem = {"fit": "zoom-fit"}.get(action, action)
    return load_icon(root, [f"{stem}-{size}", f"{stem}-16"])


def category_icons(root: tk.Misc) -> dict[str, tk.PhotoImage]:
    icons = {}
    size = icon_size(root)
    for path in sorted((ASSETS / "icons").glob("node-*-16.png")):
        name = path.stem[len("node-"):-len("-16")]
        img = load_icon(root, [f"node-{name}-{size}", path.stem])
        if img is not None:
            icons[name] = img
    return icons
