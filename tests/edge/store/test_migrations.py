"""Schema migrations: a version-1 file with data upgrades in place and keeps every row."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlite_utils import Database

from edge.model import ENTRY_SCHEMA_VERSION, Direction, Entry
from edge.store import Store
from edge.store.migrations import (
    LATEST_VERSION,
    MIGRATIONS,
    applied_migrations,
    migrate,
    schema_version,
)
from edge.store.outbox import mark_acked, pending
from tests.edge.store.conftest import BOOT_ID, COMMUNITY, GATE
from tests.edge.store.drafts import T0, full_draft, simple_draft
from tests.edge.store.version1 import insert_version_1_entries


@pytest.fixture
def raw_db(tmp_path: Path) -> Iterator[Database]:
    conn = sqlite3.connect(tmp_path / "old.db", isolation_level=None)
    yield Database(conn, execute_plugins=False)
    conn.close()


def _v1_entry(seq: int) -> Entry:
    direction = Direction.OUT if seq == 3 else Direction.IN
    draft = (
        full_draft()
        if seq == 2
        else simple_draft(pass_id=f"P-{seq}", household="h1", direction=direction)
    )
    return Entry(
        id=f"0190a0b0-0000-7000-8000-{seq:012d}",
        seq=seq,
        schema_version=ENTRY_SCHEMA_VERSION,
        community=COMMUNITY,
        gate=GATE,
        boot_id=BOOT_ID,
        recorded_at=T0 + timedelta(seconds=seq),
        draft=draft,
    )


def test_versions_are_numbered_in_order() -> None:
    assert [m.version for m in MIGRATIONS] == list(range(1, LATEST_VERSION + 1))
    assert LATEST_VERSION >= 2


def test_upgrade_from_version_1_keeps_every_row(raw_db: Database, tmp_path: Path) -> None:
    assert migrate(raw_db, now=T0, target=1) == [1]
    assert schema_version(raw_db) == 1
    assert "meta" not in raw_db.table_names()
    old_entries = [_v1_entry(seq) for seq in (1, 2, 3)]
    pem = (
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    # Rows as a version-1 program wrote them (its columns are still today's).
    with raw_db.atomic():
        insert_version_1_entries(raw_db, COMMUNITY, GATE, old_entries, acked={1}, acked_at=T0)
        raw_db.execute(
            "INSERT INTO trusted_keys (kid, public_key_pem, source, added_at) VALUES (?, ?, ?, ?)",
            ["k2026", pem, "config", T0.isoformat()],
        )
        raw_db.execute(
            "INSERT INTO revocations (pass_id, source, added_at) VALUES (?, ?, ?)",
            ["P-lost", "config", T0.isoformat()],
        )
    raw_db.conn.close()

    with Store.open(tmp_path / "old.db", community=COMMUNITY, gate=GATE) as store:
        assert store.schema_version() == LATEST_VERSION
        applied = [version for version, _, _ in applied_migrations(store._db)]
        assert applied == list(range(1, LATEST_VERSION + 1))
        assert store.entries() == old_entries
        assert store.last_seq() == 3
        assert [row.seq for row in pending(store)] == [2, 3]
        assert list(store.trusted_keys()) == ["k2026"]
        assert store.revoked_ids() == {"P-lost"}
        # What version 2 added works over the old rows.
        assert store.household_exits("h1", T0 - timedelta(days=1)) == 1
        assert store.last_passed_direction("P-3") is Direction.OUT
        indexes = {row["name"] for row in store._db.query("PRAGMA index_list(entries)")}
        assert {"entries_pass_passed", "entries_household_exits"} <= indexes
        store.set_meta("revocations.version", "7")
        # And the sequence carries on, guarded by the new triggers.
        assert store.record_entry(simple_draft(), boot_id=BOOT_ID, recorded_at=T0).seq == 4
        assert mark_acked(store, GATE, up_to_seq=4, at=T0) == 3


def test_reopening_applies_nothing_again(tmp_path: Path) -> None:
    path = tmp_path / "kakou.db"
    with Store.open(path, community=COMMUNITY, gate=GATE) as store:
        first = applied_migrations(store._db)
        assert migrate(store._db, now=T0) == []
    with Store.open(path, community=COMMUNITY, gate=GATE) as store:
        assert applied_migrations(store._db) == first
        assert store.schema_version() == LATEST_VERSION


def test_a_failing_migration_leaves_the_file_at_its_old_version(
    raw_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    migrate(raw_db, now=T0, target=1)

    def broken(db: Database) -> None:
        db.execute("CREATE TABLE half_done (x INTEGER)")
        raise RuntimeError("disk pulled")

    from edge.store import migrations

    monkeypatch.setattr(
        migrations, "MIGRATIONS", (MIGRATIONS[0], migrations.Migration(2, "broken", broken))
    )
    with pytest.raises(RuntimeError, match="disk pulled"):
        migrations.migrate(raw_db, now=T0)
    assert schema_version(raw_db) == 1
    assert "half_done" not in raw_db.table_names()
    assert [version for version, _, _ in applied_migrations(raw_db)] == [1]
