"""The receiver's database: entries stored idempotently, per-log progress, gaps, daily counts.

SQLite by default, PostgreSQL for larger deployments; both run the same SQL, written with ``?``
placeholders (PostgreSQL gets ``%s``), and keep the same tables:

- ``entries``: one row per entry id, the canonical document beside the columns the report
  queries; ``(community, gate, log_id, seq)`` is unique.
- ``logs``: per gate log, the highest contiguous seq stored (what the ack names) and the highest.
- ``conflicts``: an entry whose id is stored with other content, or whose seq slot holds another
  id. Kept aside, never merged, never lost.
- ``rejects``: messages that were not valid at all: the payload's first bytes, its size and its
  SHA-256, so the evidence stays while a stranger's 20 MB of garbage costs 4 KiB.
- ``gate_status``: each gate's last retained status (its last seq shows what is still on the way).
- ``downlink``: every signed document published, so versions only grow.

A message is acknowledged (PUBACK and the ack topic) only after the transaction that stored it
commits, so a receiver killed at any moment loses nothing: the broker or the gate sends again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import sqlite3
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, ClassVar, Protocol, TypeAlias
from zoneinfo import ZoneInfo

from edge.entry_document import EntryColumns, epoch_us, ledger_columns
from sync.receiver.limits import REJECT_KEEP_BYTES

log = logging.getLogger(__name__)

SCHEMA_VERSION = 4
"""2: ``rejects.payload_bytes``, the whole payload's size (its stored head is capped).
3: the ledgers' columns of ``entries`` (pass, holder, household, highest reading, fever case),
filled from each stored document, and their indexes.
4: ``entries_by_community_day`` holds the columns of a day's counts, and
``entries_day_counts``, which held them beside it, is gone: one index less for every entry."""
_MIGRATE_ROWS = 5_000
"""Entries filled per statement when a schema-2 database gets the ledgers' columns."""
_CONTIGUOUS_STEP = 5_000
_RUN_GAP = 1_000
"""Seqs this close share one range look-up of the slots already taken."""
_RACE_RETRIES = 5
_LOG_COLUMNS = (("community", "text"), ("gate", "text"), ("log_id", "text"))
_RUN_COLUMNS = (*_LOG_COLUMNS, ("first_seq", "bigint"), ("last_seq", "bigint"))
_WINDOW_COLUMNS = (*_LOG_COLUMNS, ("after_seq", "bigint"), ("until_seq", "bigint"))
_PROGRESS_COLUMNS = (*_LOG_COLUMNS, ("contiguous_seq", "bigint"))
_IN_WINDOW = (
    "ON e.community = w.community AND e.gate = w.gate AND e.log_id = w.log_id "
    "AND e.seq > w.after_seq AND e.seq <= w.until_seq"
)
"""The stored seqs of each log's window (a range of its (community, gate, log_id, seq) index)."""
_TOPIC_KEEP_CHARS = 256  # far above any gate topic; MQTT allows 65,535 bytes

_SCHEMA = """
CREATE TABLE IF NOT EXISTS receiver_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS entries (
    id TEXT PRIMARY KEY,
    community TEXT NOT NULL,
    gate TEXT NOT NULL,
    log_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    lane TEXT NOT NULL,
    direction TEXT NOT NULL,
    outcome TEXT NOT NULL,
    pass_kind TEXT,
    decided_at TEXT NOT NULL,
    decided_at_us BIGINT NOT NULL,
    clock_synced INTEGER NOT NULL,
    document TEXT NOT NULL,
    received_at TEXT NOT NULL,
    receiver TEXT NOT NULL,
    pass_id TEXT,
    holder TEXT,
    household TEXT,
    max_body_c DOUBLE PRECISION,
    fever INTEGER NOT NULL DEFAULT 0,
    UNIQUE (community, gate, log_id, seq)
);
CREATE INDEX IF NOT EXISTS entries_by_day ON entries (decided_at_us, community, gate);
CREATE TABLE IF NOT EXISTS logs (
    community TEXT NOT NULL,
    gate TEXT NOT NULL,
    log_id TEXT NOT NULL,
    contiguous_seq BIGINT NOT NULL,
    max_seq BIGINT NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    PRIMARY KEY (community, gate, log_id)
);
CREATE TABLE IF NOT EXISTS conflicts (
    row_id {serial},
    entry_id TEXT NOT NULL,
    community TEXT NOT NULL,
    gate TEXT NOT NULL,
    log_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    reason TEXT NOT NULL,
    existing_id TEXT NOT NULL,
    document TEXT NOT NULL,
    received_at TEXT NOT NULL,
    receiver TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rejects (
    row_id {serial},
    topic TEXT NOT NULL,
    payload {blob} NOT NULL,
    payload_sha256 TEXT NOT NULL UNIQUE,
    payload_bytes BIGINT NOT NULL DEFAULT 0,
    reason TEXT NOT NULL,
    received_at TEXT NOT NULL,
    receiver TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS gate_status (
    community TEXT NOT NULL,
    gate TEXT NOT NULL,
    log_id TEXT,
    state TEXT NOT NULL,
    last_seq BIGINT,
    backlog BIGINT,
    payload TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (community, gate)
);
CREATE TABLE IF NOT EXISTS downlink (
    community TEXT NOT NULL,
    kind TEXT NOT NULL,
    version BIGINT NOT NULL,
    issued_at TEXT NOT NULL,
    kid TEXT NOT NULL,
    envelope TEXT NOT NULL,
    published_at TEXT NOT NULL,
    PRIMARY KEY (community, kind, version)
);
"""

