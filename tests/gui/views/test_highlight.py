"""Pygments highlighting of a Text range."""
from __future__ import annotations

import pytest

from papy_gui.views.highlight import highlight

pytestmark = [pytest.mark.gui, pytest.mark.timeout(60)]


def test_highlighting_is_not_shifted_by_leading_empty_lines(fresh):
    code = fresh.script_view.code
    code.set("\n\ndef f():\n    return 1\n")
    highlight(code, "1.0", "end-1c")
    ranges = [str(i) for i in code.tag_ranges("tok:Token.Keyword")]
    assert ranges == ["3.0", "3.3", "4.4", "4.10"]  # "def" and "return", not "de" and "retur"
    code.set("")
