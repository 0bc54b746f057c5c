"""Every gate at a glance: state from the retained status, backlog, last entry, clock offset,
revocation list version and age, open device alarms and fevers; problems first; only the
officer's communities."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from edge.model import Outcome
from sync.contract import AlertKind
from sync.office.context import OfficeContext
from sync.receiver.db import ReceiverDb
from tests.office.conftest import COMMUNITY, OTHER_COMMUNITY, T0, OfficeClock
from tests.office.feeds import GateFeed, visit


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.fixture
def feeds(tmp_path: Path, office_db: ReceiverDb) -> Iterator[dict[str, GateFeed]]:
    made = {
        name: GateFeed(tmp_path / "gates", office_db, community, gate)
        for name, community, gate in (
            ("north", COMMUNITY, "north"),
            ("south", COMMUNITY, "south"),
            ("east", COMMUNITY, "east"),
            ("west", COMMUNITY, "west"),
            ("elsewhere", OTHER_COMMUNITY, "main"),
        )
    }
    yield made
    for feed in made.values():
        feed.close()


def test_gates_come_with_their_state_and_problems_first(
    feeds: dict[str, GateFeed],
    officer_client: TestClient,
    office_context: OfficeContext,
    office_clock: OfficeClock,
) -> None:
    now = office_clock.now()
    north, south, east, west = (feeds[n] for n in ("north", "south", "east", "west"))
    north.record(visit(T0 - timedelta(minutes=3)), visit(T0 - timedelta(minutes=1)))
    north.status(now - timedelta(seconds=30), backlog=0, clock_offset_s=-0.4)
    south.record(visit(T0 - timedelta(hours=2)))
    south.status(now - timedelta(hours=1), online=False)  # the last will
    east.record(visit(T0 - timedelta(minutes=10)), send=False)
    east.status(
        now - timedelta(seconds=10), backlog=250, clock_offset_s=95.0, revocations_age_s=3 * 86_400
    )
    east.alert(AlertKind.DEVICE_DOWN, now - timedelta(minutes=2), detail="cannot open /dev/ttyUSB0")
    west.status(now - timedelta(minutes=20))  # silent for 20 minutes
    feeds["elsewhere"].status(now, online=False)

    answer = officer_client.get("/api/v1/gates")
    assert answer.status_code == 200
    gates = {g["gate"]: g for g in answer.json()}
    assert set(gates) == {"north", "south", "east", "west"}  # never the other community's
    assert [g["gate"] for g in answer.json()] == ["south", "west", "east", "north"]
    assert gates["north"]["state"] == "online"
    assert gates["north"]["problems"] == []
    assert _at(gates["north"]["last_entry_at"]) == T0 - timedelta(minutes=1)
    assert gates["north"]["clock_offset_s"] == -0.4
    assert gates["north"]["revocations_version"] == 3
    assert gates["north"]["revocations_age_s"] == pytest.approx(3630.0)
    assert gates["south"]["state"] == "offline"
    assert gates["south"]["problems"][0] == "offline"
    assert gates["west"]["state"] == "stale"
    assert gates["east"]["problems"] == ["alarms", "backlog", "clock", "revocations"]
    assert gates["east"]["alarms"] == {"device_down": 1}
    assert gates["east"]["backlog"] == 250
    assert gates["east"]["last_entry_at"] is None  # recorded at the gate, not yet sent

    page = officer_client.get("/")
    assert page.status_code == 200
    text = page.text
    assert "4 个卡口，4 个需要处理" not in text  # north has none
    assert "4 个卡口，3 个需要处理" in text
    assert text.index('data-gate="hxy/south"') < text.index('data-gate="hxy/north"')
    assert "离线" in text
    assert "设备离线 ×1" in text
    assert "积压较多" in text
    assert "时钟不准" in text
    assert "+95.0 秒" in text
    assert "lhy" not in text


def test_a_fever_not_acknowledged_is_a_problem_of_its_gate(
    feeds: dict[str, GateFeed], officer_client: TestClient, office_clock: OfficeClock
) -> None:
    north = feeds["north"]
    north.status(office_clock.now())
    north.alert(
        AlertKind.FEVER, office_clock.now(), detail="王*, household 3-2-501; readings °C: 38.4"
    )
    gates = officer_client.get("/api/v1/gates").json()
    assert gates[0]["gate"] == "north"
    assert gates[0]["fevers"] == 1
    assert gates[0]["problems"] == ["fevers"]
    assert "发热 1" in officer_client.get("/").text


def test_another_community_is_refused_and_a_stranger_is_sent_to_sign_in(
    officer_client: TestClient, office_client: TestClient, feeds: dict[str, GateFeed]
) -> None:
    assert (
        officer_client.get("/api/v1/gates", params={"community": OTHER_COMMUNITY}).status_code
        == 403
    )
    refused = officer_client.get("/", params={"community": OTHER_COMMUNITY})
    assert refused.status_code == 403
    assert "无权访问" in refused.text
    assert office_client.get("/api/v1/gates").status_code == 401
    page = office_client.get("/")
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=%2F"


def test_a_district_admin_sees_every_community_and_can_pick_one(
    feeds: dict[str, GateFeed], admin_client: TestClient, office_clock: OfficeClock
) -> None:
    feeds["north"].status(office_clock.now())
    feeds["elsewhere"].status(office_clock.now())
    everything = admin_client.get("/api/v1/gates").json()
    assert {(g["community"], g["gate"]) for g in everything} == {
        (COMMUNITY, "north"),
        (OTHER_COMMUNITY, "main"),
    }
    one = admin_client.get("/api/v1/gates", params={"community": OTHER_COMMUNITY}).json()
    assert [g["gate"] for g in one] == ["main"]
    page = admin_client.get("/", params={"community": OTHER_COMMUNITY})
    assert 'id="community-filter"' in page.text
    assert 'data-gate="lhy/main"' in page.text
    assert 'data-gate="hxy/north"' not in page.text


def test_english_and_no_gates_yet(officer_client: TestClient) -> None:
    assert "尚无卡口上报" in officer_client.get("/").text
    officer_client.get("/lang/en")
    assert "No gate has reported yet." in officer_client.get("/").text


def test_a_fever_entry_counts_as_the_last_entry(
    feeds: dict[str, GateFeed], officer_client: TestClient, office_clock: OfficeClock
) -> None:
    north = feeds["north"]
    north.record(visit(T0 - timedelta(minutes=5)))
    north.record(visit(T0 - timedelta(minutes=2), outcome=Outcome.FEVER, readings_c=(38.2, 38.3)))
    north.status(office_clock.now())
    gates = officer_client.get("/api/v1/gates").json()
    assert _at(gates[0]["last_entry_at"]) == T0 - timedelta(minutes=2)
