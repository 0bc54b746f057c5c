"""Visitor and vehicle registrations: the rows behind the passes a gate signs for them.

A registration is stored in the same transaction as its audit row, so the log of who let whom
in never disagrees with the register. Phone and ID numbers arrive here already in the form the
policy allows (``edge.visitors`` decides); this module only keeps and finds them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from edge.store import Row, Store
from edge.store.guards import GuardBook

KINDS = ("visitor", "vehicle")


@dataclass(frozen=True, slots=True)
class StoredPerson:
    """One visitor or vehicle occupant as kept: phone and ID number as the policy allows."""

    name: str
    phone: str | None = None
    id_number: str | None = None


class RegistrationRow(BaseModel):
    """One row of the registrations table: a registration but its people.

    A pydantic model so that the console's API view of a registration extends this one
    definition rather than repeating its fields.
    """

    id: str
    kind: str
    pass_id: str
    registered_at: datetime
    guard_id: str
    lane: str | None
    host_household: str
    reason: str
    plate: str | None
    valid_from: datetime
    valid_until: datetime


class Registration(RegistrationRow):
    """A stored registration with the people it covers, the first of them its pass holder."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    people: tuple[StoredPerson, ...]


class RegistrationBook:
    """The store's registration tables; every write is one transaction with its audit row."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def add(self, registration: Registration) -> None:
        """Store a new registration and audit it; ``ValueError`` if its id or pass id exists."""
        if registration.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}")
        if not registration.people:
            raise ValueError("a registration names at least one person")
        r = registration
        try:
            with self._store._writing() as db:
                db.execute(
                    "INSERT INTO registrations (id, kind, pass_id, registered_at, guard_id, lane, "
                    "host_household, reason, plate, valid_from, valid_until) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    [
                        r.id,
                        r.kind,
                        r.pass_id,
                        r.registered_at.isoformat(),
                        r.guard_id,
                        r.lane,
                        r.host_household,
                        r.reason,
                        r.plate,
                        r.valid_from.isoformat(),
                        r.valid_until.isoformat(),
                    ],
                )
                for n, person in enumerate(r.people, start=1):
                    db.execute(
                        "INSERT INTO registration_people (registration_id, n, name, phone, "
                        "id_number) VALUES (?,?,?,?,?)",
                        [r.id, n, person.name, person.phone, person.id_number],
                    )
                GuardBook(self._store).audit(
                    r.registered_at,
                    r.guard_id,
                    f"{r.kind}_registered",
                    r.lane,
                    {"registration": r.id, "pass_id": r.pass_id, "people": len(r.people)},
                    within=db,
                )
        except Exception as exc:
            if "UNIQUE constraint failed" in str(exc):
                raise ValueError(f"registration {r.id} or pass {r.pass_id} exists") from exc
            raise

    def get(self, registration_id: str) -> Registration | None:
        rows = self._store._fetch("SELECT * FROM registrations WHERE id = ?", [registration_id])
        return self._with_people(rows)[0] if rows else None

    def recent(
        self, *, limit: int = 50, before: datetime | None = None, kind: str | None = None
    ) -> list[Registration]:
        """Newest first; ``before`` pages back by registration time."""
        where: list[str] = []
        params: list[Any] = []
        if before is not None:
            where.append("registered_at < ?")
            params.append(before.isoformat())
        if kind is not None:
            where.append("kind = ?")
            params.append(kind)
        sql = "SELECT * FROM registrations"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY registered_at DESC, id DESC LIMIT ?"
        params.append(limit)
        return self._with_people(self._store._fetch(sql, params))

    def purge_expired(self, *, ended_before: datetime) -> int:
        """Delete registrations whose validity ended before ``ended_before`` (retention)."""
        with self._store._writing() as db:
            cursor = db.execute(
                "DELETE FROM registrations WHERE valid_until < ?", [ended_before.isoformat()]
            )
            return int(cursor.rowcount)

    def count(self) -> int:
        rows = self._store._fetch("SELECT count(*) AS n FROM registrations")
        return int(str(rows[0]["n"]))

    def _with_people(self, rows: list[Row]) -> list[Registration]:
        if not rows:
            return []
        ids = [str(row["id"]) for row in rows]
        marks = ",".join("?" * len(ids))
        people: dict[str, list[StoredPerson]] = {i: [] for i in ids}
        for person in self._store._fetch(
            f"SELECT * FROM registration_people WHERE registration_id IN ({marks}) "  # noqa: S608
            "ORDER BY registration_id, n",
            ids,
        ):
            people[str(person["registration_id"])].append(
                StoredPerson(
                    name=str(person["name"]),
                    phone=_text_or_none(person["phone"]),
                    id_number=_text_or_none(person["id_number"]),
                )
            )
        return [
            Registration(
                id=str(row["id"]),
                kind=str(row["kind"]),
                pass_id=str(row["pass_id"]),
                registered_at=datetime.fromisoformat(str(row["registered_at"])),
                guard_id=str(row["guard_id"]),
                lane=_text_or_none(row["lane"]),
                host_household=str(row["host_household"]),
                reason=str(row["reason"]),
                plate=_text_or_none(row["plate"]),
                valid_from=datetime.fromisoformat(str(row["valid_from"])),
                valid_until=datetime.fromisoformat(str(row["valid_until"])),
                people=tuple(people[str(row["id"])]),
            )
            for row in rows
        ]


def _text_or_none(value: object) -> str | None:
    return None if value is None else str(value)
