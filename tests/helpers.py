"""Small test helpers shared by the engine tests."""
import time


def wait_until(predicate, timeout=10.0, interval=0.01):
    """Poll ``predicate`` until it is true or ``timeout`` passes; returns its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)
