"""Node functions of the generated pipelines, and the gate that times stop/pause.

Module-level (so workers, threads and processes alike, import them by name)
and deterministic: the same inbox gives the same result in the reference and
in any worker process.  Every function takes an inbox of any shape (ints,
lists from ``consume``, tuples from fan-in) and folds it with :func:`fold`, an
order-sensitive digest, so a misordered inbox changes the result.

:class:`Gate` lets a test act at a chosen moment without sleeping: armed in
this process, :func:`gate` blocks the k-th call until the test has paused or
begun stopping the pipeline.  In the reference, or in a process that did not
arm it (a forked worker), it is a plain pass-through.
"""
from __future__ import annotations

import os
import queue
import threading

MOD = 1_000_003


def fold(x, salt: int = 0) -> int:
    """Order-sensitive digest of ints, strings, lists and tuples (no hash())."""
    if isinstance(x, bool) or x is None:
        return (salt * 31 + 7 + (x is True)) % MOD
    if isinstance(x, int):
        return (salt * 131 + x * 17 + 3) % MOD
    if isinstance(x, str):
        return fold([ord(c) for c in x], salt + 5)
    acc = (salt * 7 + 11 + (isinstance(x, tuple) * 13)) % MOD
    for item in x:
        acc = (acc * 257 + fold(item, salt)) % MOD
    return acc


def digest(inbox, salt=0):
    """The inbox folded to one int."""
    return fold(inbox, salt)


def keep(inbox):
    """The inbox itself: its structure shows in the output."""
    return inbox


def fail_if(inbox, mod, rem=0, exc="ValueError"):
    """Raise ``exc`` when the digest is ``rem`` modulo ``mod``, else return it."""
    d = fold(inbox)
    if d % mod == rem:
        raise {"ValueError": ValueError, "KeyError": KeyError,
               "ZeroDivisionError": ZeroDivisionError,
               # ends a C-level map() quietly unless the engine takes care
               "StopIteration": StopIteration}[exc](f"bad {d}")
    return d


def stop_if_7(inbox):
    """``fail_if`` with no extra argument (a Worker's fast path, ``map`` in C),
    raising the exception a C-level ``map`` takes for its own end."""
    return fail_if(inbox, 7, 3, "StopIteration")


def value_if_5(inbox):
    """``fail_if`` with no extra argument: a ValueError on the fast path."""
    return fail_if(inbox, 5, 1)


def split(inbox, n, salt=0):
    """A list of ``n`` ints for ``produce=n``."""
    d = fold(inbox, salt)
    return [(d + i * 7919) % MOD for i in range(n)]


def split_bad(inbox, n, mod=2):
    """Like :func:`split`, but a wrong length (or no sequence) on some items."""
    d = fold(inbox)
    if d % mod:
        return [(d + i) % MOD for i in range(n)]
    return d if d % 3 == 0 else [d] * (n + 1 if d % 3 == 1 else n - 1)


# -- gate ---------------------------------------------------------------------

_GATES: dict[str, "Gate"] = {}


def gate(inbox, key):
    """Pass the inbox on; the armed gate ``key`` blocks its chosen calls."""
    g = _GATES.get(key)
    if g is not None and g.pid == os.getpid():
        g.call()
    return inbox


class Gate:
    """Blocks one chosen call (the first once ``calls >= n`` after :meth:`arm`).

    The blocked call puts a release event on :attr:`hits`; the test takes it,
    pauses or begins stopping the pipeline, sets it, and may arm the gate
    again.  One armed call at a time, so the gate never blocks a call that a
    pending pause() is waiting for.
    """

    def __init__(self, key: str, timeout: float = 20.0) -> None:
        self.key, self.timeout = key, timeout
        self.pid = os.getpid()
        self.calls = 0
        self.timed_out = False
        self.hits: queue.SimpleQueue = queue.SimpleQueue()
        self._armed: int | None = None
        self._lock = threading.Lock()

    def __enter__(self) -> "Gate":
        _GATES[self.key] = self
        return self

    def __exit__(self, *exc) -> None:
        del _GATES[self.key]

    def arm(self, n: int) -> None:
        with self._lock:
            self._armed = n

    def call(self) -> None:
        with self._lock:
            self.calls += 1
            hit = self._armed is not None and self.calls >= self._armed
            if hit:
                self._armed = None
        if hit:
            release = threading.Event()
            self.hits.put(release)
            if not release.wait(self.timeout):
                self.timed_out = True
