"""The handshake in front of every remote-worker connection, and credentials.

Server side: :class:`Authenticator` (an RPyC authenticator) and
:func:`refuse_busy`; client side: :func:`client_handshake` with the
:class:`Credentials` set by :func:`set_credentials` or read from the
environment.

Before any RPyC message, a ``papy worker`` server and its client exchange
three short lines (after the TLS handshake when SSL is on)::

    server: PAPY-WORKER 1 <open|token|busy> <nonce hex>
    client: AUTH <hex HMAC-SHA256(token, nonce) or ->
    server: OK  |  DENIED <reason>

The token never crosses the wire, only a MAC of a fresh nonce.  "busy" (the
server is at ``--max-clients``) ends the exchange right away.  Each side
reads at most one line before the other speaks, so no RPyC bytes are
consumed by the handshake.
"""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import os
import socket
import ssl
from dataclasses import dataclass

from ..errors import PapyError

__all__ = ["DEFAULT_PORT", "Authenticator", "Credentials", "HandshakeError", "set_credentials",
           "current_credentials", "read_token", "is_loopback", "server_ssl_context",
           "refuse_busy", "client_handshake", "tune_socket"]

log = logging.getLogger(__name__)

#: The port ``papy worker`` listens on unless told otherwise.
DEFAULT_PORT = 18812
MAGIC = b"PAPY-WORKER 1"
HANDSHAKE_TIMEOUT = 10.0
MAX_LINE = 512


class HandshakeError(PapyError):
    """The peer failed the handshake (the message says why)."""


class _ClosedEarly(HandshakeError):
    """The peer closed before saying anything (a port probe, or it gave up)."""


@dataclass(frozen=True)
class Credentials:
    """What a client presents to ``papy worker`` servers.

    ``from_env()`` reads ``PAPY_WORKER_TOKEN`` (or ``PAPY_WORKER_TOKEN_FILE``)
    and ``PAPY_SSL_CERTFILE`` / ``PAPY_SSL_KEYFILE`` / ``PAPY_SSL_CA_CERTS``.
    """

    token: bytes | None = None
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None
    ssl_ca_certs: str | None = None

    @classmethod
    def from_env(cls) -> "Credentials":
        token = os.environ.get("PAPY_WORKER_TOKEN")
        path = os.environ.get("PAPY_WORKER_TOKEN_FILE")
        return cls(token=read_token(path) if path and not token else
                   (token.strip().encode() if token else None),
                   ssl_certfile=os.environ.get("PAPY_SSL_CERTFILE") or None,
                   ssl_keyfile=os.environ.get("PAPY_SSL_KEYFILE") or None,
                   ssl_ca_certs=os.environ.get("PAPY_SSL_CA_CERTS") or None)


_credentials: Credentials | None = None


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


def current_credentials() -> Credentials:
    """The credentials given to :func:`set_credentials`, else those of the environment."""
    return _credentials if _credentials is not None else Credentials.from_env()


def read_token(path: str) -> bytes:
    """The token in ``path`` (surrounding whitespace removed).

    Raises:
        ValueError: the file cannot be read or is empty.
    """
    try:
        with open(path, "rb") as f:
            token = f.read().strip()
    except OSError as exc:
        raise ValueError(f"cannot read the token file {path}: {exc.strerror or exc}") from exc
    if not token:
        raise ValueError(f"the token file {path} is empty")
    try:
        if os.stat(path).st_mode & 0o077:
            log.warning("token file %s is readable by other users (chmod 600 it)", path)
    except OSError:
        pass
    return token


def is_loopback(host: str) -> bool:
    """True when every address ``host`` resolves to is a loopback address."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except socket.gaierror:
        return False
    addrs = {str(info[4][0]) for info in infos}  # an IP string for IPv4 and IPv6
    return bool(addrs) and all(ipaddress.ip_address(a.split("%")[0]).is_loopback
                               for a in addrs)


def _mac(token: bytes, nonce: bytes) -> str:
    return hmac.new(token, nonce, hashlib.sha256).hexdigest()


def _send_line(sock, text: str) -> None:
    sock.sendall(text.encode("ascii") + b"\n")


def _read_line(sock) -> str:
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = sock.recv(MAX_LINE - len(buf))
        if not chunk:
            if not buf:
                raise _ClosedEarly("the connection was closed during the handshake")
            raise HandshakeError(f"the connection was closed during the handshake "
                                 f"(after {buf!r})")
        buf += chunk
        if len(buf) >= MAX_LINE:
            raise HandshakeError("the handshake line is too long: not a papy worker peer?")
    return buf.decode("ascii", "replace").strip()


# -- server side -----------------------------------------------------------------
def server_ssl_context(certfile: str, keyfile: str | None,
                       ca_certs: str | None) -> ssl.SSLContext:
    """A TLS server context; with ``ca_certs`` clients must show a certificate it signed."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(certfile, keyfile)
    if ca_certs:
        ctx.load_verify_locations(ca_certs)
        ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


