"""The console: interactive input, tracebacks without its own frames, and its
functions added as nodes (from the menu or by dragging onto the canvas)."""
from __future__ import annotations

import pytest

pytestmark = [pytest.mark.gui, pytest.mark.timeout(60)]


def test_drag_a_console_function_onto_the_canvas(fresh):
    app = fresh
    app.bottom.select(app.console)
    con = app.console
    con.run_source("def quad(inbox):\n    return inbox[0] * 4\n")
    app.root.update()
    assert con.func_list.get(0, "end") == ("quad",)  # the first function of this console
    lb = con.func_list
    x, y, w, h = lb.bbox(0)
    lb.event_generate("<ButtonPress-1>", x=x + 5, y=y + h // 2)
    lb.event_generate("<Motion>", x=x + 30, y=y + h // 2, state=0x100)
    rx, ry = app.canvas.winfo_rootx() + 300, app.canvas.winfo_rooty() + 200
    lb.event_generate("<ButtonRelease-1>", x=x + 30, y=y + h // 2, rootx=rx, rooty=ry)
    app.root.update()
    assert list(app.doc.nodes) == ["quad"]
    node = app.doc.nodes["quad"]
    assert "return inbox[0] * 4" in node.functions[0].source
    cx, cy = app.canvas_view.to_world(300, 200)  # the node is centred on the drop point
    assert abs(node.x + 88 - cx) < 2 and abs(node.y + 34 - cy) < 2
    # a release back over the list adds nothing (pressed elsewhere: not a double click)
    lb.event_generate("<ButtonPress-1>", x=x + 120, y=y + h // 2)
    lb.event_generate("<ButtonRelease-1>", x=x + 120, y=y + h // 2,
                      rootx=lb.winfo_rootx() + 5, rooty=lb.winfo_rooty() + 5)
    app.root.update()
    assert list(app.doc.nodes) == ["quad"]


def test_console_function_added_as_node_and_saved(fresh, tmp_path):
    app = fresh
    con = app.console
    con.text.focus_force()
    for line in ("def triple(inbox):", "    return inbox[0] * 3", ""):
        con.set_input(line)
        con.text.event_generate("<Return>")
        app.root.update()
    assert callable(app.namespace.get("triple"))
    con.set_input("print(triple((2,)))")
    con.text.event_generate("<Return>")
    app.root.update()
    assert "6\n" in con.text.get("1.0", "end")
    con.set_input("1/0")
    con.text.event_generate("<Return>")
    assert "ZeroDivisionError" in con.text.get("1.0", "end")
    name = con.add_function("triple")
    assert name == "triple" and "return inbox[0] * 3" in app.doc.nodes[name].functions[0].source
    path = tmp_path / "tri.py"
    assert app.files.save_to(str(path))
    assert "def triple(inbox):" in path.read_text()
    assert "●" not in app.root.title() and "tri.py" in app.root.title()


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


def test_a_debug_session_keeps_the_window_live_and_closes_with_it(fresh):
    from guitools import pump
    from papy_gui.debug_session import DebugSession

    con = fresh.console

    def broken(inbox):
        raise KeyError(inbox[0])
    assert con.debug(DebugSession(broken, ("k",)), "a test")
    assert not con.debug(DebugSession(broken, ("k",)), "a second one")  # one at a time
    assert pump(fresh.root, lambda: con.text.get("1.0", "end-1c").endswith("(Pdb) "), 10)
    assert "KeyError: 'k'" in con.text.get("1.0", "end")
    session = con.session
    con.close()  # what the window's close() does
    assert con.session is None and session.done
    fresh.root.update()
    con.push("1 + 1")  # the console is itself again
    assert con.text.get("1.0", "end-1c").endswith("2\n>>> ")


def test_what_another_thread_prints_while_console_code_runs_is_drawn_by_the_tk_thread(fresh):
    from guitools import pump

    con = fresh.console
    con.run_source("import threading\nt = threading.Thread(target=print, "
                   "args=('from a ' + 'thread',))\nt.start(); t.join()\n")
    assert "from a thread" not in con.text.get("1.0", "end")  # not drawn off the Tk thread
    assert pump(fresh.root, lambda: "from a thread" in con.text.get("1.0", "end"), 5)
