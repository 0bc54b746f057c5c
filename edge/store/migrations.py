"""Versioned schema migrations for the entry log.

Each migration is a function with a version number; they run in order, each in its own write
transaction together with the row that records it in ``schema_migrations``, and ``PRAGMA
user_version`` mirrors the latest version for tools that only read the file header. A file
written by a newer program is refused (``StoreTooNew``) rather than guessed at.

Never edit a released migration: add a new one. A gate that was off for months must upgrade by
replaying every step after its version, and keep every entry it holds.

We do not use ``sqlite_utils.Migrations``: it names migrations but does not number them, and the
store needs an integer it can compare to refuse a newer file.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from edge.store.errors import StoreTooNew


@dataclass(frozen=True, slots=True)
class Migration:
    """One schema step: ``apply`` runs inside the transaction that records ``version``."""

    version: int
    name: str
    apply: Callable[[Database], None]


def _v1_initial_schema(db: Database) -> None:
    """The entry log, its outbox, the per-gate sequences and the trust material."""
    # STRICT tables (SQLite 3.37+, Raspberry Pi OS bookworm ships 3.40): a value of the wrong
    # type is refused instead of being stored as whatever it happened to be.
    db.execute(
        """
        CREATE TABLE sequences (
            community TEXT NOT NULL,
            gate TEXT NOT NULL,
            last_seq INTEGER NOT NULL CHECK (last_seq >= 1),
            PRIMARY KEY (community, gate)
        ) STRICT, WITHOUT ROWID
        """
    )
    db.execute(
        """
        CREATE TABLE entries (
            id TEXT PRIMARY KEY,
            community TEXT NOT NULL,
            gate TEXT NOT NULL,
            seq INTEGER NOT NULL CHECK (seq >= 1),
            schema_version INTEGER NOT NULL,
            lane TEXT NOT NULL,
            direction TEXT NOT NULL,
            outcome TEXT NOT NULL,
            started_at TEXT NOT NULL,
            decided_at TEXT NOT NULL,
            recorded_at TEXT NOT NULL,
            decided_at_us INTEGER NOT NULL,
            recorded_at_us INTEGER NOT NULL,
            clock_synced INTEGER NOT NULL CHECK (clock_synced IN (0, 1)),
            boot_id TEXT NOT NULL,
            pass_id TEXT,
            pass_kind TEXT,
            key_id TEXT,
            holder TEXT,
            household TEXT,
            answers TEXT NOT NULL,
            temperatures TEXT NOT NULL,
            reasons TEXT NOT NULL,
            guard_id TEXT,
            guard_note TEXT,
            gate_mode TEXT NOT NULL,
            extra TEXT NOT NULL,
            UNIQUE (community, gate, seq)
        ) STRICT
        """
    )
    db.execute(
        """
        CREATE TABLE outbox (
            position INTEGER PRIMARY KEY,
            entry_id TEXT NOT NULL UNIQUE REFERENCES entries (id) ON DELETE CASCADE,
            community TEXT NOT NULL,
            gate TEXT NOT NULL,
            seq INTEGER NOT NULL,
            queued_at TEXT NOT NULL,
            published_at TEXT,
            publish_count INTEGER NOT NULL DEFAULT 0,
            acked_at TEXT
        ) STRICT
        """
    )
    db.execute(
        """
        CREATE TABLE trusted_keys (
            kid TEXT PRIMARY KEY,
            public_key_pem TEXT NOT NULL,
            source TEXT NOT NULL,
            added_at TEXT NOT NULL,
            revoked INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1))
        ) STRICT
        """
    )
    db.execute(
        """
        CREATE TABLE revocations (
            pass_id TEXT PRIMARY KEY,
            source TEXT NOT NULL,
            added_at TEXT NOT NULL
        ) STRICT
        """
    )


def _v2_indexes_meta_guards(db: Database) -> None:
    """Indexes for the console and the policy history, the meta table, and guard triggers.

    Split from version 1 because the first gates in the field ran without them; creating them
    here builds each index over the entries already stored.
    """
    statements = [
        # entries(...) pages by seq within the gate, with optional filters.
        # Covering for the seq bounds that entries(since=, until=) derives from a time range.
        "CREATE INDEX entries_by_time ON entries (community, gate, decided_at_us, seq)",
        "CREATE INDEX entries_by_outcome ON entries (community, gate, outcome, seq)",
        "CREATE INDEX entries_by_pass ON entries (community, gate, pass_id, seq)",
        "CREATE INDEX entries_by_household ON entries (community, gate, household, seq)",
        # Policy history, asked on every scan: partial indexes hold only the rows that count.
        """
        CREATE INDEX entries_pass_passed ON entries (pass_id, decided_at_us, seq)
        WHERE outcome IN ('passed', 'overridden')
        """,
        """
        CREATE INDEX entries_household_exits ON entries (household, decided_at_us)
        WHERE direction = 'out' AND outcome = 'passed'
        """,
        # The publisher reads the unacknowledged head of the queue; acks arrive per gate and seq.
        "CREATE INDEX outbox_pending ON outbox (position) WHERE acked_at IS NULL",
        "CREATE INDEX outbox_by_gate_seq ON outbox (community, gate, seq)",
        """
        CREATE TABLE meta (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL,
            updated_at TEXT NOT NULL
        ) STRICT
        """,
        # The durability rule, held by the database itself so no code path can break it:
        # an entry takes exactly the number its gate's sequence was just advanced to,
        """
        CREATE TRIGGER entries_seq_matches_sequence BEFORE INSERT ON entries
        WHEN NEW.seq IS NOT (
            SELECT last_seq FROM sequences WHERE community = NEW.community AND gate = NEW.gate
        )
        BEGIN SELECT RAISE(ABORT, 'entry seq does not match its gate sequence'); END
        """,
        # a sequence only ever moves up by one and is never removed,
        """
        CREATE TRIGGER sequences_step_by_one BEFORE UPDATE ON sequences
        WHEN NEW.last_seq IS NOT OLD.last_seq + 1
            OR NEW.community IS NOT OLD.community OR NEW.gate IS NOT OLD.gate
        BEGIN SELECT RAISE(ABORT, 'a gate sequence only moves up by one'); END
        """,
        """
        CREATE TRIGGER sequences_never_deleted BEFORE DELETE ON sequences
        BEGIN SELECT RAISE(ABORT, 'a gate sequence is never deleted'); END
        """,
        # an entry is evidence and is never altered,
        """
        CREATE TRIGGER entries_immutable BEFORE UPDATE ON entries
        BEGIN SELECT RAISE(ABORT, 'entries are never altered'); END
        """,
        # and it leaves the edge only after the community receiver acknowledged it.
        """
        CREATE TRIGGER entries_deleted_only_when_acked BEFORE DELETE ON entries
        WHEN NOT EXISTS (
            SELECT 1 FROM outbox WHERE entry_id = OLD.id AND acked_at IS NOT NULL
        )
        BEGIN SELECT RAISE(ABORT, 'an unacknowledged entry is never deleted'); END
        """,
    ]
    for statement in statements:
        db.execute(statement)


def _v3_guards_sessions_audit(db: Database) -> None:
    """Guard accounts, their sessions, who is on duty, and the audit log of guard actions.

    The audit log is append-only like the entries: what a guard did at the gate is evidence.
    """
    statements = [
        """
        CREATE TABLE guards (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            role TEXT NOT NULL CHECK (role IN ('guard', 'admin')),
            secret_hash TEXT NOT NULL,
            active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
            failed_count INTEGER NOT NULL DEFAULT 0,
            locked_until TEXT,
            created_at TEXT NOT NULL
        ) STRICT
        """,
        """
        CREATE TABLE guard_sessions (
            token_hash TEXT PRIMARY KEY,
            guard_id TEXT NOT NULL REFERENCES guards (id),
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            ended_at TEXT
        ) STRICT
        """,
        """
        CREATE TABLE duty (
            id INTEGER PRIMARY KEY,
            guard_id TEXT NOT NULL REFERENCES guards (id),
            started_at TEXT NOT NULL,
            ended_at TEXT
        ) STRICT
        """,
        "CREATE INDEX duty_open ON duty (ended_at) WHERE ended_at IS NULL",
        """
        CREATE TABLE audit (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            guard_id TEXT,
            action TEXT NOT NULL,
            lane TEXT,
            detail TEXT NOT NULL
        ) STRICT
        """,
        """
        CREATE TRIGGER audit_append_only BEFORE UPDATE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is never altered'); END
        """,
    ]
    for statement in statements:
        db.execute(statement)


def _v4_alarms_registrations(db: Database) -> None:
    """Alarms that outlive a restart, visitor and vehicle registrations, and the exit-quota
    index widened to overridden exits.

    An alarm is evidence like an entry: raised, then acknowledged by a named guard, never
    deleted by the console. A registration is one visitor or one vehicle with its occupants;
    phone and ID numbers are stored only in the form the policy allows (masked by default).
    """
    statements = [
        """
        CREATE TABLE alarms (
            id TEXT PRIMARY KEY,
            lane TEXT NOT NULL,
            kind TEXT NOT NULL,
            detail TEXT NOT NULL,
            raised_at TEXT NOT NULL,
            acked_by TEXT REFERENCES guards (id),
            acked_at TEXT,
            ack_note TEXT,
            CHECK ((acked_by IS NULL) = (acked_at IS NULL))
        ) STRICT
        """,
        "CREATE INDEX alarms_open ON alarms (raised_at) WHERE acked_at IS NULL",
        "CREATE INDEX alarms_raised ON alarms (raised_at)",
        """
        CREATE TABLE registrations (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('visitor', 'vehicle')),
            pass_id TEXT NOT NULL UNIQUE,
            registered_at TEXT NOT NULL,
            guard_id TEXT NOT NULL REFERENCES guards (id),
            lane TEXT,
            host_household TEXT NOT NULL,
            reason TEXT NOT NULL,
            plate TEXT,
            valid_from TEXT NOT NULL,
            valid_until TEXT NOT NULL,
            CHECK ((kind = 'vehicle') = (plate IS NOT NULL))
        ) STRICT
        """,
        "CREATE INDEX registrations_at ON registrations (registered_at)",
        # The exit quota counts exits a guard let through against the rule too: an exit is an
        # exit. The partial index follows the query.
        "DROP INDEX entries_household_exits",
        """
        CREATE INDEX entries_household_exits ON entries (household, decided_at_us)
        WHERE direction = 'out' AND outcome IN ('passed', 'overridden')
        """,
        """
        CREATE TABLE registration_people (
            registration_id TEXT NOT NULL REFERENCES registrations (id) ON DELETE CASCADE,
            n INTEGER NOT NULL CHECK (n >= 1),
            name TEXT NOT NULL,
            phone TEXT,
            id_number TEXT,
            PRIMARY KEY (registration_id, n)
        ) STRICT, WITHOUT ROWID
        """,
    ]
    for statement in statements:
        db.execute(statement)


def _v5_trust_changes(db: Database) -> None:
    """The trust audit: every key added, replaced, retired or revoked, from config or downlink.

    Like the guards' audit log it is append-only (the triggers refuse changes), so a key that
    was trusted for a while and then pulled still shows when, from where and until when.
    """
    statements = [
        """
        CREATE TABLE trust_changes (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            kid TEXT NOT NULL,
            source TEXT NOT NULL,
            action TEXT NOT NULL
                CHECK (action IN ('added', 'replaced', 'moved', 'retired', 'revoked')),
            detail TEXT NOT NULL DEFAULT ''
        ) STRICT
        """,
        "CREATE INDEX trust_changes_kid ON trust_changes (kid, id)",
        """
        CREATE TRIGGER trust_changes_no_update BEFORE UPDATE ON trust_changes
        BEGIN SELECT RAISE(ABORT, 'the trust audit is never altered'); END
        """,
        """
        CREATE TRIGGER trust_changes_no_delete BEFORE DELETE ON trust_changes
        BEGIN SELECT RAISE(ABORT, 'the trust audit is never altered'); END
        """,
    ]
    for statement in statements:
        db.execute(statement)


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "initial schema", _v1_initial_schema),
    Migration(2, "query indexes, meta table, guard triggers", _v2_indexes_meta_guards),
    Migration(3, "guard accounts, sessions, duty, audit log", _v3_guards_sessions_audit),
    Migration(4, "alarms, registrations, overridden exits count", _v4_alarms_registrations),
    Migration(5, "trust changes audit", _v5_trust_changes),
)
LATEST_VERSION = MIGRATIONS[-1].version


@contextlib.contextmanager
def _write_transaction(db: Database) -> Iterator[None]:
    # db.atomic() begins DEFERRED. A migration reads the version before it writes, and in WAL
    # mode a reader that tries to become a writer after another connection committed fails at
    # once (SQLITE_BUSY_SNAPSHOT). BEGIN IMMEDIATE takes the write lock first, so a second
    # process opening the file at the same moment waits (busy_timeout) and then sees the work
    # already done.
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise
    db.conn.execute("COMMIT")


def schema_version(db: Database) -> int:
    """The version recorded in the file (0 for a new, empty file)."""
    row = db.conn.execute("PRAGMA user_version").fetchone()
    return int(row[0])


def _ensure_migrations_table(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            applied_at TEXT NOT NULL
        ) STRICT
        """
    )


