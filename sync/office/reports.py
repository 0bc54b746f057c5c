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

from edge.console.ledgers import ACKED_AT_WORDS, FEVER_DONE_WORDS
from edge.entry_document import epoch_us
from sync.receiver.db import DAY_COUNTS_SQL, DayCounts, ReceiverDb
from sync.receiver.reports import REPORT_COLUMNS

Level = Literal["building", "grid", "compound"]
LEVELS: tuple[Level, ...] = get_args(Level)
COUNT_COLUMNS: tuple[str, ...] = REPORT_COLUMNS[3:]
"""total, passed, overridden, denied, fevers, abandoned, visitors, clock_unsynced."""
COUNT_HEADINGS: tuple[str, ...] = (
    "合计",
    "通行",
    "人工放行",
    "拒绝",
    "发热",
    "未完成",
    "访客入内",
    "时钟未同步",
)
LEVEL_HEADINGS = {"gate": "卡口", "building": "楼栋", "grid": "网格", "compound": "小区"}
UNREGISTERED = "未登记"
"""The group of entries whose household is not in the roster (or who showed no pass)."""
NOT_GIVEN = "未填写"
"""The group of households in the roster without a name at this level."""

MESSAGES: dict[str, tuple[str, str]] = {
    "reports.title": ("卡口日报", "Daily report"),
    "reports.day": ("日期", "Day"),
    "reports.level": ("汇总方式", "Rolled up by"),
    "reports.level.gate": ("按卡口", "By gate"),
    "reports.level.building": ("按楼栋", "By building"),
    "reports.level.grid": ("按网格", "By grid"),
    "reports.level.compound": ("按小区", "By compound"),
    "reports.group.gate": ("卡口", "Gate"),
    "reports.group.building": ("楼栋", "Building"),
    "reports.group.grid": ("网格", "Grid"),
    "reports.group.compound": ("小区", "Compound"),
    "reports.unregistered": ("未登记", "Unregistered"),
    "reports.not_given": ("未填写", "Not given"),
    "reports.empty": ("这一天没有记录", "No entries that day"),
    "reports.count.total": ("合计", "Total"),
    "reports.count.passed": ("通行", "Passed"),
    "reports.count.overridden": ("人工放行", "Overridden"),
    "reports.count.denied": ("拒绝", "Denied"),
    "reports.count.fevers": ("发热", "Fevers"),
    "reports.count.abandoned": ("未完成", "Abandoned"),
    "reports.count.visitors": ("访客入内", "Visitors in"),
    "reports.count.clock_unsynced": ("时钟未同步", "Clock unsynced"),
    "reports.export_csv": ("导出 CSV", "Export CSV"),
    "reports.export_xlsx": ("导出 Excel", "Export Excel"),
    "reports.bad_day": ("日期格式应为 年-月-日", "The day must be year-month-day"),
    "reports.bad_range": ("开始时间须早于结束时间", "The start must be before the end"),
    "ledger.since": ("自", "From"),
    "ledger.until": ("至", "To"),
    "ledger.holder": ("姓名", "Holder"),
    "ledger.household": ("住户", "Household"),
    "ledger.pass": ("通行证号", "Pass"),
    "ledger.readings": ("体温(°C)", "Readings (°C)"),
    "ledger.outcome": ("结果", "Outcome"),
    "fevers.title": ("发热症状人员台账", "Fever ledger"),
    "fevers.empty": ("这段时间没有发热记录", "No fevers in this period"),
    "fevers.handled": ("处置", "What was done"),
    "fevers.by": ("处置人", "By"),
    "fevers.note": ("备注", "Note"),
    "fevers.more": ("更多", "More"),
    **{f"fevers.done.{code}": words for code, words in FEVER_DONE_WORDS.items()},
    "fevers.acked_at": ACKED_AT_WORDS,
    "register.title": ("出入登记", "Entry register"),
    "register.name": ("住户姓名", "Resident's name"),
    "register.search": ("查询", "Search"),
    "register.audited": (
        "按通行证、住户或姓名查询个人行踪会记入审计日志。",
        "Searches of a person's movements by pass, household or name are audited.",
    ),
    "register.direction": ("方向", "Direction"),
    "register.kind": ("类别", "Kind"),
    "register.reasons": ("原因", "Reasons"),
    "register.empty": ("没有符合条件的记录", "No entries match"),
    "register.need_filter": (
        "请至少填写通行证号、住户、姓名或时间范围之一",
        "Give a pass, a household, a name or a time range",
    ),
    "register.too_long": ("{field} 过长", "{field} is too long"),
    "register.no_resident": ("花名册中没有此姓名", "No resident of that name in the roster"),
    "notice.title": ("每日通报", "Daily notice"),
    "notice.heading": ("{community} 社区卡口每日通报", "{community}: daily checkpoint notice"),
    "notice.summary": (
        "全社区 {gates} 个卡口共登记出入 {total} 人次，其中通行 {passed} 人次，拒绝 {denied} 人次，"
        "访客入内 {visitors} 人次。",
        "{gates} gates registered {total} entries: {passed} passed, {denied} denied, "
        "{visitors} visitors in.",
    ),
    "notice.fevers": (
        "今日发现体温超过发热线人员 {found} 人次（见发热台账）。",
        "Over the fever line today: {found} (see the fever ledger).",
    ),
    "notice.fevers_handled": (
        "已处置 {handled} 人次：告警经办公室确认 {acknowledged} 人次，"
        "复测正常放行 {cleared} 人次。",
        "Handled: {handled} (alert acknowledged by the office: {acknowledged}; normal at the "
        "re-measure and let in: {cleared}).",
    ),
    "notice.fevers_overridden": (
        "另有值守人员在确认发热后人工放行 {overridden} 人次，计入已处置。",
        "Let through by a guard after a confirmed fever, counted as handled: {overridden}.",
    ),
    "notice.fevers_open": ("尚有 {open} 人次未处置。", "Not yet handled: {open}."),
    "notice.fevers_all_handled": ("均已处置。", "All of them handled."),
    "notice.none": ("今日无新增", "Nothing new today"),
    "notice.none_detail": (
        "今日无新增发热人员。",
        "No new fever cases today.",
    ),
    "notice.by_building": ("分楼栋情况", "By building"),
    "notice.print": ("打印", "Print"),
    "notice.issuer": ("{community} 社区办公室", "{community} community office"),
    "notice.pick_community": ("请选择社区", "Choose a community"),
}
"""The words of the reports, the fever ledger, the register and the notice."""


