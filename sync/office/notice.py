"""The printable daily notice of one community: what its gates registered that office day, and
the fever ledger's figures for it (cases found, handled, still open), or "今日无新增" when the
ledger has none.

A notice is posted where residents read it, so it names nobody: counts for the community and per
building, never a holder, household or pass. Its fever figures are the ledger's own
(``sync.office.fevers.tally``), so the notice never says a case was handled that the ledger shows
open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from sync.office.fevers import FeverTally, tally
from sync.office.reports import COUNT_COLUMNS, GroupCounts, day_span, gate_report, rollup, totals
from sync.receiver.db import ReceiverDb


@dataclass(frozen=True, slots=True)
class Notice:
    community: str
    day: date
    gates: int
    """Gates that registered an entry that day."""
    counts: dict[str, int]
    """``COUNT_COLUMNS`` summed over the community's gates."""
    by_building: list[GroupCounts]
    fevers: FeverTally
    """The fever ledger's cases decided that day, and how they were dealt with."""

    @property
    def nothing_new(self) -> bool:
        return self.fevers.found == 0


def daily_notice(db: ReceiverDb, community: str, day: date, zone: ZoneInfo) -> Notice:
    gates = gate_report(db, [community], day, zone)
    return Notice(
        community=community,
        day=day,
        gates=len(gates),
        counts=dict(zip(COUNT_COLUMNS, totals(gates), strict=True)),
        by_building=rollup(db, [community], day, zone, "building"),
        fevers=tally(db, [community], *day_span(day, zone), zone),
    )
