"""Fixtures for driver tests: simulated devices on ptys, the real drivers attached, mock pins."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from gpiozero.pins.mock import MockFactory

from drivers.base import DeviceStatus, Reading, ReadingFault, Scan
from drivers.scanner import SerialScanner
from drivers.sim.scanner import SimGm65
from drivers.sim.thermometer import SimGyMcu90614
from drivers.thermometer import SerialThermometer

# Short timeouts keep the fault campaigns fast; production defaults are in the constructors.
QUERY_TIMEOUT_S = 0.3
REOPEN_MIN_S = 0.05
REOPEN_MAX_S = 0.4


@pytest.fixture
def mock_factory() -> Iterator[MockFactory]:
    """A fresh MockFactory per test, reset and closed afterwards (gpiozero's own pattern)."""
    factory = MockFactory()
    yield factory
    factory.reset()
    factory.close()


@pytest.fixture
def sim_thermometer(tmp_path: Path) -> Iterator[SimGyMcu90614]:
    sim = SimGyMcu90614(link_path=tmp_path / "ttyTHERMO")
    sim.start()
    yield sim
    sim.stop()


@pytest.fixture
def sim_scanner(tmp_path: Path) -> Iterator[SimGm65]:
    sim = SimGm65(link_path=tmp_path / "ttySCANNER")
    sim.start()
    yield sim
    sim.stop()


class ThermometerProbe:
    """A started SerialThermometer plus everything it reported."""

    def __init__(self, driver: SerialThermometer) -> None:
        self.driver = driver
        self.readings: list[Reading] = []
        self.faults: list[tuple[ReadingFault, str]] = []
        self.statuses: list[DeviceStatus] = []


@pytest.fixture
def attach_thermometer(
    sim_thermometer: SimGyMcu90614,
) -> Iterator[Callable[..., ThermometerProbe]]:
    """Build a SerialThermometer on the simulator's stable link and start it."""
    probes: list[ThermometerProbe] = []

    def attach(**options: Any) -> ThermometerProbe:
        holder: list[ThermometerProbe] = []
        options.setdefault("query_timeout_s", QUERY_TIMEOUT_S)
        options.setdefault("reopen_min_s", REOPEN_MIN_S)
        options.setdefault("reopen_max_s", REOPEN_MAX_S)
        driver = SerialThermometer(
            "thermo-1",
            sim_thermometer.port,
            on_fault=lambda fault, raw: holder[0].faults.append((fault, raw)),
            on_status=lambda status: holder[0].statuses.append(status),
            **options,
        )
        probe = ThermometerProbe(driver)
        holder.append(probe)
        probes.append(probe)
        driver.start(probe.readings.append)
        return probe

    yield attach
    for probe in probes:
        probe.driver.stop()


class ScannerProbe:
    """A started SerialScanner plus everything it reported."""

    def __init__(self, driver: SerialScanner) -> None:
        self.driver = driver
        self.scans: list[Scan] = []
        self.statuses: list[DeviceStatus] = []

    @property
    def texts(self) -> list[str]:
        return [scan.text for scan in self.scans]


@pytest.fixture
def attach_scanner(sim_scanner: SimGm65) -> Iterator[Callable[..., ScannerProbe]]:
    """Build a SerialScanner on the simulator's stable link and start it."""
    probes: list[ScannerProbe] = []

    def attach(**options: Any) -> ScannerProbe:
        holder: list[ScannerProbe] = []
        options.setdefault("reopen_min_s", REOPEN_MIN_S)
        options.setdefault("reopen_max_s", REOPEN_MAX_S)
        driver = SerialScanner(
            "scanner-1",
            sim_scanner.port,
            on_status=lambda status: holder[0].statuses.append(status),
            **options,
        )
        probe = ScannerProbe(driver)
        holder.append(probe)
        probes.append(probe)
        driver.start(probe.scans.append)
        return probe

    yield attach
    for probe in probes:
        probe.driver.stop()
