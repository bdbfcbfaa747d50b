"""The Log tab: bursts drawn with few Tcl calls, Log to file, clicking a record."""
from __future__ import annotations

import logging
import tkinter as tk

import pytest

from guitools import FAIL, CountingTk, build, pump, settled
from papy_gui.views import log_view as lv

pytestmark = [pytest.mark.gui, pytest.mark.timeout(60)]


def records(n: int, start: int = 0) -> list[dict]:
    return [{"time": 1.0e9 + i, "level": "INFO", "name": "t", "node": None,
             "message": f"record {i}"} for i in range(start, start + n)]


def test_log_burst_is_drawn_with_few_calls_then_completed(app):
    top = tk.Toplevel(app.root)
    handler = lv.QueueLogHandler()
    view = lv.LogView(top, handler, app.dialogs, limit=1000)
    view.pack(fill="both", expand=True)
    app.root.update()
    for r in records(12_000):
        handler.queue.put(r)
    counting = view.text.tk = CountingTk(view.text.tk)
    assert view.drain() == lv.DRAIN_MAX
    assert counting.calls <= 8, counting.calls  # one insert for the whole batch
    lines = view.lines()
    assert len(lines) == lv.DRAW_MAX + 1 and "not drawn" in lines[0]
    assert lines[-1].endswith(f"record {lv.DRAIN_MAX - 1}")
    assert not view.settled
    # once the burst is over the whole bounded view is drawn again
    assert pump(app.root, lambda: (view.drain(), view.settled)[1], 10)
    lines = view.lines()
    assert len(lines) == 1000 and lines[-1].endswith("record 11999")
    assert lines[0].endswith("record 11000")
    top.destroy()


def test_log_to_file_writes_the_whole_log_then_appends(fresh, tmp_path):
    app = fresh
    view = app.log_view
    logging.getLogger("papy_gui.test").info("a record from before the file")
    view.drain()
    path = tmp_path / "all.log"
    app.dialogs.save_path = str(path)
    view.file_button.invoke()
    assert "a record from before the file" in path.read_text(encoding="utf-8")
    logging.getLogger("papy_gui.test").info("a record after")
    assert pump(app.root, lambda: "a record after" in path.read_text(encoding="utf-8"), 5)
    view.file_button.invoke()


def test_log_to_file_from_the_log_tab(fresh, tmp_path):
    app = fresh
    path = tmp_path / "run.log"
    view = app.log_view
    app.dialogs.save_path = str(path)
    view.file_button.invoke()
    assert view.file_path == str(path) and str(path) in str(view.file_label.cget("text"))
    build(app, FAIL, n=10)
    assert app.runs.run()
    assert pump(app.root, lambda: settled(app), 30)
    view.file_button.invoke()  # stop logging to the file
    assert view.file is None and "Log to file" in str(view.file_button.cget("text"))
    written = path.read_text(encoding="utf-8")
    assert "ERROR" in written and "no threes" in written and "run finished" in written


def test_click_on_error_record_selects_its_node(fresh):
    app = fresh
    build(app, FAIL, n=10)
    app.doc.select([])
    app.bottom.select(app.log_view)
    assert app.runs.run()
    assert pump(app.root, lambda: settled(app), 30)
    text = app.log_view.text
    lines = app.log_view.lines()

    def click_line(row: int) -> None:
        text.see(f"{row}.0")
        app.root.update()
        x, y, w, h = text.bbox(f"{row}.10")
        text.event_generate("<Button-1>", x=x + 2, y=y + h // 2)
        app.root.update()

    click_line(next(i for i, ln in enumerate(lines, 1) if "ERROR" in ln and "item 3" in ln))
    assert app.doc.selection == ["work"]
    # a record that names no node leaves the selection alone
    click_line(next(i for i, ln in enumerate(lines, 1) if "run finished" in ln))
    assert app.doc.selection == ["work"]
