"""The palette: search as you type, the selected type's documentation, no match said."""
from __future__ import annotations

import pytest

from guitools import pump

pytestmark = [pytest.mark.gui, pytest.mark.timeout(60)]


def test_palette_search_filters_as_you_type(fresh):
    pv = fresh.palette_view
    everything = len(pv.visible_names())
    pv.search.focus_force()
    for key in "ipas":
        pv.search.event_generate("<KeyPress>", keysym=key)
    pump(fresh.root, lambda: pv.search_var.get() == "ipas", 2)
    assert pv.search_var.get() == "ipas"
    assert "ipasser" in pv.visible_names() and len(pv.visible_names()) < everything
    pv.tree.selection_set(pv.item_of("ipasser"))
    fresh.root.update()
    assert "ipasser" in pv.doc_text.get("1.0", "end")


def test_palette_search_says_when_nothing_matches(fresh):
    pv = fresh.palette_view
    pv.search_var.set("ipasser")
    fresh.root.update()
    assert "ipasser" in pv.doc_text.get("1.0", "end")
    pv.search_var.set("zzqx")
    fresh.root.update()
    rows = [pv.tree.item(i, "text") for i in pv.tree.get_children()]
    assert rows == [" No node matches 'zzqx'"]
    assert "ipasser" not in pv.doc_text.get("1.0", "end")  # no stale documentation
    pv.search_var.set("")
    fresh.root.update()
    assert len(pv.visible_names()) > 10  # the palette is whole again


def test_double_click_adds_the_type_near_the_centre(fresh):
    app = fresh
    pv = app.palette_view
    pv.search_var.set("npasser")
    app.root.update()
    pv.tree.selection_set(pv.item_of("npasser"))
    pv.tree.focus_force()
    app.root.update()
    pv.tree.event_generate("<Return>")  # as a double click: the selected entry
    app.root.update()
    assert list(app.doc.nodes) == ["npasser"] and app.doc.selection == ["npasser"]
    x0, y0, x1, y1 = app.canvas.bbox("n:npasser&&body")
    w, h = app.canvas.winfo_width(), app.canvas.winfo_height()
    assert abs((x0 + x1) / 2 - w / 2) < 5 and abs((y0 + y1) / 2 - h / 2) < 5
