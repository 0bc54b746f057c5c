"""Entries as a gate records them, for tests that need a whole Entry around a draft."""

from __future__ import annotations

from datetime import timedelta

from edge.model import ENTRY_SCHEMA_VERSION, Entry, EntryDraft
from tests.edge.store.drafts import T0


def make_entry(
    draft: EntryDraft,
    extra: dict[str, str] | None = None,
    *,
    seq: int = 17,
    community: str = "hxy",
) -> Entry:
    """``draft`` as the north gate recorded it, 96 s after T0."""
    return Entry(
        id=f"0691e475-7ede-70b0-bf9e-{seq:012d}",
        seq=seq,
        schema_version=ENTRY_SCHEMA_VERSION,
        community=community,
        gate="north",
        boot_id="boot-1",
        recorded_at=T0 + timedelta(seconds=96),
        draft=draft,
        extra=extra or {},
    )
