"""Waiting for a real worker in tests."""

import time


def wait_until(predicate, timeout=20.0, interval=0.05):
    """Poll `predicate` until it is true (a task done by the worker) or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"not done within {timeout} s")
