"""Every protocol the drivers speak can be configured, and runs end to end through its simulator.

A gate is built from settings naming each thermometer model (and scanner family) in turn: the
simulated module speaks that model's real byte protocol on a pty, the real serial driver reads
it, and a resident with a normal temperature is let through with that exact reading stored.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from drivers.scanner import ScannerFamily
from drivers.sim import scanner as sim_scanner
from drivers.sim import thermometer as sim_thermometer
from drivers.thermometer import CODECS
from edge.app.boot import build_gate, ensure_sim_issuer
from edge.app.settings import ConfigError, Settings, load_settings
from edge.bus import BusEvent
from edge.model import Outcome, PassKind
from tests.edge.test_boot import make_settings, pin_factory, wait_entry  # noqa: F401

THERMOMETERS: list[dict[str, Any]] = [
    {"model": "gy-mcu90614"},
    {"model": "gy-mcu90614", "mode": "continuous"},
    {"model": "gy-mcu90614", "object_first": False},
    {"model": "lu90614-body"},
    {"model": "lu90614-material"},
    {"model": "htpa-binary"},
    {"model": "htpa-ascii"},
    {"model": "text-line"},  # streams, read with the simulator's pattern
    {"model": "text-line", "line_query": "READ\r\n", "line_pattern": r"T=(?P<value>[\d.]+)"},
]


def test_every_driver_protocol_has_a_simulator() -> None:
    assert set(sim_thermometer.SIMULATORS) == set(CODECS)
    assert set(sim_scanner.SIMULATORS) == {family.value for family in ScannerFamily}


def _visit(tmp_path: Path, lane: dict[str, Any], celsius: float) -> Any:
    settings = make_settings(tmp_path / "state")
    data = settings.model_dump(mode="json")
    data["lanes"][0].update(lane)
    settings = Settings.model_validate(data)
    issuer = ensure_sim_issuer(settings)
    _, token = issuer.token(random.Random(1), 1, PassKind.RESIDENT, datetime.now(UTC))
    gate = build_gate(settings)
    events: list[BusEvent] = []
    gate.bus.subscribe(events.append)
    try:
        sim = gate.simulation
        assert sim is not None
        # A streaming module sends frames unasked: the person stays in front of it meanwhile.
        sim.temperature("in-1", [celsius], celsius)
        sim.present("in-1", token.encode())
        (entry,) = wait_entry(gate, events, 1)
        return entry
    finally:
        gate.stop()


@pytest.mark.usefixtures("pin_factory")
@pytest.mark.parametrize("thermometer", THERMOMETERS, ids=lambda t: "-".join(map(str, t.values())))
def test_each_thermometer_protocol_measures_a_resident_through_its_simulator(
    tmp_path: Path, thermometer: dict[str, Any]
) -> None:
    entry = _visit(tmp_path, {"thermometer": {"kind": "sim", **thermometer}}, 36.6)
    assert entry.draft.outcome is Outcome.PASSED
    # A streaming module may have sent more than one frame while the person stood there, and on
    # a loaded machine a frame sent before they stepped up (the ambient 20 °C) may be read after
    # the pass: it is implausible, so it is kept for the record and measured again.
    temperatures = entry.draft.temperatures
    readings = [measured.reading.object_c for measured in temperatures if measured.plausible]
    assert readings
    assert readings == pytest.approx([36.6] * len(readings), abs=0.1)
    before = [measured.reading.object_c for measured in temperatures if not measured.plausible]
    assert before == pytest.approx([20.0] * len(before), abs=0.1)


@pytest.mark.usefixtures("pin_factory")
@pytest.mark.parametrize("family", [family.value for family in ScannerFamily])
def test_each_scanner_family_reads_a_pass_through_its_simulator(
    tmp_path: Path, family: str
) -> None:
    entry = _visit(tmp_path, {"scanner": {"kind": "sim", "model": family}}, 36.5)
    assert entry.draft.outcome is Outcome.PASSED
    assert entry.draft.pass_id == "S-000001"


@pytest.mark.parametrize(
    ("thermometer", "problem"),
    [
        ({"kind": "serial", "url": "/dev/ttyUSB0", "model": "mlx-9"}, "unknown thermometer model"),
        ({"kind": "serial", "url": "/dev/ttyUSB0", "model": "text-line"}, "line_pattern"),
        (
            {"kind": "serial", "url": "/dev/ttyUSB0", "model": "text-line", "line_pattern": "(("},
            "not a regular expression",
        ),
        ({"kind": "sim", "model": "htpa"}, "known: gy-mcu90614, htpa-ascii"),
    ],
)
def test_a_thermometer_the_drivers_cannot_speak_is_a_config_error(
    tmp_path: Path, thermometer: dict[str, Any], problem: str
) -> None:
    path = tmp_path / "kakou.toml"
    inline = ", ".join(f"{key} = {_toml(value)}" for key, value in thermometer.items())
    path.write_text(
        f'[site]\ncommunity = "demo"\ngate = "north"\nstate_dir = "{tmp_path}"\n'
        f'[[lanes]]\nid = "in-1"\nthermometer = {{ {inline} }}\n'
    )
    with pytest.raises(ConfigError) as raised:
        load_settings(path)
    assert any(problem in line and "thermometer" in line for line in raised.value.problems)


def test_an_unknown_scanner_family_names_the_known_ones(tmp_path: Path) -> None:
    path = tmp_path / "kakou.toml"
    path.write_text(
        f'[site]\ncommunity = "demo"\ngate = "north"\nstate_dir = "{tmp_path}"\n'
        '[[lanes]]\nid = "in-1"\n'
        'scanner = { kind = "serial", url = "/dev/ttyS0", model = "gm66" }\n'
    )
    with pytest.raises(ConfigError) as raised:
        load_settings(path)
    assert any("known: gm65, honeywell, line" in line for line in raised.value.problems)


def _toml(value: object) -> str:
    if isinstance(value, str):
        return "'" + value + "'"  # a literal string: regex backslashes stay as written
    return str(value).lower()
