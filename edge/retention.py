"""Retention and disk space: old acknowledged entries leave the gate; a filling disk is announced.

Three rules, in this order, once at start and then every ``interval_s``:

1. Entries older than ``entries_days`` that the community receiver acknowledged are deleted
   (``edge.store.outbox.purge_acked``; the schema itself refuses to delete an unacknowledged one).
2. If the database's live pages still exceed ``max_db_mb``, the oldest acknowledged entries go
   first, batch by batch, until it fits or only unacknowledged entries are left. Deleted pages
   are reused by new entries, so the file stops growing; they are handed back to the file system
   only when that is cheap (``auto_vacuum = INCREMENTAL``) or needed (the disk is filling).
3. When the state directory's disk has less than ``min_free_mb`` or ``min_free_percent`` free,
   a ``disk_filling`` alarm goes on the bus, hours before SQLite would fail to store an entry
   (which keeps the gate shut).
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import sqlite3
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from pydantic import Field, PositiveFloat

from drivers.threads import Periodic
from edge.bus import AlarmRaised, Bus
from edge.configmodel import ConfigModel
from edge.store import Store
from edge.store.outbox import purge_acked
from edge.store.registrations import RegistrationBook

log = logging.getLogger(__name__)

MIB = 1024 * 1024
PURGE_BATCH = 100
"""Entries looked at per step of the size purge: bounded work per write transaction, and the
granularity of "the oldest first until it fits"."""
VACUUM_CHUNK_PAGES = 2048
"""Pages freed per incremental_vacuum step (8 MiB at 4 KiB pages): the write lock stays short."""
_AUTO_VACUUM_INCREMENTAL = 2
_BUSY_TIMEOUT_MS = 5_000
_STOP_WAIT_S = 10.0  # a pass in progress (a VACUUM) may take this long to notice a stop


class RetentionSettings(ConfigModel):
    """How long entries stay on the gate and how much disk they may take."""

    entries_days: PositiveFloat = 180.0
    """Entries older than this AND acknowledged by the community receiver are deleted; an
    unacknowledged entry is never deleted, whatever its age.
    """
    max_db_mb: PositiveFloat = 1024.0
    """Size budget of the database: over it, the oldest acknowledged entries are deleted first, even
    if younger than entries_days.
    """
    min_free_mb: float = Field(default=512.0, ge=0)
    """Raise a disk_filling alarm when the state directory's disk has less free."""
    min_free_percent: float = Field(default=5.0, ge=0, le=100)
    """Raise a disk_filling alarm below this share of the disk free."""
    interval_s: float = Field(default=3600.0, ge=60)
    """Run retention this often (and once at start)."""


@dataclass(frozen=True, slots=True)
class DbUsage:
    """How much of the database file holds data, from SQLite's own page counts."""

    page_size: int
    page_count: int
    freelist_count: int
    auto_vacuum: int
    wal_bytes: int

    @property
    def used_bytes(self) -> int:
        """Pages holding rows and indexes: what the size budget is about."""
        return (self.page_count - self.freelist_count) * self.page_size

    @property
    def free_page_bytes(self) -> int:
        return self.freelist_count * self.page_size

    @property
    def file_bytes(self) -> int:
        return self.page_count * self.page_size + self.wal_bytes


@dataclass(frozen=True, slots=True)
class DiskSpace:
    total_bytes: int
    free_bytes: int

    @property
    def free_percent(self) -> float:
        return 100.0 * self.free_bytes / self.total_bytes if self.total_bytes else 0.0


@dataclass(frozen=True, slots=True)
class RetentionReport:
    """What one retention pass did and found."""

    purged_expired: int
    purged_for_size: int
    reclaimed_bytes: int
    db: DbUsage
    disk: DiskSpace
    over_budget: bool
    """Still over ``max_db_mb`` after purging: what is left waits for the receiver's ack."""
    disk_filling: bool
    purged_registrations: int = 0
    """Visitor and vehicle registrations deleted, ``[visitors] keep_days`` after they ended."""


