"""The gate's durable local log: entries, their outbox, per-gate sequences and trust material.

The durability rule lives here. An entry is committed to SQLite (WAL, ``synchronous=FULL``)
before the gate opens: ``record_entry`` returns only after the commit is on disk. It is deleted
only once the community receiver has acknowledged it (``edge.store.outbox``). Every entry takes
the next number of its gate's sequence in the same transaction, and the sequence never goes back,
even when old entries are purged, so the receiver can prove nothing is missing.

One connection serves the whole process, guarded by a lock: the lane thread writes and the
console threads read through it. Other processes (``kakou entries``) open their own connection;
WAL lets them read while the service writes.
"""

from __future__ import annotations

import contextlib
import grp
import logging
import os
import pwd
import sqlite3
import stat
import threading
import time
import urllib.request
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import NamedTuple, Self, TypedDict, Unpack

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from sqlite_utils import Database

from edge.entry_document import DocumentError, epoch_us
from edge.keys import fingerprint
from edge.model import ENTRY_SCHEMA_VERSION, Direction, Entry, EntryDraft, Outcome
from edge.store.errors import StoreCorrupt, StoreError, StoreNotFound, StoreTooNew
from edge.store.ids import uuid7
from edge.store.migrations import LATEST_VERSION, migrate, pending_migrations, schema_version
from edge.store.records import ENTRY_COLUMNS, SqlValue, entry_from_row, entry_to_row

__all__ = [
    "RevocationChange",
    "Store",
    "StoreCorrupt",
    "StoreError",
    "StoreNotFound",
    "StoreTooNew",
    "TrustChange",
    "TrustReport",
    "TrustedKey",
]

log = logging.getLogger(__name__)

Row = dict[str, SqlValue]

DEFAULT_BUSY_TIMEOUT_MS = 5_000
"""How long a connection waits for another one's write lock before giving up."""

_QUICK_CHECK_MAX_ERRORS = 20
_META_COMMUNITY = "store.community"
_META_GATE = "store.gate"

# Built once from the column constant; values are always bound parameters.
_ENTRY_COLUMN_LIST = ", ".join(ENTRY_COLUMNS)
_ENTRY_PLACEHOLDERS = ", ".join(f":{column}" for column in ENTRY_COLUMNS)
_INSERT_ENTRY_SQL = f"INSERT INTO entries ({_ENTRY_COLUMN_LIST}) VALUES ({_ENTRY_PLACEHOLDERS})"  # noqa: S608
# Upsert-and-return as the transaction's first statement: it takes the write lock at once, so
# reading the number and writing it can never be split by another writer.
_NEXT_SEQ_SQL = """
    INSERT INTO sequences (community, gate, last_seq) VALUES (?, ?, 1)
    ON CONFLICT (community, gate) DO UPDATE SET last_seq = last_seq + 1
    RETURNING last_seq
"""
_FIRST_SEQ_SINCE = """seq >= (
    SELECT min(seq) FROM entries WHERE community = ? AND gate = ? AND decided_at_us >= ?
)"""
_LAST_SEQ_UNTIL = """seq <= (
    SELECT max(seq) FROM entries WHERE community = ? AND gate = ? AND decided_at_us < ?
)"""
# With both ends given, each bound is taken over the window only: the index range is the window's
# rows (a day: thousands), not everything after `since` or before `until` (millions).
_FIRST_SEQ_WITHIN = """seq >= (
    SELECT min(seq) FROM entries
    WHERE community = ? AND gate = ? AND decided_at_us >= ? AND decided_at_us < ?
)"""
_LAST_SEQ_WITHIN = """seq <= (
    SELECT max(seq) FROM entries
    WHERE community = ? AND gate = ? AND decided_at_us >= ? AND decided_at_us < ?
)"""
LAST_PASSED_DIRECTION_SQL = """
    SELECT direction FROM entries
    WHERE pass_id = ? AND outcome IN ('passed', 'overridden')
    ORDER BY decided_at_us DESC, seq DESC
    LIMIT 1
"""
HOUSEHOLD_EXITS_SQL = """
    SELECT count(*) FROM entries
    WHERE household = ? AND direction = 'out' AND outcome IN ('passed', 'overridden')
      AND decided_at_us >= ?
"""


