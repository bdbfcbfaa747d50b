"""The remote slots of one IMap: connecting, reconnecting when a server is lost, closing.

:class:`RemotePool` is the pool's slot source (:class:`~papy_engine.pool.slots.SlotSource`)
for ``worker_remote``: it opens one :class:`~.client.RemoteSlot` per remote
worker, replaces a lost one by reconnecting in the background (posting
``SlotEvent("ready")`` when it is back, ``SlotEvent("gone")`` after giving up),
and says what was lost for the placeholders of items nobody can run.
"""
from __future__ import annotations

import itertools
import logging
import sys
import threading
from collections.abc import Callable, Sequence

from ..pool.slots import Slot, SlotEvent
from .client import CONNECT_TIMEOUT, RemoteError, RemoteSlot, check_remote

__all__ = ["RemotePool", "RECONNECT_DELAYS"]

log = logging.getLogger(__name__)

RECONNECT_DELAYS = (0.0, 0.5, 1.0, 2.0, 4.0)  # seconds before each reconnection attempt


class _Reconnector(threading.Thread):
    def __init__(self, pool: "RemotePool", address: str, number: int):
        super().__init__(daemon=True, name=f"papy-reconnect-{address}")
        self.pool, self.address, self.number = pool, address, number
        self.cancelled = threading.Event()

    def run(self) -> None:
        pool, n = self.pool, len(RECONNECT_DELAYS)
        for attempt, delay in enumerate(RECONNECT_DELAYS, 1):
            if self.cancelled.wait(delay):
                return
            try:
                slot = RemoteSlot(self.number, self.address, pool.post)
            except RemoteError as exc:
                log.warning("IMap %s: reconnecting to %s, attempt %d/%d failed: %s",
                            pool.name, self.address, attempt, n, exc)
                continue
            with pool.lock:
                if self.cancelled.is_set():
                    slot.stop(0)
                    return
                pool.slots.append(slot)
                pool.reconnecting.discard(self)
            log.warning("IMap %s: reconnected to remote worker %s (attempt %d)", pool.name,
                        self.address, attempt)
            pool.post(slot, SlotEvent("ready"))
            return
        with pool.lock:
            pool.reconnecting.discard(self)
            pool.lost[self.address] = f"{pool.lost.get(self.address, 'it disconnected')}; " \
                                      f"{n} reconnection attempts failed"
        log.error("IMap %s: giving up on remote worker %s after %d attempts", pool.name,
                  self.address, n)
        pool.post(None, SlotEvent("gone"))


class RemotePool:
    """The remote slots of one IMap: connecting, reconnecting, closing.

    Args:
        name: the IMap's name (for logs).
        worker_remote: ``[("host:port", n), ...]``.
        post: ``post(slot, reply)`` hands replies and events to the dispatcher.
        numbers: the IMap's slot-number counter.
        skip_unreachable: warn about unreachable servers instead of raising.
    """

    def __init__(self, name: str, worker_remote: Sequence, post: Callable,
                 numbers: itertools.count, skip_unreachable: bool = False):
        self.name, self.post, self.numbers = name, post, numbers
        self.worker_remote = check_remote(worker_remote)
        self.skip_unreachable = skip_unreachable
        self.lock = threading.Lock()
        self.slots: list[RemoteSlot] = []          # every slot ever made (closed at the end)
        self.reconnecting: set[_Reconnector] = set()
        self.lost: dict[str, str] = {}             # address -> what went wrong
        self.closed = False

    def connect(self) -> list[RemoteSlot]:
        """Open every connection; returns the slots.

        Raises:
            RemoteError: a server cannot be reached (unless ``skip_unreachable``).
        """
        made: list[RemoteSlot] = []
        for address, n in self.worker_remote:
            try:
                for _ in range(n):
                    made.append(RemoteSlot(next(self.numbers), address, self.post))
            except RemoteError as exc:
                if not self.skip_unreachable:
                    for s in made:
                        s.stop(0)
                    raise
                log.warning("IMap %s: %s; continuing without it (skip_unreachable)",
                            self.name, exc)
                print(f"papy: warning: {exc}; continuing without it", file=sys.stderr)
                self.lost[address] = str(exc)
        with self.lock:
            self.slots.extend(made)
        log.info("IMap %s: %d remote worker(s) on %s", self.name, len(made),
                 ", ".join(sorted({s.address for s in made})) or "no server")
        return made

    def start(self) -> list[RemoteSlot]:
        """Slot-source protocol: the first connections (see :meth:`connect`)."""
        return self.connect()

    def replace(self, dead: Slot) -> None:
        """Slot-source protocol: reconnect in the background (posts "ready")."""
        assert isinstance(dead, RemoteSlot)   # a remote pool replaces its own slots
        self.reconnect(dead)

    def reconnect(self, slot: RemoteSlot) -> None:
        """Replace a lost slot by a new connection, in the background."""
        with self.lock:
            if self.closed:
                return
            self.lost[slot.address] = slot.exit_reason()
            self.slots = [s for s in self.slots if not s.dead]
            r = _Reconnector(self, slot.address, slot.number)
            self.reconnecting.add(r)
        log.warning("IMap %s: %s; reconnecting", self.name, slot.exit_reason())
        r.start()

    def keep(self, slot: Slot) -> bool:
        """Slot-source protocol: connections are not kept between pools."""
        return False

    def pending(self) -> bool:
        """True while a reconnection is under way."""
        with self.lock:
            return bool(self.reconnecting)

    def describe_loss(self) -> str:
        with self.lock:
            return "; ".join(f"{a}: {why}" for a, why in self.lost.items()) or "no worker"

    def close(self) -> None:
        """Cancel reconnections and close every connection (safe to repeat)."""
        with self.lock:
            self.closed = True
            pending, self.reconnecting = list(self.reconnecting), set()
            slots, self.slots = list(self.slots), []
            for r in pending:
                r.cancelled.set()
        for r in pending:
            r.join(CONNECT_TIMEOUT + 1)
        for s in slots:
            s.stop(0)
