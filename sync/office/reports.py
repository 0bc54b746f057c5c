"""The office's daily report (日报): each gate's counts for one office day, and the same counts
rolled up by building, grid and compound through the household roster.

An entry's household is its pass's unit; the roll-up joins it with ``office_households`` (a LEFT
JOIN: an entry whose household is not in the roster, or that has none, still counts, under
"未登记 / unregistered"), so the levels' totals always equal the gates' totals. Counts are those
of ``kakou server report`` (``sync.receiver.reports.REPORT_COLUMNS``), computed by the same SQL.
Days run midnight to midnight in the office's zone (``[receiver] timezone``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal, get_args
from zoneinfo import ZoneInfo

from edge.entry_document import epoch_us
from sync.office import messages
from sync.receiver.db import DAY_COUNTS_SQL, DayCounts, EntryCounts, ReceiverDb, counted

Level = Literal["building", "grid", "compound"]
LEVELS: tuple[Level, ...] = get_args(Level)
COUNT_COLUMNS: tuple[str, ...] = EntryCounts.columns()
"""total, passed, overridden, denied, fevers, abandoned, visitors, clock_unsynced."""
COUNT_HEADINGS: tuple[str, ...] = tuple(
    messages.words(f"reports.count.{column}")[0] for column in COUNT_COLUMNS
)
"""The exports' headings of the counts: the catalogue's Chinese."""
LEVEL_HEADINGS = {level: messages.words(f"reports.group.{level}")[0] for level in ("gate", *LEVELS)}
UNREGISTERED = messages.words("reports.unregistered")[0]
"""The group of entries whose household is not in the roster (or who showed no pass)."""
NOT_GIVEN = messages.words("reports.not_given")[0]
"""The group of households in the roster without a name at this level."""


def day_span(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """An office day: [midnight, next midnight) in ``zone``."""
    start = datetime.combine(day, time(0), tzinfo=zone)
    return start, datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)


def day_bounds_us(day: date, zone: ZoneInfo) -> tuple[int, int]:
    """An office day as epoch microseconds: [midnight, next midnight) in ``zone``."""
    start, end = day_span(day, zone)
    return epoch_us(start), epoch_us(end)


@dataclass(frozen=True, slots=True)
class GroupCounts(EntryCounts):
    """One gate, building, grid or compound of a community on one day (``group`` None: entries
    whose household is not in the roster; "": households in it without a name here)."""

    community: str
    group: str | None

    @classmethod
    def of_gate(cls, row: DayCounts) -> GroupCounts:
        """A gate's counts, the gate as the group (the report per gate)."""
        return cls(row.community, row.gate, **counted(row.counts()))


def gate_report(
    db: ReceiverDb, communities: Sequence[str], day: date, zone: ZoneInfo
) -> list[DayCounts]:
    """Each gate's counts of ``communities`` on ``day``."""
    return db.daily_counts(day, zone, communities)


def rollup(
    db: ReceiverDb, communities: Sequence[str], day: date, zone: ZoneInfo, level: Level
) -> list[GroupCounts]:
    """The day's counts per ``level`` of each community, named groups first (by name), then
    households without a name at this level, then the unregistered."""
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}")
    if not communities:
        return []
    start_us, end_us = day_bounds_us(day, zone)
    # ``level`` is one of LEVELS (checked above): a column name, never input.
    group = f"CASE WHEN h.unit IS NULL THEN NULL ELSE h.{level} END"
    with db.reading() as q:
        in_communities, values = q.in_list(list(communities))
        rows = q.all(
            f"SELECT e.community, {group}, {DAY_COUNTS_SQL} "  # noqa: S608
            "FROM entries e LEFT JOIN office_households h "
            "ON h.community = e.community AND h.unit = e.household "
            f"WHERE e.community {in_communities} "
            "AND e.decided_at_us >= ? AND e.decided_at_us < ? "
            f"GROUP BY e.community, {group}",
            [*values, start_us, end_us],
        )
    made = [
        GroupCounts(str(row[0]), None if row[1] is None else str(row[1]), **counted(row[2:]))
        for row in rows
    ]
    return sorted(made, key=lambda g: (g.community, g.group is None, g.group == "", g.group or ""))


def group_label(group: str | None) -> str:
    """A group's name as the exports print it."""
    if group is None:
        return UNREGISTERED
    return group or NOT_GIVEN


def totals(rows: Sequence[DayCounts] | Sequence[GroupCounts]) -> tuple[int, ...]:
    """The counts summed over ``rows``, in ``COUNT_COLUMNS`` order."""
    return tuple(sum(int(getattr(row, column)) for row in rows) for column in COUNT_COLUMNS)


Cells = list[str | int]


def report_table(
    db: ReceiverDb,
    communities: Sequence[str],
    day: date,
    zone: ZoneInfo,
    level: Level | Literal["gate"],
) -> tuple[tuple[str, ...], Iterator[Cells]]:
    """The export's headings and rows: one row per gate or group, each community closed by its
    total (the paper form's 合计 line)."""
    headings = ("日期", "社区", LEVEL_HEADINGS[level], *COUNT_HEADINGS)
    if level == "gate":
        lines: list[tuple[str, str, tuple[int, ...]]] = [
            (row.community, row.gate, row.counts())
            for row in gate_report(db, communities, day, zone)
        ]
    else:
        lines = [
            (row.community, group_label(row.group), row.counts())
            for row in rollup(db, communities, day, zone, level)
        ]
    return headings, _with_totals(day.isoformat(), lines)


def _with_totals(day: str, lines: list[tuple[str, str, tuple[int, ...]]]) -> Iterator[Cells]:
    community: str | None = None
    sums: list[int] = []
    for name, group, counts in lines:
        if name != community:
            if community is not None:
                yield [day, community, "合计", *sums]
            community, sums = name, [0] * len(counts)
        sums = [a + b for a, b in zip(sums, counts, strict=True)]
        yield [day, name, group, *counts]
    if community is not None:
        yield [day, community, "合计", *sums]
