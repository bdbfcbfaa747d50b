"""The client side of remote workers: connections and the remote slots of an IMap.

An IMap with ``worker_remote=[("host:port", n), ...]`` owns a
:class:`RemotePool`, which opens one connection per remote slot::

    IMap dispatcher --async load_task / run_chunk (bytes)--> server
           ^                                                   |
           +-- post(slot, reply) <-- serving thread <-- pickled reply

A :class:`RemoteSlot` implements the pool's slot protocol
(:mod:`papy_engine.pool.slots`) and :class:`RemotePool` is its slot source.
Requests are asynchronous (the dispatcher never waits on the network; a long
item is never cut off by RPyC's sync request timeout: only the piper's
``timeout`` applies).  A thread per connection receives replies and posts
them to the dispatcher like a thread slot; when the connection breaks it
posts ``SlotEvent("dead")``.  The dispatcher then re-runs that slot's items
elsewhere and asks the pool to reconnect in the background, which posts
``SlotEvent("ready")`` with a new slot, or ``SlotEvent("gone")`` after
giving up.

The server side is :mod:`papy_engine.remote.server`, started by ``papy worker``
(:mod:`papy_engine.cli.worker`).
"""
from __future__ import annotations

import logging
import pickle
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable

from ..errors import IMapError
from ..pool.slots import TARGET_CHUNK_S, Done, ProgressReader, Raised, SlotEvent, Unreadable
from .handshake import Credentials, HandshakeError, client_handshake, current_credentials
from .handshake import tune_socket

__all__ = ["RemoteError", "RemoteSlot", "connect", "check_remote",
           "split_address"]

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 5.0
CLIENT_CONFIG = {
    "allow_public_attrs": False, "allow_pickle": False, "allow_setattr": False,
    "allow_delattr": False, "import_custom_exceptions": False,
    # Only connect-time calls are synchronous; chunks are async requests
    # without expiry, so this never cuts a long item short.
    "sync_request_timeout": CONNECT_TIMEOUT,
}


class RemoteError(IMapError):
    """A remote worker server could not be reached, refused us, or failed."""


def split_address(address: str) -> tuple[str, int]:
    """``"host:port"`` (or ``"[v6]:port"``) as ``(host, port)``.

    Raises:
        RemoteError: the address is malformed.
    """
    host, sep, port = str(address).rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise RemoteError(f"remote worker address must be 'host:port' (got {address!r})")
    return host, int(port)


def check_remote(worker_remote) -> list[tuple[str, int]]:
    """Validate ``[("host:port", n), ...]`` and return it as a list.

    Raises:
        RemoteError: naming the bad entry and the expected form.
    """
    out = []
    for entry in worker_remote:
        if not (isinstance(entry, (tuple, list)) and len(entry) == 2):
            raise RemoteError(f"worker_remote entries must be ('host:port', n) "
                              f"(got {entry!r})")
        address, n = entry
        split_address(address)
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise RemoteError(f"worker count for {address} must be an int >= 1 (got {n!r})")
        out.append((str(address), n))
    return out


def connect(address: str, timeout: float = CONNECT_TIMEOUT,
            credentials: Credentials | None = None):
    """Open an authenticated RPyC connection to the worker server at ``address``.

    Returns:
        ``(connection, socket, (papy version, python version, server pid))``.

    Raises:
        RemoteError: unreachable, refused or not a papy worker; names ``address``.
    """
    import rpyc
    from rpyc.core.stream import SocketStream
    host, port = split_address(address)
    cred = credentials or current_credentials()
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except OSError as exc:
        raise RemoteError(f"cannot reach the remote worker at {address}: "
                          f"{exc.strerror or exc} (is 'papy worker --port {port}' running "
                          f"on {host}?)") from exc
    try:
        sock = client_handshake(sock, address, cred)
        tune_socket(sock)
        conn = rpyc.utils.factory.connect_stream(SocketStream(sock), config=dict(CLIENT_CONFIG))
        info = tuple(conn.root.hello())
    except HandshakeError as exc:
        sock.close()
        log.error("remote worker %s refused the connection: %s", address, exc)
        raise RemoteError(f"remote worker {address} refused the connection: {exc}") from exc
    except Exception as exc:
        sock.close()
        raise RemoteError(f"remote worker {address} failed while connecting: "
                          f"{type(exc).__name__}: {exc}") from exc
    here = "%d.%d" % sys.version_info[:2]
    if info[1] != here:
        log.warning("remote worker %s runs Python %s, this client %s: functions shipped by "
                    "value may fail to load there", address, info[1], here)
    return conn, sock, info


