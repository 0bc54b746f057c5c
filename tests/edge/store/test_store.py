"""The store on real SQLite files: durability settings, entries, sequences, history, trust."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import HealthCheck, given, settings

from edge.model import ENTRY_SCHEMA_VERSION, Direction, Entry, EntryDraft, Outcome
from edge.store import (
    HOUSEHOLD_EXITS_SQL,
    LAST_PASSED_DIRECTION_SQL,
    RevocationChange,
    Store,
    StoreCorrupt,
    StoreError,
    StoreNotFound,
    StoreTooNew,
)
from edge.store.ids import uuid7_unix_ms
from edge.store.migrations import LATEST_VERSION
from tests.edge.store.conftest import BOOT_ID, COMMUNITY, GATE, Recorder, StepClock
from tests.edge.store.drafts import T0, drafts, extras, full_draft, simple_draft

ROOT = Path(__file__).resolve().parents[3]


def _pem(private: Ed25519PrivateKey) -> bytes:
    return private.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)


# ------------------------------------------------------------------------------ opening


def test_open_creates_directory_and_sets_durability_pragmas(store: Store, db_path: Path) -> None:
    assert db_path.is_file()
    assert store.pragmas() == {
        "journal_mode": "wal",
        "synchronous": 2,  # FULL
        "foreign_keys": 1,
        "busy_timeout": 5000,
    }
    assert store.integrity == "ok"
    assert store.schema_version() == LATEST_VERSION


def test_pragmas_are_set_again_on_every_open(db_path: Path) -> None:
    Store.open(db_path, community=COMMUNITY, gate=GATE).close()
    # synchronous is per connection: a fresh connection starts at SQLite's default.
    with sqlite3.connect(db_path) as plain:
        plain.execute("PRAGMA synchronous = OFF")
        assert plain.execute("PRAGMA synchronous").fetchone()[0] == 0
    plain.close()
    with Store.open(db_path, community=COMMUNITY, gate=GATE) as reopened:
        assert reopened.pragmas()["synchronous"] == 2
        assert reopened.pragmas()["journal_mode"] == "wal"
    with Store.open_existing(db_path) as existing:
        assert existing.pragmas()["synchronous"] == 2


def test_open_existing_never_creates(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "kakou.db"
    with pytest.raises(StoreNotFound):
        Store.open_existing(missing)
    assert not missing.parent.exists()


def test_open_existing_takes_the_identity_the_service_used(store: Store, db_path: Path) -> None:
    with Store.open_existing(db_path) as existing:
        assert (existing.community, existing.gate) == (COMMUNITY, GATE)


def test_open_refuses_a_file_from_a_newer_program(db_path: Path) -> None:
    Store.open(db_path, community=COMMUNITY, gate=GATE).close()
    with sqlite3.connect(db_path) as plain:
        plain.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
    plain.close()
    with pytest.raises(StoreTooNew):
        Store.open(db_path, community=COMMUNITY, gate=GATE)


def test_many_openers_at_once_migrate_once(db_path: Path) -> None:
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def open_and_close() -> None:
        barrier.wait()
        try:
            Store.open(db_path, community=COMMUNITY, gate=GATE).close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_and_close) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with sqlite3.connect(db_path) as plain:
        versions = [row[0] for row in plain.execute("SELECT version FROM schema_migrations")]
    plain.close()
    assert versions == list(range(1, LATEST_VERSION + 1))


# ---------------------------------------------------------------------------- integrity


def _filled_copy(tmp_path: Path, entries: int = 2000) -> Path:
    source = tmp_path / "good.db"
    with Store.open(source, community=COMMUNITY, gate=GATE) as good:
        with good._reading() as conn:  # set-up speed only; durability is not what is tested
            conn.execute("PRAGMA synchronous = OFF")
        for index in range(entries):
            at = T0 + timedelta(seconds=index)
            good.record_entry(
                full_draft(started_at=at, decided_at=at), boot_id=BOOT_ID, recorded_at=at
            )
    assert not Path(f"{source}-wal").exists()  # closing checkpointed everything
    return source


def test_damage_in_the_middle_is_reported_not_crashed(tmp_path: Path) -> None:
    damaged = tmp_path / "damaged.db"
    shutil.copy(_filled_copy(tmp_path), damaged)
    # A page in the middle of the entries table (the schema decides which page that is).
    with contextlib.closing(sqlite3.connect(damaged)) as conn:
        pages = [p for (p,) in conn.execute("SELECT pageno FROM dbstat WHERE name = 'entries'")]
        (page_size,) = conn.execute("PRAGMA page_size").fetchone()
    with damaged.open("r+b") as raw:
        raw.seek((sorted(pages)[len(pages) // 2] - 1) * page_size)
        raw.write(bytes(range(256)) * 16)  # 4 KiB of garbage over a page of entries
    with Store.open(damaged, community=COMMUNITY, gate=GATE) as store:
        assert store.integrity != "ok"
        assert "\n" not in store.integrity  # one line, for the health status
        # Reaching the damaged pages raises the store's own error, not a bare sqlite3 one.
        with pytest.raises(StoreCorrupt):
            store.entries(limit=10_000)


def test_a_file_that_is_not_a_database_raises_store_corrupt(tmp_path: Path) -> None:
    damaged = tmp_path / "header.db"
    shutil.copy(_filled_copy(tmp_path, entries=10), damaged)
    with damaged.open("r+b") as raw:
        raw.write(b"this is no sqlite header" * 5)
    with pytest.raises(StoreCorrupt):
        Store.open(damaged, community=COMMUNITY, gate=GATE)


def test_full_integrity_check_on_a_healthy_store(store: Store, record: Recorder) -> None:
    record()
    assert store.integrity_check() == "ok"


# ------------------------------------------------------------------------------ entries


@pytest.mark.parametrize("outcome", list(Outcome))
def test_record_entry_round_trips_every_field(store: Store, outcome: Outcome) -> None:
    draft = full_draft(outcome=outcome)
    recorded_at = T0 + timedelta(seconds=96)
    entry = store.record_entry(
        draft, boot_id=BOOT_ID, recorded_at=recorded_at, extra={"camera": "北门-2"}
    )
    assert entry.draft == draft
    assert (entry.community, entry.gate, entry.seq) == (COMMUNITY, GATE, 1)
    assert entry.schema_version == ENTRY_SCHEMA_VERSION
    assert entry.boot_id == BOOT_ID
    assert entry.recorded_at == recorded_at
    assert entry.extra == {"camera": "北门-2"}
    stored = store.get_entry(entry.id)
    assert stored == entry
    assert stored is not None
    # Offsets survive too (equal datetimes could still differ in offset).
    assert stored.draft.started_at.utcoffset() == timedelta(hours=8)
    assert stored.draft.temperatures[1].at.utcoffset() == timedelta(0)
    assert stored.draft.temperatures[0].reading.raw_hex == "5a5a45040e930e6e7b"


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(draft=drafts, extra=extras)
def test_any_draft_round_trips_through_the_file(
    store: Store, draft: EntryDraft, extra: dict[str, str]
) -> None:
    entry = store.record_entry(draft, boot_id=BOOT_ID, recorded_at=draft.decided_at, extra=extra)
    assert store.get_entry(entry.id) == entry


def test_entry_is_committed_when_record_entry_returns(store: Store, db_path: Path) -> None:
    entry = store.record_entry(simple_draft(), boot_id=BOOT_ID, recorded_at=T0)
    other = sqlite3.connect(db_path)
    try:
        rows = other.execute("SELECT id, seq FROM entries").fetchall()
        outbox = other.execute("SELECT entry_id FROM outbox").fetchall()
    finally:
        other.close()
    assert rows == [(entry.id, 1)]
    assert outbox == [(entry.id,)]


_CRASHING_WRITER = """
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from edge.store import Store
from tests.edge.store.drafts import simple_draft
store = Store.open(Path(sys.argv[1]), community="c", gate="g")
at = datetime(2026, 11, 23, tzinfo=UTC)
for n in range(100_000):
    entry = store.record_entry(simple_draft(), boot_id="b", recorded_at=at + timedelta(seconds=n))
    print(entry.seq, flush=True)