# The office's searches: a person's movements by pass or household, a community's days, and its
# fever cases (few, so a partial index). Each ends in (decided_at_us, id), the register's order,
# so a page is read from the index in order: without it the planners walk the community's whole
# day index backwards to satisfy ORDER BY ... LIMIT, filtering on the pass as they go.
# Made after the schema-3 migration added the columns.
_LEDGER_INDEXES = """
CREATE INDEX IF NOT EXISTS entries_by_pass ON entries (community, pass_id, decided_at_us, id);
CREATE INDEX IF NOT EXISTS entries_by_household
    ON entries (community, household, decided_at_us, id);
CREATE INDEX IF NOT EXISTS entries_by_community_day ON entries (community, decided_at_us, id,
    gate, outcome, pass_kind, direction, clock_synced, household);
CREATE INDEX IF NOT EXISTS entries_fevers ON entries (community, decided_at_us, id) WHERE fever = 1
"""
# entries_by_community_day serves a community's day twice: its first three columns are the
# register's order, and the rest are every column a day's counts read (per gate, and per
# building, grid or compound through the household), so the reports read a day from the index
# alone: over a year of 40 gates (bench/bench_district.py pages) a day not read before went from
# 39,000 buffers and ~450 ms (each row's document read with it) to under 500 buffers and ~30 ms.
# Until schema 4 those columns were a second index of their own (entries_day_counts), which cost
# every stored entry one more index to keep. bench/district_plans.py compares the two: the same
# plans on both engines; a day's counts read the id with each row (612 buffers instead of 396
# for a day of 40 gates) while the two indexes' 83 MB become 65 MB and PostgreSQL's bulk ingest
# gains (docs/office.md, Scale).
_INSERT_ENTRY = """
INSERT INTO entries (id, community, gate, log_id, seq, lane, direction, outcome, pass_kind,
    decided_at, decided_at_us, clock_synced, document, received_at, receiver, pass_id, holder,
    household, max_body_c, fever)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT DO NOTHING
"""
_ENTRY_COLUMN_LIST = (
    "id, community, gate, log_id, seq, lane, direction, outcome, pass_kind, decided_at, "
    "decided_at_us, clock_synced, document, received_at, receiver, pass_id, holder, household, "
    "max_body_c, fever"
)
_INSERT_CONFLICT = """
INSERT INTO conflicts (entry_id, community, gate, log_id, seq, reason, existing_id, document,
    received_at, receiver)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""
DAY_COUNTS_SQL = """
    count(*) AS total,
    sum(CASE WHEN outcome = 'passed' THEN 1 ELSE 0 END) AS passed,
    sum(CASE WHEN outcome = 'overridden' THEN 1 ELSE 0 END) AS overridden,
    sum(CASE WHEN outcome = 'denied' THEN 1 ELSE 0 END) AS denied,
    sum(CASE WHEN outcome = 'fever' THEN 1 ELSE 0 END) AS fevers,
    sum(CASE WHEN outcome = 'abandoned' THEN 1 ELSE 0 END) AS abandoned,
    sum(CASE WHEN pass_kind = 'visitor' AND direction = 'in'
        AND outcome IN ('passed', 'overridden') THEN 1 ELSE 0 END) AS visitors,
    sum(CASE WHEN clock_synced = 0 THEN 1 ELSE 0 END) AS clock_unsynced
"""
"""The select list of ``DayCounts``' counts, in their order, over ``entries`` rows (the office's
roll-ups group the same counts otherwise)."""
_DAILY_COUNTS = """
SELECT community, gate, {counts}
FROM entries
WHERE decided_at_us >= ? AND decided_at_us < ? {communities}
GROUP BY community, gate
ORDER BY community, gate
"""


# ---------------------------------------------------------------------------- value types


IncomingEntry: TypeAlias = EntryColumns
"""One checked entry from a batch: what the receiver stores of it (the columns the reports
query, and its canonical document text). Made by ``sync.receiver.entries.check_entry``; the
contract's own type, so the receiver keeps no copy of the gate's definition."""


@dataclass(frozen=True, slots=True)
class IncomingBatch:
    community: str
    gate: str
    log_id: str
    entries: Sequence[IncomingEntry]


@dataclass(frozen=True, slots=True)
class RejectedMessage:
    """What is kept of an invalid message or entry: ``head``, the payload's first bytes, with the
    whole payload's size and SHA-256. Made by ``of``, so a large payload is never held whole."""

    topic: str
    head: bytes
    size: int
    sha256: str
    reason: str

    @classmethod
    def of(cls, topic: str, payload: bytes, reason: str) -> RejectedMessage:
        return cls(
            topic=topic[:_TOPIC_KEEP_CHARS],
            head=payload[:REJECT_KEEP_BYTES],
            size=len(payload),
            sha256=hashlib.sha256(payload).hexdigest(),
            reason=reason,
        )


@dataclass(frozen=True, slots=True)
class GateStatusRow:
    community: str
    gate: str
    log_id: str | None
    state: str
    last_seq: int | None
    backlog: int | None
    payload: str


OFFLINE = "offline"
"""The state of a gate's last will (``sync.contract.GateState.OFFLINE``)."""


def _reported(value: object) -> bool:
    """Whether a status field says something: not null, nor a group of nulls."""
    if isinstance(value, dict):
        return any(_reported(inner) for inner in value.values())
    return value is not None


LogKey = tuple[str, str, str]
"""(community, gate, log_id)"""


def _log_key(batch: IncomingBatch) -> LogKey:
    return batch.community, batch.gate, batch.log_id


@dataclass(slots=True)
class AckState:
    """What to acknowledge for one log after a transaction."""

    up_to_seq: int
    ids: list[str] = field(default_factory=list)


@dataclass(slots=True)
class StoreCounts:
    """What storing came to: one transaction's (``StoreResult``) or a receiver's so far."""

    stored: int = 0
    duplicates: int = 0
    conflicts: int = 0
    rejects: int = 0

    def add(self, other: StoreCounts) -> None:
        self.stored += other.stored
        self.duplicates += other.duplicates
        self.conflicts += other.conflicts
        self.rejects += other.rejects


@dataclass(slots=True)
class StoreResult(StoreCounts):
    acks: dict[LogKey, AckState] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LogGaps:
    """One gate log's progress: missing seq ranges inside what arrived, and what has not arrived
    of what the gate says it issued (``unreceived``, from its status)."""

    community: str
    gate: str
    log_id: str
    contiguous_seq: int
    max_seq: int
    missing: tuple[tuple[int, int], ...]
    unreceived: tuple[int, int] | None

    @property
    def missing_count(self) -> int:
        return sum(last - first + 1 for first, last in self.missing)


