"""The ``papy worker`` server: an RPyC service that evaluates chunks of items.

Data flow (one client connection = one remote slot of an IMap)::

    client --load_task(tid, name, dill bytes, boxed, timed)--> WorkerService
    client --run_chunk(serial, tid, start, pickled items)----> WorkerService
    client <---------------pickled ("done", serial, results, created, busy_s)

Only bytes and ints cross the connection, never netrefs: functions travel as
dill bytes, items and results as pickles, and both are unpickled here.  In
``forking`` mode (the default) each connection gets its own process, so two
slots on one server use two CPUs; the child exits as soon as its client
disconnects (a watchdog polls the socket for a hang-up), which also abandons
an item the client gave up on after a timeout.  ``threaded`` mode serves
every connection from one process (one CPU for pure-Python work).
"""
from __future__ import annotations

import logging
import os
import pickle
import select
import signal
import sys
import threading
import time

import dill
import rpyc
from rpyc.utils.server import ForkingServer, ThreadedServer

from .. import __version__
from ..errors import WorkerError
from ..pool import evaluate
from .handshake import refuse_busy

__all__ = ["serve", "WorkerService", "RPYC_LOGGER"]

log = logging.getLogger(__name__)

#: The logger RPyC's own per-connection messages go to.
RPYC_LOGGER = __name__ + ".rpyc"

SERVER_CONFIG = {
    # Nothing but plain values is ever exchanged: keep every RPyC door shut.
    "allow_public_attrs": False, "allow_pickle": False, "allow_setattr": False,
    "allow_delattr": False, "import_custom_exceptions": False,
    "sync_request_timeout": None,
}


class WorkerService(rpyc.Service):
    """Per-connection state: the task functions a client loaded."""

    def on_connect(self, conn) -> None:
        self._tasks: dict[int, tuple] = {}    # tid -> (func, name, mode)
        self._broken: dict[int, tuple] = {}   # tid -> (name, WorkerError, produce)

    def exposed_hello(self) -> tuple:
        return (__version__, "%d.%d" % sys.version_info[:2], os.getpid())

    def exposed_load_task(self, tid: int, name: str, payload: bytes, mode: tuple) -> None:
        try:
            self._tasks[tid] = (dill.loads(bytes(payload)), str(name),
                                evaluate.Mode(*tuple(mode)))
            self._broken.pop(tid, None)
        except Exception as exc:
            log.error("task %s could not be loaded: %s: %s", name, type(exc).__name__, exc)
            self._broken[tid] = (str(name), WorkerError.from_exception(exc),
                                 evaluate.Mode(*tuple(mode))[2])

    def exposed_drop_task(self, tid: int) -> None:
        self._tasks.pop(tid, None)
        self._broken.pop(tid, None)

    def exposed_run_chunk(self, serial: int, tid: int, start: int, data: bytes) -> bytes:
        items = pickle.loads(bytes(data))
        entry = self._tasks.get(tid)
        if entry is None:
            return pickle.dumps(self._unloaded(serial, tid, start, items))
        func, name, mode = entry
        reply = evaluate.reply_for(func, name, mode, serial, start, items, [0, 0, 0])
        out: bytes = evaluate.send_reply(evaluate.dumps, reply, func, name, start, mode)
        return out

    def _unloaded(self, serial, tid, start, items) -> tuple:
        name, why, produce = self._broken.get(tid, ("task %d" % tid, None, 1))
        msg = ("the task function could not be loaded on this worker server: "
               + (f"{why.exc_type}: {why.message}" if why else "it was never sent"))
        errors = [WorkerError(msg, exc_type="RemoteLoadError",
                              traceback=why.traceback if why else "", piper=name,
                              index=start + i) for i in range(len(items))]
        # one result per sub-item of a produce>1 task, each error counted once
        results = [e for e in errors for _ in range(produce)]
        return ("done", serial, results, [i * produce for i in range(len(items))], 0.0, "")


