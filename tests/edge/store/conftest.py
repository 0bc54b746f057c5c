"""Fixtures: a real SQLite store in tmp_path, a movable clock, and a draft recorder."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from edge.model import Entry
from edge.store import Store
from tests.edge.store.drafts import simple_draft

COMMUNITY = "maple-court"
GATE = "north"
BOOT_ID = "7f1c0c8e-7a0e-4a52-9d3e-3c3b8f0c2a11"


class StepClock:
    """A wall clock tests move by hand; the store reads it for trust and meta times."""

    def __init__(self, start: datetime) -> None:
        self.wall = start

    def __call__(self) -> datetime:
        return self.wall

    def advance(self, seconds: float) -> datetime:
        self.wall += timedelta(seconds=seconds)
        return self.wall


@pytest.fixture
def clock() -> StepClock:
    return StepClock(datetime(2026, 11, 23, 0, 0, tzinfo=UTC))


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "kakou.db"


@pytest.fixture
def store(db_path: Path, clock: StepClock) -> Iterator[Store]:
    with Store.open(db_path, community=COMMUNITY, gate=GATE, now=clock) as opened:
        yield opened


Recorder = Callable[..., Entry]


@pytest.fixture
def record(store: Store, clock: StepClock) -> Recorder:
    """Record a draft (a plain resident visit unless fields are given), one second apart."""

    def record_one(**changes: Any) -> Entry:
        at = clock.advance(1)
        draft = simple_draft(**{"started_at": at, "decided_at": at, **changes})
        return store.record_entry(draft, boot_id=BOOT_ID, recorded_at=at)

    return record_one
