"""The entry register (小区卡点出入人员登记表) across the office's gates: searched by pass,
household, a resident's name, gate and time, newest first, a page at a time; exported whole.

A search of a person's movements is personal data: every search and every export writes its
audit line (``audit`` below, the caller's ``sync.office.audit.record``) in a transaction of its
own before a row is read, so a search that was made is never missing from the audit page.

Pages are keyset-paginated on (decision time, entry id), never OFFSET: page 400 of a year costs
what page 1 does. Each community of the officer's is read with its own index scan (the
``entries_by_*`` indexes lead with the community) and the scans are merged, so an officer of
several communities pays a short scan per community, not a sort of all their entries.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from edge.console.ledgers import FIRST_CHUNK_ROWS, REGISTER_HEADINGS, Cells, register_rows
from edge.entry_document import epoch_us
from edge.passes import mask_holder
from edge.store.exports import LedgerRow, LedgerTemperature
from sync.office.where import Where
from sync.receiver.db import Query, ReceiverDb

MAX_FILTER_CHARS = 64
PAGE_ROWS = 50
EXPORT_CHUNK_ROWS = 1000
EXPORT_HEADINGS: tuple[str, ...] = ("社区", "卡口", *REGISTER_HEADINGS)
"""The paper form's columns, after the community and the gate (the office files every gate's)."""

_COLUMNS = (
    "id, community, gate, seq, decided_at_us, lane, direction, outcome, pass_id, pass_kind, "
    "holder, household, document"
)

AuditLine = Callable[[Query], None]
"""Writes the search's audit line in the transaction it is given."""


class FilterError(ValueError):
    """A search form that cannot be run: ``code`` is a message id, ``field`` the form field."""

    def __init__(self, code: str, field: str) -> None:
        super().__init__(f"{field}: {code}")
        self.code = code
        self.field = field


@dataclass(frozen=True, slots=True)
class RegisterFilters:
    pass_id: str | None = None
    household: str | None = None
    name: str | None = None
    """A resident's name in the roster: the search covers their households."""
    gate: str | None = None
    since: datetime | None = None
    """Inclusive, aware."""
    until: datetime | None = None
    """Exclusive, aware."""

    @property
    def personal(self) -> bool:
        """Whether this follows one person or household (rather than a gate's hours)."""
        return bool(self.pass_id or self.household or self.name)

    def describe(self) -> str:
        """What was searched, for the audit line (the name as typed: the audit is the record
        of who looked for whom)."""
        parts = [
            f"{key}={value}"
            for key, value in (
                ("pass", self.pass_id),
                ("household", self.household),
                ("name", self.name),
                ("gate", self.gate),
                ("since", None if self.since is None else self.since.isoformat()),
                ("until", None if self.until is None else self.until.isoformat()),
            )
            if value
        ]
        return " ".join(parts) or "all"


def filters_from(params: Mapping[str, str], zone: ZoneInfo) -> RegisterFilters:
    """The filters of a search form (``datetime-local`` times read in ``zone``); raises
    ``FilterError`` naming the field. A search needs a person or a time range."""

    def text(name: str) -> str | None:
        value = (params.get(name) or "").strip()
        if len(value) > MAX_FILTER_CHARS:
            raise FilterError("register.too_long", name)
        return value or None

    def moment(name: str) -> datetime | None:
        value = text(name)
        if value is None:
            return None
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise FilterError("reports.bad_day", name) from None
        return parsed.replace(tzinfo=zone) if parsed.tzinfo is None else parsed

    filters = RegisterFilters(
        pass_id=text("pass_id"),
        household=text("household"),
        name=text("name"),
        gate=text("gate"),
        since=moment("since"),
        until=moment("until"),
    )
    if filters.since and filters.until and filters.since >= filters.until:
        raise FilterError("reports.bad_range", "until")
    if not (filters.personal or filters.since or filters.until):
        raise FilterError("register.need_filter", "pass_id")
    return filters


