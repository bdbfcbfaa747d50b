"""What a worker slot is: the protocol every kind implements, and the replies.

A *slot* is one worker of a pool: a process, a thread, a connection to a
remote server.  The pool manager's dispatcher thread sends it the functions
of tasks and *chunks* of items, and gets one reply per chunk.  Slots come
from *sources*: a source starts the first slots of its kind, replaces a dead
one, and may add or take away slots later (a remote server reconnecting).

Messages a slot delivers to the manager, through ``post(slot, message)``
(thread and remote slots, from their own threads) or from
:meth:`Slot.collect` (process slots, on the dispatcher thread):

* :class:`Done` -- chunk ``serial`` was evaluated: one result per item
  (sub-items when the task produces several), the offsets of the
  placeholders created there, the seconds it took, and what it printed
  (when the task captures output);
* :class:`Raised` -- a ``debug=True`` function raised on chunk ``serial``;
* :class:`Unreadable` -- chunk ``serial`` was answered, but the reply cannot
  be loaded in this process (the slot itself is fine);
* :class:`SlotEvent` ``"dead"`` -- the slot was lost (e.g. its connection
  broke); ``"ready"`` -- a new or reconnected slot is ready to join the
  pool; ``"gone"`` -- a source gave up on a slot (no more reconnection), or
  marked it ``draining`` (it wakes the dispatcher, which retires the slot
  once :meth:`Slot.collect` says it died).

Adding a slot kind means writing a :class:`Slot` class and a
:class:`SlotSource` for it, and registering the source with
:func:`register`; the manager keeps feeding, budgets, ordering and recovery.
The kinds: processes and threads (:mod:`.process`, :mod:`.thread`), remote
RPyC servers (:mod:`papy_engine.remote`) and Dask clusters
(:mod:`.dask_source`, :mod:`.dask_slot`).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, Protocol

from .evaluate import OFFSET, SERIAL, STARTED

TARGET_CHUNK_S = 0.01   # seconds of measured work per chunk, for local slots

if TYPE_CHECKING:
    from ..errors import WorkerError
    from .records import Task

__all__ = ["Done", "Raised", "Unreadable", "SlotEvent", "Message", "Post", "Slot", "SlotSource",
           "ProgressReader",
           "register", "source_for", "worker_types"]


class Done(NamedTuple):
    """Chunk ``serial`` was evaluated."""

    serial: int
    results: list
    created: list[int]       # offsets in ``results`` of placeholders made there
    busy: float | tuple      # seconds of work (of each stage, for a fused chain)
    nbytes: int = 0          # size of the reply on the wire, when known
    output: str = ""         # what the chunk printed (when the task captures it)


class Raised(NamedTuple):
    """A ``debug=True`` function raised on chunk ``serial``."""

    serial: int
    error: WorkerError


class Unreadable(NamedTuple):
    """Chunk ``serial`` was answered, but the reply cannot be loaded here (a
    result whose class this process cannot import, say); ``error`` says why."""

    serial: int
    error: str


class SlotEvent(NamedTuple):
    """A change of the slot itself, reported by its own thread or its source."""

    kind: Literal["dead", "ready", "gone"]


Message = Done | Raised | Unreadable | SlotEvent
Post = Callable[["Slot", Message], None]


class Slot(Protocol):
    """One worker, as the pool manager sees it."""

    number: int
    outstanding: list[int]              # serials of chunks sent, oldest first
    tasks: set[int]                     # ids of the tasks whose function it holds
    timed_out: tuple[int, int] | None   # (serial, offset) when killed for a timeout
    dead: bool
    replies: int                        # chunks answered so far
    precise: bool   # current_offset() names the item in progress exactly
    chunk_s: float  # seconds of measured work to aim at per chunk
    # Optional: ``draining`` -- True when its source takes it away (send it
    # nothing more; it leaves the pool once idle, when collect() says it died).
    # A slot without the attribute never drains.

    def wait_objects(self) -> list:
        """Objects the dispatcher waits on for this slot (pipes, sentinels)."""

    def collect(self, ready: list, post: Post) -> bool:
        """Deliver the replies ``ready`` says are waiting; False when the slot died."""

    def send_task(self, task: Task) -> None:
        """Make ``task``'s function available to this worker."""

    def send_chunk(self, serial: int, task: Task, start: int, items: list) -> int:
        """Send a chunk; returns its size in bytes when known (else 0).

        Raises OSError when the worker is gone (its death is reported), any
        other exception when an item cannot be sent (e.g. not picklable).
        """

    def drop_task(self, tid: int) -> None:
        """Forget a finished task's function."""

    def began(self, serial: int) -> bool:
        """True when the worker started evaluating chunk ``serial``."""

    def started_at(self, serial: int) -> float | None:
        """When the item in progress of chunk ``serial`` started (monotonic), if timed."""

    def current_offset(self, serial: int) -> int:
        """The offset of the item in progress of chunk ``serial``; -1 when the
        chunk runs on the fast path, which does not publish it (``Worker.map``)."""

    def kill(self) -> bool:
        """Stop the worker now; True when it is dead at once (else reported later)."""

    def exit_reason(self) -> str:
        """Why the worker is gone, for messages."""

    def holds_items(self) -> bool:
        """True when the worker may still serve an item it dumped for direct
        transfer (a file, fifo, socket, shared memory): it must stay up until
        the run ends.  A pool whose work is all done lets the others go early."""

    def ask_stop(self) -> None:
        """Ask the worker to exit and return at once: the manager asks every
        slot before it waits on any in :meth:`stop`, so that they exit together."""

    def stop(self, timeout: float) -> None:
        """Shut the worker down, killing it after ``timeout`` (safe to repeat)."""


