"""The Script tab (issue 12, item 2): the script's imports, constants and helpers,
highlighted, edited as one undoable document edit, and saved."""
from __future__ import annotations

import pytest

from guitools import pump, status
from papy_engine.script import FuncRef

pytestmark = [pytest.mark.gui, pytest.mark.timeout(60)]

PREAMBLE = "import os\n\nLIMIT = 3  # a constant\n"


@pytest.fixture
def doc_with_node(fresh):
    app = fresh
    src = "def cut(inbox):\n    return inbox[0][:LIMIT]\n"
    app.doc.add_node(FuncRef("cut", None, "cut", src), name="cut", x=60, y=60)
    app.doc.set_input("cut", "['abcdef']")
    app.root.update()
    return app


def test_script_tab_edits_are_undoable_highlighted_and_saved(doc_with_node, tmp_path):
    app = doc_with_node
    view = app.script_view
    app.bottom.select(view)
    view.code.focus_force()
    view.code.insert("1.0", PREAMBLE)  # Tk sends <<Modified>>, as for typing
    app.root.update()
    assert view.pending and app.bottom.tab(view, "text") == "Script ●"
    pump(app.root, lambda: view.code.tag_ranges("tok:Token.Keyword"), 5)
    assert view.code.tag_ranges("tok:Token.Keyword")  # "import" is highlighted
    assert view.code.tag_ranges("tok:Token.Comment")
    view.code.event_generate("<Control-Return>")  # Apply
    app.root.update()
    assert app.doc.preamble == PREAMBLE and app.bottom.tab(view, "text") == "Script"
    assert "applied the script code" in status(app)
    assert app.doc.undo() == "edit the script code"
    app.root.update()
    assert view.code.value() == "" and app.doc.preamble == ""
    app.doc.redo()
    app.root.update()
    assert view.code.value() == PREAMBLE
    path = tmp_path / "limited.py"
    assert app.files.save_to(str(path))
    assert "LIMIT = 3  # a constant" in path.read_text(encoding="utf-8")


def test_a_syntax_error_is_refused_and_unapplied_text_is_applied_on_save(doc_with_node,
                                                                         tmp_path):
    app = doc_with_node
    view = app.script_view
    view.code.insert("1.0", "import (\n")
    assert not view.apply()
    assert "syntax error, line 1" in str(view.error.cget("text"))
    assert app.doc.preamble == ""
    assert "script code not applied" in status(app)
    assert not app.files.save_to(str(tmp_path / "bad.py"))  # refused: nothing written
    assert not (tmp_path / "bad.py").exists()
    view.code.set("LIMIT = 2\n")
    assert app.files.save_to(str(tmp_path / "good.py"))  # applied first, then saved
    assert "LIMIT = 2" in (tmp_path / "good.py").read_text(encoding="utf-8")
    preview = view.show_script()
    assert preview is not None
    text = next(w for w in preview.winfo_children()[0].winfo_children()
                if w.winfo_class() == "Text")
    assert "def pipeline()" in text.get("1.0", "end") and "LIMIT = 2" in text.get("1.0", "end")
    preview.destroy()
