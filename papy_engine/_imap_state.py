"""The IMap state its mixins share, declared once so that mypy can check them.

:class:`~papy_engine._dispatch.Dispatcher` and
:class:`~papy_engine._recovery.Recovery` are mixins of
:class:`~papy_engine.imap.IMap`: they work on attributes that ``IMap.__init__``
sets and call methods that IMap or the other mixin defines.  This base class
only *declares* them (annotations, and method signatures under
``TYPE_CHECKING``); it adds nothing at run time.
"""
from __future__ import annotations

import itertools
import threading
from collections import deque
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .imap import _Task
    from .remote import RemotePool

__all__ = ["IMapState"]


class IMapState:
    """Attributes and methods shared by IMap and its mixins (set by ``IMap.__init__``)."""

    name: str
    stride: int | None
    buffer: int | None
    skip: bool
    worker_type: str
    start_method: str | None
    retries: int

    _lock: threading.Lock
    _changed: threading.Condition      # on _lock: results stored / room freed
    _running: threading.Event          # cleared while paused
    _tasks: list[_Task]
    # Slots are duck-typed on ``.kind``: _pool.ProcessSlot, _pool.ThreadSlot
    # or remote.RemoteSlot.
    _slots: list[Any]
    _nslots: int
    _numbers: itertools.count[int]     # worker numbers
    _serial: itertools.count[int]      # chunk serials
    _ready: deque[list[Any]]           # [task, start, items, offset]
    _chunks: dict[int, tuple[Any, _Task, int, list]]  # serial -> (slot, task, start, items)
    _inbox: deque[tuple[Any, tuple]]   # thread/remote slot replies: (slot, reply)
    _wake_r: int
    _wake_w: int
    _remote: RemotePool | None
    _reruns: dict[tuple[int, int], int]  # (task id, index) -> re-runs after a remote loss
    _stop_timeout: float
    _startup_deaths: int
    _held: bool
    _started: bool
    _stopping: bool
    _stopped: bool
    _failure: BaseException | None

    if TYPE_CHECKING:
        # IMap's
        def _wake(self) -> None: ...
        def _stride(self) -> int: ...
        def _pull_size(self) -> int: ...
        def _limit(self, task: _Task) -> int: ...
        def _thread_slot(self) -> Any: ...

        # Dispatcher's, used by Recovery
        def _store(self, task: _Task, start: int, results: list, n: int, created: list[int],
                   busy: float, timeouts: int = 0) -> None: ...
        def _shutdown_slots(self, timeout: float) -> None: ...

        # Recovery's, used by Dispatcher
        def _on_death(self, slot: Any) -> None: ...
        def _on_remote_event(self, slot: Any, kind: str) -> None: ...
        def _next_deadline(self) -> float | None: ...
        def _check_timeouts(self) -> None: ...
        def _no_workers_left(self) -> None: ...
