"""The Errors tab: every error by node, filters, the traceback of the selected one,
and "Debug in console": pdb post-mortem on the failed item, in the console."""
from __future__ import annotations

import pytest

from guitools import build, ended, pump, status

pytestmark = [pytest.mark.gui, pytest.mark.timeout(120)]

PICKY = ("def picky(inbox):\n    value = inbox[0] * 10\n    if inbox[0] % 3 == 0:\n"
         "        raise ValueError(f'bad {value}')\n    return value\n")


def children(view, node):
    tree = view.tree
    return [tree.item(i, "text") for i in tree.get_children(node)] if tree.exists(node) else []


def run_picky(app, n=10):
    build(app, PICKY, n=n, parallel=True)
    app.bottom.select(app.errors_view)
    assert app.runs.run()
    assert pump(app.root, lambda: ended(app), 60), app.run_state.state
    app.bridge.refresh_stats()
    assert pump(app.root, lambda: len(children(app.errors_view, "work")) == (n + 2) // 3, 10)


def test_every_error_by_node_filterable_with_its_traceback(fresh):
    app = fresh
    run_picky(app)
    view = app.errors_view
    assert children(view, "work") == ["item 0", "item 3", "item 6", "item 9"]
    assert str(view.count.cget("text")) == "4 error(s) at 1 node(s)"
    rows = view.tree.get_children("work")  # in item order, whatever order they came in
    assert tuple(view.tree.item(rows[1], "values")) == ("ValueError", "bad 30")
    view.search.set("bad 6")
    app.root.update()
    assert children(view, "work") == ["item 6"]
    view.search.set("")
    view.node.set("src")
    view.refilter()
    assert view.tree.get_children() == ()
    view.show_node("work")
    assert view.node.get() == "work" and view.selected_error().index == 0
    view.tree.selection_set(view.tree.get_children("work")[2])
    app.root.update()
    detail = view.detail.get("1.0", "end")
    assert detail.startswith("ValueError: bad 60\nWorkerError at work, item 6, function picky")
    assert "inbox: (6,)" in detail and "raise ValueError(f'bad {value}')" in detail
    assert "disabled" not in view.debug_button.state()


def test_debug_in_console_steps_into_the_exact_failure_and_q_leaves(fresh):
    app = fresh
    run_picky(app)
    view = app.errors_view
    view.show_node("work")
    view.tree.selection_set(view.tree.get_children("work")[1])  # item 3
    app.root.update()
    view.debug_button.invoke()
    con = app.console
    assert app.bottom.select() == str(con)
    assert app.namespace["inbox"] == (3,) and app.namespace["error"].index == 3
    assert app.namespace["func"]((4,)) == 40  # the node's function, callable here too

    def shown():
        return con.text.get("1.0", "end-1c")

    def type_line(line):
        con.set_input(line)
        con.text.focus_force()
        con.text.event_generate("<Return>")

    def answer(line):
        """Type ``line`` at the (Pdb) prompt; the text pdb wrote back."""
        start = len(shown())
        type_line(line)
        assert pump(app.root, lambda: shown().endswith("(Pdb) ") and len(shown()) > start
                    + len(line) + 1, 10), shown()[start:]
        return shown()[start:]
    assert pump(app.root, lambda: shown().endswith("(Pdb) "), 10), shown()[-500:]
    assert "func(inbox)  # node work, item 3: ValueError: bad 30" in shown()
    assert "raise ValueError(f'bad {value}')" in shown()  # pdb at the line that raised
    assert "(30, (3,))" in answer("p value, inbox")
    type_line("q")  # no prompt comes back from pdb...
    assert pump(app.root, lambda: con.session is None and shown().endswith(">>> "), 10), \
        shown()[-300:]
    assert "(left the debugger)" in shown()
    assert status(app).startswith("left the debugger")   # not "debugging item 3" still
    con.set_input("inbox")  # ...the console's own prompt does
    con.text.event_generate("<Return>")
    app.root.update()
    assert shown().endswith("(3,)\n>>> ")
