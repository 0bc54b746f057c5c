"""edge.retention on a real SQLite file: old acknowledged entries go, unacknowledged ones never,
the size budget deletes the oldest acknowledged first, and a filling disk raises an alarm."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from edge.bus import Bus, BusEvent
from edge.retention import (
    MIB,
    DiskSpace,
    RetentionSettings,
    RetentionWorker,
    db_usage,
    reclaim_free_pages,
    run_retention,
)
from edge.store import Store
from edge.store.guards import GuardBook, Role
from edge.store.outbox import mark_acked
from edge.store.registrations import Registration, RegistrationBook, StoredPerson
from tests.drivers.waiting import wait_until
from tests.edge.store.drafts import simple_draft

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
GATE = "north"
PLENTY = DiskSpace(total_bytes=32_000 * MIB, free_bytes=20_000 * MIB)
NOTE = "x" * 2000  # makes each entry about half a page: sizes move quickly


def plenty(_path: Path) -> DiskSpace:
    return PLENTY


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "state" / "kakou.db", community="hxy", gate=GATE) as opened:
        yield opened


def record(store: Store, count: int, *, start: datetime, step: timedelta) -> None:
    for index in range(count):
        store.record_entry(
            simple_draft(pass_id=f"P-{index}"),
            boot_id="boot",
            recorded_at=start + index * step,
            extra={"note": NOTE},
        )


def seqs(store: Store) -> list[int]:
    return [entry.seq for entry in store.entries(limit=10_000)]


def test_only_old_acknowledged_entries_are_purged(store: Store) -> None:
    # Seq 1-4 are 200 days old, 5-6 ten days old; the receiver acknowledged 1-2 and 5.
    record(store, 4, start=NOW - timedelta(days=200), step=timedelta(minutes=1))
    record(store, 2, start=NOW - timedelta(days=10), step=timedelta(minutes=1))
    mark_acked(store, GATE, at=NOW, up_to_seq=2)
    mark_acked(store, GATE, at=NOW, entry_ids=[store.entries(after_seq=4, limit=1)[0].id])

    report = run_retention(store, RetentionSettings(entries_days=180), now=NOW, disk=plenty)

    assert report.purged_expired == 2
    assert report.purged_for_size == 0
    assert seqs(store) == [3, 4, 5, 6]  # old but unacknowledged stay; young acknowledged too
    assert store.last_seq() == 6  # the sequence never goes back


def test_over_budget_the_oldest_acknowledged_go_first_and_unacknowledged_never(
    store: Store,
) -> None:
    record(store, 400, start=NOW - timedelta(days=5), step=timedelta(seconds=30))
    mark_acked(store, GATE, at=NOW, up_to_seq=300)
    budget_mb = db_usage(store.path).used_bytes * 0.6 / MIB

    report = run_retention(
        store, RetentionSettings(entries_days=180, max_db_mb=budget_mb), now=NOW, disk=plenty
    )

    left = seqs(store)
    assert report.purged_for_size == 400 - len(left)
    assert report.db.used_bytes <= budget_mb * MIB
    assert not report.over_budget
    assert left == list(range(401 - len(left), 401))  # a contiguous tail: the oldest went first
    assert left[0] <= 300  # it stopped once within budget: acknowledged entries are left
    assert set(range(301, 401)) <= set(left)  # every unacknowledged entry is still there


def test_a_budget_unacknowledged_entries_alone_exceed_is_reported_not_enforced(
    store: Store,
) -> None:
    record(store, 100, start=NOW - timedelta(days=5), step=timedelta(seconds=30))
    mark_acked(store, GATE, at=NOW, up_to_seq=40)

    report = run_retention(store, RetentionSettings(max_db_mb=0.01), now=NOW, disk=plenty)

    assert seqs(store) == list(range(41, 101))
    assert report.purged_for_size == 40
    assert report.over_budget


def test_a_filling_disk_raises_one_alarm_per_pass(store: Store) -> None:
    events: list[BusEvent] = []
    bus = Bus()
    bus.subscribe(events.append)
    settings = RetentionSettings(min_free_mb=512, min_free_percent=5)

    run_retention(store, settings, now=NOW, bus=bus, disk=plenty)
    assert events == []

    low_mb = DiskSpace(total_bytes=32_000 * MIB, free_bytes=400 * MIB)
    report = run_retention(store, settings, now=NOW, bus=bus, disk=lambda _p: low_mb)
    assert report.disk_filling
    low_share = DiskSpace(total_bytes=100_000 * MIB, free_bytes=4_000 * MIB)  # 4 % free
    run_retention(store, settings, now=NOW, bus=bus, disk=lambda _p: low_share)

    assert [(e.topic, e.data["kind"]) for e in events] == [("alarm", "disk_filling")] * 2
    assert "400 MiB (1.2 %) free" in events[0].data["detail"]


def test_when_the_disk_fills_freed_pages_go_back_to_the_file_system(store: Store) -> None:
    record(store, 200, start=NOW - timedelta(days=300), step=timedelta(seconds=30))
    mark_acked(store, GATE, at=NOW, up_to_seq=200)
    size_before = db_usage(store.path).file_bytes

    # Plenty of room: the freed pages stay in the file, to be reused by new entries.
    calm = run_retention(store, RetentionSettings(), now=NOW, disk=plenty)
    assert calm.purged_expired == 200
    assert calm.reclaimed_bytes == 0
    assert calm.db.freelist_count > 0

    full = DiskSpace(total_bytes=32_000 * MIB, free_bytes=100 * MIB)
    filling = run_retention(store, RetentionSettings(), now=NOW, disk=lambda _p: full)
    assert filling.reclaimed_bytes > size_before // 2
    assert filling.db.freelist_count == 0
    assert store.entry_count() == 0
    record(store, 1, start=NOW, step=timedelta(seconds=1))  # the store still works after VACUUM
    assert seqs(store) == [201]


def test_incremental_auto_vacuum_gives_pages_back_without_a_full_vacuum(tmp_path: Path) -> None:
    path = tmp_path / "kakou.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA auto_vacuum = INCREMENTAL")  # before the first table: no VACUUM needed
    conn.execute("CREATE TABLE bootstrap (x)")
    conn.execute("DROP TABLE bootstrap")
    conn.close()
    with Store.open(path, community="hxy", gate=GATE) as store:
        record(store, 200, start=NOW - timedelta(days=300), step=timedelta(seconds=30))
        mark_acked(store, GATE, at=NOW, up_to_seq=200)
        report = run_retention(store, RetentionSettings(), now=NOW, disk=plenty)
        assert report.db.auto_vacuum == 2
        assert report.reclaimed_bytes > 0
        assert report.db.freelist_count == 0
        assert reclaim_free_pages(path, db_usage(path), disk_filling=False) == 0


def test_worker_runs_at_start_and_stops_promptly(store: Store) -> None:
    record(store, 3, start=NOW - timedelta(days=365), step=timedelta(seconds=1))
    mark_acked(store, GATE, at=NOW, up_to_seq=3)
    worker = RetentionWorker(
        store, RetentionSettings(interval_s=3600), bus=None, wall_now=lambda: NOW
    )
    worker.start()
    try:
        assert wait_until(lambda: worker.passes == 1)
        assert worker.alive
        assert store.entry_count() == 0
    finally:
        worker.stop(timeout_s=2)
    assert not worker.alive


def test_visitor_registrations_go_keep_days_after_they_ended(store: Store) -> None:
    guard = GuardBook(store).add("门卫", Role.GUARD, "246801", now=NOW)
    book = RegistrationBook(store)

    def add(reg_id: str, ended: datetime) -> None:
        book.add(
            Registration(
                id=reg_id,
                kind="visitor",
                pass_id=f"V-{reg_id}",
                registered_at=ended - timedelta(hours=4),
                guard_id=guard.id,
                lane="in-1",
                host_household="3-2-501",
                reason="探亲访友",
                plate=None,
                valid_from=ended - timedelta(hours=4),
                valid_until=ended,
                people=(StoredPerson("张三", "138****5678", None),),
            )
        )

    add("old", NOW - timedelta(days=31))
    add("recent", NOW - timedelta(days=29))
    add("current", NOW + timedelta(hours=2))
    report = run_retention(
        store, RetentionSettings(), now=NOW, disk=plenty, registrations_days=30.0
    )
    assert report.purged_registrations == 1
    assert book.get("old") is None
    assert {r.id for r in book.recent()} == {"recent", "current"}
    with store._reading() as conn:  # the people went with their registration
        (orphans,) = conn.execute(
            "SELECT count(*) FROM registration_people WHERE registration_id = 'old'"
        ).fetchone()
    assert orphans == 0
    # Without the setting nothing of the kind is touched.
    assert (
        run_retention(
            store, RetentionSettings(), now=NOW + timedelta(days=90), disk=plenty
        ).purged_registrations
        == 0
    )
    assert book.count() == 2
