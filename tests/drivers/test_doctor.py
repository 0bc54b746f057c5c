"""`kakou doctor` and drivers.doctor: the simulated default is all ok (exit 0); a thermometer that
cannot open or stays silent is down (exit 1); scanners and cameras report what they saw."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from gpiozero.pins.mock import MockFactory

from drivers import doctor
from drivers.base import Health
from drivers.camera import CameraScanner
from drivers.gpio import GpioRelay
from drivers.scanner import SerialScanner
from drivers.sim.scanner import SimGm65
from drivers.sim.thermometer import SimGyMcu90614, ThermometerFault
from drivers.thermometer import SerialThermometer
from edge.app.cli import main
from edge.app.cli.doctor import gpio_probes
from edge.app.settings import default_config_text, parse_settings
from tests.drivers.test_qr import EXPECTED, FIXTURES


def rows(output: str) -> dict[str, str]:
    """Table rows by device name."""
    return {line.split()[0]: line for line in output.splitlines()[1:] if "/" in line.split()[0]}


def test_doctor_on_the_simulated_default_is_all_ok() -> None:
    result = CliRunner().invoke(main, ["doctor", "--listen", "0.2"])
    assert result.exit_code == 0, result.output
    table = rows(result.output)
    assert set(table) == {"in-1/scanner", "in-1/thermometer", "in-1/relay", "in-1/indicator"}
    assert " ok " in table["in-1/scanner"]
    assert "open, no code seen" in table["in-1/scanner"]
    assert " ok " in table["in-1/thermometer"]
    assert "20.00 °C" in table["in-1/thermometer"]
    assert table["in-1/relay"].split()[-2:] == ["ok", "released"]
    assert "GPIO 17" in table["in-1/relay"]
    assert "GPIO 27,22,23" in table["in-1/indicator"]
    assert "4 device(s), 0 down" in result.output


def test_doctor_lists_a_door_contact_shut_as_the_simulated_gate_starts(tmp_path: Path) -> None:
    config = default_config_text().replace(
        'thermometer = { kind = "sim", ambient_c = 20.0 }',
        'thermometer = { kind = "sim", ambient_c = 20.0 }\n'
        "door = { contact_pin = 16, exit_pin = 12 }",
    )
    path = tmp_path / "kakou.toml"
    path.write_text(config, encoding="utf-8")
    result = CliRunner().invoke(main, ["doctor", "--config", str(path), "--listen", "0.2"])
    assert result.exit_code == 0, result.output
    door = rows(result.output)["in-1/door"]
    assert door.split()[-2:] == ["ok", "closed"]
    assert "GPIO 16, exit 12" in door


def test_gpio_devices_whose_pins_cannot_be_had_are_down() -> None:
    lane = parse_settings(default_config_text(), "default").lanes[0]

    def no_gpio() -> MockFactory:
        raise OSError("no GPIO chip")

    results = doctor.run_probes(gpio_probes(lane, no_gpio, simulated=False))
    assert [(r.name, r.health) for r in results] == [
        ("in-1/relay", Health.DOWN),
        ("in-1/indicator", Health.DOWN),
    ]
    assert results[0].detail == "cannot open: no GPIO chip"
    assert doctor.exit_code(results) == 1


def test_a_pin_probe_lets_the_pins_go(mock_factory: MockFactory) -> None:
    lane = parse_settings(default_config_text(), "default").lanes[0]
    for probe in gpio_probes(lane, lambda: mock_factory, simulated=True):
        assert probe().health is Health.OK
    again = GpioRelay(lane.relay.pin, pin_factory=mock_factory)  # free again: no PinInUse
    assert not again.is_energised
    again.close()


def test_doctor_exits_non_zero_when_the_thermometer_is_down(tmp_path: Path) -> None:
    config = default_config_text().replace(
        'thermometer = { kind = "sim", ambient_c = 20.0 }',
        f'thermometer = {{ kind = "serial", url = "{tmp_path / "ttyUSB9"}" }}',
    )
    assert "ttyUSB9" in config
    path = tmp_path / "kakou.toml"
    path.write_text(config, encoding="utf-8")
    result = CliRunner().invoke(main, ["doctor", "--config", str(path), "--listen", "0.2"])
    assert result.exit_code == 1, result.output
    table = rows(result.output)
    assert " down " in table["in-1/thermometer"]
    assert "cannot open" in table["in-1/thermometer"]
    assert " ok " in table["in-1/scanner"]


def test_a_silent_thermometer_is_down(tmp_path: Path) -> None:
    sim = SimGyMcu90614(link_path=tmp_path / "ttyTHERMO")
    sim.start()
    sim.fault = ThermometerFault.SILENT
    try:
        driver = SerialThermometer("t-1", sim.port, query_timeout_s=0.3)
        info = doctor.DeviceInfo("t-1", "thermometer", "gy-mcu90614", sim.port)
        result = doctor.probe_thermometer(driver, info, reading_timeout_s=0.6)
    finally:
        sim.stop()
    assert result.health is Health.DOWN
    assert "no reading within 0.6 s" in result.detail
    assert doctor.exit_code([result]) == 1


def test_a_scanner_shows_the_start_of_a_code_never_all_of_it(tmp_path: Path) -> None:
    token = EXPECTED["printed_near.jpg"]
    assert token is not None
    sim = SimGm65(link_path=tmp_path / "ttySCAN")
    sim.start()
    try:
        driver = SerialScanner("s-1", sim.port)
        info = doctor.DeviceInfo("s-1", "scanner", "gm65", sim.port)

        threading.Timer(0.5, lambda: sim.present(token)).start()  # once the probe listens
        result = doctor.probe_scanner(driver, info, listen_s=2.0)
    finally:
        sim.stop()
    assert result.health is Health.OK
    assert result.reading.startswith("code seen: KK1:")
    assert token not in result.reading
    assert f"({len(token)} chars)" in result.reading


def test_a_camera_on_an_image_folder_reads_its_code(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "printed_near.jpg", tmp_path / "frame.jpg")
    camera = CameraScanner("cam-1", tmp_path)
    info = doctor.DeviceInfo("cam-1", "camera", "opencv", str(tmp_path))
    result = doctor.probe_scanner(camera, info, listen_s=2.0)
    assert result.health is not Health.DOWN
    assert result.reading.startswith("code seen: KK1:")


def test_table_lists_every_device_and_counts_the_down_ones() -> None:
    results = [
        doctor.ProbeResult("in-1/scanner", "scanner", "gm65", "/dev/ttyS0", Health.OK, "open"),
        doctor.ProbeResult(
            "in-1/thermometer", "thermometer", "lu90614", "/dev/ttyS1", Health.DOWN, "", "gone"
        ),
    ]
    table = doctor.format_table(results)
    lines = table.splitlines()
    assert lines[0].split()[:5] == ["DEVICE", "KIND", "MODEL", "PORT", "STATUS"]
    assert lines[2].endswith("down    gone")
    assert lines[-1] == "2 device(s), 1 down"
    assert doctor.exit_code(results[:1]) == 0


@pytest.mark.parametrize("count", [0, 3])
def test_run_probes_keeps_the_order(count: int) -> None:
    def probe(index: int) -> doctor.Probe:
        return lambda: doctor.ProbeResult(f"d{index}", "scanner", "", "", Health.OK)

    results = doctor.run_probes([probe(i) for i in range(count)])
    assert [r.name for r in results] == [f"d{i}" for i in range(count)]
