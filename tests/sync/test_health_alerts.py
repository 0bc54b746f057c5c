"""With no console running, a device that goes down reaches the office as an alert: edge.health
raises it on the bus and the sync forwards it over a real Mosquitto."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from drivers.sim.thermometer import SimThermometerModule
from edge import health
from edge.app.boot import build_gate
from edge.app.settings import Settings, load_settings
from edge.bus import BusEvent
from tests.edge.test_boot import pin_factory  # noqa: F401  (the gate's pins, mocked)
from tests.sync.conftest import Watcher
from tests.sync.rig import Mosquitto, sync_settings, wait_until

NOW = datetime(2026, 12, 4, 7, 0, tzinfo=UTC)


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
    events: list[BusEvent] = []
    gate.bus.subscribe(events.append)
    try:
        assert gate.sync is not None
        wait_until(lambda: gate.sync is not None and gate.sync.status()["connected"], 10, "sync")
        assert gate.simulation is not None
        thermometer = gate.simulation.lanes["in-1"].thermometer
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
