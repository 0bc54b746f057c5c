"""Office-side retention: entries decided more than ``[office] retention_days`` ago are deleted,
daily beside the office console and on demand (``kakou server prune``), as a gate deletes its own
after ``[retention] entries_days``. No setting: everything is kept.

Completeness outlives the entries: the gaps view (``ReceiverDb.gaps``) reads each log's progress
from ``logs`` and looks at stored entries only above its contiguous seq, so only entries at or
below it are deleted, and never a log's highest entry (``logs.max_seq`` is recomputed from the
entries as new ones arrive). An entry a gate sends again after it was pruned is stored again,
as new, and pruned again in turn.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from edge.entry_document import epoch_us
from sync.receiver.db import ReceiverDb, ReceiverDbError
from sync.settings import ServerSettings

log = logging.getLogger(__name__)

CHUNK_ROWS = 5_000
"""Entries deleted per transaction: the receiver's stores wait at most one chunk."""
RUN_EVERY_S = 24 * 3600.0
RETRY_AFTER_S = 600.0


def retention_days(settings: ServerSettings) -> int | None:
    """``[office] retention_days``, or None (keep everything) when it is not set."""
    office = getattr(settings, "office", None)
    days = getattr(office, "retention_days", None)
    return days if isinstance(days, int) and days > 0 else None


@dataclass(frozen=True, slots=True)
class PruneResult:
    deleted: int
    cutoff: datetime | None
    """Entries decided before this were deleted; None: retention is off."""


def prune(db: ReceiverDb, *, days: int | None, now: datetime) -> PruneResult:
    """Delete the entries decided before ``now - days`` that no log still needs."""
    if days is None:
        return PruneResult(0, None)
    cutoff = now - timedelta(days=days)
    cutoff_us = epoch_us(cutoff)
    with db.reading() as q:
        logs = q.all("SELECT community, gate, log_id, contiguous_seq, max_seq FROM logs")
    deleted = 0
    # Both numbers only grow, so the values read here stay safe bounds while gates store on.
    for community, gate, log_id, contiguous_seq, max_seq in logs:
        keep_from = min(int(contiguous_seq) + 1, int(max_seq))
        while True:
            with db.writing() as q:
                count = q.run(
                    "DELETE FROM entries WHERE id IN (SELECT id FROM entries "
                    "WHERE community = ? AND gate = ? AND log_id = ? AND seq < ? "
                    "AND decided_at_us < ? LIMIT ?)",
                    [community, gate, log_id, keep_from, cutoff_us, CHUNK_ROWS],
                )
            deleted += count
            if count < CHUNK_ROWS:
                break
    if deleted:
        log.info("retention: deleted %d entries decided before %s", deleted, cutoff.isoformat())
    return PruneResult(deleted, cutoff)


def start_daily(
    db: ReceiverDb,
    settings: ServerSettings,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Callable[[], None]:
    """Prune now and then once a day on a thread of its own; returns how to stop it. With
    retention off it starts nothing."""
    days = retention_days(settings)
    stop = threading.Event()
    if days is None:
        return stop.set

    def run() -> None:
        wait_s = 0.0
        while not stop.wait(wait_s):
            try:
                prune(db, days=days, now=now())
                wait_s = RUN_EVERY_S
            except ReceiverDbError as exc:  # the database is down: try again later
                log.warning("retention: %s; trying again in %.0f s", exc, RETRY_AFTER_S)
                wait_s = RETRY_AFTER_S

    thread = threading.Thread(target=run, name="office-retention", daemon=True)
    thread.start()

    def stop_daily() -> None:
        stop.set()
        thread.join(timeout=30)

    return stop_daily
