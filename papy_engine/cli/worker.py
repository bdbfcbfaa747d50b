"""``papy worker``: serve remote PaPy workers over RPyC.

Parses the options, refuses a non-loopback address without an authenticator
(a worker server runs any code its clients send), then runs the server of
:mod:`papy_engine.remote.server` until SIGTERM or SIGINT.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from typing import TYPE_CHECKING

from ..log import start_logger
from .status import EXIT_OK, EXIT_USAGE, UsageError

if TYPE_CHECKING:
    from ..remote.handshake import Authenticator

__all__ = ["main", "HELP"]

log = logging.getLogger(__name__)

HELP = "serve remote workers over RPyC"

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
    from ..remote.handshake import DEFAULT_PORT
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


def main(argv: Sequence[str]) -> int:
    """``papy worker``: serve until SIGTERM/SIGINT; returns the exit status.

    Exit status 0 after a clean shutdown, 2 for a usage or setup error (bad
    option, unreadable token, refused insecure address, port in use).
    """
    # Imported here, not at the top: rpyc, dill and ssl are for this command only.
    from ..remote.server import RPYC_LOGGER, serve
    try:
        args = _worker_parser().parse_args(list(argv))
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    try:
        authenticator = _authenticator(args)
    except UsageError as exc:
        return _fail(str(exc))
    start_logger(args.log_level, filename=args.log)
    if args.log_level != "DEBUG":  # rpyc's own per-connection chatter
        logging.getLogger(RPYC_LOGGER).setLevel(logging.WARNING)
    auth = "token" if authenticator.token else "none (loopback)"
    if authenticator.ssl_context:
        auth = ("TLS + client certificates" if args.ssl_ca_certs else "TLS") + \
               (" + token" if authenticator.token else "")

    def listening(host, port):
        log.info("papy worker listening on %s:%s (%s mode, auth: %s, max clients: %s, "
                 "pid %d)", host, port, args.mode, auth, args.max_clients or "unlimited",
                 os.getpid())
        print(f"papy worker: listening on {host}:{port} ({args.mode}, auth: {auth})",
              file=sys.stderr, flush=True)
    try:
        serve(args.host, args.port, args.mode, args.max_clients, authenticator,
              on_listening=listening)
    except OSError as exc:
        return _fail(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}")
    return EXIT_OK


def _fail(msg: str) -> int:
    print(f"papy worker: error: {msg}", file=sys.stderr)
    return EXIT_USAGE


def _authenticator(args: argparse.Namespace) -> Authenticator:
    """Check the options and build the server's authenticator.

    Raises:
        UsageError: a bad option, an unreadable token or certificate, or a
            non-loopback address without authentication.
    """
    from ..remote.handshake import Authenticator, is_loopback, read_token, server_ssl_context
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port must be 0..65535 (got {args.port})")
    if args.max_clients is not None and args.max_clients < 1:
        raise UsageError(f"--max-clients must be >= 1 (got {args.max_clients})")
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
            raise UsageError("--ssl-keyfile and --ssl-ca-certs need --ssl-certfile")
    except (ValueError, OSError) as exc:
        raise UsageError(str(exc)) from exc
    authenticated = token is not None or bool(ssl_ctx and args.ssl_ca_certs)
    if not authenticated and not is_loopback(args.host):
        raise UsageError(
            f"refusing to listen on {args.host} without authentication. A worker server "
            "runs any code its clients send, so anyone who can reach "
            f"{args.host}:{args.port} could run commands as this user. Use "
            "--auth-token-file FILE (or set PAPY_WORKER_TOKEN), or --ssl-certfile/"
            "--ssl-keyfile with --ssl-ca-certs to require client certificates; or keep "
            "the default 127.0.0.1 and reach it through an SSH tunnel.")
    return Authenticator(token, ssl_ctx)
