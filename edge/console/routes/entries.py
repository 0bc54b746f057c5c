"""The entry log, newest pages by sequence number (keyset pagination stays fast over years)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from edge.console.auth import GuardDep
from edge.console.deps import ContextDep
from edge.console.filters import EntryFiltersDep
from edge.console.schemas import EntriesPage
from edge.entry_document import entry_to_document

router = APIRouter(prefix="/api/v1", tags=["entries"])


@router.get("/entries", response_model=EntriesPage)
def list_entries(
    context: ContextDep,
    guard: GuardDep,
    filters: EntryFiltersDep,
    after_seq: int | None = None,
    before_seq: int | None = None,
    newest_first: bool = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> EntriesPage:
    """Filter by decision time, outcome, household, pass or lane; page with the seq you got back.

    Oldest first with ``after_seq``; newest first (the log page) with ``before_seq``.
    """
    entries = context.store.entries(
        **filters,
        after_seq=after_seq,
        before_seq=before_seq,
        newest_first=newest_first,
        limit=limit,
    )
    next_after = entries[-1].seq if len(entries) == limit else None
    return EntriesPage(entries=[entry_to_document(e) for e in entries], next_after_seq=next_after)
