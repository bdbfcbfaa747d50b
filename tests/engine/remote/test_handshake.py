"""The handshake in front of remote-worker connections (papy_engine.remote.handshake)."""
import socket
import threading

import pytest
from rpyc.utils.authenticators import AuthenticationError

from papy_engine.errors import PapyError
from papy_engine.remote.handshake import (Authenticator, Credentials, HandshakeError,
                                          client_handshake)

pytestmark = pytest.mark.timeout(30)


def tcp_pair() -> tuple[socket.socket, socket.socket]:
    """A connected ``(server side, client side)`` pair on loopback."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.create_connection(listener.getsockname())
        server, _ = listener.accept()
    return server, client


def shake(server_token, client_token):
    """Run both sides over a socket pair: ``(server outcome, client outcome)``."""
    server_sock, client_sock = tcp_pair()
    outcome = {}

    def serve():
        try:
            outcome["server"] = Authenticator(server_token)(server_sock)
        except Exception as exc:
            outcome["server"] = exc
    t = threading.Thread(target=serve)
    t.start()
    try:
        outcome["client"] = client_handshake(client_sock, "pair", Credentials(client_token))
    except Exception as exc:
        outcome["client"] = exc
    t.join(10)
    server_sock.close()
    client_sock.close()
    return outcome["server"], outcome["client"]


def test_the_right_token_is_accepted_without_crossing_the_wire():
    server, client = shake(b"s3cret", b"s3cret")
    assert isinstance(client, socket.socket)
    sock, subject = server
    assert isinstance(sock, socket.socket) and subject is None


def test_an_open_server_accepts_any_client():
    server, client = shake(None, None)
    assert isinstance(client, socket.socket) and server[1] is None


@pytest.mark.parametrize("client_token, reason", [(b"wrong", "wrong token"),
                                                  (None, "requires a token")])
def test_a_refused_client_gets_a_handshake_error_and_the_server_says_why(client_token,
                                                                          reason):
    server, client = shake(b"s3cret", client_token)
    assert isinstance(client, HandshakeError) and isinstance(client, PapyError)
    assert reason in str(client)
    assert isinstance(server, AuthenticationError)


def test_a_peer_that_is_not_a_papy_client_is_refused_with_the_cause_chained():
    server_sock, other = tcp_pair()
    outcome = {}
    t = threading.Thread(target=lambda: outcome.setdefault("exc", _refused(server_sock)))
    t.start()
    other.recv(512)                  # the greeting
    other.sendall(b"GET / HTTP/1.0\n")
    t.join(10)
    other.close()
    server_sock.close()
    exc = outcome["exc"]
    assert isinstance(exc, AuthenticationError) and "not a papy client" in str(exc)
    assert isinstance(exc.__cause__, HandshakeError)


def _refused(sock):
    try:
        Authenticator(b"token")(sock)
    except AuthenticationError as exc:
        return exc
    return None
