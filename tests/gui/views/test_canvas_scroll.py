"""The canvas scrollbars follow the drawing and pan it."""
from __future__ import annotations

import pytest

from guitools import core

pytestmark = [pytest.mark.gui, pytest.mark.timeout(60)]


def test_quick_add_at_the_edge_lands_in_view_and_scrollbars_follow(fresh):
    app = fresh
    c = app.canvas
    w, h = c.winfo_width(), c.winfo_height()
    qa = app.canvas_ctl.open_quick_add(w - 3, h - 3)
    qa.var.set("ipasser")
    app.root.update()
    qa.choose_current()
    app.root.update()
    x0, y0, x1, y1 = c.bbox("n:ipasser&&body")
    assert 0 <= x0 and x1 <= w and 0 <= y0 and y1 <= h  # was half outside the view
    scroll = app.canvas_scroll
    assert scroll.fractions(0)[0] == 0.0 and scroll.fractions(0)[1] > 0.99  # all visible
    app.doc.add_node(core("npasser"), name="far", x=3000, y=40)
    app.root.update()
    first, last = scroll.fractions(0)
    assert first == 0.0 and last < 0.5  # the bar shows there is more to the right
    assert app.canvas_scroll.xbar.get() == pytest.approx((first, last), abs=1e-3)
    before = app.canvas_view.ox
    xbar = app.canvas_scroll.xbar
    app.root.tk.eval(f"{xbar.cget('command')} moveto 1.0")  # as dragging the bar to the end
    app.root.update()
    fx, _, fx1, _ = c.bbox("n:far&&body")
    assert app.canvas_view.ox < before and fx1 <= w and fx >= 0
