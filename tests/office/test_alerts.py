"""Live alerts: the receiver stores the gates' alerts (a real Mosquitto, the gate's own sync
runtime) once each, before acknowledging them; officers read them with the fever's person and
readings, and acknowledge them with a note, audited."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from edge.bus import AlarmRaised
from edge.model import Outcome
from sync.contract import Alert, AlertKind, alert_topic, to_json
from sync.office import audit
from sync.office.accounts import Officer, Role
from sync.office.context import OfficeContext
from sync.receiver.db import ReceiverDb
from sync.receiver.receiver import Receiver
from sync.settings import ServerSettings
from tests.office.conftest import (
    COMMUNITY,
    OTHER_COMMUNITY,
    T0,
    OfficeClock,
    add_officer,
    signed_in,
)
from tests.office.feeds import GateFeed, fever_detail, visit
from tests.office.gate_rig import SyncedGate
from tests.sync.rig import Mosquitto, wait_until


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    server = Mosquitto(tmp_path / "mosquitto")
    server.start()
    try:
        yield server
    finally:
        server.kill()


def receiver_settings(settings: ServerSettings, port: int) -> ServerSettings:
    broker = settings.broker.model_copy(
        update={"port": port, "keepalive_s": 5, "reconnect_min_s": 0.2, "reconnect_max_s": 1.0}
    )
    return settings.model_copy(update={"broker": broker})


@pytest.fixture
def receiver(
    broker: Mosquitto, office_db: ReceiverDb, office_settings: ServerSettings
) -> Iterator[Receiver]:
    running = Receiver(receiver_settings(office_settings, broker.port), office_db)
    running.start()
    wait_until(lambda: running.connected, 10, "the receiver to connect")
    yield running
    running.stop()


@pytest.fixture
def gate(tmp_path: Path, broker: Mosquitto) -> Iterator[SyncedGate]:
    """The gate's own sync runtime on the broker; an alarm on its bus becomes an alert."""
    with closing(SyncedGate(tmp_path / "north", broker.port)) as gate:
        yield gate


def _rows(db: ReceiverDb, sql: str) -> list[tuple[object, ...]]:
    with db.reading() as q:
        return q.all(sql)


def test_a_gate_alarm_reaches_the_office_table_once(
    receiver: Receiver, gate: SyncedGate, office_db: ReceiverDb, broker: Mosquitto
) -> None:
    time_sent = datetime.now(UTC)
    gate.bus.publish(
        AlarmRaised(
            lane="in-1", kind="fever", detail=fever_detail("王小华", "3-2-501", (38.4, 38.5))
        )
    )
    wait_until(
        lambda: bool(_rows(office_db, "SELECT id FROM office_alerts")), 10, "the alert to arrive"
    )
    (row,) = _rows(office_db, "SELECT community, gate, lane, kind, detail, at FROM office_alerts")
    assert row[:4] == (COMMUNITY, "north", "in-1", "fever")
    assert "38.4, 38.5" in str(row[4])
    assert datetime.fromisoformat(str(row[5])) >= time_sent - timedelta(seconds=1)
    # the same alert delivered again (a gate's resend after a lost PUBACK) is kept once
    alert_id = str(_rows(office_db, "SELECT id FROM office_alerts")[0][0])
    again = Alert(
        id=alert_id,
        community=COMMUNITY,
        gate="north",
        lane="in-1",
        kind=AlertKind.FEVER,
        detail="a resend",
        at=time_sent,
    )
    from tests.sync.conftest import Watcher

    sender = Watcher(broker.port)
    try:
        sender.publish(alert_topic(COMMUNITY, "north", AlertKind.FEVER), to_json(again))
        # and one claiming another gate on north's topic is kept as a reject, not an alert
        forged = again.model_copy(update={"id": uuid.uuid4().hex, "gate": "south"})
        sender.publish(alert_topic(COMMUNITY, "north", AlertKind.FEVER), to_json(forged))
        wait_until(lambda: bool(_rows(office_db, "SELECT reason FROM rejects")), 10, "the reject")
    finally:
        sender.close()
    assert _rows(office_db, "SELECT count(*), min(detail) FROM office_alerts") == [(1, row[4])]
    assert _rows(office_db, "SELECT reason FROM rejects") == [("alert of another gate",)]
    assert receiver.stats.alerts == 1


def test_an_alert_the_database_cannot_take_is_not_acknowledged_and_comes_again(
    receiver: Receiver, office_db: ReceiverDb, broker: Mosquitto
) -> None:
    """Stored before the PUBACK: while the table is gone the receiver keeps the message
    unacknowledged and retries; once it can store it, it does, and nothing is lost."""
    from tests.sync.conftest import Watcher

    with office_db.writing() as q:
        q.run("DROP TABLE office_alerts")
    alert = Alert(
        id=uuid.uuid4().hex,
        community=COMMUNITY,
        gate="north",
        lane=None,
        kind=AlertKind.DEVICE_DOWN,
        detail="cannot open /dev/ttyUSB0",
        at=datetime.now(UTC),
    )
    sender = Watcher(broker.port)
    try:
        sender.publish(alert_topic(COMMUNITY, "north", AlertKind.DEVICE_DOWN), to_json(alert))
        wait_until(lambda: receiver.stats.database_errors > 0, 10, "a failed store")
        assert receiver.stats.messages == 0  # not acknowledged
        from sync.receiver.alerts import ensure_schema

        ensure_schema(office_db)
        wait_until(lambda: bool(_rows(office_db, "SELECT id FROM office_alerts")), 20, "the retry")
    finally:
        sender.close()
    assert _rows(office_db, "SELECT id, kind FROM office_alerts") == [(alert.id, "device_down")]
    assert receiver.stats.messages == 1