@dataclass(frozen=True, slots=True, order=True)
class Position:
    """Where a page ends: the last row's decision time and id (rows run newest first)."""

    decided_at_us: int
    id: str

    def token(self) -> str:
        return f"{self.decided_at_us}.{self.id}"

    @classmethod
    def parse(cls, token: str | None) -> Position | None:
        """A page token from a link; None for none or one that is not ours."""
        if not token:
            return None
        us, _, entry_id = token.partition(".")
        if not us.lstrip("-").isdigit() or not entry_id or len(token) > 100:
            return None
        return cls(int(us), entry_id)


@dataclass(frozen=True, slots=True)
class RegisterRow:
    """One entry as the register lists it: the holder masked, codes not yet translated."""

    id: str
    community: str
    gate: str
    ledger: LedgerRow

    @property
    def position(self) -> Position:
        return Position(self.ledger.decided_at_us, self.id)


@dataclass(frozen=True, slots=True)
class RegisterPage:
    rows: list[RegisterRow]
    next: Position | None
    """Where the next page starts; None on the last page."""
    households_found: bool = True
    """False: a name was searched that the roster does not hold."""


def search(
    db: ReceiverDb,
    communities: Sequence[str],
    filters: RegisterFilters,
    *,
    audit: AuditLine,
    after: Position | None = None,
    limit: int = PAGE_ROWS,
) -> RegisterPage:
    """One page of the register, newest first, after the audit line is committed."""
    with db.writing() as q:
        audit(q)
    return read_page(db, communities, filters, after=after, limit=limit)


def export(
    db: ReceiverDb,
    communities: Sequence[str],
    filters: RegisterFilters,
    zone: ZoneInfo,
    *,
    audit: AuditLine,
) -> tuple[tuple[str, ...], Iterator[Cells]]:
    """Every matching entry as the paper form's rows, newest first, after the audit line is
    committed; read a page at a time (``pages``)."""
    with db.writing() as q:
        audit(q)
    return EXPORT_HEADINGS, _export_rows(db, communities, filters, zone)


def _export_rows(
    db: ReceiverDb, communities: Sequence[str], filters: RegisterFilters, zone: ZoneInfo
) -> Iterator[Cells]:
    for page in pages(db, communities, filters):
        yield from cells(page.rows, zone)


def pages(
    db: ReceiverDb,
    communities: Sequence[str],
    filters: RegisterFilters,
    *,
    fevers: bool = False,
    oldest_first: bool = False,
) -> Iterator[RegisterPage]:
    """Every page of matching entries (``read_page``'s), for an export: a short first page, so
    the download starts as soon as it is read, then ``EXPORT_CHUNK_ROWS`` a page, each read in
    a short transaction of its own, so a year never sits in memory and the receiver goes on
    storing meanwhile."""
    after: Position | None = None
    limit = FIRST_CHUNK_ROWS
    while True:
        page = read_page(
            db,
            communities,
            filters,
            after=after,
            limit=limit,
            fevers=fevers,
            oldest_first=oldest_first,
        )
        yield page
        if page.next is None:
            return
        after, limit = page.next, EXPORT_CHUNK_ROWS


def cells(rows: Sequence[RegisterRow], zone: ZoneInfo) -> Iterator[Cells]:
    """The export's cells of ``rows``: community, gate, then the gate's register columns."""
    for row, register in zip(rows, register_rows((r.ledger for r in rows), zone), strict=True):
        yield [row.community, row.gate, *register]


def read_page(
    db: ReceiverDb,
    communities: Sequence[str],
    filters: RegisterFilters,
    *,
    after: Position | None = None,
    limit: int = PAGE_ROWS,
    fevers: bool = False,
    oldest_first: bool = False,
) -> RegisterPage:
    """A page of matching entries with no audit line: for ``search`` and ``export``, and for
    the fever ledger (``fevers``: its cases only, ``oldest_first`` as the paper ledger runs)."""
    found: list[list[RegisterRow]] = []
    with db.reading() as q:
        households = _households(q, communities, filters)
        for community in communities:
            units = None if households is None else households.get(community, [])
            if units == []:
                continue
            sql, params = register_sql(
                q, community, filters, units, after, limit + 1, fevers, oldest_first
            )
            found.append([_row(row) for row in q.all(sql, params)])
    merged = list(heapq.merge(*found, key=lambda r: r.position, reverse=not oldest_first))[
        : limit + 1
    ]
    more = len(merged) > limit
    rows = merged[:limit]
    return RegisterPage(
        rows=rows,
        next=rows[-1].position if more else None,
        households_found=households is None or any(households.values()),
    )


