"""The entry log, newest pages by sequence number (keyset pagination stays fast over years)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from edge.console.auth import GuardDep
from edge.console.deps import ContextDep, invalid
from edge.console.schemas import EntriesPage
from edge.model import Outcome
from edge.store.records import entry_to_document

router = APIRouter(prefix="/api/v1", tags=["entries"])


def _aware(moment: datetime | None, name: str) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        raise invalid(("query", name), "needs a UTC offset, e.g. +08:00 or Z")
    return moment


@router.get("/entries", response_model=EntriesPage)
def list_entries(
    context: ContextDep,
    guard: GuardDep,
    since: datetime | None = None,
    until: datetime | None = None,
    outcome: Outcome | None = None,
    household: Annotated[str | None, Query(max_length=64)] = None,
    pass_id: Annotated[str | None, Query(max_length=128)] = None,
    lane: Annotated[str | None, Query(max_length=64)] = None,
    after_seq: int | None = None,
    before_seq: int | None = None,
    newest_first: bool = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> EntriesPage:
    """Filter by decision time, outcome, household, pass or lane; page with the seq you got back.

    Oldest first with ``after_seq``; newest first (the log page) with ``before_seq``.
    """
    entries = context.store.entries(
        since=_aware(since, "since"),
        until=_aware(until, "until"),
        outcome=outcome,
        household=household or None,
        pass_id=pass_id or None,
        lane=lane or None,
        after_seq=after_seq,
        before_seq=before_seq,
        newest_first=newest_first,
        limit=limit,
    )
    next_after = entries[-1].seq if len(entries) == limit else None
    return EntriesPage(entries=[entry_to_document(e) for e in entries], next_after_seq=next_after)
