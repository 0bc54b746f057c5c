"""The alarm book: alarms raised at the gate and the guard who acknowledged each, kept in the store.

An alarm is evidence like an entry (schema v4): it is raised, shown until a named guard
acknowledges it, and never deleted here. One alarm per lane and kind is open at a time: a fever
alarm repeated while the first is still showing is the same alarm, not a second row. An
acknowledgement is final; acknowledging again keeps the first guard, time and note. A fever's
acknowledgement must say what was done (``NOTE_REQUIRED_KINDS``), so the ledger shows it.
Times are stored as ISO text in UTC, like the rest of the store, so they sort as text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

from edge.store import Store
from edge.store.ids import uuid7
from edge.store.records import SqlValue

MAX_DETAIL_CHARS = 500
"""Longer details are cut: the board shows a line, the full story is in the journal."""

_COLUMNS = "id, lane, kind, detail, raised_at, acked_by, acked_at, ack_note"
_OPEN_FOR_SQL = (
    f"SELECT {_COLUMNS} FROM alarms WHERE lane = ? AND kind = ? AND acked_at IS NULL "  # noqa: S608
    "ORDER BY raised_at LIMIT 1"
)
_BY_ID_SQL = f"SELECT {_COLUMNS} FROM alarms WHERE id = ?"  # noqa: S608
MAX_NOTE_CHARS = 200
"""An acknowledgement's note is one line in the ledger: what was done, not the whole story."""
# Kinds where each occurrence is a person to report, never folded into an open alarm.
EACH_EVENT_KINDS = frozenset({"fever", "fever_unconfirmed"})
NOTE_REQUIRED_KINDS = EACH_EVENT_KINDS
"""Kinds acknowledged only with a note: each is a person with a fever, and the fever protocol
(hold, re-measure, report) wants the ledger to say which of it was done."""


@dataclass(frozen=True, slots=True)
class Alarm:
    """One alarm as raised, and its acknowledgement once a guard gave it."""

    id: str
    lane: str
    kind: str
    detail: str
    raised_at: datetime
    acked_by: str | None = None
    acked_at: datetime | None = None
    ack_note: str | None = None

    @property
    def is_open(self) -> bool:
        return self.acked_at is None