def _utc_now() -> datetime:
    return datetime.now(UTC)


class EntryFilters(TypedDict, total=False):
    """Which of this gate's entries to read: ``since`` (inclusive) and ``until`` (exclusive)
    bound the decision time, the others match a column exactly; None is no filter. The log's
    pages, its ledgers and their exports all take them."""

    since: datetime | None
    until: datetime | None
    outcome: Outcome | None
    household: str | None
    pass_id: str | None
    lane: str | None


class RevocationChange(NamedTuple):
    """What ``replace_revocations`` changed."""

    added: int
    removed: int


class TrustedKey(NamedTuple):
    """One row of the trust store: where the key came from and whether it still counts."""

    kid: str
    source: str
    added_at: str
    revoked: bool
    fingerprint: str
    """``edge.keys.fingerprint`` of the key, to compare with the office's."""


class TrustChange(NamedTuple):
    """One line of the trust audit: at (ISO UTC), key id, where it came from, what happened."""

    at: str
    kid: str
    source: str
    action: str
    detail: str


class TrustReport(NamedTuple):
    """What the status page shows: every key with its source, and the latest changes first."""

    keys: list[TrustedKey]
    changes: list[TrustChange]


# Primary result codes (https://www.sqlite.org/rescode.html) that mean the file is damaged.
_SQLITE_CORRUPT = 11
_SQLITE_NOTADB = 26
_SQLITE_CANTOPEN = 14
_SQLITE_BUSY = 5
_WAL_RETRY_S = 0.01


def _is_corruption(exc: sqlite3.Error) -> bool:
    # Errors raised by the module itself (a closed connection, a misuse) carry no SQLite code.
    code = getattr(exc, "sqlite_errorcode", None)
    return code is not None and (code & 0xFF) in (_SQLITE_CORRUPT, _SQLITE_NOTADB)


@contextlib.contextmanager
def _corruption_as_store_corrupt(path: Path) -> Iterator[None]:
    """Turn SQLite's "malformed"/"not a database" into ``StoreCorrupt``; other errors pass."""
    try:
        yield
    except sqlite3.DatabaseError as exc:
        if _is_corruption(exc):
            raise StoreCorrupt(f"{path}: {exc}") from exc
        raise


def _check_text(rows: Sequence[Sequence[object]]) -> str:
    """``"ok"`` or the problems SQLite listed, on one line for the health status."""
    messages = [" ".join(str(row[0]).split()) for row in rows]
    return "; ".join(messages) if messages else "no result"


def _run_check(conn: sqlite3.Connection, pragma: str) -> str:
    try:
        return _check_text(conn.execute(pragma).fetchall())
    except sqlite3.DatabaseError as exc:
        # A damaged page can make the check itself fail; that is its answer, not a crash.
        return f"check failed: {exc}"


PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
_SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


def private_dir(path: Path) -> Path:
    """Create ``path`` 0700 (and missing parents), or tighten an existing one that others can
    read, with a warning: the entry log names residents and where they live, whatever the umask
    of the shell that started the gate."""
    path.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    _tighten(path)
    return path


def _private_db_file(path: Path) -> None:
    """Create the database file 0600 before SQLite does (SQLite gives its ``-wal`` and ``-shm``
    the database file's mode), and tighten an existing database and its side files."""
    try:
        os.close(os.open(path, os.O_RDONLY | os.O_CREAT, PRIVATE_FILE_MODE))
        for each in (path, *(path.with_name(path.name + side) for side in _SQLITE_SIDE_FILES)):
            if each.exists():
                _tighten(each)
    except OSError as exc:
        raise StoreError(f"cannot create {path}: {exc}") from exc


def _owners_own_group(info: os.stat_result) -> bool:
    """Whether the group is the owner's private group (kakou:kakou, as systemd's
    ``StateDirectoryMode=0750`` makes it): group access then reaches nobody else."""
    try:
        owner = pwd.getpwuid(info.st_uid)
        group = grp.getgrgid(info.st_gid)
    except KeyError:
        return False
    return owner.pw_gid == info.st_gid and set(group.gr_mem) <= {owner.pw_name}


