"""Entries as ``entries`` table rows.

A row is the entry document (``edge.entry_document``) flattened: the fields the store queries are
real columns, the nested ones (answers, temperatures, reasons, extra) are JSON text. Both
directions go through the document, so there is one mapping to keep right, and
``entry_from_row(entry_to_row(e)) == e`` for every valid entry.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from edge.entry_document import DocumentError, entry_from_document, entry_to_document, epoch_us
from edge.model import Entry

SqlValue = str | int | float | bytes | None
"""A value SQLite hands back for one column."""

ENTRY_COLUMNS: tuple[str, ...] = (
    "id",
    "community",
    "gate",
    "seq",
    "schema_version",
    "lane",
    "direction",
    "outcome",
    "started_at",
    "decided_at",
    "recorded_at",
    "decided_at_us",
    "recorded_at_us",
    "clock_synced",
    "boot_id",
    "pass_id",
    "pass_kind",
    "key_id",
    "holder",
    "household",
    "answers",
    "temperatures",
    "reasons",
    "guard_id",
    "guard_note",
    "gate_mode",
    "extra",
)
"""Columns of the ``entries`` table, in the order ``entry_to_row`` fills them."""


# ------------------------------------------------------------------------------------ rows


def _json_text(value: object) -> str:
    # Compact, UTF-8 as is (answers are often Chinese), and strict: NaN never reaches the log.
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def entry_to_row(entry: Entry) -> dict[str, SqlValue]:
    """The ``entries`` row for an entry: the document flattened, plus UTC microsecond columns."""
    doc = entry_to_document(entry)
    return {
        "id": doc["id"],
        "community": doc["community"],
        "gate": doc["gate"],
        "seq": doc["seq"],
        "schema_version": doc["schema_version"],
        "lane": doc["lane"],
        "direction": doc["direction"],
        "outcome": doc["outcome"],
        "started_at": doc["started_at"],
        "decided_at": doc["decided_at"],
        "recorded_at": doc["recorded_at"],
        "decided_at_us": epoch_us(entry.draft.decided_at),
        "recorded_at_us": epoch_us(entry.recorded_at),
        "clock_synced": int(doc["clock_synced"]),
        "boot_id": doc["boot_id"],
        "pass_id": doc["pass"]["id"],
        "pass_kind": doc["pass"]["kind"],
        "key_id": doc["pass"]["key_id"],
        "holder": doc["holder"],
        "household": doc["household"],
        "answers": _json_text(doc["answers"]),
        "temperatures": _json_text(doc["temperatures"]),
        "reasons": _json_text(doc["reasons"]),
        "guard_id": doc["guard"]["id"],
        "guard_note": doc["guard"]["note"],
        "gate_mode": doc["gate_mode"],
        "extra": _json_text(doc["extra"]),
    }


def _json_column(row: Mapping[str, SqlValue], column: str) -> object:
    text = row.get(column)
    if not isinstance(text, str):
        raise DocumentError(f"{column}: expected JSON text")
    try:
        return json.loads(text)
    except ValueError as exc:
        raise DocumentError(f"{column}: not JSON: {exc}") from exc


def document_from_row(row: Mapping[str, SqlValue]) -> dict[str, Any]:
    """The document stored in an ``entries`` row, rebuilt but not re-checked.

    Raises ``DocumentError`` only for a row that cannot be rebuilt at all (a missing column,
    text that is not JSON). ``entry_from_row`` checks the result strictly; the sync publisher
    sends it as it is, since every row was written from a checked entry and the receiver checks
    each document again.
    """
    missing = [column for column in ENTRY_COLUMNS if column not in row]
    if missing:
        raise DocumentError(f"row lacks columns {missing}")
    clock_synced = row["clock_synced"]
    if clock_synced not in (0, 1):
        raise DocumentError("clock_synced: expected 0 or 1")
    return {
        "id": row["id"],
        "schema_version": row["schema_version"],
        "community": row["community"],
        "gate": row["gate"],
        "lane": row["lane"],
        "direction": row["direction"],
        "seq": row["seq"],
        "started_at": row["started_at"],
        "decided_at": row["decided_at"],
        "recorded_at": row["recorded_at"],
        "clock_synced": clock_synced == 1,
        "boot_id": row["boot_id"],
        "pass": {"id": row["pass_id"], "kind": row["pass_kind"], "key_id": row["key_id"]},
        "holder": row["holder"],
        "household": row["household"],
        "answers": _json_column(row, "answers"),
        "temperatures": _json_column(row, "temperatures"),
        "outcome": row["outcome"],
        "reasons": _json_column(row, "reasons"),
        "guard": {"id": row["guard_id"], "note": row["guard_note"]},
        "gate_mode": row["gate_mode"],
        "extra": _json_column(row, "extra"),
    }


def entry_from_row(row: Mapping[str, SqlValue]) -> Entry:
    """The entry stored in an ``entries`` row; raises ``DocumentError`` if the row is damaged."""
    return entry_from_document(document_from_row(row))
