"""The gates' alerts as the office reads and acknowledges them (stored by the receiver in
``office_alerts``, sync/receiver/alerts.py).

A fever names the person and the readings: from the fever's entry when it has arrived (the
nearest entry of that gate and lane within ``ENTRY_WINDOW`` of the alert), else from the alert's
own detail ("王*华, household 3-2-501; readings °C: 38.1, 37.9"). Names are shown masked,
whatever the gate sent. An officer acknowledges an alert with a note; the acknowledgement and its
audit line are one transaction, and an alert is acknowledged once.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from edge.entry_document import epoch_us
from sync.office import audit
from sync.office.accounts import Officer
from sync.office.where import Where
from sync.receiver import alerts as stored_alerts
from sync.receiver.db import Query, ReceiverDb

FEVER_KINDS = ("fever", "fever_unconfirmed")
DEVICE_KINDS = ("device_down", "lane_down", "store_failed", "disk_filling", "door_forced", "other")
"""Open alerts of these kinds are the gate's device alarms on the gates page."""
ENTRY_WINDOW = timedelta(minutes=5)
MAX_NOTE_CHARS = 200
PAGE = 100
_FEVER_DETAIL = re.compile(
    r"(?:(?P<holder>[^,;]*), )?household (?P<unit>.*?); readings °C: (?P<readings>.*)"
)
_COLUMNS = (
    "row_id, id, community, gate, lane, kind, source_kind, detail, at, received_at, acked_at, "
    "acked_by_name, ack_note"
)


def ensure_schema(db: ReceiverDb) -> None:
    stored_alerts.ensure_schema(db)


def mask_name(name: str | None) -> str:
    """A name as lists show it: its first character, then one ``*`` for each of the rest
    (a name the gate already masked stays as it is)."""
    if not name:
        return ""
    name = name.strip()
    if "*" in name or len(name) < 2:
        return name
    return name[0] + "*" * (len(name) - 1)


@dataclass(frozen=True, slots=True)
class Person:
    """Who a fever was, and their readings (°C, as measured, in order)."""

    holder: str
    household: str
    readings: tuple[float, ...]
    pass_id: str | None = None
    from_entry: bool = False


@dataclass(frozen=True, slots=True)
class AlertView:
    row_id: int
    id: str
    community: str
    gate: str
    lane: str | None
    kind: str
    source_kind: str | None
    detail: str
    at: datetime
    received_at: datetime
    acked_at: datetime | None
    acked_by: str | None
    note: str | None
    person: Person | None = None

    @property
    def open(self) -> bool:
        return self.acked_at is None

    @property
    def fever(self) -> bool:
        return self.kind in FEVER_KINDS


