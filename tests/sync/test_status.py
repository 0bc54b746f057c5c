"""sync/status.py: bus alarms become alerts, disk fill is watched with hysteresis, the status
payload and the revocation list's age; and the disk alarm reaching the bus from SyncHandle."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from edge.bus import AlarmRaised, Bus
from edge.store import Store
from sync.contract import Alert, AlertKind, Status, parse_payload, to_json
from sync.downlink import Applied
from sync.runtime import SyncHandle
from sync.status import (
    AlertRelay,
    applied_status,
    build_status,
    offline_status,
    revocation_status,
)
from tests.sync.conftest import COMMUNITY, GATE, edge_settings
from tests.sync.rig import free_port, wait_until

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def relay_alerts(*events: AlarmRaised) -> list[object]:
    alerts: list[object] = []
    relay = AlertRelay(community="hxy", gate="north", enqueue=alerts.append, wall_now=lambda: NOW)
    for event in events:
        relay(event)
    return alerts


def test_alarms_become_alerts_with_their_kind_or_other() -> None:
    alerts = relay_alerts(
        AlarmRaised(lane="in-1", kind="fever", detail="38.2"),
        AlarmRaised(kind="door_forced", detail="gate 2"),
        # As edge.health announces a device that went down.
        AlarmRaised(lane="in-1", kind="device_down", detail="in-1/thermometer: silent"),
        AlarmRaised(lane="in-1", kind="x" * 900, detail="y" * 900),
    )
    kinds = [alert.kind for alert in alerts]  # type: ignore[attr-defined]
    assert kinds == [AlertKind.FEVER, AlertKind.DOOR_FORCED, AlertKind.DEVICE_DOWN, AlertKind.OTHER]
    assert alerts[1].lane is None  # type: ignore[attr-defined]
    assert alerts[2].detail == "in-1/thermometer: silent"  # type: ignore[attr-defined]
    assert len(alerts[3].source_kind) == 500  # type: ignore[attr-defined]


def test_an_alert_says_whether_the_gates_clock_was_synchronised() -> None:
    alarm = AlarmRaised(lane="in-1", kind="fever", detail="38.2")
    for synced in (True, False, None):
        alerts: list[Alert] = []
        relay = AlertRelay(
            community="hxy",
            gate="north",
            enqueue=alerts.append,
            wall_now=lambda: NOW,
            clock_synced=lambda synced=synced: synced,
        )
        relay(alarm)
        assert alerts[0].clock_synced is synced


def test_the_revocation_list_age_uses_the_receivers_clock() -> None:
    applied = Applied(
        version=4, issued_at=(NOW - timedelta(hours=2)).isoformat(), sha256="", kid="k"
    )
    plain = revocation_status(applied, wall_now=NOW, clock_offset_s=None)
    assert (plain.version, plain.age_s) == (4, 7200.0)
    # The gate's clock is 10 minutes slow: the list is 10 minutes older than it looks.
    corrected = revocation_status(applied, wall_now=NOW, clock_offset_s=600.0)
    assert corrected.age_s == 7800.0
    assert revocation_status(None, wall_now=NOW, clock_offset_s=None).version is None


def test_the_last_will_is_a_valid_status() -> None:
    will = parse_payload(Status, to_json(offline_status("hxy", "north")))
    assert isinstance(will, Status)
    assert will.state == "offline"
    assert will.last_seq is None


def test_alerts_wait_for_the_broker_and_status_works_without_one(gate_store: Store) -> None:
    bus = Bus()
    handle = SyncHandle(
        edge_settings(free_port()), store=gate_store, bus=bus, community=COMMUNITY, gate=GATE
    )
    handle.start()
    try:
        # What edge.retention announces when the outbox fills the disk through an outage.
        bus.publish(AlarmRaised(lane="", kind="disk_filling", detail="92 % full"))
        wait_until(lambda: handle.status()["alerts_queued"] == 1, 5, "the alert to be held")
        # The refused connection is noted by the network thread, in its own time.
        wait_until(lambda: handle.status()["last_error"] is not None, 5, "a connect error")
        status = handle.status()
    finally:
        handle.stop(timeout_s=2)
    assert status["connected"] is False
    assert 0 < status["disk_used_fraction"] <= 1
    assert status["last_error"] is not None


def test_sync_refuses_a_store_of_another_gate(tmp_path: Path) -> None:
    with (
        Store.open(tmp_path / "x.db", community="hxy", gate="south") as store,
        pytest.raises(ValueError, match="hxy/south"),
    ):
        SyncHandle(edge_settings(1883), store=store, bus=Bus(), community="hxy", gate="north")


def test_status_reports_the_applied_keys_and_policy_versions() -> None:
    keys = Applied(version=3, issued_at=NOW.isoformat(), sha256="", kid="office")
    status = build_status(
        community="hxy",
        gate="north",
        at=NOW,
        log_id="log-1",
        last_seq=5,
        backlog=0,
        oldest_pending_at=None,
        revocations=revocation_status(None, wall_now=NOW, clock_offset_s=None),
        clock_synced=True,
        clock_offset_s=0.0,
        disk_used_fraction=0.5,
        software="test",
        keys=applied_status(keys),
        policy=applied_status(None),
    )
    parsed = parse_payload(Status, to_json(status))
    assert isinstance(parsed, Status)
    assert (parsed.keys.version, parsed.keys.issued_at) == (3, NOW)
    assert parsed.policy.version is None


def test_a_status_from_a_gate_that_does_not_report_them_still_parses() -> None:
    # What a gate of the release before sends: no "keys", no "policy".
    older = {
        "v": 1,
        "type": "status",
        "community": "hxy",
        "gate": "north",
        "state": "online",
        "at": NOW.isoformat(),
        "revocations": {"version": 2, "issued_at": NOW.isoformat(), "age_s": 1.0},
    }
    parsed = parse_payload(Status, json.dumps(older))
    assert isinstance(parsed, Status)
    assert parsed.revocations.version == 2
    assert parsed.keys.version is None
    assert parsed.policy.version is None
    unknown = parse_payload(Status, json.dumps({**older, "keys": {"version": 1, "kid": "x"}}))
    assert not isinstance(unknown, Status)  # the nested models stay strict