class ProgressReader:
    """``began``/``started_at``/``current_offset`` of a slot whose worker writes a
    progress array (``self.progress``: chunk serial, item offset, start time;
    see :mod:`.evaluate`).  A remote slot keeps the array itself, for the
    chunk at the head of the server's queue."""

    progress: Any

    def began(self, serial: int) -> bool:
        return int(self.progress[SERIAL]) == serial

    def started_at(self, serial: int) -> float | None:
        p = self.progress
        if int(p[SERIAL]) == serial and p[STARTED] > 0:
            return p[STARTED] / 1e9   # stored as time.monotonic_ns()
        return None

    def current_offset(self, serial: int) -> int:
        p = self.progress
        return int(p[OFFSET]) if int(p[SERIAL]) == serial else 0


class SlotSource(Protocol):
    """Where the slots of one kind come from."""

    def start(self) -> Sequence[Slot]:
        """Start the first slots (may raise, naming what could not start)."""

    def replace(self, dead: Slot) -> Slot | None:
        """A replacement for ``dead`` now, or None (one may come as a "ready" event)."""

    def keep(self, slot: Slot) -> bool:
        """Take back a slot whose pool is done, to serve a later pool (warm
        workers, see :mod:`.warm`); False: the manager stops it."""

    def pending(self) -> bool:
        """True while replacements are under way (slots may still come)."""

    def describe_loss(self) -> str:
        """Why slots were lost, for the placeholders of items nobody can run."""

    def close(self) -> None:
        """Stop every slot of this source, including those not yet joined."""


def _process(imap: Any, post: Post, numbers: Any) -> SlotSource:
    from .process import ProcessSource
    return ProcessSource(imap, post, numbers)


def _thread(imap: Any, post: Post, numbers: Any) -> SlotSource:
    from .thread import ThreadSource
    return ThreadSource(imap, post, numbers)


def _remote(imap: Any, post: Post, numbers: Any) -> SlotSource:
    from ..remote.pool import RemotePool   # rpyc is imported only for remote pools
    return RemotePool(imap.name, imap.worker_remote, post, numbers, imap.skip_unreachable)


def _dask(imap: Any, post: Post, numbers: Any) -> SlotSource:
    from .dask_source import DaskSource   # distributed is imported only when one starts
    return DaskSource(imap, post, numbers)


#: slot kind -> factory(imap, post, numbers) -> SlotSource.  The factories
#: import their module when called, so a kind costs nothing until used.
_KINDS: dict[str, Callable[[Any, Post, Any], SlotSource]] = {
    "process": _process, "thread": _thread, "remote": _remote, "dask": _dask,
}
#: the kinds ``IMap(worker_type=...)`` accepts (remote slots come from
#: ``worker_remote``, Dask slots from ``dask``)
_LOCAL = ["process", "thread"]


def register(kind: str, factory: Callable[[Any, Post, Any], SlotSource],
             worker_type: bool = True) -> None:
    """Register a slot kind: ``factory(imap, post, numbers) -> SlotSource``.

    With ``worker_type=True`` an IMap made with ``worker_type=kind`` gets
    ``worker_num`` slots of it (the factory reads ``imap.local_workers()``).
    """
    _KINDS[kind] = factory
    if worker_type and kind not in _LOCAL:
        _LOCAL.append(kind)


def worker_types() -> list[str]:
    """The kinds an IMap's ``worker_type`` may name."""
    return list(_LOCAL)


def source_for(kind: str, imap: Any, post: Post, numbers: Any) -> SlotSource:
    """Make the source of slots of ``kind`` for ``imap``."""
    return _KINDS[kind](imap, post, numbers)
