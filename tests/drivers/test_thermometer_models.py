"""SerialThermometer with every supported module model, against its simulator, fault by fault."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from drivers.base import Health, ReadingFault
from drivers.frames import lu90614
from drivers.sim.thermometer import (
    SimGyMcu90614,
    SimHtpa,
    SimLu90614,
    SimTextLine,
    SimThermometerModule,
    ThermometerFault,
)
from drivers.thermometer import SerialThermometer, ThermometerMode
from tests.drivers.conftest import (
    QUERY_TIMEOUT_S,
    REOPEN_MAX_S,
    REOPEN_MIN_S,
    ThermometerProbe,
    running,
)
from tests.drivers.waiting import wait_until

LINE_PATTERN = r"^T=(?P<value>-?\d+(?:\.\d+)?) A=(?P<ambient>-?\d+(?:\.\d+)?)$"


@dataclass(frozen=True)
class Model:
    """A module model, how to simulate it and what its faults look like to the driver."""

    model: str
    make_sim: Callable[[Path], SimThermometerModule]
    options: dict[str, Any] = field(default_factory=dict)
    corrupt_fault: ReadingFault = ReadingFault.CHECKSUM
    partial_still_reads: bool = True  # binary framing recovers; a glued text line cannot
    streams: bool = False


MODELS = [
    Model("gy-mcu90614", lambda p: SimGyMcu90614(link_path=p)),
    Model("lu90614-body", lambda p: SimLu90614(link_path=p)),
    Model(
        "lu90614-material",
        lambda p: SimLu90614(link_path=p, mode=lu90614.LuMode.MATERIAL),
    ),
    Model(
        "htpa-binary",
        lambda p: SimHtpa(link_path=p, binary=True, stream_interval_s=0.05),
        streams=True,
    ),
    Model(
        "htpa-ascii",
        lambda p: SimHtpa(link_path=p, binary=False, stream_interval_s=0.05),
        corrupt_fault=ReadingFault.MALFORMED,
        streams=True,
    ),
    Model(
        "text-line",
        lambda p: SimTextLine(link_path=p),
        {"line_pattern": LINE_PATTERN, "line_query": b"READ\r\n"},
        corrupt_fault=ReadingFault.MALFORMED,
        partial_still_reads=False,
    ),
    Model(
        "text-line",
        lambda p: SimTextLine(link_path=p, query=None, stream_interval_s=0.05),
        {"line_pattern": LINE_PATTERN},
        corrupt_fault=ReadingFault.MALFORMED,
        partial_still_reads=False,
        streams=True,
    ),
]
IDS = [f"{m.model}{'-stream' if m.streams and m.model == 'text-line' else ''}" for m in MODELS]


@dataclass
class Rig:
    model: Model
    sim: SimThermometerModule
    probe: ThermometerProbe

    def measure(self, present: float | None = None) -> float | None:
        """Present a value (held, for streaming modules), request once, return what arrives."""
        if present is not None and self.model.streams:
            self.sim.present([], then_c=present)
            # Frames built before the change may still be on the line: let them pass first.
            seen = self.frames_seen()
            assert wait_until(lambda: self.frames_seen() >= seen + 3, timeout_s=2.0)
        elif present is not None:
            self.sim.present([present])
        before = len(self.probe.readings)
        self.probe.driver.request()
        if not wait_until(lambda: len(self.probe.readings) > before, timeout_s=2.0):
            return None
        return self.probe.readings[-1].value_c

    def frames_seen(self) -> int:
        return int(self.probe.driver.status().extra.get("frames", "0"))

    def quiesce(self) -> None:
        """Wait until no more good frames arrive (after switching a module to a fault)."""
        previous = -1
        while previous != self.frames_seen():
            previous = self.frames_seen()
            time.sleep(0.15)

    def request_and_settle(self) -> None:
        self.probe.driver.request()
        time.sleep(QUERY_TIMEOUT_S + 0.15)


@pytest.fixture(params=MODELS, ids=IDS)
def rig(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Rig]:
    model: Model = request.param
    sim = model.make_sim(tmp_path / "ttyMODULE")
    sim.start()
    probe = ThermometerProbe(
        "thermo-m",
        sim.port,
        model=model.model,
        query_timeout_s=QUERY_TIMEOUT_S,
        reopen_min_s=REOPEN_MIN_S,
        reopen_max_s=REOPEN_MAX_S,
        **model.options,
    )
    driver = probe.driver
    try:
        assert wait_until(lambda: driver.status().health is Health.OK)
        yield Rig(model, sim, probe)
    finally:
        driver.stop()
        sim.stop()


def test_streaming_modules_run_in_continuous_mode(rig: Rig) -> None:
    expected = ThermometerMode.CONTINUOUS if rig.model.streams else ThermometerMode.QUERY
    assert rig.probe.driver.mode is expected


def test_reads_and_passes_implausible_values_through(rig: Rig) -> None:
    assert rig.measure(36.5) == 36.5
    for value_c in (0.0, 85.0, 33.0):
        assert rig.measure(value_c) == value_c
    assert rig.probe.driver.status().health is Health.OK


def test_garbage_before_frames(rig: Rig) -> None:
    rig.sim.fault = ThermometerFault.GARBAGE_BEFORE
    assert rig.measure(37.2) == 37.2
    assert ReadingFault.MALFORMED in [f for f, _ in rig.probe.faults]


def test_partial_frames_before_frames(rig: Rig) -> None:
    rig.sim.fault = ThermometerFault.PARTIAL_BEFORE
    if rig.model.partial_still_reads:
        assert rig.measure(36.9) == 36.9
    else:
        rig.sim.present([], then_c=36.9)
        if rig.model.streams:  # good frames still on the line must pass before the request
            assert wait_until(lambda: [f for f, _ in rig.probe.faults])
        rig.request_and_settle()
        assert rig.probe.readings == []  # never a wrong value from a glued line
        assert ReadingFault.MALFORMED in [f for f, _ in rig.probe.faults]
    assert ReadingFault.MALFORMED in [f for f, _ in rig.probe.faults]


def test_corrupt_frames_degrade_then_recover(rig: Rig) -> None:
    rig.sim.fault = ThermometerFault.BAD_CHECKSUM
    if rig.model.streams:  # good frames still on the line must pass before the request
        assert wait_until(lambda: rig.model.corrupt_fault in [f for f, _ in rig.probe.faults])
    rig.request_and_settle()
    assert rig.probe.readings == []
    faults = [f for f, _ in rig.probe.faults]
    assert rig.model.corrupt_fault in faults
    assert ReadingFault.TIMEOUT in faults
    assert rig.probe.driver.status().health is Health.DEGRADED
    rig.sim.fault = ThermometerFault.NONE
    assert rig.measure(36.6) == 36.6
    assert rig.probe.driver.status().health is Health.OK


@pytest.mark.parametrize("fault", [ThermometerFault.SILENT, ThermometerFault.WRONG_BAUD])
def test_silence_and_wrong_baud_time_out(rig: Rig, fault: ThermometerFault) -> None:
    rig.sim.fault = fault
    rig.quiesce()
    rig.probe.faults.clear()
    rig.request_and_settle()
    assert rig.probe.readings == []
    assert ReadingFault.TIMEOUT in [f for f, _ in rig.probe.faults]
    assert rig.probe.driver.status().health is Health.DEGRADED


def test_unplug_and_replug(rig: Rig) -> None:
    assert rig.measure(36.4) == 36.4
    rig.sim.unplug()
    assert wait_until(lambda: rig.probe.driver.status().health is Health.DOWN)
    rig.sim.replug()
    assert wait_until(lambda: rig.probe.driver.status().health is Health.OK, timeout_s=3.0)
    assert rig.measure(36.8) == 36.8


# --- LU90614 modes -----------------------------------------------------------------------------


@pytest.fixture
def lu_sim(tmp_path: Path) -> Iterator[SimLu90614]:
    yield from running(SimLu90614(link_path=tmp_path / "ttyLU"))  # powers up in body mode


def attach_lu(sim: SimLu90614, model: str) -> tuple[SerialThermometer, ThermometerProbe]:
    probe = ThermometerProbe(
        "lu", sim.port, model=model, query_timeout_s=QUERY_TIMEOUT_S, reopen_min_s=REOPEN_MIN_S
    )
    return probe.driver, probe


def test_lu_mode_is_selected_on_open_and_after_a_replug(lu_sim: SimLu90614) -> None:
    driver, _ = attach_lu(lu_sim, "lu90614-material")
    try:
        assert wait_until(lambda: lu_sim.mode is lu90614.LuMode.MATERIAL)
        lu_sim.unplug()
        assert lu_sim.mode is lu90614.LuMode.BODY  # its power-on mode
        lu_sim.replug()
        assert wait_until(lambda: lu_sim.mode is lu90614.LuMode.MATERIAL, timeout_s=3.0)
    finally:
        driver.stop()


def test_lu_reply_in_the_wrong_mode_is_a_fault(lu_sim: SimLu90614) -> None:
    driver, probe = attach_lu(lu_sim, "lu90614-body")
    try:
        assert wait_until(lambda: driver.status().health is Health.OK)
        lu_sim.fault = ThermometerFault.WRONG_MODE
        lu_sim.present([40.3])
        driver.request()
        time.sleep(QUERY_TIMEOUT_S + 0.15)
        assert probe.readings == []  # a surface (material) value is never taken for a body value
        assert probe.faults[0] == (ReadingFault.WRONG_MODE, "feaa281e00000000ee")
        status = driver.status()
        assert status.health is Health.DEGRADED
        assert status.extra["wrong_mode"] == "1"
    finally:
        driver.stop()


def test_text_line_needs_a_pattern() -> None:
    with pytest.raises(ValueError, match="line_pattern"):
        SerialThermometer("t", "loop://", model="text-line")
