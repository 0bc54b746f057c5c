"""The gap view: which gate owes which sequence numbers, of the officer's communities only."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from sync.receiver.db import ReceiverDb
from tests.office.conftest import COMMUNITY, OTHER_COMMUNITY, T0, OfficeClock
from tests.office.feeds import GateFeed, visit


@pytest.fixture
def feeds(tmp_path: Path, office_db: ReceiverDb) -> Iterator[list[GateFeed]]:
    made = [
        GateFeed(tmp_path / "gates", office_db, COMMUNITY, "north"),
        GateFeed(tmp_path / "gates", office_db, COMMUNITY, "south"),
        GateFeed(tmp_path / "gates", office_db, OTHER_COMMUNITY, "main"),
    ]
    yield made
    for feed in made:
        feed.close()


def test_missing_and_unreceived_numbers_per_gate(
    feeds: list[GateFeed], officer_client: TestClient, office_clock: OfficeClock
) -> None:
    north, south, elsewhere = feeds
    entries = north.record(*(visit(T0 - timedelta(minutes=10 - n)) for n in range(8)), send=False)
    # 1-2 and 5 arrive, 3-4 are lost on the way, 6-8 are still at the gate (its status says 8)
    north.send([entries[0], entries[1], entries[4]], at=T0)
    north.status(office_clock.now())
    south.record(visit(T0 - timedelta(minutes=3)), visit(T0 - timedelta(minutes=2)))
    south.status(office_clock.now())
    elsewhere.record(visit(T0), send=False)
    elsewhere.send(elsewhere.record(visit(T0), send=False), at=T0)  # seq 2 without seq 1

    logs = {log["gate"]: log for log in officer_client.get("/api/v1/gaps").json()}
    assert set(logs) == {"north", "south"}
    assert logs["north"]["contiguous_seq"] == 2
    assert logs["north"]["missing"] == [[3, 4]]
    assert logs["north"]["missing_count"] == 2
    assert logs["north"]["unreceived"] == [6, 8]
    assert logs["south"]["missing"] == []
    assert logs["south"]["unreceived"] is None

    page = officer_client.get("/gaps").text
    assert page.index('data-gate="hxy/north"') < page.index('data-gate="hxy/south"')
    assert "3–4" in page
    assert "6–8" in page
    assert "共 2 条" in page
    assert "lhy" not in page
    assert officer_client.get("/gaps", params={"community": OTHER_COMMUNITY}).status_code == 403


def test_nothing_missing_says_so(
    feeds: list[GateFeed], officer_client: TestClient, office_clock: OfficeClock
) -> None:
    feeds[0].record(visit(T0))
    feeds[0].status(office_clock.now())
    page = officer_client.get("/gaps").text
    assert 'id="no-gaps"' in page
    assert "完整" in page