class Authenticator:
    """An RPyC authenticator: TLS (optional), then the token exchange.

    Raises ``rpyc.AuthenticationError`` for a refused client, after logging
    who and why; the client sees ``DENIED <reason>``.
    """

    def __init__(self, token: bytes | None = None, ssl_context: ssl.SSLContext | None = None):
        self.token, self.ssl_context = token, ssl_context

    def __call__(self, sock):
        from rpyc.utils.authenticators import AuthenticationError
        try:
            peer = "%s:%s" % sock.getpeername()[:2]
        except OSError:
            peer = "?"
        sock.settimeout(HANDSHAKE_TIMEOUT)
        try:
            if self.ssl_context is not None:
                sock = self.ssl_context.wrap_socket(sock, server_side=True)
            nonce = os.urandom(16)
            _send_line(sock, f"{MAGIC.decode()} {'token' if self.token else 'open'} "
                             f"{nonce.hex()}")
            answer = _read_line(sock)
            if not answer.startswith("AUTH "):
                raise HandshakeError(f"unexpected greeting {answer[:40]!r}: not a papy client?")
            if self.token is not None:
                given = answer[5:].strip()
                why = ("no token given" if given == "-" else
                       None if hmac.compare_digest(given, _mac(self.token, nonce)) else
                       "wrong token")
                if why:
                    log.warning("refused client %s: %s", peer, why)  # before the peer hangs up
                    _send_line(sock, "DENIED " + ("this server requires a token"
                                                  if given == "-" else why))
                    raise AuthenticationError(why)
            _send_line(sock, "OK")
        except _ClosedEarly as exc:
            log.info("client %s closed the connection before authenticating", peer)
            raise AuthenticationError("closed early") from exc
        except (HandshakeError, ssl.SSLError, OSError) as exc:
            log.warning("refused client %s: %s", peer, exc)
            raise AuthenticationError(str(exc)) from exc
        sock.settimeout(None)
        cert = sock.getpeercert() if isinstance(sock, ssl.SSLSocket) else None
        # "subject" holds RDNs, each a tuple of (key, value) pairs; typeshed
        # types every value of the certificate dict as a union.
        subject = dict(x[0] for x in cert.get("subject", ())) if cert else {}  # type: ignore[misc]
        log.info("client %s authenticated%s", peer,
                 f" (certificate {subject.get('commonName')!r})" if cert else
                 (" (token)" if self.token else ""))
        return sock, subject or None


def refuse_busy(sock, limit: int) -> None:
    """Tell a client the server is full (``--max-clients``) and close."""
    try:
        peer = "%s:%s" % sock.getpeername()[:2]
        sock.settimeout(1.0)
        _send_line(sock, f"{MAGIC.decode()} busy -")
    except OSError:
        peer = "?"
    log.warning("refused client %s: --max-clients %d reached", peer, limit)
    try:
        sock.close()
    except OSError:
        pass


# -- client side -----------------------------------------------------------------
def client_handshake(sock, address: str, cred: Credentials):
    """Run the client side on a connected socket; returns the socket to use.

    Raises:
        HandshakeError: refused, or not a papy worker (the message says why).
    """
    sock.settimeout(HANDSHAKE_TIMEOUT)
    if cred.ssl_certfile or cred.ssl_ca_certs:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False  # workers are often named by IP; the CA is what we trust
        if cred.ssl_ca_certs:
            ctx.load_verify_locations(cred.ssl_ca_certs)
        else:
            ctx.verify_mode = ssl.CERT_NONE
        if cred.ssl_certfile:
            ctx.load_cert_chain(cred.ssl_certfile, cred.ssl_keyfile)
        try:
            sock = ctx.wrap_socket(sock)
        except ssl.SSLError as exc:
            raise HandshakeError(f"TLS handshake failed: {exc}") from exc
    try:
        greeting = _read_line(sock)
    except ssl.SSLError as exc:
        raise HandshakeError(f"TLS: {exc} (does the server accept this client "
                             "certificate?)") from exc
    except socket.timeout as exc:
        raise HandshakeError("no greeting within %g s: not a papy worker, or it expects "
                             "TLS (set PAPY_SSL_CERTFILE/PAPY_SSL_CA_CERTS)"
                             % HANDSHAKE_TIMEOUT) from exc
    parts = greeting.split()
    if " ".join(parts[:2]).encode() != MAGIC or len(parts) < 4:
        raise HandshakeError(f"unexpected greeting {greeting[:40]!r}: not a papy worker "
                             "(or a different version)")
    mode, nonce = parts[2], parts[3]
    if mode == "busy":
        raise HandshakeError("the server is at its --max-clients limit")
    mac = "-"
    if mode == "token":
        if cred.token is None:
            _send_line(sock, "AUTH -")
            _read_line_quiet(sock)
            raise HandshakeError("the server requires a token: set PAPY_WORKER_TOKEN or "
                                 "PAPY_WORKER_TOKEN_FILE")
        mac = _mac(cred.token, bytes.fromhex(nonce))
    _send_line(sock, f"AUTH {mac}")
    reply = _read_line(sock)
    if reply != "OK":
        raise HandshakeError(reply.removeprefix("DENIED "))
    sock.settimeout(None)
    return sock


def _read_line_quiet(sock) -> None:
    try:
        _read_line(sock)
    except (HandshakeError, OSError):
        pass


def tune_socket(sock) -> None:
    """No Nagle delay; detect a vanished peer (keepalive, user timeout) on Linux."""
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        for name, value in (("TCP_KEEPIDLE", 10), ("TCP_KEEPINTVL", 5), ("TCP_KEEPCNT", 3),
                            ("TCP_USER_TIMEOUT", 30000)):
            if hasattr(socket, name):
                sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, name), value)
    except OSError:
        log.debug("socket options not set", exc_info=True)
