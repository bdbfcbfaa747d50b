"""RunData: peeks, waiting items, errors and output of a run, read only when they
change (no display; a fake Plumber, then the engine's own)."""
import pytest

from papy_engine import Piper, Plumber
from papy_gui.model.run_data import ROWS, RunData
from papy_gui.model.run_state import RunState

pytestmark = pytest.mark.timeout(60)


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


class FakeSource:
    """A node "a" that produced ``out`` results so far, and counts its reads."""

    def __init__(self):
        self.out = 0
        self.peeks = self.error_reads = 0
        self.kept_errors: list = []

    def peek(self, name, n=20, indexed=False):
        if name not in ("a", "b"):
            raise KeyError(name)
        self.peeks += 1
        pairs = [(i, i * 10) for i in range(max(0, self.out - min(n, 100)), self.out)]
        return pairs if indexed else [v for _, v in pairs]

    def errors(self, name):
        self.error_reads += 1
        return list(self.kept_errors)


def setup(edges=(("a", "b"),)):
    clock = Clock()
    rs = RunState(clock=clock)
    rs.begin(edges, {"b": 1})
    data = RunData(rs, clock=clock)
    src = FakeSource()
    data.attach(src)
    return clock, rs, data, src


def stats(rs, a_out, b_in, a_errors=0):
    rs.update_stats({"state": "running", "pipers": {
        "a": {"in": a_out, "out": a_out, "errors": a_errors, "state": "running"},
        "b": {"in": b_in, "out": b_in, "errors": 0, "state": "running"}}})


def test_a_node_shows_its_last_results_read_only_when_they_change():
    clock, rs, data, src = setup()
    src.out = 120
    stats(rs, 120, 0)
    items = data.items("a")
    assert len(items.rows) == ROWS and items.rows[-1] == (119, 1190)
    assert items.note == f"a: the last {ROWS} of 120 results"
    assert data.items("a") is items and src.peeks == 1  # nothing changed: no read
    src.out = 130
    stats(rs, 130, 0)
    assert data.items("a") is items  # changed, but read at most every PEEK_PERIOD
    clock.now += 0.3
    assert data.items("a").rows[-1] == (129, 1290) and src.peeks == 2


def test_a_pipe_shows_what_its_downstream_has_not_taken():
    clock, rs, data, src = setup()
    src.out = 10
    stats(rs, 10, 6)
    items = data.items(("a", "b"))
    assert [i for i, _ in items.rows] == [6, 7, 8, 9]
    assert items.note == "pipe a → b: 4 item(s) of a waiting for b"
    stats(rs, 10, 10)
    clock.now += 1
    assert data.items(("a", "b")).rows == [] and "no items waiting" in \
        data.items(("a", "b")).note


def test_errors_are_read_when_a_count_grows_and_nothing_is_read_without_a_run():
    clock, rs, data, src = setup()
    stats(rs, 5, 5)
    assert data.sync_errors() == [] and src.error_reads == 0
    src.kept_errors = ["e1", "e2"]
    stats(rs, 5, 5, a_errors=2)
    assert data.sync_errors() == ["a"] and data.errors["a"] == ["e1", "e2"]
    assert data.sync_errors() == [] and src.error_reads == 1
    data.reset()
    assert data.sync_errors() == [] and data.items("a").note.startswith("Run the pipeline")
    assert data.items(None).rows == []


def test_output_and_a_node_outside_the_run():
    clock, rs, data, src = setup()
    data.add_output("a", "hello\npart")
    data.run_ended()
    assert [t for _, _, t in data.output.lines] == ["hello", "part"]
    stats(rs, 1, 1)
    assert data.items("added_later").note == "node added_later was not part of the last run."


def fails_on_three(inbox):
    if inbox[0] == 3:
        raise ValueError("no threes")
    return {"n": inbox[0]}


def test_with_the_engine_results_errors_and_their_inbox():
    rs = RunState()
    rs.begin([("src", "work")])
    data = RunData(rs)
    plumber = Plumber()
    plumber.add_pipe((Piper(lambda inbox: inbox[0], name="src"),
                      Piper(fails_on_three, name="work")))
    plumber.start([range(8)], capture_output=True)
    data.attach(plumber)
    plumber.run()
    assert plumber.wait(30)
    rs.update_stats(plumber.stats)
    items = data.items("work")
    assert [i for i, _ in items.rows] == list(range(8)) and items.rows[0] == (0, {"n": 0})
    assert data.sync_errors() == ["work"]
    (err,) = data.errors["work"]
    assert err.index == 3 and err.inbox == (3,) and err.exc_type == "ValueError"
