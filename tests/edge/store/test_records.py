"""edge/store/records.py: entries as table rows, the entry document flattened."""

from __future__ import annotations

import pytest
from hypothesis import given

from edge.entry_document import DocumentError
from edge.model import EntryDraft
from edge.store.records import (
    ENTRY_COLUMNS,
    SqlValue,
    document_from_row,
    entry_from_row,
    entry_to_row,
)
from tests.edge.store.drafts import drafts, full_draft
from tests.edge.store.entries import make_entry


@given(draft=drafts)
def test_any_draft_round_trips_through_a_row(draft: EntryDraft) -> None:
    entry = make_entry(draft)
    row = entry_to_row(entry)
    assert tuple(row) == ENTRY_COLUMNS
    assert entry_from_row(row) == entry


def test_time_columns_are_utc_microseconds() -> None:
    entry = make_entry(full_draft())  # decided at +08:00: the column is in UTC all the same
    row = entry_to_row(entry)
    assert row["decided_at_us"] == round(entry.draft.decided_at.timestamp() * 1_000_000)
    assert row["recorded_at_us"] == round(entry.recorded_at.timestamp() * 1_000_000)
    assert row["decided_at"] == entry.draft.decided_at.isoformat()


def _damaged(column: str, value: SqlValue) -> dict[str, SqlValue]:
    row = entry_to_row(make_entry(full_draft()))
    row[column] = value
    return row


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({**entry_to_row(make_entry(full_draft())), "gate_mode": "party"}, "gate_mode: unknown"),
        (_damaged("clock_synced", 2), "clock_synced: expected 0 or 1"),
        (_damaged("answers", "{not json"), "answers: not JSON"),
        (_damaged("temperatures", None), "temperatures: expected JSON text"),
        (_damaged("reasons", "[3]"), "reasons: expected a list of strings"),
    ],
)
def test_damaged_rows_are_refused_naming_the_column(row: dict[str, SqlValue], message: str) -> None:
    with pytest.raises(DocumentError, match=message):
        entry_from_row(row)


def test_a_row_without_a_column_cannot_be_rebuilt() -> None:
    row = entry_to_row(make_entry(full_draft()))
    del row["extra"]
    with pytest.raises(DocumentError, match=r"row lacks columns \['extra'\]"):
        document_from_row(row)
