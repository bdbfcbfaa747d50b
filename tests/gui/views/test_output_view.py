"""The Output tab: what node functions print -- serial, on threads, in worker
processes -- in order per node, marked with the node, never only on the terminal."""
from __future__ import annotations

import pytest

from guitools import build, core, ended, pump

pytestmark = [pytest.mark.gui, pytest.mark.timeout(120)]

CHATTY = ("def chatty(inbox):\n    print('item', inbox[0])\n    print('half', end='')\n"
          "    return inbox[0]\n")


@pytest.mark.parametrize("pool", [None, "thread", "process"])
def test_prints_reach_the_output_tab_in_order_marked_with_their_node(fresh, capfd, pool):
    app = fresh
    build(app, CHATTY, n=30, parallel=pool is not None,
          **({"worker_type": pool} if pool else {}))
    app.bottom.select(app.output_view)
    assert app.runs.run()
    assert pump(app.root, lambda: ended(app), 60), app.run_state.state
    view = app.output_view
    expected = ["[work] item 0"] + [f"[work] halfitem {i}" for i in range(1, 30)] + \
        ["[work] half"]
    assert pump(app.root, lambda: view.lines() == expected, 10), view.lines()[:5]
    out, err = capfd.readouterr()
    assert "item 7" not in out and "item 7" not in err  # not on the terminal


def test_lines_of_several_nodes_and_the_node_filter(fresh):
    app = fresh
    build(app, CHATTY, n=3)
    app.doc.add_node(core("ipasser"), name="after", x=600, y=60)
    app.doc.connect("work", "after")
    app.doc.set_option("after", "track", True)
    app.bottom.select(app.output_view)
    assert app.runs.run()
    assert pump(app.root, lambda: ended(app) and len(app.output_view.lines()) == 4, 60)
    view = app.output_view
    view.node.set("after")
    view._on_node()
    assert view.lines() == []
    view.node.set("work")
    view._on_node()
    assert view.lines() == ["[work] item 0", "[work] halfitem 1", "[work] halfitem 2",
                            "[work] half"]
    assert tuple(view.node_box.cget("values")) == ("(all nodes)", "work")


def test_a_burst_is_drawn_in_part_then_whole_once_it_is_over(fresh):
    from papy_gui.views.output_view import DRAW_MAX
    app = fresh
    loud = ("def loud(inbox):\n    for i in range(100):\n        print(inbox[0], i)\n"
            "    return inbox[0]\n")
    build(app, loud, n=12)
    app.bottom.select(app.output_view)
    assert app.runs.run()
    assert pump(app.root, lambda: ended(app), 60), app.run_state.state
    view = app.output_view
    assert pump(app.root, lambda: len(view.lines()) == 1200, 20), len(view.lines())
    assert view.lines()[0] == "[work] 0 0" and view.lines()[-1] == "[work] 11 99"
    assert not view._gap and not view._older and DRAW_MAX < 1200
