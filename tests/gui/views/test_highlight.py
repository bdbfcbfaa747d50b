"""The code editor (CodeText): auto-indent, Tab, BackSpace by levels, Ctrl+A."""
import tkinter as tk

import pytest

from papy_gui.views.highlight import CodeText

pytestmark = [pytest.mark.gui, pytest.mark.timeout(60)]


@pytest.fixture
def code(app):
    top = tk.Toplevel(app.root)   # mapped, so that it can take the focus and keys
    text = CodeText(top)
    text.pack()
    top.update()
    yield text
    top.destroy()


def press(text, key):
    text.focus_force()
    text.update()
    text.event_generate(key)
    text.update()


def test_backspace_after_an_auto_indent_removes_one_level(code):
    # It removed one space, and the next line easily failed with
    # "unindent does not match any outer indentation level".
    code.set("def f(inbox):\n    if inbox:")
    code.mark_set("insert", "end-1c")
    press(code, "<Return>")
    assert code.value().endswith("if inbox:\n        ")
    press(code, "<BackSpace>")
    assert code.value().endswith("if inbox:\n    ")
    code.insert("insert", "return 1")
    assert code.value() == "def f(inbox):\n    if inbox:\n    return 1"


def test_backspace_elsewhere_deletes_one_character(code):
    code.set("x = 12\n   y")
    code.mark_set("insert", "1.6")
    press(code, "<BackSpace>")
    assert code.value() == "x = 1\n   y"
    code.mark_set("insert", "2.3")   # three spaces: back to the level below
    press(code, "<BackSpace>")
    assert code.value() == "x = 1\ny"


def test_ctrl_a_selects_all_of_the_source(code):
    code.set("def f(inbox):\n    return inbox[0]\n")
    press(code, "<Control-a>")
    assert code.get("sel.first", "sel.last") == code.value()
