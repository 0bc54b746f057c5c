"""Rows as a version-1 program wrote them, for the migration tests (its columns are today's)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlite_utils import Database

from edge.model import Entry
from edge.store.records import ENTRY_COLUMNS, entry_to_row


def insert_version_1_entries(
    db: Database,
    community: str,
    gate: str,
    entries: Sequence[Entry],
    *,
    acked: Collection[int] = (),
    acked_at: datetime | None = None,
) -> None:
    """The gate's sequence, ``entries`` and their outbox rows; seqs in ``acked`` acknowledged."""
    db.execute(
        "INSERT INTO sequences (community, gate, last_seq) VALUES (?, ?, ?)",
        [community, gate, max((entry.seq for entry in entries), default=0)],
    )
    for entry in entries:
        db.execute(
            f"INSERT INTO entries ({', '.join(ENTRY_COLUMNS)}) "
            f"VALUES ({', '.join('?' for _ in ENTRY_COLUMNS)})",
            list(entry_to_row(entry).values()),
        )
        done = acked_at.isoformat() if acked_at is not None and entry.seq in acked else None
        db.execute(
            "INSERT INTO outbox (entry_id, community, gate, seq, queued_at, acked_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [entry.id, community, gate, entry.seq, entry.recorded_at.isoformat(), done],
        )