def day_span(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """An office day: [midnight, next midnight) in ``zone``."""
    start = datetime.combine(day, time(0), tzinfo=zone)
    return start, datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)


def day_bounds_us(day: date, zone: ZoneInfo) -> tuple[int, int]:
    """An office day as epoch microseconds: [midnight, next midnight) in ``zone``."""
    start, end = day_span(day, zone)
    return epoch_us(start), epoch_us(end)


@dataclass(frozen=True, slots=True)
class GroupCounts:
    """One gate, building, grid or compound of a community on one day (``group`` None: entries
    whose household is not in the roster; "": households in it without a name here)."""

    community: str
    group: str | None
    total: int
    passed: int
    overridden: int
    denied: int
    fevers: int
    abandoned: int
    visitors: int
    clock_unsynced: int

    def counts(self) -> tuple[int, ...]:
        return tuple(getattr(self, column) for column in COUNT_COLUMNS)

    @classmethod
    def of_gate(cls, row: DayCounts) -> GroupCounts:
        """A gate's counts, the gate as the group (the report per gate)."""
        return cls(row.community, row.gate, *(int(getattr(row, c)) for c in COUNT_COLUMNS))


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
        GroupCounts(
            str(row[0]),
            None if row[1] is None else str(row[1]),
            *(int(value or 0) for value in row[2:]),
        )
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
            (row.community, row.gate, tuple(getattr(row, c) for c in COUNT_COLUMNS))
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
