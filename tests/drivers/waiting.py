"""Polling helper for tests that watch threads: wait for a condition instead of sleeping blindly."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_until(
    condition: Callable[[], object], timeout_s: float = 3.0, step_s: float = 0.01
) -> bool:
    """True as soon as ``condition()`` is truthy, False if ``timeout_s`` passes first."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step_s)
    return bool(condition())