def _tighten(path: Path) -> None:
    """Take away what others (and a shared group) may do with ``path``; only a path this process
    owns, and never a shared sticky folder such as /tmp, which is reported instead."""
    info = path.stat()
    mode = stat.S_IMODE(info.st_mode)
    loose = mode & (0o007 if _owners_own_group(info) else 0o077)
    if not loose:
        return
    if info.st_uid != os.geteuid() or mode & stat.S_ISVTX:
        log.warning("%s is readable by others (mode %03o) and not ours to change", path, mode)
        return
    path.chmod(mode & ~loose)
    log.warning("%s was readable by others (mode %03o); set to %03o", path, mode, mode & ~loose)


def _connect(path: Path, target: str, *, uri: bool, busy_timeout_ms: int) -> sqlite3.Connection:
    """Open a connection and set the pragmas the durability rule needs (they are per connection).

    ``isolation_level=None`` turns off the sqlite3 module's implicit transactions: every
    transaction is an explicit ``db.atomic()`` (or BEGIN IMMEDIATE for migrations).
    """
    try:
        conn = sqlite3.connect(
            target,
            uri=uri,
            check_same_thread=False,  # one connection shared by lane and console, behind a lock
            isolation_level=None,
            timeout=busy_timeout_ms / 1000,
        )
    except sqlite3.Error as exc:
        if exc.sqlite_errorcode & 0xFF == _SQLITE_CANTOPEN and not path.exists():
            raise StoreNotFound(f"no entry log at {path}") from exc
        raise StoreError(f"cannot open {path}: {exc}") from exc
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        mode = _enable_wal(conn, busy_timeout_ms)
        if mode != "wal":
            raise StoreError(f"SQLite refused WAL mode (journal_mode is {mode!r})")
        # FULL: WAL is synced at every commit, so a committed entry survives power loss.
        # NORMAL may lose the last commits, which here would be entries for opened gates.
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
    except sqlite3.DatabaseError as exc:
        conn.close()
        if _is_corruption(exc):
            raise StoreCorrupt(f"{path} is not a usable SQLite database: {exc}") from exc
        raise StoreError(f"cannot set up {path}: {exc}") from exc
    except BaseException:
        conn.close()
        raise
    return conn


def _enable_wal(conn: sqlite3.Connection, busy_timeout_ms: int) -> str:
    """Switch to WAL (a no-op once the file is in WAL mode) and return the journal mode.

    Converting a new file needs an exclusive lock, and SQLite reports BUSY for it without calling
    the busy handler, so two processes creating the file at once would fail; retry until the
    busy timeout instead.
    """
    deadline_s = time.monotonic() + busy_timeout_ms / 1000
    while True:
        try:
            return str(conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]).lower()
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF != _SQLITE_BUSY or time.monotonic() > deadline_s:
                raise
            time.sleep(_WAL_RETRY_S)


