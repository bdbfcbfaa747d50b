"""High-DPI: with ``tk scaling 2.0`` the window picks the 32 px icons and scales
pixel sizes (tree rows, canvas zoom and text); at 96 dpi it keeps the 16 px ones."""
from __future__ import annotations

from tkinter import ttk

import pytest

from guitools import core, make_app
from papy_gui import theme

pytestmark = [pytest.mark.gui, pytest.mark.timeout(60)]


@pytest.mark.parametrize("scaling, size", [(2.0, 32), (96 / 72, 16)])
def test_icons_and_sizes_follow_tk_scaling(scaling, size, tmp_path_factory):
    app = make_app(tmp_path_factory, scaling=scaling)
    try:
        assert theme.icon_size(app.root) == size
        icons = app.menubar.icons
        assert icons and {i.width() for i in icons} == {size}
        assert {str(b.cget("image")[0]) for b in app.menubar.buttons.values()} == \
            {str(i) for i in icons}  # every toolbar button shows one of them
        icons = app.palette_view.icons
        assert icons and {i.width() for i in icons.values()} == {size}
        assert app.icon is not None and app.icon.width() >= size
        ui = scaling / (96 / 72)
        rowheight = int(ttk.Style(app.root).lookup("Treeview", "rowheight"))
        assert abs(rowheight - 22 * ui) <= 1
        assert app.canvas_view.scale == pytest.approx(ui, rel=0.01)
        app.doc.add_node(core("ipasser"), name="n")
        app.root.update()
        title = app.canvas.find_withtag("n:n&&title")[0]
        font = app.canvas.itemcget(title, "font").split()
        assert abs(int(font[1]) + 10 * 96 / 72 * ui) <= 1  # pixels, grown with the dpi
    finally:
        app.close(ask=False)