def _households(
    q: Query, communities: Sequence[str], filters: RegisterFilters
) -> dict[str, list[str]] | None:
    """The households to search per community, or None for no household condition."""
    if filters.name is None:
        return None if filters.household is None else {c: [filters.household] for c in communities}
    if not communities:
        return {}
    in_communities, values = q.in_list(list(communities))
    found: dict[str, list[str]] = {}
    for community, unit in q.all(
        f"SELECT community, unit FROM office_residents WHERE community {in_communities} "  # noqa: S608
        "AND name = ? ORDER BY unit",
        [*values, filters.name],
    ):
        if filters.household is None or unit == filters.household:
            found.setdefault(str(community), []).append(str(unit))
    return found


def register_sql(
    q: Query,
    community: str,
    filters: RegisterFilters,
    households: Sequence[str] | None,
    after: Position | None,
    limit: int,
    fevers: bool = False,
    oldest_first: bool = False,
) -> tuple[str, list[Any]]:
    """The statement reading one community's rows of a page (tests look at its plan)."""
    where = Where()
    where.add("community = ?", community)
    if fevers:
        where.add("fever = 1")  # as written, or the partial index entries_fevers is not used
    if filters.pass_id is not None:
        where.add("pass_id = ?", filters.pass_id)
    if households is not None:
        if len(households) == 1:
            where.add("household = ?", households[0])
        else:
            where.within(q, "household", households)
    if filters.gate is not None:
        where.add("gate = ?", filters.gate)
    if filters.since is not None:
        where.add("decided_at_us >= ?", epoch_us(filters.since))
    if filters.until is not None:
        where.add("decided_at_us < ?", epoch_us(filters.until))
    beyond, order = (">", "ASC") if oldest_first else ("<", "DESC")
    if after is not None:
        where.add(
            f"(decided_at_us {beyond} ? OR (decided_at_us = ? AND id {beyond} ?))",
            after.decided_at_us,
            after.decided_at_us,
            after.id,
        )
    sql = (
        f"SELECT {_COLUMNS} FROM entries {where.clause()} "  # noqa: S608
        f"ORDER BY decided_at_us {order}, id {order} LIMIT ?"
    )
    return sql, [*where.params, limit]


def _row(row: tuple[Any, ...]) -> RegisterRow:
    """A stored entry with the gate's ledger row of it: its columns, and from its document what
    the columns do not hold; the holder masked (a pass issued with a full name keeps it)."""
    (entry_id, community, gate, seq, decided_at_us, lane, direction, outcome) = row[:8]
    pass_id, pass_kind, holder, household, document = row[8:]
    doc = json.loads(document)
    return RegisterRow(
        id=str(entry_id),
        community=str(community),
        gate=str(gate),
        ledger=LedgerRow(
            seq=int(seq),
            decided_at_us=int(decided_at_us),
            lane=str(lane),
            direction=str(direction),
            outcome=str(outcome),
            pass_id=pass_id,
            pass_kind=pass_kind,
            holder=None if holder is None else mask_holder(str(holder)),
            household=household,
            answers=tuple(doc["answers"].items()),
            temperatures=tuple(
                LedgerTemperature(float(t["body_c"]), bool(t["manual"]), bool(t["plausible"]))
                for t in doc["temperatures"]
            ),
            reasons=tuple(doc["reasons"]),
            guard_id=doc["guard"]["id"],
            guard_note=doc["guard"]["note"],
        ),
    )
