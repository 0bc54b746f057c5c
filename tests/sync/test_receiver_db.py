"""sync/receiver/db.py on SQLite and on a real PostgreSQL: idempotent storing, conflicts kept
aside, per-log progress (the ack), gaps, what gates reported but did not send, daily counts."""

from __future__ import annotations

import csv
import hashlib
import io
import logging
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from edge.entry_document import EntryColumns, canonical_document, entry_to_document, epoch_us
from edge.model import Direction, Entry, Outcome, PassKind
from edge.store import Store
from sync.receiver import db as db_module
from sync.receiver.db import (
    GateStatusRow,
    IncomingBatch,
    IncomingEntry,
    PostgresReceiverDb,
    ReceiverDb,
    ReceiverDbError,
    RejectedMessage,
    SqliteReceiverDb,
)
from sync.receiver.entries import check_entry
from sync.receiver.limits import REJECT_KEEP_BYTES
from sync.receiver.reports import report_csv
from tests.sync.conftest import COMMUNITY, GATE

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
SHANGHAI = ZoneInfo("Asia/Shanghai")


def incoming(entry: Entry) -> IncomingEntry:
    checked = check_entry(entry_to_document(entry))
    assert isinstance(checked, EntryColumns), checked
    return checked


def batch(entries: list[Entry], log_id: str = "log-a", gate: str = GATE) -> IncomingBatch:
    return IncomingBatch(COMMUNITY, gate, log_id, [incoming(entry) for entry in entries])


@pytest.fixture
def entries(gate_store: Store, record: object) -> list[Entry]:
    record(12)  # type: ignore[operator]
    return gate_store.entries(limit=100)


def test_stores_once_and_acknowledges_the_contiguous_seq(
    receiver_db: ReceiverDb, entries: list[Entry]
) -> None:
    result = receiver_db.store([batch(entries[:5])], now=NOW)
    assert (result.stored, result.duplicates, result.conflicts) == (5, 0, 0)
    ack = result.acks[(COMMUNITY, GATE, "log-a")]
    assert (ack.up_to_seq, ack.ids) == (5, [])
    again = receiver_db.store([batch(entries[:5])], now=NOW)
    assert (again.stored, again.duplicates) == (0, 5)
    assert again.acks[(COMMUNITY, GATE, "log-a")].up_to_seq == 5
    assert receiver_db.counts()["entries"] == 5
    stored = receiver_db.document(entries[0].id)
    assert stored == canonical_document(entry_to_document(entries[0]))


def test_out_of_order_arrivals_are_acknowledged_by_id_until_the_gap_fills(
    receiver_db: ReceiverDb, entries: list[Entry]
) -> None:
    late = receiver_db.store([batch(entries[6:9]), batch(entries[2:4])], now=NOW)
    ack = late.acks[(COMMUNITY, GATE, "log-a")]
    assert ack.up_to_seq == 0
    assert sorted(ack.ids) == sorted(entry.id for entry in entries[2:4] + entries[6:9])
    (gaps,) = receiver_db.gaps()
    assert gaps.missing == ((1, 2), (5, 6))
    assert gaps.missing_count == 4
    filled = receiver_db.store([batch(entries[:2]), batch(entries[4:6])], now=NOW)
    assert filled.acks[(COMMUNITY, GATE, "log-a")].up_to_seq == 9
    (gaps,) = receiver_db.gaps()
    assert gaps.missing == ()
    assert (gaps.contiguous_seq, gaps.max_seq) == (9, 9)


def test_same_id_with_other_content_is_kept_aside_once(
    receiver_db: ReceiverDb, entries: list[Entry], caplog: pytest.LogCaptureFixture
) -> None:
    receiver_db.store([batch(entries[:3])], now=NOW)
    forged = replace(
        entries[1], draft=replace(entries[1].draft, outcome=Outcome.PASSED, holder="X")
    )
    with caplog.at_level(logging.ERROR, logger="sync"):
        first = receiver_db.store([batch([forged])], now=NOW)
        second = receiver_db.store([batch([forged])], now=NOW)
    assert (first.conflicts, second.conflicts) == (1, 0)
    assert receiver_db.document(entries[1].id) == canonical_document(entry_to_document(entries[1]))
    counts = receiver_db.counts()
    assert (counts["entries"], counts["conflicts"]) == (3, 1)
    assert sum("kept aside" in record.getMessage() for record in caplog.records) == 1
    # Kept aside counts as stored: the gate may let it go.
    assert first.acks[(COMMUNITY, GATE, "log-a")].up_to_seq == 3


