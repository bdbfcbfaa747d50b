"""The status area's progress text (no display)."""
import pytest

from papy_gui.model.progress import duration, progress

pytestmark = pytest.mark.timeout(30)


def stats(done, total, elapsed=10.0, paused=0.0):
    return {"elapsed_s": elapsed, "progress": {"done": done, "total": total, "paused_s": paused}}


def test_known_length_gives_a_fraction_rate_and_eta():
    fraction, text = progress(stats(250, 1000))
    assert fraction == 0.25
    assert text == "25% · 250 of 1,000 · 25.0 items/s · ETA 0:30"
    assert progress(stats(1000, 1000), active=False) == (1.0, "100% · 1,000 of 1,000 · 100 "
                                                              "items/s")


def test_unknown_length_gives_a_count_and_rate_and_pauses_do_not_count():
    assert progress(stats(300, None, elapsed=20.0, paused=10.0)) == (None, "300 done · 30.0 "
                                                                          "items/s")


def test_no_run_no_text():
    assert progress({}) == (None, "")
    assert duration(83) == "1:23" and duration(3723) == "1:02:03"
