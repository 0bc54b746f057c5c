"""Fixtures for driver tests: simulated devices on ptys, the real drivers attached."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any, Protocol, TypeVar

import pytest
from gpiozero.pins.mock import MockFactory

from drivers.base import DeviceStatus, Health, Reading, ReadingFault, Scan
from drivers.scanner import SerialScanner
from drivers.sim.scanner import SimGm65
from drivers.sim.thermometer import SimGyMcu90614
from drivers.thermometer import SerialThermometer
from tests.drivers.doors import Door
from tests.drivers.waiting import wait_until

# Short timeouts keep the fault campaigns fast; production defaults are in the constructors.
QUERY_TIMEOUT_S = 0.3
REOPEN_MIN_S = 0.05
REOPEN_MAX_S = 0.4
_REOPEN = {"reopen_min_s": REOPEN_MIN_S, "reopen_max_s": REOPEN_MAX_S}


class _Simulator(Protocol):
    def start(self) -> None: ...
    def stop(self) -> None: ...


_Sim = TypeVar("_Sim", bound=_Simulator)


def running(sim: _Sim) -> Iterator[_Sim]:
    """For a fixture: ``yield from running(sim)`` starts it and stops it after the test."""
    sim.start()
    yield sim
    sim.stop()


@pytest.fixture
def sim_thermometer(tmp_path: Path) -> Iterator[SimGyMcu90614]:
    yield from running(SimGyMcu90614(link_path=tmp_path / "ttyTHERMO"))


@pytest.fixture
def sim_scanner(tmp_path: Path) -> Iterator[SimGm65]:
    yield from running(SimGm65(link_path=tmp_path / "ttySCANNER"))


class ThermometerProbe:
    """A started SerialThermometer plus everything it reported."""

    def __init__(self, name: str, url: str, **options: Any) -> None:
        self.readings: list[Reading] = []
        self.faults: list[tuple[ReadingFault, str]] = []
        self.statuses: list[DeviceStatus] = []
        self.driver = SerialThermometer(
            name,
            url,
            on_fault=lambda fault, raw: self.faults.append((fault, raw)),
            on_status=self.statuses.append,
            **options,
        )
        self.driver.start(self.readings.append)


class ScannerProbe:
    """A started SerialScanner plus everything it reported."""

    def __init__(self, name: str, url: str, **options: Any) -> None:
        self.scans: list[Scan] = []
        self.statuses: list[DeviceStatus] = []
        self.driver = SerialScanner(name, url, on_status=self.statuses.append, **options)
        self.driver.start(self.scans.append)

    @property
    def texts(self) -> list[str]:
        return [scan.text for scan in self.scans]


_Probe = TypeVar("_Probe", "ThermometerProbe", "ScannerProbe")


@pytest.fixture
def started_probes() -> Iterator[list[ThermometerProbe | ScannerProbe]]:
    """Probes a test starts; their drivers are stopped afterwards."""
    probes: list[ThermometerProbe | ScannerProbe] = []
    yield probes
    for probe in probes:
        probe.driver.stop()


def _attacher(
    started: list[ThermometerProbe | ScannerProbe],
    build: Callable[..., _Probe],
    **defaults: Any,
) -> Callable[..., _Probe]:
    """``build(**options)`` over ``defaults``, each probe stopped when the test ends."""

    def attach(**options: Any) -> _Probe:
        probe = build(**{**defaults, **options})
        started.append(probe)
        return probe

    return attach


@pytest.fixture
def attach_thermometer(
    sim_thermometer: SimGyMcu90614, started_probes: list[ThermometerProbe | ScannerProbe]
) -> Callable[..., ThermometerProbe]:
    """Build a SerialThermometer on the simulator's stable link and start it."""
    build = partial(ThermometerProbe, "thermo-1", sim_thermometer.port)
    return _attacher(started_probes, build, query_timeout_s=QUERY_TIMEOUT_S, **_REOPEN)


@pytest.fixture
def attach_scanner(
    sim_scanner: SimGm65, started_probes: list[ThermometerProbe | ScannerProbe]
) -> Callable[..., ScannerProbe]:
    """Build a SerialScanner on the simulator's stable link and start it."""
    return _attacher(
        started_probes, partial(ScannerProbe, "scanner-1", sim_scanner.port), **_REOPEN
    )


def connected(probe: _Probe) -> _Probe:
    """``probe`` once its driver reports OK (the port is open)."""
    assert wait_until(lambda: probe.driver.status().health is Health.OK)
    return probe


@pytest.fixture
def make_door(mock_factory: MockFactory) -> Iterator[Callable[..., Door]]:
    """Build Doors on the test's mock pins; each GpioDoor is closed after the test."""
    doors: list[Door] = []

    def build(**options: Any) -> Door:
        door = Door(mock_factory, **options)
        doors.append(door)
        return door

    yield build
    for door in doors:
        door.door.close()