class AlertProblem(ValueError):  # noqa: N818  (named for the condition)
    """An acknowledgement that cannot be made: ``unknown``, ``already`` or ``note``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _time(text: object) -> datetime:
    return datetime.fromisoformat(str(text))


def _person_from_detail(detail: str) -> Person | None:
    found = _FEVER_DETAIL.fullmatch(detail)
    if found is None:
        return None
    readings: list[float] = []
    for part in found["readings"].split(","):
        try:
            readings.append(float(part))
        except ValueError:
            continue
    return Person(mask_name(found["holder"]), found["unit"], tuple(readings))


def _person_from_entry(document: str) -> Person:
    entry: dict[str, Any] = json.loads(document)
    temperatures = entry.get("temperatures") or []
    return Person(
        holder=mask_name(entry.get("holder")),
        household=str(entry.get("household") or ""),
        readings=tuple(float(t["body_c"]) for t in temperatures),
        pass_id=(entry.get("pass") or {}).get("id"),
        from_entry=True,
    )


def _fever_entry(q: Query, row: Sequence[Any]) -> str | None:
    """The document of the entry this fever alert is about, if it has arrived."""
    at_us = epoch_us(_time(row[8]))
    window_us = int(ENTRY_WINDOW.total_seconds() * 1_000_000)
    outcome = "AND outcome = 'fever'" if row[5] == "fever" else ""
    lane = "AND lane = ?" if row[4] else ""
    params: list[Any] = [row[2], row[3], at_us - window_us, at_us + window_us]
    if row[4]:
        params.append(row[4])
    found = q.one(
        "SELECT document FROM entries WHERE community = ? AND gate = ? "  # noqa: S608
        f"AND decided_at_us >= ? AND decided_at_us <= ? {outcome} {lane} "
        "ORDER BY abs(decided_at_us - ?) LIMIT 1",
        [*params, at_us],
    )
    return None if found is None else str(found[0])


def _view(q: Query, row: Sequence[Any]) -> AlertView:
    person = None
    if row[5] in FEVER_KINDS:
        document = _fever_entry(q, row)
        person = _person_from_entry(document) if document else _person_from_detail(str(row[7]))
    return AlertView(
        row_id=int(row[0]),
        id=str(row[1]),
        community=str(row[2]),
        gate=str(row[3]),
        lane=None if row[4] is None else str(row[4]),
        kind=str(row[5]),
        source_kind=None if row[6] is None else str(row[6]),
        detail=str(row[7]),
        at=_time(row[8]),
        received_at=_time(row[9]),
        acked_at=None if row[10] is None else _time(row[10]),
        acked_by=None if row[11] is None else str(row[11]),
        note=None if row[12] is None else str(row[12]),
        person=person,
    )


def listing(
    db: ReceiverDb,
    communities: Sequence[str],
    *,
    only_open: bool = False,
    kind: str | None = None,
    gate: str | None = None,
    before: int | None = None,
    limit: int = PAGE,
) -> list[AlertView]:
    """Alerts of ``communities``, the newest first (paged by ``before``, a row id)."""
    if not communities:
        return []
    with db.reading() as q:
        where = Where()
        where.within(q, "community", communities)
        if only_open:
            where.add("acked_at_us IS NULL")
        where.equal("kind", kind)
        where.equal("gate", gate)
        where.older_than(before)
        rows = q.all(
            f"SELECT {_COLUMNS} FROM office_alerts {where.clause()} "  # noqa: S608
            "ORDER BY row_id DESC LIMIT ?",
            [*where.params, limit],
        )
        return [_view(q, row) for row in rows]


def stamp(db: ReceiverDb, communities: Sequence[str]) -> str:
    """Changes whenever an alert of ``communities`` arrives or is acknowledged: a page polls it
    and fetches the list again only then."""
    if not communities:
        return "0:0"
    with db.reading() as q:
        # An aggregate without GROUP BY: always one row.
        ((last_row_id, acknowledged),) = q.all_within(
            "SELECT max(row_id), count(acked_at_us) FROM office_alerts WHERE community {within}",
            communities,
        )
    return f"{last_row_id or 0}:{acknowledged or 0}"


def open_by_gate(db: ReceiverDb, communities: Sequence[str]) -> dict[tuple[str, str], Counter[str]]:
    """Open alerts per (community, gate), counted by kind."""
    found: dict[tuple[str, str], Counter[str]] = {}
    if not communities:
        return found
    with db.reading() as q:
        for community, gate, kind, count in q.all_within(
            "SELECT community, gate, kind, count(*) FROM office_alerts "
            "WHERE community {within} AND acked_at_us IS NULL GROUP BY community, gate, kind",
            communities,
        ):
            found.setdefault((str(community), str(gate)), Counter())[str(kind)] = int(count)
    return found


def acknowledge(
    db: ReceiverDb, alert_id: str, *, officer: Officer, note: str, now: datetime
) -> AlertView:
    """``officer`` acknowledges an alert of one of their communities with ``note``."""
    note = note.strip()
    if not note or len(note) > MAX_NOTE_CHARS:
        raise AlertProblem("note", f"a note of 1 to {MAX_NOTE_CHARS} characters is needed")
    with db.writing() as q:
        row = q.one(
            f"SELECT {_COLUMNS} FROM office_alerts WHERE id = ?",  # noqa: S608
            [alert_id],
        )
        if row is None or not officer.sees(str(row[2])):
            raise AlertProblem("unknown", "no such alert")
        changed = q.run(
            "UPDATE office_alerts SET acked_at = ?, acked_at_us = ?, acked_by = ?, "
            "acked_by_name = ?, ack_note = ? WHERE id = ? AND acked_at_us IS NULL",
            [now.isoformat(), epoch_us(now), officer.id, officer.name, note, alert_id],
        )
        if not changed:
            raise AlertProblem("already", "someone acknowledged it already")
        audit.record(
            q,
            officer=officer,
            action="alert_acknowledged",
            detail=f"{row[3]} {row[5]} {alert_id}: {note}",
            now=now,
            community=str(row[2]),
        )
        acked = q.one(
            f"SELECT {_COLUMNS} FROM office_alerts WHERE id = ?",  # noqa: S608
            [alert_id],
        )
        assert acked is not None
        return _view(q, acked)