def pending_migrations(db: Database, *, target: int = LATEST_VERSION) -> list[Migration]:
    """Migrations not yet applied to this file, up to ``target``; raises ``StoreTooNew``."""
    current = schema_version(db)
    if current > LATEST_VERSION:
        raise StoreTooNew(
            f"schema version {current} was written by a newer program; "
            f"this one knows versions up to {LATEST_VERSION}"
        )
    return [m for m in MIGRATIONS if current < m.version <= target]


def migrate(db: Database, *, now: datetime, target: int = LATEST_VERSION) -> list[int]:
    """Apply pending migrations up to ``target``; return the versions applied (empty if none).

    Safe to call on every open: an up-to-date file costs one header read and no write.
    """
    if not pending_migrations(db, target=target):
        return []
    applied: list[int] = []
    for migration in MIGRATIONS:
        if migration.version > target:
            break
        with _write_transaction(db):
            # Read the version again under the write lock: another process may have migrated.
            if schema_version(db) >= migration.version:
                continue
            _ensure_migrations_table(db)
            migration.apply(db)
            db.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                [migration.version, migration.name, now.isoformat()],
            )
            # user_version is part of the database header and changes with this transaction.
            db.execute(f"PRAGMA user_version = {int(migration.version)}")
        applied.append(migration.version)
    return applied


def applied_migrations(db: Database) -> list[tuple[int, str, str]]:
    """``(version, name, applied_at)`` for every recorded migration, oldest first."""
    try:
        rows = db.conn.execute(
            "SELECT version, name, applied_at FROM schema_migrations ORDER BY version"
        ).fetchall()
    except sqlite3.OperationalError:  # no table yet: a new file
        return []
    return [(int(version), str(name), str(applied_at)) for version, name, applied_at in rows]
