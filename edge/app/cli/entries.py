"""`kakou entries`: print the gate's entry log, as a table or as JSON lines.

Reads through ``Store`` like the console does; WAL lets it read while the service writes. Times
are gate time (the policy's time zone), as the console shows them.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from edge.app.cli.gate_state import gate_state_options, open_gate_state, quiet_broken_pipe
from edge.app.cli.options import naive_iso_time
from edge.entry_document import entry_to_document
from edge.model import Entry
from edge.store import Store, StoreError

_MISSING = "-"
TABLE_LIMIT = 50
JSON_PAGE = 1000


def _display_width(text: str) -> int:
    """Terminal columns: CJK characters (names, households) take two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _display_width(text))


def _temperatures(entry: Entry) -> str:
    """Body temperatures in order; ``!`` marks a fever, ``?`` an implausible reading."""
    marks = []
    for measured in entry.draft.temperatures:
        flag = "!" if measured.fever else ("?" if not measured.plausible else "")
        manual = "m" if measured.reading.manual else ""
        marks.append(f"{measured.body_c:.1f}{flag}{manual}")
    return " ".join(marks) or _MISSING


def table_rows(entries: Sequence[Entry], zone: ZoneInfo) -> list[list[str]]:
    """The table's cells, one list per entry (gate time, the abbreviated holder as stored)."""
    rows = []
    for entry in entries:
        draft = entry.draft
        rows.append(
            [
                str(entry.seq),
                draft.decided_at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S"),
                draft.lane,
                draft.direction.value,
                draft.outcome.value,
                draft.pass_kind.value if draft.pass_kind is not None else _MISSING,
                draft.holder or _MISSING,
                draft.household or _MISSING,
                _temperatures(entry),
                ",".join(draft.reasons) or _MISSING,
            ]
        )
    return rows


_HEADER = [
    "SEQ",
    "TIME",
    "LANE",
    "DIR",
    "OUTCOME",
    "KIND",
    "HOLDER",
    "HOUSEHOLD",
    "TEMP",
    "REASONS",
]


def format_table(entries: Sequence[Entry], zone: ZoneInfo) -> str:
    """A plain aligned table, times in ``zone``; the last column is not padded."""
    rows = [_HEADER, *table_rows(entries, zone)]
    widths = [max(_display_width(row[i]) for row in rows) for i in range(len(_HEADER) - 1)]
    lines = []
    for row in rows:
        cells = [_pad(cell, width) for cell, width in zip(row, widths, strict=False)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return "\n".join(lines)


@click.command()
@gate_state_options
@click.option(
    "--since",
    callback=naive_iso_time,
    default=None,
    metavar="ISO-TIME",
    help="Show entries decided at or after this time (gate time unless it has an offset), "
    "oldest first (default: the newest).",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=None,
    help=f"Most entries shown (table default {TABLE_LIMIT}; --json default: all).",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON document per line.")
def entries(
    config_path: Path | None,
    db_path: Path | None,
    since: datetime | None,
    limit: int | None,
    as_json: bool,
) -> None:
    """Print the gate's entry log: the newest entries as a table, or every entry as JSON lines
    (both from --since on when given). Times are the gate's (its policy's time zone)."""
    with open_gate_state(config_path, db_path) as gate, quiet_broken_pipe():
        store = gate.store
        since = gate.local(since) if since is not None else None
        if as_json and limit is None:
            _print_all_json(store, since)
            return
        limit = limit or TABLE_LIMIT
        try:
            if since is None:
                found = store.entries(limit=limit, newest_first=True)[::-1]
            else:
                found = store.entries(since=since, limit=limit)
        except StoreError as exc:
            raise click.ClickException(str(exc)) from exc
        if as_json:
            for entry in found:
                click.echo(json.dumps(entry_to_document(entry), ensure_ascii=False))
            return
        click.echo(format_table(found, gate.zone))
        click.echo(
            f"{len(found)} shown; {store.community}/{store.gate} holds {store.entry_count()}, "
            f"last seq {store.last_seq()}; times in {gate.zone.key}"
        )


def _print_all_json(store: Store, since: datetime | None) -> None:
    """Every entry in sequence order, a page at a time so a year of entries streams."""
    after_seq: int | None = None
    while True:
        try:
            page = store.entries(since=since, after_seq=after_seq, limit=JSON_PAGE)
        except StoreError as exc:
            raise click.ClickException(str(exc)) from exc
        for entry in page:
            click.echo(json.dumps(entry_to_document(entry), ensure_ascii=False))
        if len(page) < JSON_PAGE:
            return
        after_seq = page[-1].seq


COMMANDS = [entries]
