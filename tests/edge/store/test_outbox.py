"""The outbox the sync layer drains: order, publish marks, receiver acks, and retention."""

from __future__ import annotations

import logging
import sqlite3
from datetime import timedelta

import pytest

from edge.store import Store
from edge.store.outbox import mark_acked, mark_published, pending, pending_count, purge_acked
from tests.edge.store.conftest import Recorder, StepClock


def test_pending_is_every_unacked_entry_in_order(store: Store, record: Recorder) -> None:
    recorded = [record() for _ in range(5)]
    rows = pending(store, limit=10)
    assert [row.seq for row in rows] == [1, 2, 3, 4, 5]
    assert [row.entry for row in rows] == recorded
    assert rows[0].entry_id == recorded[0].id
    assert rows[0].gate == "north"
    assert rows[0].queued_at == recorded[0].recorded_at
    assert (rows[0].published_at, rows[0].publish_count, rows[0].acked_at) == (None, 0, None)
    assert [row.seq for row in pending(store, limit=2)] == [1, 2]
    assert pending_count(store) == 5
    with pytest.raises(ValueError, match="limit"):
        pending(store, limit=0)


def test_published_is_not_acknowledged(store: Store, record: Recorder, clock: StepClock) -> None:
    first, second = record(), record()
    at = clock.advance(5)
    assert mark_published(store, [first.id, second.id], at) == 2
    assert mark_published(store, [first.id], at + timedelta(seconds=30)) == 1  # republished
    rows = pending(store)
    assert [row.seq for row in rows] == [1, 2]  # still pending: only the receiver's ack counts
    assert rows[0].publish_count == 2
    assert rows[0].published_at == at + timedelta(seconds=30)
    assert rows[1].publish_count == 1
    assert mark_published(store, ["unknown-id"], at) == 0


def test_cumulative_ack(store: Store, record: Recorder, clock: StepClock) -> None:
    for _ in range(5):
        record()
    at = clock.advance(5)
    assert mark_acked(store, "north", up_to_seq=3, at=at) == 3
    assert mark_acked(store, "north", up_to_seq=3, at=at) == 0  # idempotent
    assert [row.seq for row in pending(store)] == [4, 5]
    assert pending_count(store) == 2


def test_an_ack_for_another_gate_acks_nothing(
    store: Store, record: Recorder, clock: StepClock
) -> None:
    first = record()
    at = clock.advance(5)
    assert mark_acked(store, "south", entry_ids=[first.id], at=at) == 0
    assert mark_acked(store, "south", up_to_seq=1, at=at) == 0
    assert [row.entry for row in pending(store)] == [first]


def test_ack_by_ids(store: Store, record: Recorder, clock: StepClock) -> None:
    first, second, third = record(), record(), record()
    at = clock.advance(5)
    assert mark_acked(store, "north", entry_ids=[third.id, first.id], at=at) == 2
    assert [row.entry for row in pending(store)] == [second]
    with pytest.raises(ValueError, match="exactly one"):
        mark_acked(store, "north", at=at)
    with pytest.raises(ValueError, match="exactly one"):
        mark_acked(store, "north", up_to_seq=1, entry_ids=[first.id], at=at)


def test_an_ack_beyond_what_was_issued_is_logged(
    store: Store, record: Recorder, clock: StepClock, caplog: pytest.LogCaptureFixture
) -> None:
    record()
    with caplog.at_level(logging.WARNING, logger="edge.store.outbox"):
        assert mark_acked(store, "north", up_to_seq=40, at=clock.advance(1)) == 1
    assert "up to seq 40 but this edge issued only 1" in caplog.text


def test_purge_deletes_only_acked_and_old(store: Store, record: Recorder, clock: StepClock) -> None:
    old_acked, old_unacked = record(), record()
    cutoff = clock.advance(3600)
    new_acked = record()
    mark_acked(store, "north", entry_ids=[old_acked.id, new_acked.id], at=clock.advance(1))
    assert purge_acked(store, older_than=cutoff) == 1
    assert store.get_entry(old_acked.id) is None
    assert store.get_entry(old_unacked.id) == old_unacked  # never acked: kept, however old
    assert store.get_entry(new_acked.id) == new_acked  # acked but inside retention
    assert [row.entry for row in pending(store)] == [old_unacked]
    # Far in the future, unacked entries still stay.
    assert purge_acked(store, older_than=cutoff + timedelta(days=3650)) == 1
    assert store.entry_count() == 1
    assert store.get_entry(old_unacked.id) == old_unacked


def test_seq_is_never_reused_after_a_purge(
    store: Store, record: Recorder, clock: StepClock
) -> None:
    for _ in range(5):
        record()
    mark_acked(store, "north", up_to_seq=5, at=clock.advance(1))
    assert purge_acked(store, older_than=clock.advance(1)) == 5
    assert store.entry_count() == 0
    assert store.last_seq() == 5
    assert record().seq == 6
    assert [entry.seq for entry in store.entries()] == [6]


def test_purge_removes_the_outbox_rows_with_the_entries(
    store: Store, record: Recorder, clock: StepClock
) -> None:
    entry = record()
    mark_acked(store, "north", up_to_seq=1, at=clock.advance(1))
    purge_acked(store, older_than=clock.advance(1))
    with store._reading() as conn:
        left = conn.execute("SELECT count(*) FROM outbox WHERE entry_id = ?", [entry.id])
        assert left.fetchone()[0] == 0
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute(  # an outbox row must point at a stored entry
                "INSERT INTO outbox (entry_id, community, gate, seq, queued_at) "
                "VALUES ('ghost', 'c', 'g', 1, '')"
            )