@dataclass(frozen=True, slots=True, kw_only=True)
class EntryCounts:
    """A day's entries counted (``DAY_COUNTS_SQL``'s select list, in its order): the daily
    report's figures for a gate, and the office's for a building, grid or compound."""

    total: int
    passed: int
    overridden: int
    denied: int
    fevers: int
    abandoned: int
    visitors: int
    clock_unsynced: int

    @classmethod
    def columns(cls) -> tuple[str, ...]:
        return tuple(column.name for column in fields(EntryCounts))

    def counts(self) -> tuple[int, ...]:
        return tuple(getattr(self, column) for column in self.columns())


def counted(values: Sequence[Any]) -> dict[str, int]:
    """``EntryCounts``' fields from a row's ``DAY_COUNTS_SQL`` values (NULL sums are 0)."""
    return dict(zip(EntryCounts.columns(), (int(value or 0) for value in values), strict=True))


@dataclass(frozen=True, slots=True)
class DayCounts(EntryCounts):
    day: date
    community: str
    gate: str


class ReceiverDbError(Exception):
    """The database failed (down, full, refused); the caller keeps its messages and retries."""


class _RaceError(Exception):
    """Another receiver stored one of our entries between our check and our insert: retry."""


class _Cursor(Protocol):
    """The part of a DB-API cursor both sqlite3 and psycopg provide."""

    @property
    def rowcount(self) -> int: ...

    @property
    def description(self) -> Any: ...

    def execute(self, sql: Any, params: Sequence[Any] = ..., /) -> Any: ...

    def executemany(self, sql: Any, params: Sequence[Sequence[Any]], /) -> Any: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


# ----------------------------------------------------------------------------- the store