"""


def test_every_returned_entry_survives_a_killed_process(tmp_path: Path) -> None:
    path = tmp_path / "crash.db"
    writer = subprocess.Popen(
        [sys.executable, "-c", _CRASHING_WRITER, str(path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout is not None
    acknowledged = [int(writer.stdout.readline()) for _ in range(50)]
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait()
    with Store.open(path, community="c", gate="g") as reopened:
        assert reopened.integrity == "ok"
        stored = [entry.seq for entry in reopened.entries(limit=100_000)]
    assert stored[: len(acknowledged)] == acknowledged
    assert stored == list(range(1, len(stored) + 1))


def test_naive_times_are_refused_and_use_no_sequence_number(store: Store) -> None:
    with pytest.raises(ValueError, match="UTC offset"):
        store.record_entry(
            simple_draft(decided_at=T0.replace(tzinfo=None)), boot_id=BOOT_ID, recorded_at=T0
        )
    with pytest.raises(ValueError, match="recorded_at must carry a UTC offset"):
        store.record_entry(simple_draft(), boot_id=BOOT_ID, recorded_at=T0.replace(tzinfo=None))
    with pytest.raises(ValueError, match="extra"):
        store.record_entry(
            simple_draft(),
            boot_id=BOOT_ID,
            recorded_at=T0,
            extra={"n": 1},  # type: ignore[dict-item]
        )
    assert store.last_seq() == 0
    assert store.entry_count() == 0
    assert store.record_entry(simple_draft(), boot_id=BOOT_ID, recorded_at=T0).seq == 1


def test_seq_is_gap_free_under_four_writer_threads(store: Store) -> None:
    per_thread = 250
    barrier = threading.Barrier(5)
    results: list[list[Entry]] = [[] for _ in range(4)]
    errors: list[BaseException] = []
    done = threading.Event()

    def write(slot: int) -> None:
        barrier.wait()
        try:
            for index in range(per_thread):
                at = T0 + timedelta(milliseconds=index)
                draft = simple_draft(lane=f"lane-{slot}", decided_at=at)
                results[slot].append(store.record_entry(draft, boot_id=BOOT_ID, recorded_at=at))
        except BaseException as exc:
            errors.append(exc)

    def read() -> None:
        # A console thread reading through the same connection while the lanes write.
        barrier.wait()
        try:
            while not done.is_set():
                newest = [entry.seq for entry in store.entries(limit=20, newest_first=True)]
                assert newest == sorted(newest, reverse=True)
        except BaseException as exc:
            errors.append(exc)

    writers = [threading.Thread(target=write, args=(slot,)) for slot in range(4)]
    reader = threading.Thread(target=read)
    for thread in [*writers, reader]:
        thread.start()
    for thread in writers:
        thread.join()
    done.set()
    reader.join()
    assert errors == []
    recorded = sorted((entry for slot in results for entry in slot), key=lambda e: e.seq)
    assert [entry.seq for entry in recorded] == list(range(1, 1001))
    # Ids are made inside the same transaction as the seq, so they sort the same way.
    assert [entry.id for entry in recorded] == sorted(entry.id for entry in recorded)
    assert store.last_seq() == 1000
    assert store.entry_count() == 1000
    assert [entry.seq for entry in store.entries(limit=1000)] == list(range(1, 1001))


def test_seq_continues_after_reopen(db_path: Path, clock: StepClock) -> None:
    with Store.open(db_path, community=COMMUNITY, gate=GATE) as first:
        for _ in range(3):
            first.record_entry(simple_draft(), boot_id=BOOT_ID, recorded_at=T0)
    with Store.open(db_path, community=COMMUNITY, gate=GATE) as second:
        assert second.last_seq() == 3
        assert second.record_entry(simple_draft(), boot_id=BOOT_ID, recorded_at=T0).seq == 4


def test_each_gate_has_its_own_sequence(db_path: Path) -> None:
    with Store.open(db_path, community=COMMUNITY, gate="north") as north:
        north.record_entry(simple_draft(), boot_id=BOOT_ID, recorded_at=T0)
        north.record_entry(simple_draft(), boot_id=BOOT_ID, recorded_at=T0)
    with Store.open(db_path, community=COMMUNITY, gate="south") as south:
        assert south.record_entry(simple_draft(), boot_id=BOOT_ID, recorded_at=T0).seq == 1
        assert south.entry_count() == 1
    with Store.open_existing(db_path) as existing:
        assert existing.gate == "south"  # the identity last opened for writing


def test_entry_ids_are_uuid7_no_older_than_the_recorded_millisecond(store: Store) -> None:
    entry = store.record_entry(simple_draft(), boot_id=BOOT_ID, recorded_at=T0)
    value = uuid.UUID(entry.id)
    assert value.version == 7
    assert value.variant == uuid.RFC_4122
    # Equal unless an earlier id in this process carried a later time (ids never go back).
    assert uuid7_unix_ms(value) >= int(T0.timestamp() * 1000)


def test_the_schema_refuses_to_alter_or_drop_unacked_entries(
    store: Store, record: Recorder
) -> None:
    entry = record()
    conn = store._db.conn
    with pytest.raises(sqlite3.IntegrityError, match="never altered"):
        conn.execute("UPDATE entries SET outcome = 'denied' WHERE id = ?", [entry.id])
    with pytest.raises(sqlite3.IntegrityError, match="unacknowledged"):
        conn.execute("DELETE FROM entries WHERE id = ?", [entry.id])
    with pytest.raises(sqlite3.IntegrityError, match="moves up by one"):
        conn.execute("UPDATE sequences SET last_seq = 7")
    with pytest.raises(sqlite3.IntegrityError, match="never deleted"):
        conn.execute("DELETE FROM sequences")
    assert store.get_entry(entry.id) == entry
    assert store.last_seq() == 1


# ------------------------------------------------------------------------------ queries


def test_entries_filters_and_pages_by_seq(store: Store, record: Recorder, clock: StepClock) -> None:
    record(pass_id="A", household="h1")  # 1
    record(pass_id="B", household="h2", outcome=Outcome.DENIED)  # 2
    middle = clock.wall + timedelta(seconds=1)
    record(pass_id="A", household="h1", direction=Direction.OUT)  # 3
    record(pass_id="C", household="h1", outcome=Outcome.FEVER)  # 4
    record(pass_id="A", household="h2", lane="north-2")  # 5

    def seqs(**filters: object) -> list[int]:
        return [entry.seq for entry in store.entries(**filters)]  # type: ignore[arg-type]

    assert seqs() == [1, 2, 3, 4, 5]
    assert seqs(since=middle) == [3, 4, 5]
    assert seqs(until=middle) == [1, 2]
    assert seqs(outcome=Outcome.DENIED) == [2]
    assert seqs(pass_id="A") == [1, 3, 5]
    assert seqs(household="h1") == [1, 3, 4]
    assert seqs(household="h1", pass_id="A", since=middle) == [3]
    assert seqs(lane="north-2") == [5]
    assert seqs(lane="north-1", pass_id="A") == [1, 3]
    assert seqs(limit=2) == [1, 2]
    assert seqs(limit=2, after_seq=2) == [3, 4]
    assert seqs(limit=2, after_seq=4) == [5]
    assert seqs(limit=2, newest_first=True) == [5, 4]
    assert seqs(limit=2, newest_first=True, before_seq=4) == [3, 2]
    assert store.entry_count() == 5
    assert store.get_entry("no-such-id") is None
    with pytest.raises(ValueError, match="limit"):
        store.entries(limit=0)


def test_time_filters_are_exact_when_the_clock_stepped_back(store: Store) -> None:
    def at(minutes: int) -> datetime:
        return T0 + timedelta(minutes=minutes)

    # Seq 2 was decided before NTP corrected the clock: its time is earlier than seq 1's.
    for minutes in (10, 5, 20, 15):
        store.record_entry(
            simple_draft(decided_at=at(minutes)), boot_id=BOOT_ID, recorded_at=at(minutes)
        )

    def seqs(**filters: datetime) -> list[int]:
        return [entry.seq for entry in store.entries(**filters)]  # type: ignore[arg-type]

    assert seqs(since=at(7)) == [1, 3, 4]
    assert seqs(since=at(4)) == [1, 2, 3, 4]
    assert seqs(until=at(8)) == [2]
    assert seqs(until=at(16)) == [1, 2, 4]
    assert seqs(since=at(6), until=at(16)) == [1, 4]
    assert seqs(since=at(4), until=at(11)) == [1, 2]  # the window bounds seq on both sides
    assert seqs(since=at(21)) == []
    assert [e.seq for e in store.entries(since=at(4), newest_first=True, limit=2)] == [4, 3]


def test_entries_walk_the_seq_index_for_a_time_range(store: Store, record: Recorder) -> None:
    record()
    statements: list[str] = []
    with store._reading() as conn:
        conn.set_trace_callback(statements.append)  # the SQL as run, values filled in
        try:
            store.entries(since=T0 - timedelta(days=365), limit=100)
        finally:
            conn.set_trace_callback(None)
        (query,) = [sql for sql in statements if sql.startswith("SELECT * FROM entries")]
        plan = " ".join(row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {query}"))
    assert "TEMP B-TREE" not in plan  # no sort of every row since `since`
    assert "COVERING INDEX entries_by_time" in plan  # the seq bound comes from the index alone


def test_last_passed_direction(store: Store, record: Recorder) -> None:
    assert store.last_passed_direction("A") is None
    record(pass_id="A", direction=Direction.IN)
    assert store.last_passed_direction("A") is Direction.IN
    record(pass_id="A", direction=Direction.OUT, outcome=Outcome.DENIED)
    record(pass_id="A", direction=Direction.OUT, outcome=Outcome.FEVER)
    record(pass_id="A", direction=Direction.OUT, outcome=Outcome.ABANDONED)
    assert store.last_passed_direction("A") is Direction.IN
    record(pass_id="A", direction=Direction.OUT, outcome=Outcome.OVERRIDDEN)
    assert store.last_passed_direction("A") is Direction.OUT
    record(pass_id="B", direction=Direction.IN)
    assert store.last_passed_direction("A") is Direction.OUT
    assert store.last_passed_direction("B") is Direction.IN


def test_household_exits(store: Store, record: Recorder, clock: StepClock) -> None:
    record(household="h1", direction=Direction.OUT)  # before the window
    window_start = clock.wall + timedelta(seconds=1)
    record(household="h1", direction=Direction.OUT)  # exactly at the start: counts
    record(household="h1", direction=Direction.OUT, outcome=Outcome.DENIED)
    record(household="h1", direction=Direction.IN)
    record(household="h2", direction=Direction.OUT)
    record(household="h1", direction=Direction.OUT, pass_id="other-member")
    # A guard letting someone out against the rule still uses the household's quota.
    record(household="h1", direction=Direction.OUT, outcome=Outcome.OVERRIDDEN)
    assert store.household_exits("h1", window_start) == 3
    assert store.household_exits("h1", window_start - timedelta(days=1)) == 4
    assert store.household_exits("h2", window_start) == 1
    assert store.household_exits("h3", window_start) == 0


@pytest.mark.parametrize(
    ("sql", "params", "index"),
    [
        (LAST_PASSED_DIRECTION_SQL, ["A"], "entries_pass_passed"),
        (HOUSEHOLD_EXITS_SQL, ["h1", 0], "entries_household_exits"),
    ],
)
def test_history_queries_use_their_partial_index(
    store: Store, db_path: Path, sql: str, params: list[object], index: str
) -> None:
    plain = sqlite3.connect(db_path)
    try:
        plan = " ".join(row[3] for row in plain.execute(f"EXPLAIN QUERY PLAN {sql}", params))
    finally:
        plain.close()
    assert f"USING INDEX {index}" in plan or f"USING COVERING INDEX {index}" in plan


# ------------------------------------------------------------------------- trust material


def test_trusted_keys_round_trip(store: Store) -> None:
    first, second = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    store.put_trusted_key("k1", _pem(first), source="config:k1.pub")
    store.put_trusted_key("k2", _pem(second), source="mqtt")
    keys = store.trusted_keys()
    assert sorted(keys) == ["k1", "k2"]
    signature = first.sign(b"pass")
    keys["k1"].verify(signature, b"pass")  # raises if it is not the same key


def test_a_bad_key_row_is_skipped_and_logged(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    store.put_trusted_key("good", _pem(Ed25519PrivateKey.generate()), source="config")
    store._db.conn.execute(
        "INSERT INTO trusted_keys (kid, public_key_pem, source, added_at) VALUES (?, ?, ?, ?)",
        ["broken", "-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----\n", "x", ""],
    )
    with caplog.at_level(logging.ERROR, logger="edge.store"):
        keys = store.trusted_keys()
    assert list(keys) == ["good"]
    assert "broken" in caplog.text


def test_put_trusted_key_refuses_what_is_not_an_ed25519_pem(store: Store) -> None:
    with pytest.raises(ValueError, match="'junk' from config"):
        store.put_trusted_key("junk", b"hello", source="config")
    ec_pem = (
        generate_private_key(SECP256R1())
        .public_key()
        .public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(ValueError, match="not an Ed25519 key"):
        store.put_trusted_key("ec", ec_pem, source="config")
    assert store.trusted_keys() == {}


def test_a_revoked_key_stays_revoked_when_config_puts_it_again(store: Store) -> None:
    pem = _pem(Ed25519PrivateKey.generate())
    store.put_trusted_key("k1", pem, source="config")
    assert store.revoke_trusted_key("k1") is True
    assert store.revoke_trusted_key("k1") is False
    store.put_trusted_key("k1", pem, source="config")  # the next start-up
    assert store.trusted_keys() == {}


def test_revocations(store: Store) -> None:
    assert store.revoked_ids() == frozenset()
    assert store.add_revocations(["P1", "P2", "P2"], source="config") == 2
    assert store.add_revocations(["P2", "P3"], source="mqtt") == 1
    assert store.revoked_ids() == {"P1", "P2", "P3"}
    # A full list from the server replaces only the server's own revocations.
    change = store.replace_revocations(["P4", "P5", "P1"], source="mqtt")
    assert change == RevocationChange(added=2, removed=1)  # P1 stays config's; P3 goes
    assert store.revoked_ids() == {"P1", "P2", "P4", "P5"}
    assert store.replace_revocations([], source="config") == RevocationChange(0, 2)
    assert store.revoked_ids() == {"P4", "P5"}


def test_meta(store: Store, clock: StepClock) -> None:
    assert store.get_meta("revocations.version") is None
    store.set_meta("revocations.version", "41")
    later = clock.advance(60)
    store.set_meta("revocations.version", "42")
    assert store.get_meta("revocations.version") == "42"
    assert store.meta_updated_at("revocations.version") == later
    assert store.meta_updated_at("unset") is None


def test_open_existing_without_identity_is_an_error(tmp_path: Path) -> None:
    from sqlite_utils import Database

    from edge.store.migrations import migrate

    path = tmp_path / "bare.db"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(Database(conn, execute_plugins=False), now=T0)
    conn.close()
    with pytest.raises(StoreError, match="no gate identity"):
        Store.open_existing(path)


def test_a_closed_store_raises_the_module_error_not_an_attribute_error(store: Store) -> None:
    """sqlite3.ProgrammingError (closed connection) has no SQLite code to inspect."""
    store.close()
    with pytest.raises(sqlite3.ProgrammingError):
        store.entries(limit=1)
