"""Smaller defects of issue 12, item 8, each through the window."""
from __future__ import annotations

import pytest

from guitools import pump
from papy_engine.script import FuncRef as Func
from papy_gui.views.canvas_view import HEADER, HEADER_INPUT

pytestmark = [pytest.mark.gui, pytest.mark.timeout(60)]


def core(name):
    return Func(name, "papy_engine.workers.core", name)


@pytest.fixture
def fresh(app):
    app.files.new()
    app.palette_view.search_var.set("")
    app.root.update()
    return app


def header(app, name):
    return app.canvas.itemcget(app.canvas.find_withtag(f"n:{name}&&header")[0], "fill")


def test_header_colours_follow_connect_and_undo(fresh):
    app = fresh
    app.doc.add_node(core("ipasser"), name="a", x=40, y=40)
    app.doc.add_node(core("ipasser"), name="b", x=300, y=40)
    app.root.update()
    assert header(app, "b") == HEADER_INPUT
    assert app.canvas_ctl.connect("a", "b")
    app.root.update()
    assert header(app, "b") == HEADER  # no longer an input node, at once
    app.doc.undo()
    app.root.update()
    assert header(app, "b") == HEADER_INPUT


def test_quick_add_enter_picks_the_exact_name(fresh):
    app = fresh
    qa = app.canvas_ctl.open_quick_add(300, 200)
    qa.var.set("sum")
    app.root.update()
    qa.entry.focus_force()
    qa.entry.event_generate("<Return>")
    app.root.update()
    assert list(app.doc.nodes) == ["sum"]  # was running_stats, a match in its docs


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


def test_log_to_file_writes_the_whole_log_then_appends(fresh, tmp_path):
    import logging
    app = fresh
    view = app.log_view
    logging.getLogger("papy_gui.test").info("a record from before the file")
    view.drain()
    path = tmp_path / "all.log"
    view.ask_file = lambda **kw: str(path)
    view.file_button.invoke()
    assert "a record from before the file" in path.read_text(encoding="utf-8")
    logging.getLogger("papy_gui.test").info("a record after")
    assert pump(app.root, lambda: "a record after" in path.read_text(encoding="utf-8"), 5)
    view.file_button.invoke()


def test_paste_says_pasted(fresh):
    app = fresh
    app.doc.add_node(core("ipasser"), name="a")
    app.doc.select(["a"])
    app.canvas_ctl.copy()
    assert "copied 1 node" in str(app.status.cget("text"))
    app.canvas_ctl.paste()
    assert str(app.status.cget("text")) == "pasted 1 node(s): a_2"


def test_a_console_syntax_error_shows_no_console_frames(fresh):
    con = fresh.console
    start = con.text.index("end-1c")
    con.push("def broken(:")
    shown = con.text.get(start, "end")
    assert "SyntaxError" in shown and "<console#" in shown
    assert "Traceback" not in shown and "console_view.py" not in shown \
        and "codeop" not in shown
    start = con.text.index("end-1c")
    con.push("1/0")
    shown = con.text.get(start, "end")
    assert "ZeroDivisionError" in shown and "console_view.py" not in shown


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


def test_ctrl_a_in_an_entry_selects_all(fresh):
    search = fresh.palette_view.search
    fresh.palette_view.search_var.set("lines")
    search.focus_force()
    search.icursor(2)
    search.event_generate("<Control-a>")
    fresh.root.update()
    assert search.selection_present() and search.index("sel.first") == 0 \
        and search.index("sel.last") == len("lines")


def test_highlighting_is_not_shifted_by_leading_empty_lines(fresh):
    from papy_gui.views.highlight import highlight
    code = fresh.script_view.code
    code.set("\n\ndef f():\n    return 1\n")
    highlight(code, "1.0", "end-1c")
    ranges = [str(i) for i in code.tag_ranges("tok:Token.Keyword")]
    assert ranges == ["3.0", "3.3", "4.4", "4.10"]  # "def" and "return", not "de" and "retur"
    code.set("")
