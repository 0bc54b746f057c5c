"""edge/health.py: device and sync health become alarms on the bus with no console running, and
the sync forwards them to the office as alerts over a real Mosquitto."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory

from drivers.base import DeviceStatus, Health
from drivers.sim.thermometer import SimThermometerModule
from edge import boot, health
from edge.boot import build_gate
from edge.bus import Bus, BusEvent
from edge.health import BacklogLimits, HealthWatcher, SyncProgress, SyncWatch
from edge.settings import Settings, load_settings
from tests.sync.conftest import Watcher
from tests.sync.rig import Mosquitto, sync_settings, wait_until

NOW = datetime(2026, 12, 4, 7, 0, tzinfo=UTC)


def _events(bus: Bus) -> list[BusEvent]:
    events: list[BusEvent] = []
    bus.subscribe(events.append)
    return events


def test_a_device_going_down_is_announced_once_and_its_recovery_once() -> None:
    bus = Bus()
    events = _events(bus)
    health_now = {"in-1/thermometer": Health.OK}

    def devices() -> list[DeviceStatus]:
        return [DeviceStatus(name, health, "silent") for name, health in health_now.items()]

    watcher = HealthWatcher(bus, devices=devices, now=lambda: NOW)
    watcher.check()
    assert events == []
    health_now["in-1/thermometer"] = Health.DOWN
    watcher.check()
    watcher.check()  # still down: no second alarm
    health_now["in-1/thermometer"] = Health.DEGRADED
    watcher.check()
    health_now["in-1/thermometer"] = Health.DOWN
    watcher.check()
    assert [(e.topic, e.lane, e.data["kind"]) for e in events] == [
        ("alarm", "in-1", "device_down"),
        ("cleared", "in-1", "device_down"),
        ("alarm", "in-1", "device_down"),
    ]
    assert events[0].data["detail"] == "in-1/thermometer: silent"


@pytest.mark.parametrize(
    ("backlog", "oldest_min", "ack_min", "raised"),
    [
        (1001, 1, None, True),  # too many waiting
        (5, 20, None, True),  # waiting with no acknowledgement since the oldest, 20 > 15 min
        (5, 20, 2, False),  # an acknowledgement came 2 minutes ago: the sync moves
        (0, None, None, False),
        (5, 10, None, False),
    ],
)
def test_the_sync_backlog_alarm(
    backlog: int, oldest_min: float | None, ack_min: float | None, raised: bool
) -> None:
    bus = Bus()
    events = _events(bus)
    oldest = None if oldest_min is None else NOW - timedelta(minutes=oldest_min)
    ack = None if ack_min is None else NOW - timedelta(minutes=ack_min)
    watch = SyncWatch(
        lambda: SyncProgress(backlog, ack), lambda: oldest, BacklogLimits(1000, 900.0)
    )
    HealthWatcher(bus, devices=list, now=lambda: NOW, sync=watch).check()
    assert [e.data["kind"] for e in events if e.topic == "alarm"] == (
        ["sync_backlog"] if raised else []
    )


@pytest.fixture
def pin_factory(monkeypatch: pytest.MonkeyPatch) -> Iterator[MockFactory]:
    factory = MockFactory()
    monkeypatch.setattr(boot, "make_pin_factory", lambda name: factory)
    yield factory
    factory.reset()
    factory.close()


def _gate_settings(state_dir: Path, port: int) -> Settings:
    data = load_settings(None).model_dump(mode="json")
    data["site"]["state_dir"] = str(state_dir)
    data["console"]["enabled"] = False
    data["mqtt"] = sync_settings(port)
    return Settings.model_validate(data)


@pytest.mark.usefixtures("pin_factory")
def test_with_the_console_off_an_unplugged_device_reaches_the_office_as_an_alert(
    tmp_path: Path,
    broker: Mosquitto,
    watcher_factory: Callable[..., Watcher],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(health, "WATCH_INTERVAL_S", 0.2)
    office = watcher_factory(broker.port, "kakou/v1/demo/north/alerts/#")
    gate = build_gate(_gate_settings(tmp_path / "state", broker.port))
    events = _events(gate.bus)
    try:
        assert gate.sync is not None
        wait_until(lambda: gate.sync is not None and gate.sync.status()["connected"], 10, "sync")
        assert gate.simulation is not None
        thermometer = gate.simulation._lanes["in-1"].thermometer
        assert isinstance(thermometer, SimThermometerModule)
        thermometer.unplug()
        wait_until(lambda: office.payloads("alerts/device_down"), 15, "the device_down alert")
        alarms = [e for e in events if e.topic == "alarm" and e.data["kind"] == "device_down"]
        assert [e.lane for e in alarms] == ["in-1"]
        (alert,) = office.payloads("alerts/device_down")
        assert alert["lane"] == "in-1"
        assert str(alert["detail"]).startswith("in-1/thermometer: ")
        thermometer.replug()
        wait_until(lambda: any(e.topic == "cleared" for e in events), 15, "the device to come back")
    finally:
        gate.stop()
