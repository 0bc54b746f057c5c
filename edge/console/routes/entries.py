"""The entry log, newest pages by sequence number (keyset pagination stays fast over years)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query

from edge.console.deps import ContextDep
from edge.console.schemas import EntriesPage
from edge.model import Outcome
from edge.store.records import entry_to_document

router = APIRouter(prefix="/api/v1", tags=["entries"])


@router.get("/entries", response_model=EntriesPage)
def list_entries(
    context: ContextDep,
    since: datetime | None = None,
    outcome: Outcome | None = None,
    after_seq: int | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> EntriesPage:
    if since is not None and since.tzinfo is None:
        raise HTTPException(status_code=422, detail="since needs a UTC offset, e.g. +08:00 or Z")
    entries = context.store.entries(since=since, outcome=outcome, after_seq=after_seq, limit=limit)
    next_after = entries[-1].seq if len(entries) == limit else None
    return EntriesPage(entries=[entry_to_document(e) for e in entries], next_after_seq=next_after)
