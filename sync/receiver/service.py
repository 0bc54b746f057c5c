"""The receiver as a service: open the configured database, run until stopped.

What ``kakou server run`` does; the click command only parses options and prints.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType

from sync.receiver.db import ReceiverDb, open_db
from sync.receiver.receiver import Receiver
from sync.settings import DatabaseSettings, ServerSettings

log = logging.getLogger(__name__)


def open_database(database: DatabaseSettings, *, receiver: str = "receiver") -> ReceiverDb:
    return open_db(path=database.path, dsn=database.read_dsn(), receiver=receiver)


# ----------------------------------------------------------------------------------- run


Beside = Callable[[], Callable[[], None]]
"""Starts something that runs beside the receiver (the office console) and returns how to stop
it. Given by the composition root: the receiver knows nothing of what runs beside it."""


def run_server(
    settings: ServerSettings, stop: threading.Event | None = None, *, beside: Beside | None = None
) -> int:
    """Run one receiver until SIGTERM/SIGINT (or ``stop`` is set); returns the exit code.

    ``beside`` is started after the receiver and stopped before it (``kakou server run`` serves
    the office console so when ``[office] enabled``)."""
    stop = stop or threading.Event()
    db = open_database(settings.database, receiver=settings.receiver.name)
    receiver = Receiver(settings, db)

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
    receiver.start()
    stop_beside: Callable[[], None] | None = None
    try:
        if beside is not None:
            stop_beside = beside()
        stop.wait()
    finally:
        if stop_beside is not None:
            stop_beside()
        receiver.stop()
        db.close()
        stats = receiver.stats
        log.info(
            "receiver stopped: %d messages, %d stored, %d duplicates, %d conflicts, %d rejects "
            "(%d more over their gate's limit, not stored)",
            stats.messages,
            stats.stored,
            stats.duplicates,
            stats.conflicts,
            stats.rejects,
            stats.rejects_dropped,
        )
    return 0


# ---------------------------------------------------------------------------------- gaps
