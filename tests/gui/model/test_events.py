"""The event vocabulary is the engine's: every event a Plumber sends is named in
papy_gui.model.events with the keys it declares, and RunState handles each kind."""
import typing

import pytest

from papy_engine import Piper, Plumber
from papy_gui.model import events
from papy_gui.model.run_state import RunState

pytestmark = pytest.mark.timeout(60)


def odd_fails(inbox):
    if inbox[0] % 2:
        raise ValueError(f"odd {inbox[0]}")
    print("even", inbox[0])
    return inbox[0]


def kinds(union) -> dict[str, type]:
    """``{"state": EngineState, ...}`` for a Union of TypedDicts."""
    return {typing.get_args(typing.get_type_hints(t)["event"])[0]: t
            for t in typing.get_args(union)}


def heard(debug: bool) -> list[dict]:
    """The events a two-piper Plumber sends its listener over a run with errors
    and prints, started as the editor starts it (with ``debug``, the first
    error fails the run)."""
    got: list[dict] = []
    plumber = Plumber()
    plumber.add_pipe((Piper(odd_fails, debug=debug, name="first"), Piper(odd_fails)))
    plumber.add_listener(got.append)
    plumber.start([range(6)], capture_output=True)
    plumber.run()
    try:
        assert plumber.wait(30)
    except ValueError:  # wait() raises the error that failed the run
        assert debug
    return got


@pytest.mark.parametrize("debug", [False, True], ids=["errors", "failure"])
def test_every_engine_event_is_in_the_vocabulary(debug):
    declared = kinds(events.EngineEvent)
    got = heard(debug)
    kinds_heard = {e["event"] for e in got}
    if debug:  # the failing batch's output may be lost with it
        assert {"state", "failure"} <= kinds_heard <= {"state", "failure", "output"}
    else:
        assert kinds_heard == {"state", "error", "output"}
        printed = "".join(e["text"] for e in got if e["event"] == "output")
        assert printed.count("even") == 6  # 0, 2, 4 at each of the two pipers
    for event in got:
        shape = declared[event["event"]]
        assert shape.__required_keys__ <= set(event) <= shape.__required_keys__ | \
            shape.__optional_keys__, event
    rs = RunState()
    for event in got:
        rs.handle_event(event)
    assert rs.state == ("failed" if debug else "finished")
    if debug:
        failure = next(e for e in got if e["event"] == "failure")
        assert rs.errors == {failure["piper"]: {"exc_type": "ValueError", "message": "odd 1",
                                                "traceback": "", "index": None}}
    else:
        assert set(rs.errors) == {"first"} and rs.errors["first"]["index"] == 1
        assert rs.errors["first"]["exc_type"] == "ValueError"
        assert "raise ValueError" in rs.errors["first"]["traceback"]


def test_bridge_and_engine_kinds_do_not_overlap():
    engine, bridge = kinds(events.EngineEvent), kinds(events.BridgeEvent)
    assert set(engine) == {"state", "error", "failure", "output"}
    assert set(bridge) == {"plumber_ready", "run_ended", "call_failed", "headless_line"}
    assert not set(engine) & set(bridge)
