"""Tooltips on toolbar buttons, ports and error badges."""
from __future__ import annotations

import pytest

from guitools import core, pump
from papy_engine.script import FuncRef

pytestmark = [pytest.mark.gui, pytest.mark.timeout(60)]


def centre(app, tag):
    x0, y0, x1, y1 = app.canvas.bbox(tag)
    return (x0 + x1) // 2, (y0 + y1) // 2


def test_tooltips_on_toolbar_buttons_ports_and_badges(fresh):
    app = fresh
    app.doc.add_node(core("ipasser"), name="a", x=40, y=60)
    app.doc.add_node(FuncRef("f", None, "f", "def f(inbox):\n    return 1\n"), name="b",
                     x=320, y=60)
    app.doc.connect("a", "b")
    app.canvas_view.fit()
    app.root.update()
    tips = app.tips
    run = app.menubar.buttons["run"]
    run.event_generate("<Enter>", x=3, y=3)
    assert pump(app.root, lambda: tips.tip is not None, 5)
    assert tips.text == "Run the pipeline here (F5)"
    run.event_generate("<Leave>")
    app.root.update()
    assert tips.tip is None
    x, y = centre(app, "n:b&&port_in")
    app.canvas.event_generate("<Motion>", x=x, y=y)
    assert pump(app.root, lambda: tips.tip is not None, 5)
    assert tips.text.startswith("input port")
    app.canvas.event_generate("<Motion>", x=2, y=2)
    app.root.update()
    assert tips.tip is None
    assert "click to list them in the Errors tab" in app.canvas_tips.badge_tip(("node", "n:b"))