class Query:
    """One transaction's cursor for the office's own tables, in the receiver's dialect.

    SQL is written once with ``?`` placeholders (PostgreSQL gets ``%s``) and ``{serial}`` /
    ``{blob}`` in table definitions; rows come back as tuples. Made by ``ReceiverDb.reading``
    and ``ReceiverDb.writing``, so code beside the receiver (the office console) shares its
    database without reaching into its internals.
    """

    def __init__(self, db: ReceiverDb, cursor: _Cursor) -> None:
        self._db = db
        self._cursor = cursor

    @property
    def backend(self) -> str:
        return self._db.backend

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self._db._execute(self._cursor, sql, params).fetchall()]

    def one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        row = self._db._execute(self._cursor, sql, params).fetchone()
        return None if row is None else tuple(row)

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = self.one(sql, params)
        return None if row is None else row[0]

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Execute one statement; returns the rows it changed."""
        return max(self._db._execute(self._cursor, sql, params).rowcount, 0)

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> int:
        return self._db._executemany(self._cursor, sql, rows)

    def in_list(self, values: Sequence[Any], sql_type: str = "text") -> tuple[str, list[Any]]:
        """SQL for "is one of ``values``" and its parameters, bound, never inlined."""
        return self._db._in_list(values, sql_type)

    def all_within(self, sql: str, values: Sequence[Any]) -> list[tuple[Any, ...]]:
        """The rows of ``sql``, in which ``{within}`` stands for "is one of ``values``" (as
        ``in_list``: bound, never inlined), e.g. ``… WHERE community {within}``."""
        within, params = self.in_list(values)
        return self.all(sql.format(within=within), params)


class ReceiverDb(ABC):
    """The backend-neutral logic; subclasses supply the connection and the SQL dialect."""

    backend = "?"
    _types: ClassVar[dict[str, str]] = {
        "serial": "INTEGER PRIMARY KEY AUTOINCREMENT",
        "blob": "BLOB",
    }
    _ids_per_query = 500
    """SQLite binds one parameter per id (at most 32,766 in a statement)."""
    _rows_per_query = 500
    """Rows of a ``_rows_table``: SQLite binds one parameter per value."""
    _errors: tuple[type[Exception], ...] = ()

    def __init__(self, *, receiver: str = "receiver") -> None:
        self.receiver = receiver

    # --- dialect

    @abstractmethod
    def _transaction(self, *, write: bool = True) -> contextlib.AbstractContextManager[_Cursor]:
        """A cursor inside one transaction that commits on success and rolls back on error."""

    @abstractmethod
    def _retryable(self, exc: Exception) -> bool:
        """Whether ``exc`` is a concurrency failure (deadlock, serialisation) worth a retry."""

    @abstractmethod
    def close(self) -> None: ...

    def _sql(self, sql: str) -> str:
        return sql

    @contextlib.contextmanager
    def _guarded(self, *, write: bool = True) -> Iterator[_Cursor]:
        """``_transaction`` with the driver's errors turned into ``ReceiverDbError``."""
        try:
            with self._transaction(write=write) as cursor:
                yield cursor
        except self._errors as exc:
            raise ReceiverDbError(f"{type(exc).__name__}: {exc}") from exc

    @contextlib.contextmanager
    def reading(self) -> Iterator[Query]:
        """A read-only transaction for the office's queries."""
        with self._guarded(write=False) as cursor:
            yield Query(self, cursor)

    @contextlib.contextmanager
    def writing(self) -> Iterator[Query]:
        """A write transaction: commits when the block ends, rolls back on an error."""
        with self._guarded() as cursor:
            yield Query(self, cursor)

    def ensure_tables(self, ddl: str) -> None:
        """Create the tables and indexes in ``ddl`` (``;``-separated ``CREATE … IF NOT EXISTS``
        statements, ``{serial}`` and ``{blob}`` for this dialect's types) if they are missing."""
        with self.writing() as query:
            for statement in ddl.format(**self._types).split(";"):
                if statement.strip():
                    query.run(statement)

    def _in_list(self, values: Sequence[Any], sql_type: str) -> tuple[str, list[Any]]:
        """SQL for "is one of ``values``" and its parameters (values are bound, never inlined)."""
        return f"IN ({', '.join('?' for _ in values)})", list(values)

    def _rows_table(
        self, name: str, columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[Any]]
    ) -> tuple[str, list[Any]]:
        """``WITH name (columns) AS (...)`` holding ``rows`` (bound, never inlined), to join one
        statement against many logs at once. Here a multi-row VALUES list (at most
        ``_rows_per_query`` rows: see ``_chunks``)."""
        row_sql = f"({', '.join('?' for _ in columns)})"
        names = ", ".join(column for column, _ in columns)
        values = ", ".join(row_sql for _ in rows)
        return f"WITH {name} ({names}) AS (VALUES {values})", [v for row in rows for v in row]

    def _chunks(self, rows: Sequence[Any]) -> Iterator[Sequence[Any]]:
        """``rows`` in slices small enough for one ``_rows_table`` each."""
        for start in range(0, len(rows), self._rows_per_query):
            yield rows[start : start + self._rows_per_query]

    def _insert_entries(self, cursor: _Cursor, rows: Sequence[Sequence[Any]]) -> int:
        """Insert entry rows, skipping any whose id or slot exists; returns how many went in."""
        return self._executemany(cursor, _INSERT_ENTRY, rows)

    def _execute(self, cursor: _Cursor, sql: str, params: Sequence[Any] = ()) -> _Cursor:
        cursor.execute(self._sql(sql), params)
        return cursor

    def _executemany(self, cursor: _Cursor, sql: str, rows: Sequence[Sequence[Any]]) -> int:
        if not rows:
            return 0
        cursor.executemany(self._sql(sql), rows)
        return max(cursor.rowcount, 0)

    # --- schema

    def _create_schema(self, cursor: _Cursor, *, serial: str, blob: str) -> None:
        for statement in _SCHEMA.format(serial=serial, blob=blob).split(";"):
            if statement.strip():
                self._execute(cursor, statement)
        row = self._execute(
            cursor, "SELECT value FROM receiver_meta WHERE key = 'schema_version'"
        ).fetchone()
        if row is None:
            self._execute(
                cursor,
                "INSERT INTO receiver_meta (key, value) VALUES ('schema_version', ?)",
                [str(SCHEMA_VERSION)],
            )
        elif int(row[0]) > SCHEMA_VERSION:
            raise RuntimeError(
                f"receiver database schema {row[0]} is newer than this program ({SCHEMA_VERSION})"
            )
        elif int(row[0]) < SCHEMA_VERSION:
            self._migrate(cursor, int(row[0]))
        for statement in _LEDGER_INDEXES.split(";"):
            if statement.strip():
                self._execute(cursor, statement)

    def _migrate(self, cursor: _Cursor, version: int) -> None:
        """Bring a database of schema ``version`` up to ``SCHEMA_VERSION``, in the caller's
        transaction (a receiver killed half-way leaves the old schema, and tries again)."""
        if version < 2:
            # Rejects stored before the cap keep their whole payload; their size is its length.
            self._execute(
                cursor, "ALTER TABLE rejects ADD COLUMN payload_bytes BIGINT NOT NULL DEFAULT 0"
            )
            self._execute(cursor, "UPDATE rejects SET payload_bytes = length(payload)")
        if version < 3:
            # Only the missing ones, so the step holds over any older database.
            have = {
                str(column[0])
                for column in self._execute(cursor, "SELECT * FROM entries LIMIT 0").description
            }
            for column in (
                "pass_id TEXT",
                "holder TEXT",
                "household TEXT",
                "max_body_c DOUBLE PRECISION",
                "fever INTEGER NOT NULL DEFAULT 0",
            ):
                if column.split()[0] not in have:
                    self._execute(cursor, f"ALTER TABLE entries ADD COLUMN {column}")
            self._fill_ledger_columns(cursor)
        if version < 4:
            # Both rebuilt as one by _LEDGER_INDEXES, right after this (in this transaction).
            self._execute(cursor, "DROP INDEX IF EXISTS entries_day_counts")
            self._execute(cursor, "DROP INDEX IF EXISTS entries_by_community_day")
        self._execute(
            cursor,
            "UPDATE receiver_meta SET value = ? WHERE key = 'schema_version'",
            [str(SCHEMA_VERSION)],
        )

    def _fill_ledger_columns(self, cursor: _Cursor) -> None:
        """The ledgers' columns of every stored entry, read from its document as a receiver of
        schema 3 reads them from an arriving one (``ledger_columns``)."""
        after = ""
        filled = 0
        while True:
            rows = self._execute(
                cursor,
                "SELECT id, document FROM entries WHERE id > ? ORDER BY id LIMIT ?",
                [after, _MIGRATE_ROWS],
            ).fetchall()
            if not rows:
                break
            updates = []
            for entry_id, document in rows:
                pass_id, holder, household, max_body_c, fever = ledger_columns(json.loads(document))
                updates.append((pass_id, holder, household, max_body_c, int(fever), entry_id))
            self._executemany(
                cursor,
                "UPDATE entries SET pass_id = ?, holder = ?, household = ?, max_body_c = ?, "
                "fever = ? WHERE id = ?",
                updates,
            )
            filled += len(rows)
            after = str(rows[-1][0])
        if filled:
            log.info("schema 3: filled the ledgers' columns of %d stored entries", filled)

    # --- storing

    def store(
        self,
        batches: Sequence[IncomingBatch],
        *,
        rejects: Sequence[RejectedMessage] = (),
        statuses: Sequence[GateStatusRow] = (),
        now: datetime,
    ) -> StoreResult:
        """Store everything in one transaction and say what to acknowledge per log.

        Idempotent: storing the same batches again changes nothing and acknowledges the same.
        """
        for attempt in range(1, _RACE_RETRIES + 1):
            try:
                with self._transaction() as cursor:
                    return self._store(cursor, batches, rejects, statuses, now.isoformat())
            except _RaceError:
                log.info("another receiver stored the same entries; retrying (%d)", attempt)
            except self._errors as exc:
                if not self._retryable(exc) or attempt == _RACE_RETRIES:
                    raise ReceiverDbError(f"{type(exc).__name__}: {exc}") from exc
                log.info("database conflict (%s); retrying (%d)", type(exc).__name__, attempt)
        raise ReceiverDbError("another receiver kept storing the same entries; gave up")

    def _store(
        self,
        cursor: _Cursor,
        batches: Sequence[IncomingBatch],
        rejects: Sequence[RejectedMessage],
        statuses: Sequence[GateStatusRow],
        at: str,
    ) -> StoreResult:
        result = StoreResult()
        seen: dict[LogKey, list[tuple[str, int]]] = {}
        for batch in batches:
            key = (batch.community, batch.gate, batch.log_id)
            seen.setdefault(key, []).extend((e.id, e.seq) for e in batch.entries)
        self._store_entries(cursor, batches, at, result)
        if rejects:
            # The same bad message sent again is kept once.
            result.rejects = self._executemany(
                cursor,
                "INSERT INTO rejects (topic, payload, payload_sha256, payload_bytes, reason, "
                "received_at, receiver) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [
                    (
                        r.topic,
                        r.head,
                        r.sha256,
                        r.size,
                        r.reason,
                        at,
                        self.receiver,
                    )
                    for r in rejects
                ],
            )
        for status in statuses:
            payload = status.payload
            if status.state == OFFLINE:
                payload = self._with_last_known(cursor, status)
            self._execute(
                cursor,
                """
                INSERT INTO gate_status (community, gate, log_id, state, last_seq, backlog,
                    payload, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (community, gate) DO UPDATE SET
                    log_id = coalesce(excluded.log_id, gate_status.log_id),
                    state = excluded.state,
                    last_seq = coalesce(excluded.last_seq, gate_status.last_seq),
                    backlog = coalesce(excluded.backlog, gate_status.backlog),
                    payload = excluded.payload,
                    updated_at = excluded.updated_at
                """,
                [
                    status.community,
                    status.gate,
                    status.log_id,
                    status.state,
                    status.last_seq,
                    status.backlog,
                    payload,
                    at,
                ],
            )
        progress = self._advance(cursor, sorted(seen), at)
        for key, contiguous in progress.items():
            beyond = sorted({entry_id for entry_id, seq in seen[key] if seq > contiguous})
            result.acks[key] = AckState(up_to_seq=contiguous, ids=beyond)
        return result

    def _store_entries(
        self, cursor: _Cursor, batches: Sequence[IncomingBatch], at: str, result: StoreResult
    ) -> None:
        """Store the entries of every batch of the transaction with a handful of statements,
        however many batches: one look-up of the ids, one of the seq slots per run of a log, one
        insert. Statements per batch made the round trips to PostgreSQL the drain's limit."""
        arrivals = [(batch, incoming) for batch in batches for incoming in batch.entries]
        if not arrivals:
            return
        existing = self._stored_documents(cursor, sorted({incoming.id for _, incoming in arrivals}))
        seqs_by_log: dict[LogKey, set[int]] = {}
        for batch, incoming in arrivals:
            seqs_by_log.setdefault(_log_key(batch), set()).add(incoming.seq)
        taken = self._taken_slots(cursor, seqs_by_log)
        new_rows: list[tuple[Any, ...]] = []
        conflict_rows: list[tuple[Any, ...]] = []
        for batch, incoming in arrivals:
            slots = taken[_log_key(batch)]
            if incoming.id in existing:
                if existing[incoming.id] == incoming.document:
                    result.duplicates += 1
                    continue
                reason, holder = "same id, different content", incoming.id
            elif incoming.seq in slots:
                reason, holder = "seq already holds another entry", slots[incoming.seq]
            else:
                new_rows.append(self._entry_row(batch, incoming, at))
                existing[incoming.id] = incoming.document
                slots[incoming.seq] = incoming.id
                continue
            conflict_rows.append(
                (
                    incoming.id,
                    batch.community,
                    batch.gate,
                    batch.log_id,
                    incoming.seq,
                    reason,
                    holder,
                    incoming.document,
                    at,
                    self.receiver,
                )
            )
        inserted = self._insert_entries(cursor, new_rows)
        if inserted != len(new_rows):
            raise _RaceError
        conflict_rows = self._new_conflicts(cursor, conflict_rows)
        self._executemany(cursor, _INSERT_CONFLICT, conflict_rows)
        result.stored += inserted
        result.conflicts += len(conflict_rows)

    def _stored_documents(self, cursor: _Cursor, ids: Sequence[str]) -> dict[str, str]:
        """The stored document of each of ``ids`` that is stored."""
        found: dict[str, str] = {}
        for start in range(0, len(ids), self._ids_per_query):
            in_ids, params = self._in_list(ids[start : start + self._ids_per_query], "text")
            sql = f"SELECT id, document FROM entries WHERE id {in_ids}"  # noqa: S608
            found.update(
                (str(row[0]), str(row[1])) for row in self._execute(cursor, sql, params).fetchall()
            )
        return found

    def _taken_slots(
        self, cursor: _Cursor, seqs_by_log: dict[LogKey, set[int]]
    ) -> dict[LogKey, dict[int, str]]:
        """The ids stored in any of each log's ``seqs`` slots, every log in one statement.

        A range scan of each log's index per run of nearby seqs (batches are runs of consecutive
        seqs): an IN list of seqs let PostgreSQL's generic plan filter the whole log row by row.
        """
        runs: list[tuple[str, str, str, int, int]] = []
        for key, seqs in sorted(seqs_by_log.items()):
            ordered = sorted(seqs)
            first = last = ordered[0]
            for seq in ordered[1:]:
                if seq - last > _RUN_GAP:
                    runs.append((*key, first, last))
                    first = seq
                last = seq
            runs.append((*key, first, last))
        taken: dict[LogKey, dict[int, str]] = {key: {} for key in seqs_by_log}
        for chunk in self._chunks(runs):
            table, params = self._rows_table("runs", _RUN_COLUMNS, chunk)
            for community, gate, log_id, seq, entry_id in self._execute(
                cursor,
                f"{table} SELECT e.community, e.gate, e.log_id, e.seq, e.id "  # noqa: S608
                "FROM runs r JOIN entries e ON e.community = r.community AND e.gate = r.gate "
                "AND e.log_id = r.log_id AND e.seq >= r.first_seq AND e.seq <= r.last_seq",
                params,
            ).fetchall():
                key = (str(community), str(gate), str(log_id))
                if int(seq) in seqs_by_log[key]:
                    taken[key][int(seq)] = str(entry_id)
        return taken

    def _new_conflicts(self, cursor: _Cursor, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """Drop conflicts already kept: a gate sends a conflicting entry again until acked."""
        if not rows:
            return rows
        ids = sorted({row[0] for row in rows})
        in_ids, params = self._in_list(ids, "text")
        sql = f"SELECT entry_id, document FROM conflicts WHERE entry_id {in_ids}"  # noqa: S608
        kept = {
            (str(found[0]), str(found[1]))
            for found in self._execute(cursor, sql, params).fetchall()
        }
        fresh = []
        for row in rows:
            if (row[0], row[7]) not in kept:
                kept.add((row[0], row[7]))
                fresh.append(row)
                log.error(
                    "conflict for %s/%s seq %d entry %s: %s (stored: %s); kept aside",
                    row[1],
                    row[2],
                    row[4],
                    row[0],
                    row[5],
                    row[6],
                )
        return fresh

    def _entry_row(self, batch: IncomingBatch, incoming: IncomingEntry, at: str) -> tuple[Any, ...]:
        return (
            incoming.id,
            batch.community,
            batch.gate,
            batch.log_id,
            incoming.seq,
            incoming.lane,
            incoming.direction,
            incoming.outcome,
            incoming.pass_kind,
            incoming.decided_at,
            incoming.decided_at_us,
            int(incoming.clock_synced),
            incoming.document,
            at,
            self.receiver,
            incoming.pass_id,
            incoming.holder,
            incoming.household,
            incoming.max_body_c,
            int(incoming.fever),
        )

    def _with_last_known(self, cursor: _Cursor, will: GateStatusRow) -> str:
        """An offline status (the gate's last will, or its clean stop) says only that the gate
        is gone: it names no versions, backlog or clock. Kept over the stored status, which it
        then marks offline, so the office still sees what the gate last reported."""
        row = self._execute(
            cursor,
            "SELECT payload FROM gate_status WHERE community = ? AND gate = ?",
            [will.community, will.gate],
        ).fetchone()
        if row is None:
            return will.payload
        try:
            stored, told = json.loads(row[0]), json.loads(will.payload)
        except ValueError:
            return will.payload
        if not isinstance(stored, dict) or not isinstance(told, dict):
            return will.payload
        known = {key: value for key, value in told.items() if _reported(value)}
        return json.dumps({**stored, **known}, ensure_ascii=False, separators=(",", ":"))

    def _advance(self, cursor: _Cursor, keys: Sequence[LogKey], at: str) -> dict[LogKey, int]:
        """Move each log's contiguous seq forward over what is now stored; return them.

        A fixed handful of statements for all the logs of the transaction, not three per log:
        at rush hour a message holds one entry, so per-log statements were most of the cost of
        a message (docs/office.md, Scale)."""
        if not keys:
            return {}
        # The upsert takes the logs' row locks (PostgreSQL), in sorted order so two receivers
        # never deadlock, and returns the latest committed progress: no two receivers move one
        # log at once.
        contiguous: dict[LogKey, int] = {}
        for chunk in self._chunks(keys):
            touched, params = self._rows_table("touched", _LOG_COLUMNS, chunk)
            for community, gate, log_id, seq in self._execute(
                cursor,
                # SQLite parses an upsert's SELECT only with a WHERE (even "WHERE true").
                f"{touched} INSERT INTO logs (community, gate, log_id, contiguous_seq, "  # noqa: S608
                "max_seq, first_seen, last_seen) SELECT community, gate, log_id, 0, 0, ?, ? "
                "FROM touched WHERE true ORDER BY community, gate, log_id "
                "ON CONFLICT (community, gate, log_id) DO UPDATE SET "
                "last_seen = excluded.last_seen RETURNING community, gate, log_id, contiguous_seq",
                [*params, at, at],
            ).fetchall():
                contiguous[(str(community), str(gate), str(log_id))] = int(seq)
        moving = list(keys)
        while moving:
            moving = self._advance_window(cursor, moving, contiguous)
        for chunk in self._chunks([(*key, contiguous[key]) for key in keys]):
            progress, params = self._rows_table("progress", _PROGRESS_COLUMNS, chunk)
            # Not max(seq): on a fast-growing table PostgreSQL's stale statistics make it scan
            # every row of the log; the index walked backwards answers at once.
            self._execute(
                cursor,
                f"{progress} UPDATE logs SET contiguous_seq = progress.contiguous_seq, "  # noqa: S608
                "last_seen = ?, max_seq = coalesce((SELECT seq FROM entries e "
                "WHERE e.community = logs.community AND e.gate = logs.gate "
                "AND e.log_id = logs.log_id ORDER BY seq DESC LIMIT 1), 0) FROM progress "
                "WHERE logs.community = progress.community AND logs.gate = progress.gate "
                "AND logs.log_id = progress.log_id",
                [*params, at],
            )
        return {key: contiguous[key] for key in keys}

    def _advance_window(
        self, cursor: _Cursor, keys: Sequence[LogKey], contiguous: dict[LogKey, int]
    ) -> list[LogKey]:
        """One window of ``_CONTIGUOUS_STEP`` seqs past each log's contiguous seq: moves
        ``contiguous`` over it; returns the logs whose whole window was there (look further)."""
        further: list[LogKey] = []
        gapped: list[LogKey] = []
        for chunk in self._chunks(keys):
            windows, params = self._rows_table(
                "windows",
                _WINDOW_COLUMNS,
                [(*key, contiguous[key], contiguous[key] + _CONTIGUOUS_STEP) for key in chunk],
            )
            # Seqs are unique in a log, so a window holding as many rows as the span up to its
            # highest seq has no gap: one row back per log instead of every seq in it.
            for community, gate, log_id, count, top in self._execute(
                cursor,
                f"{windows} SELECT w.community, w.gate, w.log_id, count(e.seq), max(e.seq) "  # noqa: S608
                f"FROM windows w JOIN entries e {_IN_WINDOW} "
                "GROUP BY w.community, w.gate, w.log_id",
                params,
            ).fetchall():
                key = (str(community), str(gate), str(log_id))
                if int(top) - contiguous[key] == int(count):
                    contiguous[key] = int(top)
                    if int(count) == _CONTIGUOUS_STEP:
                        further.append(key)
                else:
                    gapped.append(key)
        for chunk in self._chunks(gapped):  # a gap in the window: walk up to it
            windows, params = self._rows_table(
                "windows",
                _WINDOW_COLUMNS,
                [(*key, contiguous[key], contiguous[key] + _CONTIGUOUS_STEP) for key in chunk],
            )
            stopped: set[LogKey] = set()
            for community, gate, log_id, seq in self._execute(
                cursor,
                f"{windows} SELECT w.community, w.gate, w.log_id, e.seq "  # noqa: S608
                f"FROM windows w JOIN entries e {_IN_WINDOW} "
                "ORDER BY w.community, w.gate, w.log_id, e.seq",
                params,
            ).fetchall():
                key = (str(community), str(gate), str(log_id))
                if key in stopped:
                    continue
                if int(seq) != contiguous[key] + 1:
                    stopped.add(key)
                    continue
                contiguous[key] = int(seq)
        return further

    # --- reading

    def gaps(self) -> list[LogGaps]:
        """Every gate log with what is missing inside it and what has not arrived yet."""
        with self.reading() as q:
            logs = q.all(
                "SELECT community, gate, log_id, contiguous_seq, max_seq FROM logs "
                "ORDER BY community, gate, first_seen, log_id"
            )
            reported = {
                (str(row[0]), str(row[1])): (row[2], row[3])
                for row in q.all("SELECT community, gate, log_id, last_seq FROM gate_status")
            }
            result = []
            for community, gate, log_id, contiguous, max_seq in logs:
                missing: list[tuple[int, int]] = []
                if int(contiguous) < int(max_seq):
                    expected = int(contiguous) + 1
                    for (seq,) in q.all(
                        "SELECT seq FROM entries WHERE community = ? AND gate = ? AND log_id = ? "
                        "AND seq > ? ORDER BY seq",
                        [community, gate, log_id, contiguous],
                    ):
                        if int(seq) > expected:
                            missing.append((expected, int(seq) - 1))
                        expected = int(seq) + 1
                unreceived = None
                status_log, last_seq = reported.get((str(community), str(gate)), (None, None))
                if status_log == log_id and last_seq is not None and int(last_seq) > int(max_seq):
                    unreceived = (int(max_seq) + 1, int(last_seq))
                result.append(
                    LogGaps(
                        community=str(community),
                        gate=str(gate),
                        log_id=str(log_id),
                        contiguous_seq=int(contiguous),
                        max_seq=int(max_seq),
                        missing=tuple(missing),
                        unreceived=unreceived,
                    )
                )
            return result

    def daily_counts(
        self, day: date, zone: ZoneInfo, communities: Sequence[str] | None = None
    ) -> list[DayCounts]:
        """Per gate counts for one office day (midnight to midnight in ``zone``), of every
        community or of ``communities``."""
        start = datetime.combine(day, time(0), tzinfo=zone)
        end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
        params: list[Any] = [epoch_us(start), epoch_us(end)]
        where = ""
        if communities is not None:
            if not communities:
                return []
            in_communities, values = self._in_list(list(communities), "text")
            where = f"AND community {in_communities}"
            params += values
        with self.reading() as q:
            rows = q.all(_DAILY_COUNTS.format(counts=DAY_COUNTS_SQL, communities=where), params)
        return [DayCounts(day, str(row[0]), str(row[1]), **counted(row[2:])) for row in rows]

    def counts(self) -> dict[str, int]:
        """Row counts, plus rows sharing a (gate, log, seq) slot (always 0: the schema forbids
        it; checked by the fault campaign all the same)."""
        with self.reading() as q:

            def scalar(sql: str) -> int:
                return int(q.scalar(sql) or 0)

            return {
                "entries": scalar("SELECT count(*) FROM entries"),
                "duplicate_slots": scalar(
                    "SELECT count(*) FROM (SELECT 1 FROM entries GROUP BY community, gate, "
                    "log_id, seq HAVING count(*) > 1) AS d"
                ),
                "conflicts": scalar("SELECT count(*) FROM conflicts"),
                "rejects": scalar("SELECT count(*) FROM rejects"),
                "logs": scalar("SELECT count(*) FROM logs"),
            }

    def entry_keys(self) -> list[tuple[str, str, str, int, str]]:
        """(community, gate, log_id, seq, id) of every stored entry, in order (for checks)."""
        with self.reading() as q:
            rows = q.all(
                "SELECT community, gate, log_id, seq, id FROM entries "
                "ORDER BY community, gate, log_id, seq"
            )
        return [(str(r[0]), str(r[1]), str(r[2]), int(r[3]), str(r[4])) for r in rows]

    def document(self, entry_id: str) -> str | None:
        with self.reading() as q:
            document = q.scalar("SELECT document FROM entries WHERE id = ?", [entry_id])
        return None if document is None else str(document)

    # --- downlink versions

    def last_downlink_version(self, community: str, kind: str) -> int:
        with self.reading() as q:
            version = q.scalar(
                "SELECT max(version) FROM downlink WHERE community = ? AND kind = ?",
                [community, kind],
            )
        return int(version or 0)

    def record_downlink(
        self,
        *,
        community: str,
        kind: str,
        version: int,
        issued_at: datetime,
        kid: str,
        envelope: str,
        now: datetime,
    ) -> None:
        """Remember a published document; refuses a version that is not new (primary key)."""
        with self._guarded() as cursor:
            self._execute(
                cursor,
                "INSERT INTO downlink (community, kind, version, issued_at, kid, envelope, "
                "published_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [community, kind, version, issued_at.isoformat(), kid, envelope, now.isoformat()],
            )


class SqliteReceiverDb(ReceiverDb):
    """SQLite in WAL mode with ``synchronous=FULL``: an acked entry survives a power cut."""

    backend = "sqlite"
    _errors = (sqlite3.Error,)

    def __init__(self, path: Path, *, receiver: str = "receiver") -> None:
        super().__init__(receiver=receiver)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        try:
            self._conn = sqlite3.connect(
                path, isolation_level=None, check_same_thread=False, timeout=30.0
            )
            self._conn.execute("PRAGMA journal_mode = WAL")
            # FULL: an entry is acknowledged only after its commit, so the commit must survive
            # a power cut.
            self._conn.execute("PRAGMA synchronous = FULL")
            self._conn.execute("PRAGMA busy_timeout = 30000")
        except sqlite3.Error as exc:
            raise ReceiverDbError(f"cannot open {path}: {exc}") from exc
        with self._guarded() as cursor:
            self._create_schema(cursor, **self._types)

    @contextlib.contextmanager
    def _transaction(self, *, write: bool = True) -> Iterator[_Cursor]:
        with self._lock:
            cursor = self._conn.cursor()
            # IMMEDIATE: take the write lock first, so a check-then-insert is never split by
            # another receiver process writing the same file. Reads take no lock (WAL).
            cursor.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield cursor
            except BaseException:
                self._conn.rollback()
                raise
            self._conn.commit()

    def _retryable(self, exc: Exception) -> bool:
        return False

    def close(self) -> None:
        with self._lock:
            self._conn.close()


class PostgresReceiverDb(ReceiverDb):
    """PostgreSQL through psycopg 3; reconnects after the server restarts."""

    backend = "postgresql"
    _types: ClassVar[dict[str, str]] = {"serial": "BIGSERIAL PRIMARY KEY", "blob": "BYTEA"}
    _ids_per_query = 20_000  # one array parameter, however long
    _rows_per_query = 20_000

    def __init__(self, dsn: str, *, receiver: str = "receiver") -> None:
        super().__init__(receiver=receiver)
        import psycopg  # only deployments that use PostgreSQL need the driver

        self._psycopg = psycopg
        self._errors = (psycopg.Error,)
        self._dsn = dsn
        self._lock = threading.Lock()
        self._conn: Any = None
        with self._guarded() as cursor:
            self._execute(cursor, "SELECT pg_advisory_xact_lock(4242)")  # one creator at a time
            self._create_schema(cursor, **self._types)

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s")

    def _in_list(self, values: Sequence[Any], sql_type: str) -> tuple[str, list[Any]]:
        # One array parameter: the statement text stays the same whatever the count, so the
        # server plans it once (prepared) instead of for every batch. The cast matters: small
        # integers would travel as smallint[], and a bigint column compared with those is
        # filtered row by row instead of looked up in its index. Binary (%b): psycopg quotes
        # every element of a text array one by one, three times slower for 5,000 ids.
        return f"= ANY(%b::{sql_type}[])", [list(values)]

    def _rows_table(
        self, name: str, columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[Any]]
    ) -> tuple[str, list[Any]]:
        # One array parameter a column, unnested: the same statement text whatever the count
        # (planned once, as ``_in_list``), binary for the same reason.
        names = ", ".join(column for column, _ in columns)
        arrays = ", ".join(f"%b::{sql_type}[]" for _, sql_type in columns)
        return (
            f"WITH {name} ({names}) AS (SELECT * FROM unnest({arrays}))",  # noqa: S608
            [[row[index] for row in rows] for index in range(len(columns))],
        )

    @contextlib.contextmanager
    def _transaction(self, *, write: bool = True) -> Iterator[_Cursor]:
        with self._lock:
            if self._conn is None or self._conn.closed:
                # Never log the DSN: it may hold a password.
                self._conn = self._psycopg.connect(self._dsn, autocommit=True)
            try:
                with self._conn.transaction(), self._conn.cursor() as cursor:
                    yield cursor
            except self._psycopg.OperationalError:
                self._conn.close()
                self._conn = None
                raise

    def _insert_entries(self, cursor: _Cursor, rows: Sequence[Sequence[Any]]) -> int:
        # COPY into a session temp table, then one INSERT ... SELECT: a row-by-row executemany
        # costs the server a parse and execute per entry (ingest stalled near 3,000/s), and a
        # multi-row VALUES statement costs the client as much in query parsing.
        if not rows:
            return 0
        self._execute(
            cursor,
            "CREATE TEMP TABLE IF NOT EXISTS incoming_entries "
            "(LIKE entries INCLUDING DEFAULTS) ON COMMIT DELETE ROWS",
        )
        pg_cursor: Any = cursor
        with pg_cursor.copy(f"COPY incoming_entries ({_ENTRY_COLUMN_LIST}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        self._execute(
            cursor,
            f"INSERT INTO entries ({_ENTRY_COLUMN_LIST}) "  # noqa: S608  (a constant)
            f"SELECT {_ENTRY_COLUMN_LIST} FROM incoming_entries ON CONFLICT DO NOTHING",
        )
        inserted = max(cursor.rowcount, 0)
        self._execute(cursor, "DELETE FROM incoming_entries")
        return inserted

    def _retryable(self, exc: Exception) -> bool:
        errors = self._psycopg.errors
        return isinstance(exc, errors.DeadlockDetected | errors.SerializationFailure)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


def open_db(
    *, path: Path | None = None, dsn: str | None = None, receiver: str = "receiver"
) -> ReceiverDb:
    """The receiver database: PostgreSQL when a DSN is given, else the SQLite file."""
    if dsn is not None:
        return PostgresReceiverDb(dsn, receiver=receiver)
    if path is None:
        raise ValueError("give a SQLite path or a PostgreSQL DSN")
    return SqliteReceiverDb(path, receiver=receiver)
