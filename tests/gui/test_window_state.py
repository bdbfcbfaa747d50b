"""Window state (issue 12, item 10): size, position and pane splits are
remembered from one session to the next."""
from __future__ import annotations

import pytest

from guitools import ScriptedDialogs, make_app, pump
from papy_gui.window_state import fit_geometry

pytestmark = pytest.mark.timeout(60)


def test_fit_geometry_keeps_the_window_on_the_screen():
    assert fit_geometry("1000x700+5+6", 1400, 900) == "1000x700+5+6"
    assert fit_geometry("3000x2000+2000+50", 1400, 900) == "1400x900+0+0"
    assert fit_geometry("1000x700+900+500", 1400, 900) == "1000x700+400+200"
    assert fit_geometry("garbage", 1400, 900) is None


def laid_out(app):
    return app.hpane.sashpos(1) > app.hpane.sashpos(0) > 0 and app.vpane.sashpos(0) > 0


@pytest.mark.gui
def test_size_position_and_splits_come_back(tmp_path_factory):
    state = tmp_path_factory.mktemp("state")
    first = make_app(tmp_path_factory, state)
    root = first.root
    root.geometry("1100x700+40+30")
    assert pump(root, lambda: root.winfo_width() == 1100 and laid_out(first), 10)
    first.hpane.sashpos(0, 180)
    first.hpane.sashpos(1, 760)
    first.vpane.sashpos(0, 420)
    root.update()
    splits = (first.hpane.sashpos(0), first.hpane.sashpos(1), first.vpane.sashpos(0))
    geometry = root.geometry()
    assert geometry == "1100x700+40+30"
    first.close(ask=False)
    assert (state / "window.json").exists()

    from papy_gui.launch import open_app  # a new session, as `papy gui` starts it
    second = open_app([], dialogs=ScriptedDialogs())
    assert not isinstance(second, int)
    try:
        second.dialogs.yes = False  # no untitled autosave to recover
        r2 = second.root
        assert pump(r2, lambda: r2.winfo_width() == 1100 and laid_out(second), 10)
        assert r2.geometry() == geometry
        assert pump(r2, lambda: (second.hpane.sashpos(0), second.hpane.sashpos(1),
                                 second.vpane.sashpos(0)) == splits, 5), \
            (second.hpane.sashpos(0), second.hpane.sashpos(1), second.vpane.sashpos(0), splits)
    finally:
        second.close(ask=False)
