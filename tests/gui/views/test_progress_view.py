"""Progress in the status area (a bar, percentage, items/s, ETA; a count and rate
when the input has no length) and the statistics view's throughput sparklines."""
from __future__ import annotations

import re

import pytest

from guitools import SLOW, build, ended, pump

pytestmark = [pytest.mark.gui, pytest.mark.timeout(120)]


def test_a_known_length_shows_a_bar_with_percentage_rate_and_eta(fresh):
    app = fresh
    build(app, SLOW, n=150)
    assert not app.progress.bar.winfo_ismapped() and app.progress.text == ""
    assert app.runs.run()
    progress = app.progress
    assert pump(app.root, lambda: 0 < (progress.fraction or 0) < 1, 30), progress.text
    assert progress.bar.winfo_ismapped()
    assert re.fullmatch(r"\d+% · \d+ of 150 · [\d.]+ items/s · ETA (\d+:\d\d|--:--)",
                        progress.text), progress.text
    assert pump(app.root, lambda: ended(app), 60)
    app.bridge.refresh_stats()
    app.root.update()
    assert progress.fraction == 1.0 and progress.text.startswith("100% · 150 of 150 · ")
    assert "ETA" not in progress.text
    trend = app.stats_view.row("work")["trend"]
    assert trend.strip() and set(trend) <= set(" ▁▂▃▄▅▆▇█")


def test_an_input_without_length_shows_a_count_and_rate(fresh):
    app = fresh
    build(app, SLOW, n=20)
    app.doc.set_input("src", "(i for i in range(20))")
    assert app.runs.run()
    assert pump(app.root, lambda: ended(app), 60)
    app.bridge.refresh_stats()
    app.root.update()
    assert app.progress.fraction is None and not app.progress.bar.winfo_ismapped()
    assert re.fullmatch(r"20 done · [\d.]+ items/s", app.progress.text), app.progress.text
    app.files.new()  # a new document: no progress shown
    app.root.update()
    assert app.progress.text == ""
