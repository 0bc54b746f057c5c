"""Issue #10, part 4: a gate account that publishes garbage cannot make the receiver hold it.

The attack, for real: a client publishes 20 MB garbage batches and floods small garbage on its
gate's entries topic through a real Mosquitto to a running receiver, on SQLite and on the real
PostgreSQL. Before the fix each 20 MB batch was stored whole in ``rejects`` and every garbage
message got a row; now a reject keeps its first 4 KiB with its size and SHA-256, and each gate
has a bucket of rejects stored, beyond which they are counted, not stored.
"""

from __future__ import annotations

import hashlib
import logging
import random
from collections.abc import Callable
from pathlib import Path

import pytest

from sync.contract import Channel, gate_topic
from sync.receiver.db import ReceiverDb, SqliteReceiverDb
from sync.receiver.limits import REJECT_KEEP_BYTES, RejectLimit
from sync.receiver.receiver import Receiver
from tests.sync.conftest import (  # noqa: F401  (fixtures used by name)
    COMMUNITY,
    broker,
    pg_dsn,
    postgres,
    receiver_db,
    start_receiver,
)
from tests.sync.rig import Mosquitto, wait_until
from tests.sync.test_broker_acl import Client

NORTH = gate_topic(COMMUNITY, "north", Channel.ENTRIES)
SOUTH = gate_topic(COMMUNITY, "south", Channel.ENTRIES)
BIG_BYTES = 20 * 1024 * 1024
BIG_COUNT = 6


def stored_reject_bytes(db: ReceiverDb) -> int:
    """What the rejects table holds of payloads, whatever the backend."""
    with db._guarded(write=False) as cursor:
        return int(db._execute(cursor, "SELECT sum(length(payload)) FROM rejects").fetchone()[0])


def on_disk_bytes(db: ReceiverDb) -> int:
    """The SQLite file with its WAL, or PostgreSQL's rejects table with its TOAST and index."""
    if isinstance(db, SqliteReceiverDb):
        return sum(p.stat().st_size for p in db.path.parent.glob(f"{db.path.name}*"))
    with db._guarded(write=False) as cursor:
        query = "SELECT pg_total_relation_size('rejects')"
        return int(db._execute(cursor, query).fetchone()[0])


def test_20_mb_garbage_batches_keep_4_kib_each(
    broker: Mosquitto,  # noqa: F811
    receiver_db: ReceiverDb,  # noqa: F811
    start_receiver: Callable[..., Receiver],  # noqa: F811
) -> None:
    receiver = start_receiver(broker.port, receiver_db)
    attacker = Client(broker.port, None)
    try:
        # Random bytes: PostgreSQL compresses a repeated byte to almost nothing.
        payloads = [random.Random(n).randbytes(BIG_BYTES) for n in range(BIG_COUNT)]
        for payload in payloads:
            assert attacker.publish(NORTH, payload) == 0
        wait_until(lambda: receiver.stats.messages == BIG_COUNT, 60, "the receiver to take them")
    finally:
        attacker.close()
    kept = stored_reject_bytes(receiver_db)
    disk = on_disk_bytes(receiver_db)
    print(f"{BIG_COUNT} x 20 MB garbage: rejects hold {kept} payload bytes, {disk} bytes on disk")
    assert receiver_db.counts()["rejects"] == BIG_COUNT  # every one is evidence, kept
    assert kept == BIG_COUNT * REJECT_KEEP_BYTES
    assert disk < 2 * 1024 * 1024
    with receiver_db._guarded(write=False) as cursor:
        rows = receiver_db._execute(
            cursor, "SELECT payload_bytes, payload_sha256, reason FROM rejects ORDER BY row_id"
        ).fetchall()
    assert [(int(size), sha) for size, sha, _ in rows] == [
        (BIG_BYTES, hashlib.sha256(payload).hexdigest()) for payload in payloads
    ]
    assert all("over" in str(reason) for _, _, reason in rows)  # refused unread, by its size


def test_a_flood_of_garbage_from_one_gate_is_counted_not_stored(
    broker: Mosquitto,  # noqa: F811
    tmp_path: Path,
    start_receiver: Callable[..., Receiver],  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="sync.receiver.limits")
    db = SqliteReceiverDb(tmp_path / "receiver.db")
    receiver = start_receiver(broker.port, db)
    limit = RejectLimit()
    flood = 300
    attacker = Client(broker.port, None)
    try:
        for n in range(flood):
            assert attacker.publish(NORTH, f"garbage {n}".encode()) == 0
        for n in range(3):  # another gate's bad batches still leave their evidence
            assert attacker.publish(SOUTH, f"south garbage {n}".encode()) == 0
        wait_until(lambda: receiver.stats.messages == flood + 3, 30, "the receiver to take all")
    finally:
        attacker.close()
    stored = db.counts()["rejects"]
    print(f"{flood} garbage messages from one gate: {stored - 3} stored")
    with db._guarded(write=False) as cursor:
        by_topic = dict(
            db._execute(cursor, "SELECT topic, count(*) FROM rejects GROUP BY topic").fetchall()
        )
    db.close()
    assert by_topic == {NORTH: limit.burst, SOUTH: 3}
    assert receiver.stats.rejects_dropped == flood - limit.burst
    warnings = [r for r in caplog.records if "dropped unstored" in r.getMessage()]
    assert len(warnings) == 1  # once per window, not once per message
