"""The fever ledger (发热症状人员台账) across the office's gates.

Every fever case of the officer's communities in a time range, oldest first as the paper ledger
runs: an entry whose outcome is fever, or any of whose readings was at or over the line (a
re-measure that cleared the person is still in the ledger, saying so). Each row says what was
done: the note of the officer who acknowledged the gate's fever alert in the office, matched to
the entry as the gate console matches its alarms (``edge.console.ledgers.FeverAcks``: the first
alert of that kind on the same gate and lane from the decision to a minute after), else what
the gate itself did. The holder is masked as everywhere in the office.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby
from zoneinfo import ZoneInfo

from edge.console.ledgers import FEVER_HEADINGS, Cells, FeverAcks, FeverHandling, fever_cases
from edge.store.alarms import Alarm
from sync.office.register import Position, RegisterFilters, RegisterRow, pages, read_page
from sync.receiver.db import Query, ReceiverDb

PAGE_ROWS = 200
EXPORT_HEADINGS: tuple[str, ...] = ("社区", "卡口", "通道", *FEVER_HEADINGS)
"""The paper ledger's columns after where the case was: community, gate, lane."""


@dataclass(frozen=True, slots=True)
class FeverCase:
    row: RegisterRow
    handling: FeverHandling
    """What was done, as codes and what people wrote: the page words it in its reader's
    language."""
    cells: Cells
    """The export's row, in Chinese: community, gate, lane, then the paper ledger's columns."""

    @property
    def readings(self) -> str:
        return str(self.cells[8])


@dataclass(frozen=True, slots=True)
class FeverPage:
    cases: list[FeverCase]
    next: Position | None


def ledger(
    db: ReceiverDb,
    communities: Sequence[str],
    since: datetime,
    until: datetime,
    zone: ZoneInfo,
    *,
    after: Position | None = None,
    limit: int = PAGE_ROWS,
) -> FeverPage:
    """One page of fever cases decided in [since, until), oldest first."""
    page = read_page(
        db,
        communities,
        RegisterFilters(since=since, until=until),
        after=after,
        limit=limit,
        fevers=True,
        oldest_first=True,
    )
    return FeverPage(_cases(db, page.rows, zone), page.next)


def cases(
    db: ReceiverDb,
    communities: Sequence[str],
    since: datetime,
    until: datetime,
    zone: ZoneInfo,
) -> Iterator[FeverCase]:
    """Every case of the range, oldest first, a page at a time (``register.pages``)."""
    filters = RegisterFilters(since=since, until=until)
    for page in pages(db, communities, filters, fevers=True, oldest_first=True):
        yield from _cases(db, page.rows, zone)


def export(
    db: ReceiverDb,
    communities: Sequence[str],
    since: datetime,
    until: datetime,
    zone: ZoneInfo,
) -> tuple[tuple[str, ...], Iterator[Cells]]:
    """Every case of the range as the export's rows, a chunk at a time."""
    return EXPORT_HEADINGS, (case.cells for case in cases(db, communities, since, until, zone))


@dataclass(frozen=True, slots=True)
class FeverTally:
    """The ledger's figures: the cases it lists, how each was dealt with, how many are open."""

    found: int
    acknowledged: int
    """Alerts an officer acknowledged."""
    cleared: int
    """Normal at the re-measure, let in."""
    overridden: int
    """Let through by a guard after a confirmed fever (the fever's own case is counted too)."""
    open: int
    """Confirmed, or gone before the re-measure, and nobody has acknowledged the alert."""

    @property
    def handled(self) -> int:
        return self.found - self.open

    @classmethod
    def of(cls, handlings: Iterable[FeverHandling]) -> FeverTally:
        counts = Counter(_settled_by(handling) for handling in handlings)
        return cls(
            found=counts.total(),
            acknowledged=counts["acknowledged"],
            cleared=counts["cleared"],
            overridden=counts["overridden"],
            open=counts["open"],
        )


def _settled_by(handling: FeverHandling) -> str:
    """What a case counts as: open, acknowledged, or what the gate did ("cleared" or
    "overridden", the only codes a case left unacknowledged can have without being open)."""
    if handling.open:
        return "open"
    return "acknowledged" if handling.acked_at is not None else handling.done


def tally(
    db: ReceiverDb,
    communities: Sequence[str],
    since: datetime,
    until: datetime,
    zone: ZoneInfo,
) -> FeverTally:
    """The figures of the cases decided in [since, until), as the ledger shows them."""
    return FeverTally.of(case.handling for case in cases(db, communities, since, until, zone))


def _cases(db: ReceiverDb, rows: Sequence[RegisterRow], zone: ZoneInfo) -> list[FeverCase]:
    """Each row with what was done and its cells; the acknowledgements are matched per gate,
    in seq order."""
    if not rows:
        return []
    made: dict[str, FeverCase] = {}

    def gate_of(row: RegisterRow) -> tuple[str, str]:
        return row.community, row.gate

    with db.reading() as q:
        for (community, gate), group in groupby(sorted(rows, key=gate_of), key=gate_of):
            ordered = sorted(group, key=lambda r: r.ledger.seq)
            alarms = alert_acks(
                q,
                community,
                gate,
                ordered[0].ledger.decided_at_us,
                ordered[-1].ledger.decided_at_us,
            )
            for row, (handling, cells) in zip(
                ordered,
                fever_cases([r.ledger for r in ordered], zone, acks=FeverAcks(alarms)),
                strict=True,
            ):
                made[row.id] = FeverCase(row, handling, [community, gate, row.ledger.lane, *cells])
    return [made[row.id] for row in rows]


def alert_acks(q: Query, community: str, gate: str, first_us: int, last_us: int) -> list[Alarm]:
    """The gate's fever alerts raised around [first_us, last_us] (as ``FeverAcks`` links them),
    oldest first, with the office's acknowledgement where an officer gave one. None before the
    receiver keeps alerts (``office_alerts``)."""
    if not _has_alerts(q):
        return []
    early_us = int(FeverAcks.EARLY_S * 1_000_000)
    link_us = int(FeverAcks.LINK_S * 1_000_000)
    rows = q.all(
        "SELECT id, lane, kind, detail, at, acked_by_name, acked_at, ack_note FROM office_alerts "
        "WHERE community = ? AND gate = ? AND kind IN ('fever', 'fever_unconfirmed') "
        "AND at_us >= ? AND at_us <= ? ORDER BY at_us, row_id",
        [community, gate, first_us - early_us, last_us + link_us],
    )
    return [
        Alarm(
            id=str(alert_id),
            lane=str(lane or ""),
            kind=str(kind),
            detail=str(detail),
            raised_at=datetime.fromisoformat(str(at)),
            acked_by=None if by is None else str(by),
            acked_at=None if acked_at is None else datetime.fromisoformat(str(acked_at)),
            ack_note=None if note is None else str(note),
        )
        for alert_id, lane, kind, detail, at, by, acked_at, note in rows
    ]


def _has_alerts(q: Query) -> bool:
    if q.backend == "sqlite":
        sql = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'office_alerts'"
    else:
        sql = "SELECT count(*) FROM pg_tables WHERE tablename = 'office_alerts'"
    return bool(q.scalar(sql))
