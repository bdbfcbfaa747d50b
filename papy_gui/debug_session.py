"""Debugging a failed item: ``func(inbox)`` under pdb, post-mortem, for the console.

The Errors view's "Debug in console" puts the failed item's inbox and the
node's function in the console's namespace and starts a
:class:`DebugSession`; the console shows pdb's output and sends it the
lines typed there. Data flow::

    debug thread: func(inbox) raises -> pdb post-mortem on its traceback
       pdb's stdout.write(text) --> out queue --> Tk thread: take_output() each tick
       pdb's stdin.readline()   <-- line queue <-- Tk thread: feed(line) on Return

Why a thread of its own, not the Tk thread: pdb's command loop blocks on
``readline()``; on the Tk thread that would need a nested event loop, and a
slow or endless ``func(inbox)`` would freeze the window. Here the window stays
live (a run can go on), and :meth:`DebugSession.close` ends the session by
sending end-of-input (pdb quits on EOF, as on ``q``). No tkinter here: tests
drive a session without a display.

What the function prints while it runs here goes to the session's output
(only this thread's writes: see :class:`_ThreadStdout`), like pdb's own.
"""
from __future__ import annotations

import logging
import pdb
import queue
import sys
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any, TextIO

log = logging.getLogger(__name__)

EOF = None  # fed to end the session (pdb reads end-of-input and quits)


class _Output:
    """pdb's stdout: text goes on a queue the Tk thread drains (any thread may write)."""

    def __init__(self, out: queue.SimpleQueue) -> None:
        self._out = out

    def write(self, text: str) -> int:
        if text:
            self._out.put(text)
        return len(text)

    def flush(self) -> None:
        pass


class _Input:
    """pdb's stdin: ``readline()`` waits for a line fed from the Tk thread."""

    def __init__(self, session: DebugSession) -> None:
        self._session = session

    def readline(self) -> str:
        s = self._session
        s._waiting.set()
        try:
            line = s._lines.get()
        finally:
            s._waiting.clear()
        return "" if line is EOF else line + "\n"


class _ThreadStdout:
    """Sends one thread's writes to ``target`` and every other thread's to ``other``
    (``sys.stdout`` is shared: the engine's threads and the window keep theirs)."""

    def __init__(self, target: Any, other: TextIO) -> None:
        self.target, self.other, self.ident = target, other, threading.get_ident()

    def write(self, text: str) -> int:
        stream = self.target if threading.get_ident() == self.ident else self.other
        return stream.write(text)

    def flush(self) -> None:
        if threading.get_ident() != self.ident:
            self.other.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.other, name)


class _ConsolePdb(pdb.Pdb):
    """pdb over the console's streams."""

    def do_interact(self, arg: str) -> None:
        # code.interact() reads the process's real stdin; here statements are
        # typed at the (Pdb) prompt directly (or with a leading "!")
        self.message("interact is not available here: type Python statements at the "
                      "(Pdb) prompt (e.g. !x = 1), or leave with q and use the console")


class DebugSession:
    """``func(inbox)`` on a thread; if it raises, pdb post-mortem on the exception.

    Args:
        func: the node's function (raising: ``papy_engine.Worker(..., debug=True)``).
        inbox: the inbox the item failed on.
    """

    def __init__(self, func: Callable[[Any], Any], inbox: Any) -> None:
        self.func, self.inbox = func, inbox
        self._lines: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._out: queue.SimpleQueue[str] = queue.SimpleQueue()
        self._waiting = threading.Event()
        self._thread: threading.Thread | None = None
        self.raised: BaseException | None = None   # what func(inbox) raised this time
        self.result: Any = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="papy-gui-debug", daemon=True)
        self._thread.start()

    @property
    def waiting(self) -> bool:
        """pdb waits for a line (its prompt has been written)."""
        return self._waiting.is_set()

    @property
    def done(self) -> bool:
        """The session is over (pdb quit, or func(inbox) did not raise)."""
        return self._thread is not None and not self._thread.is_alive()

    def feed(self, line: str) -> None:
        """A line typed at the ``(Pdb)`` prompt (without its newline)."""
        self._lines.put(line)

    def take_output(self) -> str:
        """What the session wrote since the last call."""
        parts = []
        try:
            while True:
                parts.append(self._out.get_nowait())
        except queue.Empty:
            pass
        return "".join(parts)

    def close(self, timeout: float = 5.0) -> bool:
        """End the session (pdb gets end-of-input); True once its thread is gone."""
        if self._thread is None:
            return True
        for _ in range(3):  # one EOF per prompt pdb may still show
            self._lines.put(EOF)
        self._thread.join(timeout)
        return not self._thread.is_alive()

    # -- the debug thread ---------------------------------------------------------------
    def _run(self) -> None:
        out = _Output(self._out)
        try:
            tb = self._call(out)
            if tb is None:
                out.write(f"func(inbox) returned {self.result!r:.300} without an error this "
                          "time\n")
                return
            assert self.raised is not None
            out.write(f"{type(self.raised).__name__}: {self.raised}\n"
                      "(post-mortem: pdb at the line that raised; u/d move up/down the "
                      "stack, p EXPR prints, l lists, q leaves)\n")
            # readline() and write() are all pdb asks of its streams
            stdin: Any = _Input(self)
            stdout: Any = out
            debugger = _ConsolePdb(stdin=stdin, stdout=stdout, nosigint=True, readrc=False)
            debugger.reset()
            debugger.interaction(None, tb)
        except Exception:  # pdb itself failed: say so where the user looks
            log.exception("the debug session failed")
            out.write("the debugger failed (details in the Log tab)\n")
        finally:
            out.write("(left the debugger)\n")

    def _call(self, out: _Output) -> TracebackType | None:
        """``func(inbox)``, its prints to ``out``; the traceback if it raised."""
        saved = sys.stdout
        mine = sys.stdout = _ThreadStdout(out, saved)
        try:
            self.result = self.func(self.inbox)
            return None
        except BaseException as exc:  # the user's function: KeyboardInterrupt too
            self.raised = exc
            tb = exc.__traceback__
            # start at the user's frames: the first one is this method's
            return tb.tb_next if tb is not None and tb.tb_next is not None else tb
        finally:
            if sys.stdout is mine:  # else something wrapped it meanwhile: leave that be
                sys.stdout = saved
