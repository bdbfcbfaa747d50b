"""Remote workers over RPyC: the ``papy worker`` command and remote pool slots.

Server side: :func:`worker_main` (``papy worker``) parses options, checks
that a non-loopback address has an authenticator, and runs the service of
:mod:`papy_engine._remote_server`.

Client side: an IMap with ``worker_remote=[("host:port", n), ...]`` owns a
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
"""
from __future__ import annotations

import argparse
import itertools
import logging
import os
import pickle
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence

from ._remote_wire import Credentials, HandshakeError, client_handshake, tune_socket
from .errors import IMapError
from .pool.policy import TARGET_CHUNK_S
from .pool.slots import Done, Raised, Slot, SlotEvent

__all__ = ["RemoteError", "RemotePool", "RemoteSlot", "Credentials", "set_credentials",
           "connect", "check_remote", "worker_main"]

log = logging.getLogger(__name__)

DEFAULT_PORT = 18812
CONNECT_TIMEOUT = 5.0
RECONNECT_DELAYS = (0.0, 0.5, 1.0, 2.0, 4.0)  # seconds before each reconnection attempt
CLIENT_CONFIG = {
    "allow_public_attrs": False, "allow_pickle": False, "allow_setattr": False,
    "allow_delattr": False, "import_custom_exceptions": False,
    # Only connect-time calls are synchronous; chunks are async requests
    # without expiry, so this never cuts a long item short.
    "sync_request_timeout": CONNECT_TIMEOUT,
}
_SERIAL, _OFFSET, _STARTED = 0, 1, 2

_credentials: Credentials | None = None


class RemoteError(IMapError):
    """A remote worker server could not be reached, refused us, or failed."""


def set_credentials(token: str | bytes | None = None, ssl_certfile: str | None = None,
                    ssl_keyfile: str | None = None, ssl_ca_certs: str | None = None) -> None:
    """Set what this process presents to worker servers (default: the environment).

    Args:
        token: the shared token (``papy worker --auth-token-file``).
        ssl_certfile, ssl_keyfile: this client's certificate and key.
        ssl_ca_certs: CA certificates that the servers' certificates must chain to.
    """
    global _credentials
    if isinstance(token, str):
        token = token.strip().encode()
    _credentials = Credentials(token, ssl_certfile, ssl_keyfile, ssl_ca_certs)


def _current_credentials() -> Credentials:
    return _credentials if _credentials is not None else Credentials.from_env()


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
    cred = credentials or _current_credentials()
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
        raise RemoteError(f"remote worker {address} refused the connection: {exc}") from None
    except Exception as exc:
        sock.close()
        raise RemoteError(f"remote worker {address} failed while connecting: "
                          f"{type(exc).__name__}: {exc}") from exc
    here = "%d.%d" % sys.version_info[:2]
    if info[1] != here:
        log.warning("remote worker %s runs Python %s, this client %s: functions shipped by "
                    "value may fail to load there", address, info[1], here)
    return conn, sock, info


