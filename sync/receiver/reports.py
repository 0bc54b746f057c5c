"""The office's read-outs of the receiver database: sequence gaps and the daily report, as
text, JSON and CSV (``kakou server gaps`` and ``kakou server report``).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from datetime import date
from zoneinfo import ZoneInfo

from sync.receiver.db import DayCounts, EntryCounts, LogGaps, ReceiverDb

REPORT_COLUMNS = ("day", "community", "gate", *EntryCounts.columns())


def format_gaps(gaps: Sequence[LogGaps]) -> str:
    """One line per gate log; 'complete' when nothing is missing or still on the way."""
    if not gaps:
        return "no entries received yet"
    lines = []
    for item in gaps:
        where = f"{item.community}/{item.gate} log {item.log_id[:12]}"
        problems = []
        if item.missing:
            ranges = ", ".join(
                str(first) if first == last else f"{first}-{last}" for first, last in item.missing
            )
            problems.append(f"missing {item.missing_count} (seq {ranges})")
        if item.unreceived is not None:
            first, last = item.unreceived
            problems.append(f"not yet received {last - first + 1} (seq {first}-{last})")
        state = "; ".join(problems) if problems else "complete"
        lines.append(f"{where}: stored 1-{item.max_seq}, contiguous {item.contiguous_seq}: {state}")
    return "\n".join(lines)


def gaps_json(gaps: Sequence[LogGaps]) -> str:
    return json.dumps([asdict(item) for item in gaps], indent=2)


def has_gaps(gaps: Iterable[LogGaps]) -> bool:
    return any(item.missing or item.unreceived for item in gaps)


# -------------------------------------------------------------------------------- report


def daily_report(db: ReceiverDb, day: date, timezone: str) -> list[DayCounts]:
    return db.daily_counts(day, ZoneInfo(timezone))


def report_rows(rows: Sequence[DayCounts]) -> list[list[str]]:
    return [[str(getattr(row, column)) for column in REPORT_COLUMNS] for row in rows]


def format_report(rows: Sequence[DayCounts]) -> str:
    table = [list(REPORT_COLUMNS), *report_rows(rows)]
    widths = [max(len(line[index]) for line in table) for index in range(len(REPORT_COLUMNS))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in table
    )


def report_csv(rows: Sequence[DayCounts]) -> str:
    """CSV with a header row, UTF-8; opens in the office's spreadsheet as it is."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(REPORT_COLUMNS)
    writer.writerows(report_rows(rows))
    return buffer.getvalue()


# ------------------------------------------------------------------------------- publish
