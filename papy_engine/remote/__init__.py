"""Remote workers over RPyC: what the rest of the engine uses to reach them.

* :mod:`.client` -- :func:`connect`, :class:`RemoteSlot` (one connection used
  as a pool slot) and :class:`RemotePool` (the remote slots of one IMap);
* :mod:`.handshake` -- the authentication exchange in front of every
  connection, and the credentials this process presents;
* :mod:`.server` -- the RPyC service and servers behind ``papy worker``
  (its command line is :mod:`papy_engine.cli.worker`).
"""
from .client import RemoteError, RemotePool, RemoteSlot, check_remote, connect, split_address
from .handshake import Credentials, set_credentials

__all__ = ["RemoteError", "RemotePool", "RemoteSlot", "Credentials", "set_credentials",
           "connect", "check_remote", "split_address"]
