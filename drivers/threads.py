"""Background threads with one life cycle: start once, stop from anywhere, join with a timeout.

Every long-lived worker of the gate (a serial port's reader, the camera's capture and decoder,
the relay timer, the lane, the health and retention watchers, the MQTT network thread, the sync
and receiver workers) runs on a ``Worker``, so how a thread starts, is told to stop, is joined
and what becomes of an exception its code raises are written once. Fail-secure stays the
owner's job: its error path keeps the gate shut; this module makes sure no exception ends a
thread unheard. A loop that retries what failed (reopening a port or a camera) paces itself
with a ``Backoff``. Drivers are the lowest layer, so edge and sync use it too.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

Task = Callable[[], None]
CrashListener = Callable[[Exception], None]


@dataclass(eq=False)
class Worker:
    """One daemon thread running ``run`` with a stop event the code asks through ``stopping``
    and ``wait``.

    ``run`` that raises is logged, ``on_crash`` is told (to report a device down, say) and the
    thread ends: a thread that should outlive its errors catches them in its loop, or is a
    ``Periodic``. ``stop`` may be called any number of times, before ``start`` too.
    """

    name: str
    run: Task
    join_timeout_s: float = field(default=2.0, kw_only=True)
    on_crash: CrashListener | None = field(default=None, kw_only=True)
    _stop: threading.Event = field(default_factory=threading.Event, init=False, repr=False)
    _thread: threading.Thread | None = field(default=None, init=False, repr=False)

    def start(self) -> bool:
        """Start the thread unless it runs already; False if it did. A stopped worker starts
        again with a fresh stop event."""
        if self.alive:
            return False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._main, name=self.name, daemon=True)
        self._thread.start()
        return True

    def stop(self, timeout_s: float | None = None) -> bool:
        """Tell the thread to stop and join it for at most ``timeout_s`` (the worker's
        ``join_timeout_s`` by default); True once it has ended or never ran."""
        self._stop.set()
        thread = self._thread
        if thread is None or thread is threading.current_thread():
            return True
        limit_s = self.join_timeout_s if timeout_s is None else timeout_s
        thread.join(limit_s)
        if thread.is_alive():
            log.error("%s: thread did not stop within %.1f s", self.name, limit_s)
            return False
        return True

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def stopping(self) -> bool:
        """True once ``stop`` was called (for loops that check between steps)."""
        return self._stop.is_set()

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``, waking at once on ``stop``; True when told to stop."""
        return self._stop.wait(seconds)

    def _main(self) -> None:
        try:
            self.run()
        except Exception as exc:  # the thread's top level: log it, tell the owner, end quietly
            log.exception("%s: thread failed", self.name)
            if self.on_crash is not None:
                self.on_crash(exc)


@dataclass
class Backoff:
    """Pauses between retries of what failed: ``min_s`` first, doubling up to ``max_s``, and
    ``min_s`` again after ``reset`` (it worked). Not locked: a backoff used from two threads is
    guarded by its owner's lock."""

    min_s: float
    max_s: float
    _next_s: float = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._next_s = self.min_s

    def next_s(self) -> float:
        """The pause before this retry; the next one is twice as long, up to ``max_s``."""
        pause_s = self._next_s
        self._next_s = min(pause_s * 2, self.max_s)
        return pause_s

    def reset(self) -> None:
        self._next_s = self.min_s


class Periodic(Worker):
    """Runs ``task`` at once and then every ``interval_s`` until stopped; with ``interval_s`` 0
    it runs round after round, for a task that blocks on its own input.

    A task that raises is logged and runs again after ``after_error_s`` (``interval_s`` by
    default): a failing status query or database must not end the watch. Joined for at most
    twice the interval by default.
    """

    def __init__(
        self,
        name: str,
        task: Callable[[], object],
        interval_s: float,
        *,
        after_error_s: float | None = None,
        join_timeout_s: float | None = None,
    ) -> None:
        super().__init__(
            name,
            self._repeat,
            join_timeout_s=interval_s * 2 if join_timeout_s is None else join_timeout_s,
        )
        self._task = task
        self.interval_s = interval_s
        self.after_error_s = interval_s if after_error_s is None else after_error_s

    def _repeat(self) -> None:
        while True:
            pause_s = self.interval_s
            try:
                self._task()
            except Exception:  # keep the schedule: the next round tries again
                pause_s = self.after_error_s
                log.exception("%s failed; trying again in %.0f s", self.name, pause_s)
            if self.wait(pause_s):
                return
