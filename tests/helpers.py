"""Small test helpers shared by the engine tests."""
import time
from pathlib import Path

#: the repository's root folder
ROOT = Path(__file__).resolve().parent.parent


def wait_until(predicate, timeout=10.0, interval=0.01):
    """Poll ``predicate`` until it is true or ``timeout`` passes; returns its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def collect(imap, task=0):
    """All results of a standalone IMap task, a raised error kept in its place.

    Standalone iteration raises a worker's error (as ``Pool.imap`` does);
    tests that look at the placeholders themselves gather them with this.
    """
    out = []
    while True:
        try:
            out.append(imap.next(task=task))
        except StopIteration:
            return out
        except Exception as exc:  # the item's error, raised in its place
            out.append(exc)