@contextlib.contextmanager
def _connection(path: Path, *, read_only: bool) -> Iterator[sqlite3.Connection]:
    """A short-lived connection of our own, so housekeeping never holds the store's lock.

    WAL lets it read while the lane writes; a write (vacuum) waits for the lane's transaction.
    """
    mode = "ro" if read_only else "rw"  # never "rwc": housekeeping must not create a database
    target = f"file:{urllib.request.pathname2url(str(path.absolute()))}?mode={mode}"
    conn = sqlite3.connect(target, uri=True, isolation_level=None, timeout=_BUSY_TIMEOUT_MS / 1000)
    try:
        conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
        yield conn
    finally:
        conn.close()


def db_usage(path: Path) -> DbUsage:
    """Page counts of the database at ``path`` (committed state, read through WAL)."""

    def pragma(conn: sqlite3.Connection, name: str) -> int:
        return int(conn.execute(f"PRAGMA {name}").fetchone()[0])

    with _connection(path, read_only=True) as conn:
        page_size, page_count, freelist, auto_vacuum = (
            pragma(conn, name)
            for name in ("page_size", "page_count", "freelist_count", "auto_vacuum")
        )
    wal = path.with_name(path.name + "-wal")
    wal_bytes = wal.stat().st_size if wal.exists() else 0
    return DbUsage(page_size, page_count, freelist, auto_vacuum, wal_bytes)


def disk_space(path: Path) -> DiskSpace:
    usage = shutil.disk_usage(path)
    return DiskSpace(total_bytes=usage.total, free_bytes=usage.free)


def is_disk_filling(disk: DiskSpace, settings: RetentionSettings) -> bool:
    return (
        disk.free_bytes < settings.min_free_mb * MIB
        or disk.free_percent < settings.min_free_percent
    )


def purge_for_size(store: Store, budget_bytes: int) -> int:
    """Delete the oldest acknowledged entries until live pages fit ``budget_bytes``.

    Walks this gate's entries oldest first (sequence order) a batch at a time and purges the
    acknowledged ones recorded up to the batch's end; unacknowledged entries are skipped, never
    deleted, so the walk may end still over budget. Returns the number of entries deleted.
    """
    deleted = 0
    after_seq: int | None = None
    while db_usage(store.path).used_bytes > budget_bytes:
        batch = store.entries(limit=PURGE_BATCH, after_seq=after_seq)
        if not batch:
            break
        newest = max(entry.recorded_at for entry in batch)
        deleted += purge_acked(store, older_than=newest + timedelta(microseconds=1))
        after_seq = batch[-1].seq
    return deleted


def reclaim_free_pages(path: Path, usage: DbUsage, *, disk_filling: bool) -> int:
    """Hand free pages back to the file system when cheap or needed; returns bytes reclaimed.

    With ``auto_vacuum = INCREMENTAL`` free pages are released in small steps. Otherwise only a
    full VACUUM can shrink the file; it rewrites the whole database and blocks writers while it
    runs, so it is done only when the disk is filling (a slow entry beats a failed one), and
    only if the disk has room for the copy VACUUM makes.
    """
    if usage.freelist_count == 0:
        return 0
    before = usage.file_bytes
    if usage.auto_vacuum == _AUTO_VACUUM_INCREMENTAL:
        with _connection(path, read_only=False) as conn:
            remaining = usage.freelist_count
            while remaining > 0:
                conn.execute(f"PRAGMA incremental_vacuum({VACUUM_CHUNK_PAGES})").fetchall()
                remaining = int(conn.execute("PRAGMA freelist_count").fetchone()[0])
                if remaining >= usage.freelist_count:
                    break  # nothing moved: do not spin
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    elif disk_filling:
        if disk_space(path.parent).free_bytes < usage.file_bytes:
            log.error("disk too full to VACUUM %s (needs %d bytes free)", path, usage.file_bytes)
            return 0
        log.warning("disk filling: VACUUM %s to return %d free bytes", path, usage.free_page_bytes)
        with _connection(path, read_only=False) as conn:
            conn.execute("VACUUM")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    else:
        return 0
    return max(0, before - db_usage(path).file_bytes)