class NoteRefused(ValueError):  # noqa: N818  (named for the condition, like StoreCorrupt)
    """A note that cannot acknowledge the alarm; ``code`` is ``note_required`` or
    ``note_too_long``, for the console to say in the guard's language. The alarm stays open."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class Raised(NamedTuple):
    """What ``raise_alarm`` did: ``new`` is False when the same alarm was already open."""

    alarm: Alarm
    new: bool


def new_alarm_id(at: datetime) -> str:
    """A time-ordered id (UUIDv7), so a caller can show an alarm before the store has it."""
    return str(uuid7(int(_utc(at, "at").timestamp() * 1000)))


def _utc(at: datetime, name: str) -> datetime:
    if at.tzinfo is None:
        raise ValueError(f"{name} must carry a time zone, got {at!r}")
    return at.astimezone(UTC)


def _optional_time(value: SqlValue) -> datetime | None:
    return None if value is None else datetime.fromisoformat(str(value))


def _alarm(row: dict[str, Any] | tuple[Any, ...]) -> Alarm:
    values = tuple(row.values()) if isinstance(row, dict) else row
    alarm_id, lane, kind, detail, raised_at, acked_by, acked_at, ack_note = values
    return Alarm(
        id=str(alarm_id),
        lane=str(lane),
        kind=str(kind),
        detail=str(detail),
        raised_at=datetime.fromisoformat(str(raised_at)),
        acked_by=None if acked_by is None else str(acked_by),
        acked_at=_optional_time(acked_at),
        ack_note=None if ack_note is None else str(ack_note),
    )


class AlarmBook:
    """The store's ``alarms`` table; every method is one transaction (or one read)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def raise_alarm(
        self, lane: str, kind: str, detail: str, *, at: datetime, alarm_id: str | None = None
    ) -> Raised:
        """Record an alarm, unless one of this lane and kind is still open (that one is returned).

        A fever is the exception (``EACH_EVENT_KINDS``): every feverish person is reported, so
        each is an alarm of its own; only the same ``alarm_id`` twice is one.

        ``alarm_id`` lets the caller keep the id it already showed; by default one is made.
        """
        if not kind:
            raise ValueError("an alarm needs a kind")
        raised_at = _utc(at, "at")
        alarm = Alarm(
            id=alarm_id or new_alarm_id(raised_at),
            lane=lane,
            kind=kind,
            detail=detail[:MAX_DETAIL_CHARS],
            raised_at=raised_at,
        )
        with self._store._writing() as db:
            # Checked and inserted in one write transaction: two raisers cannot both insert.
            if kind in EACH_EVENT_KINDS:
                existing = db.execute(_BY_ID_SQL, [alarm.id]).fetchone()
            else:
                existing = db.execute(_OPEN_FOR_SQL, [lane, kind]).fetchone()
            if existing is not None:
                return Raised(_alarm(existing), new=False)
            db.execute(
                f"INSERT INTO alarms ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, NULL, NULL, NULL)",  # noqa: S608
                [alarm.id, alarm.lane, alarm.kind, alarm.detail, raised_at.isoformat()],
            )
        return Raised(alarm, new=True)

    def acknowledge(
        self, alarm_id: str, guard_id: str, *, at: datetime, note: str = ""
    ) -> Alarm | None:
        """Acknowledge an alarm for ``guard_id`` (an existing guard); None for an unknown id.

        Final: an alarm acknowledged before keeps its first guard, time and note. The note is
        trimmed; ``NoteRefused`` when it is longer than ``MAX_NOTE_CHARS``, or empty for a kind
        in ``NOTE_REQUIRED_KINDS``.
        """
        acked_at = _utc(at, "at")
        note = note.strip()
        with self._store._writing() as db:
            # Read and written in one transaction: the kind checked is the alarm's own.
            row = db.execute(_BY_ID_SQL, [alarm_id]).fetchone()
            alarm = None if row is None else _alarm(row)
            if alarm is None or not alarm.is_open:
                return alarm
            if len(note) > MAX_NOTE_CHARS:
                raise NoteRefused("note_too_long", f"at most {MAX_NOTE_CHARS} characters")
            if not note and alarm.kind in NOTE_REQUIRED_KINDS:
                raise NoteRefused(
                    "note_required", f"a {alarm.kind} alarm needs a note of what was done"
                )
            db.execute(
                "UPDATE alarms SET acked_by = ?, acked_at = ?, ack_note = ? "
                "WHERE id = ? AND acked_at IS NULL",
                [guard_id, acked_at.isoformat(), note, alarm_id],
            )
            row = db.execute(_BY_ID_SQL, [alarm_id]).fetchone()
        return _alarm(row)

    def get(self, alarm_id: str) -> Alarm | None:
        rows = self._store._fetch(_BY_ID_SQL, [alarm_id])
        return _alarm(rows[0]) if rows else None

    def open_alarms(self) -> list[Alarm]:
        """Alarms no guard has acknowledged yet, oldest first (the board's order)."""
        rows = self._store._fetch(
            f"SELECT {_COLUMNS} FROM alarms WHERE acked_at IS NULL ORDER BY raised_at, id"  # noqa: S608
        )
        return [_alarm(row) for row in rows]

    def each_event_alarms(
        self, *, since: datetime | None = None, until: datetime | None = None
    ) -> list[Alarm]:
        """The fever alarms (``EACH_EVENT_KINDS``) raised in [``since``, ``until``), open and
        acknowledged, oldest first: the fever ledger finds each entry's acknowledgement here."""
        kinds = sorted(EACH_EVENT_KINDS)
        clauses = [f"kind IN ({', '.join('?' * len(kinds))})"]
        params: list[SqlValue] = [*kinds]
        if since is not None:
            clauses.append("raised_at >= ?")
            params.append(_utc(since, "since").isoformat())
        if until is not None:
            clauses.append("raised_at < ?")
            params.append(_utc(until, "until").isoformat())
        # The clauses are fixed strings; every value is a bound parameter.
        rows = self._store._fetch(
            f"SELECT {_COLUMNS} FROM alarms WHERE {' AND '.join(clauses)} "  # noqa: S608
            "ORDER BY raised_at, id",
            params,
        )
        return [_alarm(row) for row in rows]

    def recent(self, *, limit: int = 100) -> list[Alarm]:
        """The latest alarms, open and acknowledged, newest first."""
        if limit < 1:
            raise ValueError("limit must be 1 or more")
        rows = self._store._fetch(
            f"SELECT {_COLUMNS} FROM alarms ORDER BY raised_at DESC, id DESC LIMIT ?",  # noqa: S608
            [limit],
        )
        return [_alarm(row) for row in rows]