class Store:
    """The SQLite entry log of one gate, bound to its community and gate identity."""

    def __init__(
        self,
        db: Database,
        *,
        path: Path,
        community: str,
        gate: str,
        integrity: str,
        now: Callable[[], datetime],
    ) -> None:
        """Use ``Store.open`` or ``Store.open_existing``; this only wires the parts together."""
        self._db = db
        self._lock = threading.RLock()
        self._now = now
        self.path = path
        self.community = community
        self.gate = gate
        self.integrity = integrity
        """``"ok"``, what the last integrity check found, or ``"not checked"`` (health status)."""

    # ------------------------------------------------------------------------------ opening

    @classmethod
    def open(
        cls,
        path: Path,
        *,
        community: str,
        gate: str,
        check_integrity: bool = True,
        busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
        now: Callable[[], datetime] = _utc_now,
    ) -> Store:
        """Open (creating it 0600, and its directory 0700, if needed) the log for this community
        and gate.

        Runs ``PRAGMA quick_check`` unless told not to, then any pending migration. A damaged file
        opens with ``store.integrity`` saying what is wrong, and the caller decides: the safe
        course is to report it and move the file aside. ``StoreCorrupt`` is raised when the file
        cannot be read at all, or when it is damaged and still needs a migration (we never write
        a new schema into a damaged file).
        """
        if not community or not gate:
            raise ValueError("community and gate must be non-empty")
        if not path.parent.is_dir():  # an existing folder is the caller's (boot: private_dir)
            path.parent.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
        _private_db_file(path)
        conn = _connect(path, str(path), uri=False, busy_timeout_ms=busy_timeout_ms)
        return cls._prepare(
            conn,
            path=path,
            identity=(community, gate),
            check_integrity=check_integrity,
            now=now,
        )

    @classmethod
    def open_existing(
        cls,
        path: Path,
        *,
        check_integrity: bool = True,
        busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
        now: Callable[[], datetime] = _utc_now,
    ) -> Store:
        """Open a log the service created, for tools: never creates a file or a directory.

        The community and gate are those the service last opened the file with. Raises
        ``StoreNotFound`` when there is no file, ``StoreError`` when the file was never opened by
        ``Store.open``.
        """
        if not path.is_file():
            raise StoreNotFound(f"no entry log at {path}")
        # mode=rw: SQLite itself refuses to create the file, even if it vanished just now.
        target = f"file:{urllib.request.pathname2url(str(path.absolute()))}?mode=rw"
        conn = _connect(path, target, uri=True, busy_timeout_ms=busy_timeout_ms)
        return cls._prepare(
            conn, path=path, identity=None, check_integrity=check_integrity, now=now
        )

    @classmethod
    def _prepare(
        cls,
        conn: sqlite3.Connection,
        *,
        path: Path,
        identity: tuple[str, str] | None,
        check_integrity: bool,
        now: Callable[[], datetime],
    ) -> Store:
        """Check, migrate and bind an open connection; closes it on any failure."""
        try:
            integrity = (
                _run_check(conn, f"PRAGMA quick_check({_QUICK_CHECK_MAX_ERRORS})")
                if check_integrity
                else "not checked"
            )
            try:
                # execute_plugins=False: no third-party sqlite-utils plugin runs in the gate.
                db = Database(conn, execute_plugins=False)
                pending = pending_migrations(db)
                if pending and integrity not in ("ok", "not checked"):
                    raise StoreCorrupt(
                        f"{path} is damaged ({integrity}) and needs schema version "
                        f"{LATEST_VERSION}; refusing to migrate a damaged file"
                    )
                migrate(db, now=now())
            except sqlite3.DatabaseError as exc:
                if _is_corruption(exc):
                    raise StoreCorrupt(f"{path}: cannot read the schema: {exc}") from exc
                raise
            store = cls(
                db,
                path=path,
                community="",
                gate="",
                integrity=integrity,
                now=now,
            )
            store._bind_identity(identity)
        except BaseException:
            conn.close()
            raise
        return store

    def _bind_identity(self, identity: tuple[str, str] | None) -> None:
        if identity is None:
            community = self.get_meta(_META_COMMUNITY)
            gate = self.get_meta(_META_GATE)
            if not community or not gate:
                raise StoreError(f"{self.path} has no gate identity; the service never opened it")
            self.community, self.gate = community, gate
            return
        self.community, self.gate = identity
        if (self.get_meta(_META_COMMUNITY), self.get_meta(_META_GATE)) != identity:
            with self._writing():
                self._set_meta_locked(_META_COMMUNITY, self.community)
                self._set_meta_locked(_META_GATE, self.gate)

    def close(self) -> None:
        """Close the connection; SQLite checkpoints the WAL into the main file."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Store {self.path} {self.community}/{self.gate}>"

    # ------------------------------------------------------------- access for this package

    @contextlib.contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        """The connection, under the lock (reads from several threads share one connection)."""
        with self._lock, _corruption_as_store_corrupt(self.path):
            yield self._db.conn

    @contextlib.contextmanager
    def _writing(self) -> Iterator[Database]:
        """One transaction under the lock: everything inside commits together or not at all."""
        with self._lock, _corruption_as_store_corrupt(self.path), self._db.atomic():
            yield self._db

    def _fetch(self, sql: str, params: Sequence[SqlValue] = ()) -> list[Row]:
        with self._reading() as conn:
            cursor = conn.execute(sql, params)
            columns = [column[0] for column in cursor.description]
            return [dict(zip(columns, values, strict=True)) for values in cursor.fetchall()]

    def _scalar(self, sql: str, params: Sequence[SqlValue] = ()) -> SqlValue:
        with self._reading() as conn:
            row = conn.execute(sql, params).fetchone()
        return None if row is None else row[0]

    def _entry(self, row: Mapping[str, SqlValue]) -> Entry:
        try:
            return entry_from_row(row)
        except DocumentError as exc:
            raise StoreCorrupt(f"entry row {row.get('id')!r} is unreadable: {exc}") from exc

    # -------------------------------------------------------------------------- health

    def integrity_check(self) -> str:
        """Run the full ``PRAGMA integrity_check`` now (slower than the start-up quick check)."""
        with self._reading() as conn:
            self.integrity = _run_check(conn, f"PRAGMA integrity_check({_QUICK_CHECK_MAX_ERRORS})")
        return self.integrity

    def pragmas(self) -> dict[str, SqlValue]:
        """The connection's durability settings, for the health status and for tests."""
        with self._reading() as conn:
            return {
                name: conn.execute(f"PRAGMA {name}").fetchone()[0]
                for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
            }

    def schema_version(self) -> int:
        """The schema version of the file (``migrations.LATEST_VERSION`` once opened)."""
        with self._lock:
            return schema_version(self._db)

    # ------------------------------------------------------------------------- entries

    def record_entry(
        self,
        draft: EntryDraft,
        *,
        boot_id: str,
        recorded_at: datetime,
        extra: Mapping[str, str] | None = None,
    ) -> Entry:
        """Commit one entry with its outbox row and the gate's next sequence number.

        Durable on return (WAL fsynced at commit): the lane opens the gate only after this
        returns. On any error nothing is written and no sequence number is used.
        """
        extra_fields = {**dict(draft.extra), **dict(extra or {})}
        draft = replace(draft, extra=())  # one home for extra facts: Entry.extra
        with self._writing() as db:
            (seq,) = db.execute(_NEXT_SEQ_SQL, [self.community, self.gate]).fetchone()
            entry = Entry(
                id=str(uuid7(epoch_us(recorded_at, "recorded_at") // 1000)),
                seq=int(seq),
                schema_version=ENTRY_SCHEMA_VERSION,
                community=self.community,
                gate=self.gate,
                boot_id=boot_id,
                recorded_at=recorded_at,
                draft=draft,
                extra=extra_fields,
            )
            db.execute(_INSERT_ENTRY_SQL, entry_to_row(entry))
            db.execute(
                "INSERT INTO outbox (entry_id, community, gate, seq, queued_at) "
                "VALUES (?, ?, ?, ?, ?)",
                [entry.id, entry.community, entry.gate, entry.seq, recorded_at.isoformat()],
            )
        return entry

    def entries(
        self,
        *,
        limit: int = 100,
        after_seq: int | None = None,
        before_seq: int | None = None,
        newest_first: bool = False,
        **filters: Unpack[EntryFilters],
    ) -> list[Entry]:
        """This gate's entries in sequence order, filtered; keyset pages by seq.

        ``since`` (inclusive) and ``until`` (exclusive) bound the decision time. For the next
        page pass the last seq seen as ``after_seq`` (or ``before_seq`` with ``newest_first``).
        """
        if limit < 1:
            raise ValueError("limit must be 1 or more")
        conditions = self.entry_filters(**filters)
        for clause, value in (("seq > ?", after_seq), ("seq < ?", before_seq)):
            if value is not None:
                conditions.append((clause, (value,)))
        clauses = [clause for clause, _ in conditions]
        params: list[SqlValue] = [value for _, values in conditions for value in values]
        order = "DESC" if newest_first else "ASC"
        params.append(limit)
        # The clauses are the fixed strings above; every value is a bound parameter.
        where = " AND ".join(clauses)
        rows = self._fetch(
            f"SELECT * FROM entries WHERE {where} ORDER BY seq {order} LIMIT ?",  # noqa: S608
            params,
        )
        return [self._entry(row) for row in rows]

    def entry_filters(
        self, **filters: Unpack[EntryFilters]
    ) -> list[tuple[str, tuple[SqlValue, ...]]]:
        """WHERE clauses with their bound values for this gate's entries (entries, exports).

        A time bound also becomes a seq bound (the first or last seq inside it), so SQLite walks
        the seq index from there and stops after `limit` rows; ordering the time index's rows
        by seq would sort every row since `since` (the whole log for an old one). The "+" keeps
        the outer query off the time index. The bound stays exact if the clock stepped back,
        being a min/max over the range.
        """
        since, until = filters.get("since"), filters.get("until")
        outcome = filters.get("outcome")
        gate = (self.community, self.gate)
        clauses: list[tuple[str, tuple[SqlValue, ...]]] = [("community = ? AND gate = ?", gate)]
        if since is not None and until is not None:
            window = (epoch_us(since, "since"), epoch_us(until, "until"))
            clauses.append(("+decided_at_us >= ? AND +decided_at_us < ?", window))
            clauses.append((_FIRST_SEQ_WITHIN, (*gate, *window)))
            clauses.append((_LAST_SEQ_WITHIN, (*gate, *window)))
        elif since is not None:
            since_us = epoch_us(since, "since")
            clauses.append(("+decided_at_us >= ?", (since_us,)))
            clauses.append((_FIRST_SEQ_SINCE, (*gate, since_us)))
        elif until is not None:
            until_us = epoch_us(until, "until")
            clauses.append(("+decided_at_us < ?", (until_us,)))
            clauses.append((_LAST_SEQ_UNTIL, (*gate, until_us)))
        for clause, value in (
            ("outcome = ?", None if outcome is None else outcome.value),
            ("pass_id = ?", filters.get("pass_id")),
            ("household = ?", filters.get("household")),
            ("lane = ?", filters.get("lane")),
        ):
            if value is not None:
                clauses.append((clause, (value,)))
        return clauses

    def get_entry(self, entry_id: str) -> Entry | None:
        """One entry by id (any gate of this file), or None."""
        rows = self._fetch("SELECT * FROM entries WHERE id = ?", [entry_id])
        return self._entry(rows[0]) if rows else None

    def entry_count(self) -> int:
        """How many of this gate's entries the edge still holds (purged ones are gone)."""
        count = self._scalar(
            "SELECT count(*) FROM entries WHERE community = ? AND gate = ?",
            [self.community, self.gate],
        )
        return int(count or 0)

    def last_seq(self) -> int:
        """The last sequence number this gate used (0 before its first entry), purges included."""
        value = self._scalar(
            "SELECT last_seq FROM sequences WHERE community = ? AND gate = ?",
            [self.community, self.gate],
        )
        return int(value or 0)

    # ------------------------------------------------------------------- policy history

    def last_passed_direction(self, pass_id: str) -> Direction | None:
        """Direction of the pass's latest entry that let it through (anti-passback), or None."""
        value = self._scalar(LAST_PASSED_DIRECTION_SQL, [pass_id])
        return None if value is None else Direction(str(value))

    def household_exits(self, household: str, since: datetime) -> int:
        """Exits of the household (passed or let through by a guard) decided at or after
        ``since``: the exit quota."""
        return int(self._scalar(HOUSEHOLD_EXITS_SQL, [household, epoch_us(since, "since")]) or 0)

    # -------------------------------------------------------------------- trust material

    def put_trusted_key(self, kid: str, pem: bytes, source: str) -> str | None:
        """Trust an Ed25519 public key under ``kid``; raises ``ValueError`` for a bad key.

        Returns what changed, as audited: 'added', 'replaced' (another key under this id),
        'moved' (the same key, now from ``source``), or None. A key revoked earlier stays
        revoked when it is put again: configuration reloaded at every start must not undo a
        revocation that arrived over the network.
        """
        try:  # refuse now, with a clear message, rather than skip the row at every read
            _parse_ed25519_pem(pem)
            pem_text = pem.decode("ascii")
        except (ValueError, UnicodeError) as exc:
            raise ValueError(f"trusted key {kid!r} from {source}: {exc}") from exc
        with self._writing() as db:
            old = db.execute(
                "SELECT public_key_pem, source, revoked FROM trusted_keys WHERE kid = ?", [kid]
            ).fetchone()
            if old is not None and old[2]:
                log.info("trusted key %s from %s stays revoked", kid, source)
                return None
            if old is None:
                action = "added"
            elif old[0] != pem_text:
                action = "replaced"
            elif old[1] != source:
                action = "moved"
            else:
                return None
            db.execute(
                """
                INSERT INTO trusted_keys (kid, public_key_pem, source, added_at)
                VALUES (?, ?, ?, ?)
                ON CONFLICT (kid) DO UPDATE SET
                    public_key_pem = excluded.public_key_pem,
                    source = excluded.source,
                    added_at = excluded.added_at
                """,
                [kid, pem_text, source, self._now().isoformat()],
            )
            detail = "" if old is None else f"was from {old[1]}"
            self._audit_trust_locked(kid, source, action, detail)
        return action

    def revoke_trusted_key(self, kid: str, source: str = "operator") -> bool:
        """Stop trusting ``kid`` for good (``source`` says who); True if it was trusted till now."""
        with self._writing() as db:
            cursor = db.execute(
                "UPDATE trusted_keys SET revoked = 1 WHERE kid = ? AND revoked = 0", [kid]
            )
            if cursor.rowcount > 0:
                self._audit_trust_locked(kid, source, "revoked", "")
                return True
            return False

    def retire_trusted_keys(self, source_prefix: str, keep: Collection[str]) -> list[str]:
        """Drop every unrevoked key whose source starts with ``source_prefix`` and whose id is
        not in ``keep``; returns their ids. A retired key is gone, so putting it back later
        trusts it again; a revoked key's row stays, so its revocation outlives the file."""
        with self._writing() as db:
            rows = db.execute(
                "SELECT kid, source FROM trusted_keys"
                " WHERE revoked = 0 AND substr(source, 1, ?) = ? ORDER BY kid",
                [len(source_prefix), source_prefix],
            ).fetchall()
            gone = [(str(kid), str(source)) for kid, source in rows if kid not in keep]
            for kid, source in gone:
                db.execute("DELETE FROM trusted_keys WHERE kid = ?", [kid])
                self._audit_trust_locked(kid, source, "retired", "no longer configured")
        return [kid for kid, _ in gone]

    def trusted_keys(self) -> dict[str, Ed25519PublicKey]:
        """Every trusted, unrevoked key by kid. A row that does not parse is logged and skipped."""
        keys: dict[str, Ed25519PublicKey] = {}
        for row in self._fetch(
            "SELECT kid, public_key_pem, source FROM trusted_keys WHERE revoked = 0 ORDER BY kid"
        ):
            kid, pem, source = str(row["kid"]), row["public_key_pem"], row["source"]
            try:
                keys[kid] = _parse_ed25519_pem(str(pem).encode("ascii"))
            except (ValueError, UnicodeError) as exc:
                log.error("skipping trusted key %s from %s: %s", kid, source, exc)
        return keys

    def trusted_key_list(self) -> list[TrustedKey]:
        """Every row of the trust store, revoked ones included, by kid."""
        return [
            TrustedKey(
                kid=str(row["kid"]),
                source=str(row["source"]),
                added_at=str(row["added_at"]),
                revoked=bool(row["revoked"]),
                fingerprint=_fingerprint(str(row["public_key_pem"])),
            )
            for row in self._fetch(
                "SELECT kid, public_key_pem, source, added_at, revoked FROM trusted_keys"
                " ORDER BY kid"
            )
        ]

    def trust_changes(self, limit: int = 50) -> list[TrustChange]:
        """The latest ``limit`` lines of the trust audit, newest first."""
        return [
            TrustChange(*(str(value) for value in row.values()))
            for row in self._fetch(
                "SELECT at, kid, source, action, detail FROM trust_changes"
                " ORDER BY id DESC LIMIT ?",
                [limit],
            )
        ]

    def trust_report(self, limit: int = 50) -> TrustReport:
        """The trust set with sources and the recent changes, for the console's status page."""
        return TrustReport(self.trusted_key_list(), self.trust_changes(limit))

    def _audit_trust_locked(self, kid: str, source: str, action: str, detail: str) -> None:
        self._db.execute(
            "INSERT INTO trust_changes (at, kid, source, action, detail) VALUES (?, ?, ?, ?, ?)",
            [self._now().isoformat(), kid, source, action, detail],
        )
        level = logging.INFO if action == "added" else logging.WARNING
        log.log(level, "trusted key %s %s (source %s) %s", kid, action, source, detail)

    def add_revocations(self, pass_ids: Iterable[str], source: str) -> int:
        """Revoke passes; returns how many were not revoked before."""
        at = self._now().isoformat()
        with self._writing() as db:
            cursor = db.conn.executemany(
                "INSERT OR IGNORE INTO revocations (pass_id, source, added_at) VALUES (?, ?, ?)",
                [(pass_id, source, at) for pass_id in pass_ids],
            )
            return max(cursor.rowcount, 0)

    def replace_revocations(self, pass_ids: Iterable[str], source: str) -> RevocationChange:
        """Make ``pass_ids`` the full list of revocations that came from ``source``.

        Revocations from other sources stay: a full list from the community server does not
        undo a revocation typed into this gate's configuration, and the reverse.
        """
        wanted = set(pass_ids)
        at = self._now().isoformat()
        with self._writing() as db:
            held = {
                str(pass_id)
                for (pass_id,) in db.conn.execute(
                    "SELECT pass_id FROM revocations WHERE source = ?", [source]
                )
            }
            stale = sorted(held - wanted)
            db.conn.executemany(
                "DELETE FROM revocations WHERE source = ? AND pass_id = ?",
                [(source, pass_id) for pass_id in stale],
            )
            # An id another source already revoked stays under that source (INSERT OR IGNORE).
            added = db.conn.executemany(
                "INSERT OR IGNORE INTO revocations (pass_id, source, added_at) VALUES (?, ?, ?)",
                [(pass_id, source, at) for pass_id in sorted(wanted - held)],
            ).rowcount
        return RevocationChange(added=max(added, 0), removed=len(stale))

    def revoked_ids(self) -> frozenset[str]:
        """Every revoked pass id, whatever its source."""
        return frozenset(
            str(row["pass_id"]) for row in self._fetch("SELECT pass_id FROM revocations")
        )

    # ---------------------------------------------------------------------------- meta

    def get_meta(self, key: str) -> str | None:
        """A small setting kept with the log (e.g. the revocation list's version)."""
        value = self._scalar("SELECT value FROM meta WHERE key = ?", [key])
        return None if value is None else str(value)

    def set_meta(self, key: str, value: str) -> None:
        """Set a meta value; committed on return."""
        with self._writing():
            self._set_meta_locked(key, value)

    def meta_updated_at(self, key: str) -> datetime | None:
        """When ``key`` was last set, or None."""
        value = self._scalar("SELECT updated_at FROM meta WHERE key = ?", [key])
        return None if value is None else datetime.fromisoformat(str(value))

    def _set_meta_locked(self, key: str, value: str) -> None:
        self._db.execute(
            """
            INSERT INTO meta (key, value, updated_at) VALUES (?, ?, ?)
            ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
            """,
            [key, value, self._now().isoformat()],
        )


def _fingerprint(pem: str) -> str:
    try:
        return fingerprint(_parse_ed25519_pem(pem.encode("ascii")))
    except (ValueError, UnicodeError):
        return "unreadable"


def _parse_ed25519_pem(pem: bytes) -> Ed25519PublicKey:
    try:
        key = load_pem_public_key(pem)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise ValueError(f"not a PEM public key: {exc}") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"not an Ed25519 key but {type(key).__name__}")
    return key
