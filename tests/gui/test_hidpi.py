"""High-DPI: with ``tk scaling 2.0`` the window picks the 32 px icons and scales
pixel sizes (tree rows, canvas zoom and text); at 96 dpi it keeps the 16 px ones."""
from __future__ import annotations

import os
import tkinter as tk
from tkinter import ttk

import pytest

from guitools import pump
from papy_gui import theme
from papy_engine.script import FuncRef as Func

pytestmark = [pytest.mark.gui, pytest.mark.timeout(60)]


def open_app(scaling: float, tmp_path_factory):
    if not os.environ.get("DISPLAY"):
        pytest.skip("needs a display: run under xvfb-run -a")
    from papy_gui.app import App
    os.environ["PAPY_GUI_STATE_DIR"] = str(tmp_path_factory.mktemp("state"))
    root = tk.Tk()
    root.tk.call("tk", "scaling", scaling)
    root.geometry("1280x820+0+0")
    app = App(root)
    app.quiet_dialogs = True
    app.files.ask = lambda *a, **k: False
    pump(root, root.winfo_viewable, 10)
    return app


@pytest.mark.parametrize("scaling, size", [(2.0, 32), (96 / 72, 16)])
def test_icons_and_sizes_follow_tk_scaling(scaling, size, tmp_path_factory):
    app = open_app(scaling, tmp_path_factory)
    try:
        assert theme.icon_size(app.root) == size
        assert app._toolbar_icons and {i.width() for i in app._toolbar_icons} == {size}
        icons = app.palette_view_icons()
        assert icons and {i.width() for i in icons.values()} == {size}
        assert app._app_icon.width() >= size
        ui = scaling / (96 / 72)
        rowheight = int(ttk.Style(app.root).lookup("Treeview", "rowheight"))
        assert abs(rowheight - 22 * ui) <= 1
        assert app.canvas_view.scale == pytest.approx(ui, rel=0.01)
        app.doc.add_node(Func("ipasser", "papy_engine.workers.core", "ipasser"), name="n")
        app.root.update()
        title = app.canvas.find_withtag("n:n&&title")[0]
        font = app.canvas.itemcget(title, "font").split()
        assert abs(int(font[1]) + 10 * 96 / 72 * ui) <= 1  # pixels, grown with the dpi
    finally:
        app.close(ask=False)