class RemoteSlot:
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
        self.progress = [0.0, 0.0, 0.0]   # [serial, offset, started] of the head chunk
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
        except Exception as exc:
            self._reason = f"unreadable reply: {type(exc).__name__}: {exc}"
            self.kill()
            return
        with self._lock:
            if self._sent and self._sent[0][0] == serial:
                self._sent.popleft()
            if self._sent:  # the next chunk starts on the server now
                head, timed = self._sent[0]
                self.progress = [head, 0, time.monotonic() if timed else 0.0]
        if reply[0] == "done":
            _, serial, results, created, busy, output = reply
            self._post(self, Done(serial, results, created, busy, 0, output))
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
            self._load(task.id, name, task.payload, tuple(task.mode)).add_callback(
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
                self.progress = [serial, 0, time.monotonic() if timed else 0.0]
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

    def began(self, serial: int) -> bool:
        """The server runs one connection's chunks in order: the head one is running."""
        return int(self.progress[_SERIAL]) == serial

    def started_at(self, serial) -> float | None:
        p = self.progress
        if int(p[_SERIAL]) == serial and p[_STARTED] > 0:
            return p[_STARTED]
        return None

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


# -- papy worker ---------------------------------------------------------------------
WORKER_EXAMPLES = """\
examples:
  papy worker                                   loopback only, port 18812
  papy worker --port 18813 --mode threaded
  papy worker --host 0.0.0.0 --auth-token-file ~/.papy-token
  PAPY_WORKER_TOKEN=s3cret papy worker --host 10.0.0.5
  papy worker --host 0.0.0.0 --ssl-certfile srv.pem --ssl-keyfile srv.key \\
              --ssl-ca-certs clients-ca.pem

A worker server runs any code its clients send.  It listens on loopback
unless it can authenticate clients: with a token (clients set
PAPY_WORKER_TOKEN or PAPY_WORKER_TOKEN_FILE) or with TLS client certificates.
"""


def _worker_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="papy worker", epilog=WORKER_EXAMPLES,
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                description="Serve remote PaPy workers over RPyC.")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT,
                   help=f"TCP port (default {DEFAULT_PORT}; 0 picks a free one)")
    p.add_argument("--mode", choices=["forking", "threaded"], default="forking",
                   help="forking: a process per client, real CPU parallelism (default); "
                        "threaded: one process, threads share the GIL")
    p.add_argument("--max-clients", type=int, default=None, metavar="N",
                   help="refuse clients beyond N simultaneous connections")
    p.add_argument("--auth-token-file", metavar="FILE",
                   help="require clients to prove they know the token in FILE "
                        "(else the PAPY_WORKER_TOKEN environment variable, if set)")
    p.add_argument("--ssl-certfile", metavar="FILE", help="serve TLS with this certificate")
    p.add_argument("--ssl-keyfile", metavar="FILE", help="the certificate's private key")
    p.add_argument("--ssl-ca-certs", metavar="FILE",
                   help="require client certificates signed by these CAs")
    p.add_argument("--log", metavar="FILE", help="write the log to FILE (default: stderr)")
    p.add_argument("--log-level", type=str.upper, default="INFO",
                   choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    return p


def worker_main(argv: Sequence[str] | None = None) -> int:
    """``papy worker``: serve until SIGTERM/SIGINT; returns the exit status.

    Exit status 0 after a clean shutdown, 2 for a usage or setup error (bad
    option, unreadable token, refused insecure address, port in use).
    """
    from ._remote_server import serve
    from ._remote_wire import Gate, is_loopback, read_token, server_ssl_context
    from .log import start_logger
    parser = _worker_parser()
    try:
        args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 2

    def fail(msg: str) -> int:
        print(f"papy worker: error: {msg}", file=sys.stderr)
        return 2
    if not 0 <= args.port <= 65535:
        return fail(f"--port must be 0..65535 (got {args.port})")
    if args.max_clients is not None and args.max_clients < 1:
        return fail(f"--max-clients must be >= 1 (got {args.max_clients})")
    try:
        token: bytes | None
        if args.auth_token_file:
            token = read_token(args.auth_token_file)
        else:
            env = os.environ.get("PAPY_WORKER_TOKEN", "").strip()
            token = env.encode() if env else None
        ssl_ctx = None
        if args.ssl_certfile:
            ssl_ctx = server_ssl_context(args.ssl_certfile, args.ssl_keyfile, args.ssl_ca_certs)
        elif args.ssl_keyfile or args.ssl_ca_certs:
            return fail("--ssl-keyfile and --ssl-ca-certs need --ssl-certfile")
    except (ValueError, OSError) as exc:
        return fail(str(exc))
    authenticated = token is not None or bool(ssl_ctx and args.ssl_ca_certs)
    if not authenticated and not is_loopback(args.host):
        return fail(
            f"refusing to listen on {args.host} without authentication. A worker server "
            "runs any code its clients send, so anyone who can reach "
            f"{args.host}:{args.port} could run commands as this user. Use "
            "--auth-token-file FILE (or set PAPY_WORKER_TOKEN), or --ssl-certfile/"
            "--ssl-keyfile with --ssl-ca-certs to require client certificates; or keep "
            "the default 127.0.0.1 and reach it through an SSH tunnel.")
    start_logger(args.log_level, filename=args.log)
    if args.log_level != "DEBUG":  # rpyc's own per-connection chatter
        logging.getLogger("papy_engine._remote_server.rpyc").setLevel(logging.WARNING)
    auth = "token" if token else "none (loopback)"
    if ssl_ctx:
        auth = ("TLS + client certificates" if args.ssl_ca_certs else "TLS") + \
               (" + token" if token else "")

    def listening(host, port):
        log.info("papy worker listening on %s:%s (%s mode, auth: %s, max clients: %s, "
                 "pid %d)", host, port, args.mode, auth, args.max_clients or "unlimited",
                 os.getpid())
        print(f"papy worker: listening on {host}:{port} ({args.mode}, auth: {auth})",
              file=sys.stderr, flush=True)
    try:
        serve(args.host, args.port, args.mode, args.max_clients,
              Gate(token, ssl_ctx), on_listening=listening)
    except OSError as exc:
        return fail(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}")
    return 0