class RemoteSlot(ProgressReader):
    """One connection to a worker server, used by the IMap like a pool slot."""

    precise = False   # the server does not report progress within a chunk
    chunk_s = TARGET_CHUNK_S

    def __init__(self, number: int, address: str, post: Callable, connection=None):
        self.number, self.address, self._post = number, address, post
        self.conn, self._sock, self.info = connection or connect(address)
        self.outstanding: list[int] = []
        self.tasks: set[int] = set()
        self.timed_out: tuple[int, int] | None = None
        self.dead = False
        self.progress = [0, 0, 0]   # [serial, offset, started] of the head chunk
        self.replies = 0
        self._timed: dict[int, bool] = {}
        self._sent: deque = deque()       # (serial, timed), in the server's order
        self._lock = threading.Lock()
        self._closing = False
        self._reason: str | None = None
        import rpyc
        root = self.conn.root
        # Fetch the bound methods once: every attribute lookup is a round trip.
        self._load = rpyc.async_(root.load_task)
        self._run = rpyc.async_(root.run_chunk)
        self._drop = rpyc.async_(root.drop_task)
        self.thread = threading.Thread(target=self._serve, daemon=True,
                                       name=f"papy-remote-{number}-{address}")
        self.thread.start()

    def __repr__(self) -> str:
        return f"RemoteSlot({self.number}, {self.address!r})"

    # -- receiving ------------------------------------------------------------------
    def _serve(self) -> None:
        try:
            while not self._closing:
                self.conn.serve(1.0)
        except Exception as exc:
            if self._reason is None:
                self._reason = (f"the connection was lost ({type(exc).__name__}"
                                f"{': ' + str(exc) if str(exc) else ''})")
        if not self._closing:
            self._post(self, SlotEvent("dead"))

    def _on_result(self, serial: int, res) -> None:
        """Runs in the serving thread when a chunk's reply arrives."""
        if res.error:
            try:
                res.value
            except Exception as exc:
                # the server failed outside the user's code: it is unusable
                self._reason = f"the server failed: {type(exc).__name__}: {exc}"
                log.error("remote worker %s: %s", self.address, self._reason)
                self.kill()
            return
        try:
            reply = pickle.loads(res.value)
        except Exception as exc:   # the server is fine: the manager retries the items
            reply = ("unreadable", serial, f"{type(exc).__name__}: {exc}")
        with self._lock:
            if self._sent and self._sent[0][0] == serial:
                self._sent.popleft()
            if self._sent:  # the next chunk starts on the server now
                head, timed = self._sent[0]
                self.progress = [head, 0, time.monotonic_ns() if timed else 0]
        if reply[0] == "done":
            _, serial, results, created, busy, output = reply
            self._post(self, Done(serial, results, created, busy, 0, output))
        elif reply[0] == "unreadable":
            self._post(self, Unreadable(reply[1], reply[2]))
        else:
            self._post(self, Raised(*reply[1:]))

    def _on_loaded(self, name: str, res) -> None:
        if res.error:
            try:
                res.value
            except Exception as exc:
                log.error("remote worker %s: loading task %s failed: %s", self.address,
                          name, exc)

    # -- slot interface -----------------------------------------------------------------
    def wait_objects(self) -> list:
        return []

    def collect(self, ready: list, post: Callable) -> bool:
        return True   # replies arrive through post, from the serving thread

    def send_task(self, task) -> None:
        self._timed[task.id] = task.mode[1]
        self.tasks.add(task.id)
        name = task.name
        try:
            self._load(task.id, name, task.shipped(), tuple(task.mode)).add_callback(
                lambda res: self._on_loaded(name, res))
        except Exception:
            # the connection broke: the serving thread reports the death, and
            # the chunk sent next fails with OSError
            self.kill()

    def send_chunk(self, serial: int, task, start: int, items: list) -> int:
        tid = task.id
        data = pickle.dumps(items, protocol=pickle.HIGHEST_PROTOCOL)  # may raise: unpicklable
        timed = self._timed.get(tid, False)
        with self._lock:
            self._sent.append((serial, timed))
            if len(self._sent) == 1:
                self.progress = [serial, 0, time.monotonic_ns() if timed else 0]
        try:
            self._run(serial, tid, start, data).add_callback(
                lambda res: self._on_result(serial, res))
        except Exception as exc:
            # the connection broke: the serving thread reports the death
            self.kill()
            raise OSError(f"remote worker {self.address}: {exc}") from exc
        return len(data)

    def drop_task(self, tid: int) -> None:
        if tid in self.tasks and not self.dead:
            self.tasks.discard(tid)
            try:
                self._drop(tid)
            except Exception:
                pass

    def current_offset(self, serial) -> int:
        return 0  # the server does not report progress within a chunk

    def kill(self) -> bool:
        """Break the connection (the server's connection process then exits).

        The serving thread then reports the death: returns False.
        """
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        return False

    def exit_reason(self) -> str:
        if self.timed_out:
            return "its item timed out"
        return f"remote worker {self.address}: {self._reason or 'the connection was lost'}"

    def holds_items(self) -> bool:
        return True   # the server may: keep the connection until the run ends

    def ask_stop(self) -> None:
        pass   # closing the connection (stop) is already quick

    def stop(self, timeout: float) -> None:
        """Close the connection (safe to repeat)."""
        self._closing = True
        self.dead = True
        self.kill()
        if self.thread is not threading.current_thread():
            self.thread.join(max(timeout, 1.0))
        try:
            self._sock.close()
        except OSError:
            pass
