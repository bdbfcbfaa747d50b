"""A debug session driven by hand: func(inbox) raises, pdb post-mortem reads the
lines fed to it, q leaves (no display)."""
import sys
import time

import pytest

from papy_engine import Worker
from papy_gui.debug_session import DebugSession

pytestmark = pytest.mark.timeout(30)


def picky(inbox):
    doubled = inbox[0] * 2
    print("looking at", doubled)
    if inbox[0] == 3:
        raise ValueError("no threes")
    return doubled


def until(cond, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


class Reader:
    """Collects a session's output and answers "what came after the last prompt"."""

    def __init__(self, session):
        self.session, self.text = session, ""

    def prompt(self) -> str:
        """Wait for the next ``(Pdb) `` prompt; the text written before it."""
        start = len(self.text)
        until(lambda: self._read().endswith("(Pdb) ") and len(self.text) > start)
        return self.text[start:]

    def _read(self) -> str:
        self.text += self.session.take_output()
        return self.text


def test_post_mortem_at_the_failing_line_then_q_leaves():
    session = DebugSession(Worker(picky, debug=True), (3,))
    session.start()
    out = Reader(session)
    first = out.prompt()
    assert "looking at 6" in first  # what the function printed, here and not on stdout
    assert "ValueError: no threes" in first
    assert 'raise ValueError("no threes")' in first  # pdb stands at the line that raised
    session.feed("p doubled, inbox")
    assert "(6, (3,))" in out.prompt()
    session.feed("!answer = doubled + 1")
    out.prompt()
    session.feed("p answer")
    assert "7" in out.prompt()
    session.feed("interact")
    assert "not available here" in out.prompt()
    session.feed("q")
    until(lambda: session.done)
    assert "(left the debugger)" in out._read()
    assert isinstance(session.raised, ValueError)


def test_no_error_this_time_and_close_ends_a_waiting_session(capsys):
    ok = DebugSession(Worker(picky, debug=True), (2,))
    ok.start()
    until(lambda: ok.done)
    text = ok.take_output()
    assert "returned 4 without an error this time" in text and "looking at 4" in text
    assert "looking at" not in capsys.readouterr().out
    waiting = DebugSession(Worker(picky, debug=True), (3,))
    waiting.start()
    until(lambda: waiting.waiting)
    assert waiting.close(5) and waiting.done
    assert sys.stdout is not None and type(sys.stdout).__name__ != "_ThreadStdout"