def run_retention(
    store: Store,
    settings: RetentionSettings,
    *,
    now: datetime,
    bus: Bus | None = None,
    disk: Callable[[Path], DiskSpace] = disk_space,
    registrations_days: float | None = None,
) -> RetentionReport:
    """One retention pass (see the module docstring); announces ``disk_filling`` on ``bus``.

    With ``registrations_days``, visitor and vehicle registrations (names, masked numbers)
    that ended longer ago than that are deleted too: personal data kept no longer than needed.
    """
    expired = purge_acked(store, older_than=now - timedelta(days=settings.entries_days))
    registrations = 0
    if registrations_days is not None:
        registrations = RegistrationBook(store).purge_expired(
            ended_before=now - timedelta(days=registrations_days)
        )
    budget_bytes = int(settings.max_db_mb * MIB)
    for_size = 0
    if db_usage(store.path).used_bytes > budget_bytes:
        for_size = purge_for_size(store, budget_bytes)
    space = disk(store.path.parent)
    filling = is_disk_filling(space, settings)
    usage = db_usage(store.path)
    reclaimed = reclaim_free_pages(store.path, usage, disk_filling=filling)
    if reclaimed:
        usage = db_usage(store.path)
        space = disk(store.path.parent)
        filling = is_disk_filling(space, settings)
    over_budget = usage.used_bytes > budget_bytes
    if expired or for_size or registrations:
        log.info(
            "retention: deleted %d expired and %d for size, %d registrations",
            expired,
            for_size,
            registrations,
        )
    if over_budget:
        log.warning(
            "database holds %.1f MiB, over its %.0f MiB budget, and nothing more may be deleted "
            "until the community receiver acknowledges entries",
            usage.used_bytes / MIB,
            settings.max_db_mb,
        )
    if filling:
        detail = (
            f"{space.free_bytes // MIB} MiB ({space.free_percent:.1f} %) free on the disk of "
            f"{store.path.parent}; alarm below {settings.min_free_mb:.0f} MiB or "
            f"{settings.min_free_percent:.1f} %"
        )
        log.warning("disk filling: %s", detail)
        if bus is not None:
            bus.publish(AlarmRaised(kind="disk_filling", detail=detail))
    return RetentionReport(
        purged_expired=expired,
        purged_for_size=for_size,
        reclaimed_bytes=reclaimed,
        db=usage,
        disk=space,
        over_budget=over_budget,
        disk_filling=filling,
        purged_registrations=registrations,
    )


class RetentionWorker:
    """Runs ``run_retention`` at start and every ``settings.interval_s`` on its own thread."""

    def __init__(
        self,
        store: Store,
        settings: RetentionSettings,
        *,
        bus: Bus | None,
        wall_now: Callable[[], datetime],
        registrations_days: float | None = None,
    ) -> None:
        self.last_report: RetentionReport | None = None
        self.passes = 0

        def one_pass() -> RetentionReport:
            return run_retention(
                store,
                settings,
                now=wall_now(),
                bus=bus,
                registrations_days=registrations_days,
            )

        self._run_retention = one_pass
        self._schedule = Periodic(
            "retention", self._pass, settings.interval_s, join_timeout_s=_STOP_WAIT_S
        )

    def start(self) -> None:
        self._schedule.start()

    def stop(self, timeout_s: float = _STOP_WAIT_S) -> None:
        self._schedule.stop(timeout_s)

    @property
    def alive(self) -> bool:
        return self._schedule.alive

    def _pass(self) -> None:
        started_s = time.monotonic()
        try:
            self.last_report = self._run_retention()
        finally:  # a failed pass counts too; Periodic logs it and keeps the schedule
            self.passes += 1
            log.debug("retention pass took %.2f s", time.monotonic() - started_s)
