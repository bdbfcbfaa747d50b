"""The Help menu: every key listed, the documentation, About."""
from __future__ import annotations

import pytest

from papy_gui.commands.help import SHORTCUTS
from papy_gui.commands.registry import key_label

pytestmark = [pytest.mark.gui, pytest.mark.timeout(60)]


def test_help_menu_lists_every_shortcut_and_about(fresh):
    app = fresh
    listed = {k for _, keys in SHORTCUTS for k, _ in keys}
    missing = {key_label(seq) for seq in app.commands.keys()} - listed
    assert not missing, missing  # a key bound but not in the Help window
    window = app.help.shortcuts()
    text = next(w for w in window.winfo_children()[0].winfo_children()
                if w.winfo_class() == "Text").get("1.0", "end")
    assert "F5" in text and "Shift+F5" in text and "right click" in text
    window.destroy()
    about = app.help.about()
    assert about.title() == "About PaPy Studio"
    about.destroy()
    opened = []
    app.help.open_url = opened.append
    app.help.documentation()
    assert opened and opened[0].startswith("file://") and opened[0].endswith("docs/gui.md")
