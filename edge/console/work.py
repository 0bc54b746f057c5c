"""Blocking work on a few threads of its own, with a bounded queue in front of them.

The console's plain ``def`` routes share one thread pool (anyio's, 40 threads). Work a stranger
can start many of at once (hashing a sign-in, a live stream's snapshot) runs here instead, so it
can neither take that pool from the guards' actions nor pile up without end: past
``max_waiting`` queued, ``run`` refuses at once with ``Busy``.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


class Busy(Exception):  # noqa: N818  (named for the condition)
    """More work waits than the queue allows: try again shortly."""


class BoundedWork:
    """``workers`` threads named ``name``; at most ``max_waiting`` calls queued or running."""

    def __init__(self, workers: int, max_waiting: int, name: str) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
        self._max_waiting = max_waiting
        self._queued = 0
        self._lock = threading.Lock()

    async def run(self, work: Callable[[], T]) -> T:
        with self._lock:
            if self._queued >= self._max_waiting:
                raise Busy(f"{self._queued} calls already wait")
            self._queued += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._pool, work)
        finally:
            with self._lock:
                self._queued -= 1

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
