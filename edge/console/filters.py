"""The entry log's filters as the query string carries them, one definition for the log's API and
the exports, so a search and its export can never disagree on what a filter means."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Query

from edge.console.deps import invalid
from edge.model import Outcome
from edge.store.exports import EntryFilters


def _aware(moment: datetime | None, name: str) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        raise invalid(("query", name), "needs a UTC offset, e.g. +08:00 or Z")
    return moment


def entry_filters(
    since: Annotated[
        datetime | None, Query(description="Decided at or after (with a UTC offset).")
    ] = None,
    until: Annotated[
        datetime | None, Query(description="Decided before (with a UTC offset).")
    ] = None,
    outcome: Outcome | None = None,
    household: Annotated[str | None, Query(max_length=64)] = None,
    pass_id: Annotated[str | None, Query(max_length=128)] = None,
    lane: Annotated[str | None, Query(max_length=64)] = None,
) -> EntryFilters:
    """Times must say their offset (a gate's local time is not the server's); an empty text
    filter is no filter, as an empty field in the log page's form means."""
    return EntryFilters(
        since=_aware(since, "since"),
        until=_aware(until, "until"),
        outcome=outcome,
        household=household or None,
        pass_id=pass_id or None,
        lane=lane or None,
    )


EntryFiltersDep = Annotated[EntryFilters, Depends(entry_filters)]