def test_a_seq_slot_taken_by_another_entry_is_a_conflict(
    receiver_db: ReceiverDb, entries: list[Entry]
) -> None:
    receiver_db.store([batch(entries[:2])], now=NOW)
    impostor = replace(entries[5], seq=2)
    result = receiver_db.store([batch([impostor])], now=NOW)
    assert result.conflicts == 1
    assert receiver_db.counts()["duplicate_slots"] == 0


def test_each_log_of_a_gate_has_its_own_progress(
    receiver_db: ReceiverDb, entries: list[Entry]
) -> None:
    result = receiver_db.store(
        [batch(entries[:4], "old-card"), batch(entries[4:6], "new-card")], now=NOW
    )
    # The second log's seq 5-6 stand behind a gap in *its* numbering, not after the first's 4.
    assert result.acks[(COMMUNITY, GATE, "old-card")].up_to_seq == 4
    assert result.acks[(COMMUNITY, GATE, "new-card")].up_to_seq == 0
    assert {(g.log_id, g.missing) for g in receiver_db.gaps()} == {
        ("old-card", ()),
        ("new-card", ((1, 4),)),
    }


def test_batches_of_one_transaction_meet_each_other_as_if_stored_one_by_one(
    receiver_db: ReceiverDb, entries: list[Entry]
) -> None:
    """All batches of a transaction are checked with one look-up: a repeat, a forgery and an
    impostor inside the same transaction are still told apart."""
    forged = replace(entries[1], draft=replace(entries[1].draft, holder="X"))
    impostor = replace(entries[7], seq=3)
    result = receiver_db.store(
        [batch(entries[:4]), batch([entries[2], forged, impostor]), batch(entries[:2])], now=NOW
    )
    assert (result.stored, result.duplicates, result.conflicts) == (4, 3, 2)
    counts = receiver_db.counts()
    assert (counts["entries"], counts["conflicts"], counts["duplicate_slots"]) == (4, 2, 0)
    assert receiver_db.document(entries[1].id) == canonical_document(entry_to_document(entries[1]))


