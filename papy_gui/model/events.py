"""Every event kind of the editor, in one place: what crosses the run bridge,
and what the document and the run state tell their observers.

The bridge queue (:mod:`papy_gui.bridge`) carries two families of plain dicts,
told apart by one key, ``"event"``:

* :data:`EngineEvent` -- what ``papy_engine.Plumber`` hands its listeners
  (``add_listener``; DESIGN.md: plain dicts, snapshots): a state change, the
  first error of an item, a failure that stops the run, and what node
  functions printed (the bridge starts runs with ``capture_output=True``);
* :data:`BridgeEvent` -- what the bridge's own threads add: the Plumber is
  built, the run has ended, a pause/resume/stop call failed, a line of
  ``papy run`` output.

Observers of :class:`~papy_gui.model.store.Store` get a :data:`DocEvent`, those
of :class:`~papy_gui.model.run_state.RunState` a :data:`RunStateEvent`. (What
a run produced -- peeks, every error, printed output -- is not pushed: the
views that show it read :class:`~papy_gui.model.run_data.RunData` when they
are visible, see there.) A kind
that is not listed here is neither sent nor handled.
"""
from __future__ import annotations

from typing import Literal, NotRequired, TypedDict, Union


# -- from the engine (papy_engine.plumber.Plumber._emit) ------------------------------
class EngineState(TypedDict):
    """The Plumber moved to ``state`` (DESIGN.md's states)."""

    event: Literal["state"]
    state: str
    previous: NotRequired[str]
    time: NotRequired[float]


class EngineError(TypedDict):
    """An item of ``piper`` became an error placeholder."""

    event: Literal["error"]
    piper: str
    index: int | None
    exc_type: str
    message: str
    traceback: str
    kind: NotRequired[str]
    time: NotRequired[float]


class EngineFailure(TypedDict):
    """The run failed at ``piper`` (None: outside any piper) and stops."""

    event: Literal["failure"]
    piper: str | None
    exc_type: str
    message: str
    time: NotRequired[float]


class EngineOutput(TypedDict):
    """What the functions of ``piper`` printed for a batch of results, in result
    order (``Plumber.start(datas, capture_output=True)``)."""

    event: Literal["output"]
    piper: str
    text: str
    time: NotRequired[float]


EngineEvent = Union[EngineState, EngineError, EngineFailure, EngineOutput]


# -- from the bridge's own threads --------------------------------------------------------
class PlumberReady(TypedDict):
    """The runner thread built the Plumber (``RunBridge.plumber`` is set)."""

    event: Literal["plumber_ready"]


class RunEnded(TypedDict):
    """The runner thread is done: the Plumber's final state, or "failed" and why."""

    event: Literal["run_ended"]
    state: str
    message: str


class CallFailed(TypedDict):
    """A pause/resume/stop helper thread got an exception."""

    event: Literal["call_failed"]
    message: str


class HeadlessLine(TypedDict):
    """One line of a ``papy run`` subprocess (Run headless)."""

    event: Literal["headless_line"]
    line: str


BridgeEvent = Union[PlumberReady, RunEnded, CallFailed, HeadlessLine]

#: What the bridge queue carries.
RunEvent = Union[EngineEvent, BridgeEvent]

# -- observers of the model ---------------------------------------------------------------
#: ``Store`` observers: ``fn(event, data)``; ``data`` names what changed.
DocEvent = Literal[
    "changed",            # an edit, undo or redo finished (label); or saved / recovered
    "node_added", "node_removed", "node_changed", "node_moved",  # name (node_changed: attr)
    "node_renamed",       # old, new
    "edge_added", "edge_removed",                # edge
    "resources_changed",  # name
    "inputs_changed",     # name
    "preamble_changed",
    "selection_changed",
    "lock_changed",       # locked: the reason, or None
]

#: ``RunState`` observers: ``fn(event, data)``.
RunStateEvent = Literal[
    "state",  # state, message: the run's state changed (or it was reset)
    "stats",  # a new statistics snapshot (or the old one was dropped)
    "error",  # piper: the first error of a node arrived
]
