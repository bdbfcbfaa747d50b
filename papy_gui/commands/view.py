"""View commands: zoom, fit, auto-layout, and the Script tab."""
from __future__ import annotations

from .window import Window

ZOOM_STEP = 1.2


def show_script(app: Window) -> None:
    """The Script tab, with the cursor in its code."""
    app.bottom.select(app.script_view)
    app.script_view.code.focus_set()


def auto_layout(app: Window) -> None:
    """Arrange the nodes left to right (one undo step), then fit them in the view."""
    if app.canvas_ctl.attempt(app.doc.auto_layout):
        app.canvas_view.fit()


def register(app: Window) -> None:
    """The View menu and the fit/layout buttons of the toolbar."""
    add = app.commands.add_command
    add("zoom_in", "View", "Zoom in", lambda: app.canvas_view.zoom(ZOOM_STEP),
        keys=("<Control-plus>", "<Control-equal>"), group=1)
    add("zoom_out", "View", "Zoom out", lambda: app.canvas_view.zoom(1 / ZOOM_STEP),
        keys=("<Control-minus>",), group=1)
    add("fit", "View", "Fit to view", lambda: app.canvas_view.fit(), keys=("<Control-0>",),
        group=1, toolbar="Fit", tip="Fit the pipeline in the view (Ctrl+0)")
    add("layout", "View", "Auto-layout", lambda: auto_layout(app), keys=("<Control-l>",),
        group=1, toolbar="Auto-layout", tip="Arrange the nodes left to right (Ctrl+L)")
    add("script", "View", "Script (imports and helpers)", lambda: show_script(app),
        keys=("<Control-e>",), group=2)
