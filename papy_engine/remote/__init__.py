"""Remote workers over RPyC: what the rest of the engine uses to reach them.

* :mod:`.client` -- :func:`connect` and :class:`RemoteSlot` (one connection
  used as a pool slot); :mod:`.pool` -- :class:`RemotePool` (the remote slots
  of one IMap: connecting, reconnecting, closing);
* :mod:`.handshake` -- the authentication exchange in front of every
  connection, and the credentials this process presents;
* :mod:`.server` -- the RPyC service and servers behind ``papy worker``
  (its command line is :mod:`papy_engine.cli.worker`).
"""
from .client import RemoteError, RemoteSlot, check_remote, connect, split_address
from .pool import RemotePool
from .handshake import Credentials, set_credentials

__all__ = ["RemoteError", "RemotePool", "RemoteSlot", "Credentials", "set_credentials",
           "connect", "check_remote", "split_address"]
