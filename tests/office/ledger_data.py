"""Entries for the reports' tests, stored through the receiver's own path (the entry document
checked by ``check_entry``, then ``ReceiverDb.store``), and roster households beside them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from drivers.base import Reading
from edge.entry_document import EntryColumns, entry_to_document
from edge.model import (
    ENTRY_SCHEMA_VERSION,
    Direction,
    Entry,
    EntryDraft,
    MeasuredTemperature,
    Outcome,
    PassKind,
)
from sync.contract import Alert, AlertKind
from sync.office import alerts, roster
from sync.office.accounts import Officer
from sync.receiver.alerts import store_alerts
from sync.receiver.db import IncomingBatch, ReceiverDb
from sync.receiver.entries import check_entry

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY_START = datetime(2026, 11, 23, 0, 0, tzinfo=SHANGHAI)
"""The office day the tests report on: 2026-11-23 in Shanghai (16:00 UTC the day before)."""
STORED_AT = datetime(2026, 11, 24, 0, 0, tzinfo=UTC)


def reading(body_c: float, at: datetime, *, fever: bool | None = None) -> MeasuredTemperature:
    return MeasuredTemperature(
        reading=Reading(value_c=body_c - 0.4, sensor="gy-mcu90614", object_c=body_c - 0.4),
        body_c=body_c,
        at=at,
        plausible=True,
        fever=body_c >= 37.3 if fever is None else fever,
    )


class Visits:
    """Entries of one community's gates, each gate's seq counted from 1."""

    def __init__(self, community: str = "hxy") -> None:
        self.community = community
        self.made: list[Entry] = []
        self._seqs: dict[str, int] = {}

    def visit(
        self,
        at: datetime,
        *,
        gate: str = "north",
        household: str | None = "3-2-501",
        pass_id: str | None = "R-0001",
        holder: str | None = "王*",
        outcome: Outcome = Outcome.PASSED,
        kind: PassKind | None = PassKind.RESIDENT,
        temps: Sequence[float] = (36.6,),
        lane: str = "in-1",
        direction: Direction = Direction.IN,
        guard_note: str | None = None,
        reasons: Sequence[str] | None = None,
    ) -> Entry:
        seq = self._seqs.get(gate, 0) + 1
        self._seqs[gate] = seq
        draft = EntryDraft(
            lane=lane,
            direction=direction,
            outcome=outcome,
            started_at=at - timedelta(seconds=10),
            decided_at=at,
            reasons=tuple(reasons or (("fever",) if outcome is Outcome.FEVER else ())),
            pass_id=pass_id,
            pass_kind=kind,
            holder=holder,
            household=household,
            key_id="office-2026",
            temperatures=tuple(
                reading(value, at - timedelta(seconds=5 * (len(temps) - i)))
                for i, value in enumerate(temps)
            ),
            guard_note=guard_note,
        )
        entry = Entry(
            id=f"{self.community}-{gate}-{seq:08d}",
            seq=seq,
            schema_version=ENTRY_SCHEMA_VERSION,
            community=self.community,
            gate=gate,
            boot_id="boot-1",
            recorded_at=at,
            draft=draft,
        )
        self.made.append(entry)
        return entry

    def fever(self, at: datetime, **changes: object) -> Entry:
        return self.visit(at, outcome=Outcome.FEVER, temps=(38.2, 38.4), **changes)  # type: ignore[arg-type]


def store(db: ReceiverDb, entries: Iterable[Entry], *, log_id: str = "log-1") -> int:
    """Store ``entries`` as their gates' batches arrive at the receiver; returns how many."""
    batches: dict[tuple[str, str], list[EntryColumns]] = {}
    for entry in entries:
        checked = check_entry(entry_to_document(entry))
        assert isinstance(checked, EntryColumns), checked
        batches.setdefault((entry.community, entry.gate), []).append(checked)
    result = db.store(
        [
            IncomingBatch(community, gate, log_id, checked)
            for (community, gate), checked in batches.items()
        ],
        now=STORED_AT,
    )
    assert result.conflicts == 0
    return result.stored


def raise_fever_alerts(db: ReceiverDb, entries: Iterable[Entry]) -> None:
    """The fever alert each entry's gate raised a second after deciding it (``alert-<entry
    id>``), stored as the receiver stores alerts."""
    store_alerts(
        db,
        [
            Alert(
                id=f"alert-{entry.id}",
                community=entry.community,
                gate=entry.gate,
                lane=entry.draft.lane,
                kind=AlertKind.FEVER
                if entry.draft.outcome is Outcome.FEVER
                else AlertKind.FEVER_UNCONFIRMED,
                detail="王*, household 5-1-101; readings °C: 38.2, 38.4",
                at=entry.draft.decided_at + timedelta(seconds=1),
            )
            for entry in entries
        ],
        now=STORED_AT,
        receiver="receiver-1",
    )


def acknowledge_fever(
    db: ReceiverDb, entry: Entry, officer: Officer, note: str, now: datetime
) -> None:
    """``officer`` acknowledges the alert ``raise_fever_alerts`` raised for ``entry``."""
    alerts.acknowledge(db, f"alert-{entry.id}", officer=officer, note=note, now=now)


ROSTER = """房号,楼栋,网格,小区,姓名,手机
3-2-501,3号楼,第一网格,东苑,王小明,13812345678
3-2-502,3号楼,第一网格,东苑,李四,13912345678
5-1-101,5号楼,第二网格,东苑,张三,13712345678
5-1-102,5号楼,第二网格,西苑,,
"""


def import_roster(db: ReceiverDb, community: str = "hxy", sheet: str = ROSTER) -> None:
    roster.ensure_schema(db)
    parsed = roster.parse_roster(sheet.encode("utf-8"))
    assert parsed.ok, parsed.errors
    with db.writing() as q:
        roster.import_roster(q, community=community, rows=parsed.rows, now=STORED_AT)