def test_progress_is_found_window_by_window_and_across_gaps(
    receiver_db: ReceiverDb, entries: list[Entry], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Small windows, few ids per look-up and short runs, so every loop turns several times."""
    monkeypatch.setattr(db_module, "_CONTIGUOUS_STEP", 3)
    monkeypatch.setattr(db_module, "_RUN_GAP", 1)
    monkeypatch.setattr(receiver_db, "_ids_per_query", 2)
    first = receiver_db.store(
        [batch(entries[:2]), batch(entries[3:8]), batch(entries[9:11])], now=NOW
    )
    assert first.acks[(COMMUNITY, GATE, "log-a")].up_to_seq == 2
    (gaps,) = receiver_db.gaps()
    assert (gaps.missing, gaps.max_seq) == (((3, 3), (9, 9)), 11)
    again = receiver_db.store([batch(entries[:11])], now=NOW)  # 9 repeats found in chunks of 2
    assert (again.stored, again.duplicates) == (2, 9)
    assert again.acks[(COMMUNITY, GATE, "log-a")].up_to_seq == 11
    (gaps,) = receiver_db.gaps()
    assert (gaps.missing, gaps.contiguous_seq, gaps.max_seq) == ((), 11, 11)


def test_rejected_messages_are_kept_once(receiver_db: ReceiverDb) -> None:
    bad = RejectedMessage.of("kakou/v1/hxy/north/entries", b"\x00garbage", "batch: not JSON")
    assert receiver_db.store([], rejects=[bad, bad], now=NOW).rejects == 1
    assert receiver_db.store([], rejects=[bad], now=NOW).rejects == 0
    assert receiver_db.counts()["rejects"] == 1


def reject_rows(db: ReceiverDb) -> list[tuple[bytes, int, str]]:
    with db._guarded(write=False) as cursor:
        rows = db._execute(
            cursor, "SELECT payload, payload_bytes, payload_sha256 FROM rejects ORDER BY row_id"
        ).fetchall()
    return [(bytes(payload), int(size), str(sha)) for payload, size, sha in rows]


def test_a_reject_keeps_its_head_with_the_size_and_hash_of_the_whole(
    receiver_db: ReceiverDb,
) -> None:
    payload = bytes(range(256)) * 100  # 25,600 bytes, not one of them valid JSON
    bad = RejectedMessage.of("kakou/v1/hxy/north/entries", payload, "batch: not JSON")
    assert len(bad.head) == REJECT_KEEP_BYTES
    receiver_db.store([], rejects=[bad], now=NOW)
    assert reject_rows(receiver_db) == [
        (payload[:REJECT_KEEP_BYTES], len(payload), hashlib.sha256(payload).hexdigest())
    ]
    # The same head with a different tail is another message, kept too.
    other = RejectedMessage.of(bad.topic, payload + b"!", bad.reason)
    assert receiver_db.store([], rejects=[other], now=NOW).rejects == 1


def reopen(db: ReceiverDb) -> ReceiverDb:
    """``db`` closed and opened again, as a receiver starting on it (and migrating it) does."""
    db.close()
    if isinstance(db, PostgresReceiverDb):
        return PostgresReceiverDb(db._dsn)
    assert isinstance(db, SqliteReceiverDb)
    return SqliteReceiverDb(db.path)


def test_a_schema_1_database_gets_the_size_of_its_whole_rejects(receiver_db: ReceiverDb) -> None:
    with receiver_db._guarded() as cursor:
        receiver_db._execute(cursor, "ALTER TABLE rejects DROP COLUMN payload_bytes")
        receiver_db._execute(cursor, "UPDATE receiver_meta SET value = '1'")
        receiver_db._execute(
            cursor,
            "INSERT INTO rejects (topic, payload, payload_sha256, reason, received_at, receiver) "
            "VALUES ('t', ?, 'old', 'r', 'then', 'rx')",
            [b"x" * 9000],
        )
    reopened = reopen(receiver_db)
    try:
        assert reject_rows(reopened) == [(b"x" * 9000, 9000, "old")]
        with reopened._guarded(write=False) as cursor:
            version = reopened._execute(cursor, "SELECT value FROM receiver_meta").fetchone()[0]
        assert int(version) == db_module.SCHEMA_VERSION
    finally:
        reopened.close()


def status(
    last_seq: int | None, state: str = "online", log_id: str | None = "log-a"
) -> GateStatusRow:
    return GateStatusRow(COMMUNITY, GATE, log_id, state, last_seq, None, "{}")


def test_entries_a_gate_reported_but_did_not_send_yet_show_in_the_gaps(
    receiver_db: ReceiverDb, entries: list[Entry]
) -> None:
    receiver_db.store([batch(entries[:5])], statuses=[status(9)], now=NOW)
    (gaps,) = receiver_db.gaps()
    assert gaps.unreceived == (6, 9)
    # The last will says 'offline' with no numbers: the last known seq stays.
    receiver_db.store([batch(entries[5:9])], statuses=[status(None, "offline", None)], now=NOW)
    (gaps,) = receiver_db.gaps()
    assert gaps.unreceived is None
    assert gaps.missing == ()


def test_daily_counts_per_gate_in_the_office_time_zone(
    receiver_db: ReceiverDb, gate_store: Store, entries: list[Entry]
) -> None:
    # 2026-11-23 in Shanghai is 2026-11-22T16:00Z .. 2026-11-23T16:00Z.
    def entry(
        seq: int,
        at: datetime,
        outcome: Outcome,
        kind: PassKind,
        synced: bool = True,
        gate: str = GATE,
    ) -> Entry:
        template = replace(gate_store.entries(limit=1)[0], gate=gate)
        draft = replace(
            template.draft,
            decided_at=at,
            outcome=outcome,
            pass_kind=kind,
            clock_synced=synced,
            direction=Direction.IN,
        )
        return replace(template, id=f"{gate}-{seq}", seq=seq, draft=draft)

    in_day = datetime(2026, 11, 22, 16, 0, tzinfo=UTC)
    made = [
        entry(1, in_day, Outcome.PASSED, PassKind.RESIDENT),
        entry(2, in_day + timedelta(hours=3), Outcome.PASSED, PassKind.VISITOR),
        entry(3, in_day + timedelta(hours=5), Outcome.FEVER, PassKind.RESIDENT, synced=False),
        entry(4, in_day + timedelta(hours=8), Outcome.DENIED, PassKind.RESIDENT),
        entry(5, in_day + timedelta(hours=23, minutes=59), Outcome.OVERRIDDEN, PassKind.RESIDENT),
        entry(6, in_day + timedelta(hours=24), Outcome.PASSED, PassKind.RESIDENT),  # next day
        entry(7, in_day - timedelta(seconds=1), Outcome.PASSED, PassKind.RESIDENT),  # day before
    ]
    south = [
        entry(1, in_day, Outcome.PASSED, PassKind.RESIDENT, gate="south"),
        entry(2, in_day, Outcome.DENIED, PassKind.VISITOR, gate="south"),
    ]
    receiver_db.store([batch(made), batch(south, gate="south")], now=NOW)
    rows = receiver_db.daily_counts(date(2026, 11, 23), SHANGHAI)
    assert [(row.gate, row.total) for row in rows] == [("north", 5), ("south", 2)]
    north = rows[0]
    assert (north.passed, north.overridden, north.denied, north.fevers) == (2, 1, 1, 1)
    assert (north.visitors, north.clock_unsynced) == (1, 1)
    table = list(csv.reader(io.StringIO(report_csv(rows))))
    assert table[0][:4] == ["day", "community", "gate", "total"]
    assert table[1][:4] == ["2026-11-23", "hxy", "north", "5"]


def test_downlink_versions_only_grow(receiver_db: ReceiverDb) -> None:
    assert receiver_db.last_downlink_version("hxy", "revocations") == 0
    record = {
        "community": "hxy",
        "kind": "revocations",
        "version": 1,
        "issued_at": NOW,
        "kid": "office",
        "envelope": "{}",
        "now": NOW,
    }
    receiver_db.record_downlink(**record)  # type: ignore[arg-type]
    assert receiver_db.last_downlink_version("hxy", "revocations") == 1
    with pytest.raises(ReceiverDbError, match=r"(?i)unique|constraint|duplicate"):
        receiver_db.record_downlink(**record)  # type: ignore[arg-type]


def test_a_database_failure_is_reported_as_such(
    receiver_db: ReceiverDb, entries: list[Entry]
) -> None:
    receiver_db.close()
    if receiver_db.backend == "sqlite":
        with pytest.raises(ReceiverDbError, match="closed"):
            receiver_db.store([batch(entries[:1])], now=NOW)
        return
    receiver_db._dsn = "host=127.0.0.1 port=1 user=nobody dbname=none connect_timeout=1"  # type: ignore[attr-defined]
    with pytest.raises(ReceiverDbError):
        receiver_db.store([batch(entries[:1])], now=NOW)


# ------------------------------------------------------------------- the ledgers' columns

LEDGER_INDEXES = (
    "entries_by_pass",
    "entries_by_household",
    "entries_by_community_day",
    "entries_fevers",
)


def ledger_columns_of(db: ReceiverDb) -> dict[str, tuple[object, ...]]:
    with db.reading() as query:
        rows = query.all(
            "SELECT id, pass_id, holder, household, max_body_c, fever FROM entries ORDER BY id"
        )
    return {str(row[0]): row[1:] for row in rows}


def expected_ledger_columns(entry: Entry) -> tuple[object, ...]:
    draft = entry.draft
    plausible = [t.body_c for t in draft.temperatures if t.plausible]
    fever = draft.outcome is Outcome.FEVER or any(t.fever for t in draft.temperatures)
    return (
        draft.pass_id,
        draft.holder,
        draft.household,
        max(plausible) if plausible else None,
        int(fever),
    )


def index_names(db: ReceiverDb) -> set[str]:
    with db.reading() as query:
        if db.backend == "sqlite":
            rows = query.all("SELECT name FROM sqlite_master WHERE type = 'index'")
        else:
            rows = query.all("SELECT indexname FROM pg_indexes WHERE tablename = 'entries'")
    return {str(row[0]) for row in rows}


def ledger_entries(gate_store: Store) -> list[Entry]:
    """Entries with what the ledgers tell apart: a fever, a reading over the line that a
    re-measure cleared, an implausible reading higher than the body's, none at all."""
    template = gate_store.entries(limit=1)[0]
    reading = template.draft.temperatures[0]
    hot = replace(reading, body_c=38.2, fever=True)
    sky = replace(reading, body_c=41.0, plausible=False)
    normal = replace(reading, body_c=36.6, fever=False)
    drafts = [
        replace(template.draft, outcome=Outcome.FEVER, temperatures=(hot, hot)),
        replace(template.draft, outcome=Outcome.PASSED, temperatures=(hot, normal)),
        replace(template.draft, outcome=Outcome.PASSED, temperatures=(sky, normal)),
        replace(
            template.draft,
            outcome=Outcome.ABANDONED,
            temperatures=(),
            pass_id=None,
            holder=None,
            household=None,
        ),
    ]
    return [
        replace(template, id=f"ledger-{seq}", seq=seq, draft=draft)
        for seq, draft in enumerate(drafts, 1)
    ]


def test_each_entry_is_stored_with_the_ledgers_columns(
    receiver_db: ReceiverDb, gate_store: Store, entries: list[Entry]
) -> None:
    made = ledger_entries(gate_store)
    receiver_db.store([batch(made)], now=NOW)
    stored = ledger_columns_of(receiver_db)
    assert stored == {entry.id: expected_ledger_columns(entry) for entry in made}
    assert [stored[entry.id][3:] for entry in made] == [
        (38.2, 1),
        (38.2, 1),  # over the line, then cleared: still a case for the fever ledger
        (36.6, 0),  # 41.0 was no body temperature
        (None, 0),
    ]
    assert set(LEDGER_INDEXES) <= index_names(receiver_db)


def test_a_communitys_day_is_counted_from_an_index_alone(
    receiver_db: ReceiverDb, entries: list[Entry]
) -> None:
    """The counts per gate (and per building through the household) read no entry's row: a day
    not read before costs one index range, not 40,000 documents (bench/bench_district.py)."""
    receiver_db.store([batch(entries)], now=NOW)
    first = entries[0].draft.decided_at
    day = [COMMUNITY, epoch_us(first), epoch_us(first + timedelta(days=1))]
    with receiver_db.writing() as query:
        if receiver_db.backend == "sqlite":
            sql = db_module._DAILY_COUNTS.format(
                counts=db_module.DAY_COUNTS_SQL, communities="AND community = ?"
            )
            rows = query.all(f"EXPLAIN QUERY PLAN {sql}", [*day[1:], day[0]])
            assert "COVERING INDEX entries_by_community_day" in " ".join(str(r[-1]) for r in rows)
            return
        # A dozen rows: PostgreSQL may group them along any index, so what is checked is that
        # every column a day's counts and roll-ups read comes from this index without the
        # table (the plan over a year of entries is in the bench).
        query.run("ANALYZE entries")
        query.run("SET LOCAL enable_seqscan = off")
        query.run("SET LOCAL enable_bitmapscan = off")  # never vacuumed: the map is empty
        rows = query.all(
            "EXPLAIN SELECT gate, outcome, pass_kind, direction, clock_synced, household "
            "FROM entries WHERE community = ? AND decided_at_us >= ? AND decided_at_us < ?",
            day,
        )
        plan = " ".join(str(r[0]) for r in rows)
        assert "Index Only Scan using entries_by_community_day" in plan, plan


def test_a_schema_2_database_gets_the_ledgers_columns_from_its_stored_documents(
    receiver_db: ReceiverDb,
    gate_store: Store,
    entries: list[Entry],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made = [*entries, *ledger_entries(gate_store)]
    receiver_db.store([batch(entries), batch(ledger_entries(gate_store), log_id="log-b")], now=NOW)
    with receiver_db.writing() as query:
        for name in LEDGER_INDEXES:
            query.run(f"DROP INDEX {name}")
        for column in ("pass_id", "holder", "household", "max_body_c", "fever"):
            query.run(f"ALTER TABLE entries DROP COLUMN {column}")
        query.run("UPDATE receiver_meta SET value = '2'")
    monkeypatch.setattr(db_module, "_MIGRATE_ROWS", 5)  # 16 entries: four rounds
    reopened = reopen(receiver_db)
    try:
        assert ledger_columns_of(reopened) == {
            entry.id: expected_ledger_columns(entry) for entry in made
        }
        assert set(LEDGER_INDEXES) <= index_names(reopened)
        with reopened.reading() as query:
            assert query.scalar("SELECT value FROM receiver_meta") == str(db_module.SCHEMA_VERSION)
        # And it stores on: the new columns of a new entry, beside the filled ones.
        (late,) = ledger_entries(gate_store)[:1]
        late = replace(late, id="late", seq=5)
        assert reopened.store([batch([late], log_id="log-b")], now=NOW).stored == 1
        assert ledger_columns_of(reopened)["late"] == expected_ledger_columns(late)
    finally:
        reopened.close()


def renamed(entries: list[Entry], log_id: str, *, seq: int | None = None) -> IncomingBatch:
    """``entries`` as another log's, with ids of their own (and one ``seq`` if given)."""
    made = [
        replace(entry, id=f"{log_id}-{entry.seq}", seq=entry.seq if seq is None else seq)
        for entry in entries
    ]
    return batch(made, log_id)


def test_the_logs_of_one_transaction_each_keep_their_own_progress(
    receiver_db: ReceiverDb, entries: list[Entry]
) -> None:
    """Progress is found for every log of a transaction at once: a log in order, one behind a
    gap, one whose window is walked over several turns, and one filling its gap."""
    receiver_db.store([renamed(entries[:2], "filling")], now=NOW)
    result = receiver_db.store(
        [
            renamed(entries[:3], "in-order"),
            renamed(entries[4:6], "behind-a-gap"),
            renamed([*entries[:3], *entries[4:8]], "gapped-later"),
            renamed(entries[2:6], "filling"),
        ],
        now=NOW,
    )
    assert {key[2]: ack.up_to_seq for key, ack in result.acks.items()} == {
        "in-order": 3,
        "behind-a-gap": 0,
        "gapped-later": 3,
        "filling": 6,
    }
    assert result.acks[(COMMUNITY, GATE, "gapped-later")].ids == sorted(
        f"gapped-later-{seq}" for seq in range(5, 9)
    )
    assert {(g.log_id, g.contiguous_seq, g.max_seq, g.missing) for g in receiver_db.gaps()} == {
        ("in-order", 3, 3, ()),
        ("behind-a-gap", 0, 6, ((1, 4),)),
        ("gapped-later", 3, 8, ((4, 4),)),
        ("filling", 6, 6, ()),
    }


def test_a_transaction_costs_the_same_statements_for_one_log_or_many(
    receiver_db: ReceiverDb, entries: list[Entry], monkeypatch: pytest.MonkeyPatch
) -> None:
    """At rush hour each message holds one entry of another gate: the statements of a
    transaction must not grow with the logs in it (docs/office.md, Scale)."""
    statements: list[str] = []
    execute = receiver_db._execute

    def counted(cursor: object, sql: str, params: object = ()) -> object:
        statements.append(sql)
        return execute(cursor, sql, params)  # type: ignore[arg-type]

    monkeypatch.setattr(receiver_db, "_execute", counted)
    one = receiver_db.store([renamed(entries[:1], "log-0", seq=1)], now=NOW)
    for_one_log = len(statements)
    statements.clear()
    many = receiver_db.store(
        [renamed([entry], f"log-{n}", seq=1) for n, entry in enumerate(entries[1:], 1)], now=NOW
    )
    assert len(statements) == for_one_log
    assert one.stored + many.stored == len(entries)
    assert {ack.up_to_seq for ack in many.acks.values()} == {1}
    assert len(many.acks) == len(entries) - 1


def index_columns(db: ReceiverDb, name: str) -> list[str]:
    with db.reading() as query:
        if db.backend == "sqlite":
            return [str(row[2]) for row in query.all(f"PRAGMA index_info({name})")]
        definition = query.scalar("SELECT indexdef FROM pg_indexes WHERE indexname = ?", [name])
    return [column.strip() for column in str(definition).split("(", 1)[1].rstrip(")").split(",")]


SCHEMA_3_INDEXES = """
CREATE INDEX entries_by_community_day ON entries (community, decided_at_us, id);
CREATE INDEX entries_day_counts ON entries (community, decided_at_us, gate, outcome, pass_kind,
    direction, clock_synced, household)
"""


def test_a_schema_3_database_keeps_one_index_for_a_communitys_days(
    receiver_db: ReceiverDb, entries: list[Entry]
) -> None:
    receiver_db.store([batch(entries[:6])], now=NOW)
    with receiver_db.writing() as query:
        query.run("DROP INDEX entries_by_community_day")
        for statement in SCHEMA_3_INDEXES.split(";"):
            query.run(statement)
        query.run("UPDATE receiver_meta SET value = '3'")
    assert "entries_day_counts" in index_names(receiver_db)
    reopened = reopen(receiver_db)
    try:
        names = index_names(reopened)
        assert "entries_day_counts" not in names
        assert set(LEDGER_INDEXES) <= names
        assert index_columns(reopened, "entries_by_community_day") == [
            "community",
            "decided_at_us",
            "id",
            "gate",
            "outcome",
            "pass_kind",
            "direction",
            "clock_synced",
            "household",
        ]
        with reopened.reading() as query:
            assert query.scalar("SELECT value FROM receiver_meta") == "4"
        # Nothing stored is lost, and it stores on.
        assert reopened.store([batch(entries[:8])], now=NOW).stored == 2
        (day,) = reopened.daily_counts(entries[0].draft.decided_at.date(), ZoneInfo("UTC"))
        assert day.total == 8
    finally:
        reopened.close()