@pytest.fixture
def north(tmp_path: Path, office_db: ReceiverDb) -> Iterator[GateFeed]:
    feed = GateFeed(tmp_path / "gates", office_db, COMMUNITY, "north")
    yield feed
    feed.close()


def test_a_fever_names_the_person_masked_and_the_readings(
    north: GateFeed, officer_client: TestClient, office_clock: OfficeClock
) -> None:
    at = T0 - timedelta(minutes=1)
    north.alert(AlertKind.FEVER, at, detail=fever_detail("王小华", "3-2-501", (38.4, 38.5)))
    (alert,) = officer_client.get("/api/v1/alerts").json()
    assert alert["person"] == {
        "holder": "王**",
        "household": "3-2-501",
        "readings_c": [38.4, 38.5],
        "pass_id": None,
        "from_entry": False,
    }
    # once the fever's entry has arrived, the person and readings come from it
    north.record(
        visit(at, outcome=Outcome.FEVER, readings_c=(38.42, 38.51), holder="王小华", pass_id="R-7")
    )
    (alert,) = officer_client.get("/api/v1/alerts").json()
    assert alert["person"]["from_entry"] is True
    assert alert["person"]["readings_c"] == [38.42, 38.51]
    assert alert["person"]["pass_id"] == "R-7"
    assert alert["person"]["holder"] == "王**"
    page = officer_client.get("/alerts").text
    assert "王**" in page
    assert "王小华" not in page
    assert "38.4 °C, 38.5 °C" in page
    assert "（来自通行记录）" in page


def test_acknowledging_needs_a_note_happens_once_and_is_audited(
    north: GateFeed,
    officer_client: TestClient,
    officer: Officer,
    office_context: OfficeContext,
    office_app: object,
) -> None:
    alert = north.alert(AlertKind.DOOR_FORCED, T0 - timedelta(minutes=1), detail="open")
    stamp = officer_client.get("/api/v1/alerts/stamp").json()["stamp"]
    empty = officer_client.post(f"/api/v1/alerts/{alert.id}/ack", json={"note": ""})
    assert empty.status_code == 422
    done = officer_client.post(f"/api/v1/alerts/{alert.id}/ack", json={"note": "已查看现场"})
    assert done.status_code == 200
    assert done.json()["acknowledged_by"] == officer.name
    assert done.json()["note"] == "已查看现场"
    assert officer_client.get("/api/v1/alerts/stamp").json()["stamp"] != stamp
    twice = officer_client.post(f"/api/v1/alerts/{alert.id}/ack", json={"note": "again"})
    assert twice.status_code == 409
    assert officer_client.get("/api/v1/alerts", params={"state": "open"}).json() == []
    (line,) = audit.read(office_context.db, communities=[COMMUNITY], action="alert_acknowledged")
    assert line.officer_name == officer.name
    assert line.community == COMMUNITY
    assert "door_forced" in line.detail
    assert "已查看现场" in line.detail


def test_an_officer_of_another_community_neither_sees_nor_acknowledges_it(
    north: GateFeed, office_context: OfficeContext, office_app: object
) -> None:
    from fastapi import FastAPI

    assert isinstance(office_app, FastAPI)
    alert = north.alert(AlertKind.FEVER, T0, detail=fever_detail("李四", "1-1-101", (38.0,)))
    add_officer(office_context, "外区人员", "other-secret-1", communities=(OTHER_COMMUNITY,))
    with signed_in(office_app, "外区人员", "other-secret-1") as other:
        assert other.get("/api/v1/alerts").json() == []
        assert other.get("/api/v1/alerts", params={"community": COMMUNITY}).status_code == 403
        refused = other.post(f"/api/v1/alerts/{alert.id}/ack", json={"note": "看过"})
        assert refused.status_code == 404
        assert "李" not in other.get("/alerts").text
    add_officer(office_context, "区管理员", "district-secret", role=Role.ADMIN, communities=None)
    with signed_in(office_app, "区管理员", "district-secret") as district:
        assert [a["id"] for a in district.get("/api/v1/alerts").json()] == [alert.id]


def test_the_page_acknowledges_with_a_form_and_says_what_was_wrong(
    north: GateFeed, officer_client: TestClient, officer: Officer
) -> None:
    alert = north.alert(AlertKind.FEVER, T0, detail=fever_detail("王小华", "3-2-501", (38.4,)))
    page = officer_client.get("/alerts")
    assert f'action="/alerts/{alert.id}/ack"' in page.text
    assert 'data-poll="/api/v1/alerts/stamp"' in page.text
    headers = {"origin": "http://localhost"}
    blank = officer_client.post(f"/alerts/{alert.id}/ack", data={"note": " "}, headers=headers)
    assert blank.status_code == 422
    assert "请填写处置说明" in blank.text
    done = officer_client.post(
        f"/alerts/{alert.id}/ack",
        data={"note": "已隔离复测，已上报", "back": "/alerts?state=all"},
        headers=headers,
    )
    assert done.status_code == 303
    assert done.headers["location"] == "/alerts?state=all"
    shown = officer_client.get("/alerts").text
    assert f"{officer.name} 于" in shown
    assert "已隔离复测，已上报" in shown
    assert "未处置" in shown  # the filter's words; the alert itself is no longer open
    assert officer_client.get("/alerts", params={"state": "open"}).text.count("data-id=") == 0
    fragment = officer_client.get("/alerts/list")
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert alert.id in fragment.text
    assert officer_client.get("/alerts", params={"kind": "nonsense"}).status_code == 400