# -- servers ------------------------------------------------------------------------
def _exit_on_hangup(fd: int, peer: str) -> None:
    """Forked child: exit as soon as the client hangs up, even mid-item."""
    poller = select.poll()
    poller.register(fd, select.POLLRDHUP | select.POLLHUP | select.POLLERR)
    while True:
        try:
            if poller.poll():
                break
        except InterruptedError:
            continue
    log.info("client %s disconnected; connection process %d exits", peer, os.getpid())
    os._exit(0)


def _die_with_parent() -> None:
    """Linux: get SIGTERM when the server process dies, however it dies."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass


class PapyForkingServer(ForkingServer):
    """A forking server that knows its children, caps them, and ends them on close."""

    def __init__(self, *args, max_clients: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_clients = max_clients
        self.children: set[int] = set()
        signal.signal(signal.SIGCHLD, self._reap)

    def _reap(self, signum=None, frame=None) -> None:
        for pid in list(self.children):
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done = pid
            if done:
                self.children.discard(pid)

    def _accept_method(self, sock) -> None:
        self._reap()
        if self.max_clients and len(self.children) >= self.max_clients:
            self.clients.discard(sock)
            refuse_busy(sock, self.max_clients)
            return
        pid = os.fork()
        if pid:
            self.children.add(pid)
            sock.close()
            self.clients.discard(sock)
            return
        try:  # the child serves this one connection
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGCHLD):
                signal.signal(sig, signal.SIG_DFL)
            _die_with_parent()
            self.listener.close()
            self.clients.clear()
            self._authenticate_and_serve_client(sock)
        except BaseException:
            log.exception("connection process failed")
        finally:
            os._exit(0)

    def _serve_client(self, sock, credentials) -> None:
        # In the child, once authenticated (so that a refusal is always logged
        # before a hang-up could end the process).
        try:
            peer = "%s:%s" % sock.getpeername()[:2]
        except OSError:
            peer = "?"
        threading.Thread(target=_exit_on_hangup, args=(sock.fileno(), peer),
                         daemon=True, name="papy-hangup").start()
        super()._serve_client(sock, credentials)

    def close(self) -> None:
        super().close()
        for pid in list(self.children):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 5.0
        while self.children and time.monotonic() < deadline:
            self._reap()
            if self.children:
                time.sleep(0.02)
        for pid in list(self.children):
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        self.children.clear()


class PapyThreadedServer(ThreadedServer):
    """A threaded server with a cap on simultaneous clients."""

    def __init__(self, *args, max_clients: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_clients = max_clients
        self._active = 0
        self._count_lock = threading.Lock()

    def _accept_method(self, sock) -> None:
        limit = self.max_clients or 0  # None or 0: no cap
        with self._count_lock:
            full = limit != 0 and self._active >= limit
            if not full:
                self._active += 1
        if full:
            self.clients.discard(sock)
            refuse_busy(sock, limit)
            return
        threading.Thread(target=self._serve_counted, args=(sock,), daemon=True,
                         name="papy-client").start()

    def _serve_counted(self, sock) -> None:
        try:
            self._authenticate_and_serve_client(sock)
        except Exception:
            pass  # already logged by rpyc
        finally:
            with self._count_lock:
                self._active -= 1


def serve(host: str, port: int, mode: str, max_clients: int | None, authenticator,
          on_listening=None) -> None:
    """Serve until SIGTERM/SIGINT; then close the listener and end every client."""
    cls = PapyForkingServer if mode == "forking" else PapyThreadedServer
    server = cls(WorkerService, hostname=host, port=port, authenticator=authenticator,
                 protocol_config=dict(SERVER_CONFIG), logger=logging.getLogger(RPYC_LOGGER),
                 listener_timeout=0.2, max_clients=max_clients)
    stopping: list[int] = []

    def on_signal(signum, frame):
        # Only flip the flag: the accept loop notices within listener_timeout.
        if not stopping:
            log.info("%s received: shutting down", signal.Signals(signum).name)
        stopping.append(signum)
        server.active = False

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        server._listen()
        if on_listening:
            on_listening(server.host, server.port)
        while server.active:
            try:
                server.accept()
            except EOFError:
                break
    finally:
        server.close()
        for s, h in old.items():
            signal.signal(s, h)
        log.info("server on %s:%s stopped", server.host, server.port)
