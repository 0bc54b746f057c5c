"""drivers.thermometer.SerialThermometer against the simulated GY-MCU90614 on a pty."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from drivers.base import Health, ReadingFault
from drivers.frames import gy_mcu90614
from drivers.sim.thermometer import SimGyMcu90614, ThermometerFault
from drivers.thermometer import SerialThermometer, ThermometerMode
from tests.drivers.conftest import QUERY_TIMEOUT_S, ThermometerProbe, connected
from tests.drivers.waiting import wait_until

Attach = Callable[..., ThermometerProbe]


@pytest.fixture
def probe(attach_thermometer: Attach) -> ThermometerProbe:
    """The driver with its default options, connected."""
    return connected(attach_thermometer())


def measure(probe: ThermometerProbe) -> float:
    """Request once and return the value that arrives."""
    before = len(probe.readings)
    probe.driver.request()
    assert wait_until(lambda: len(probe.readings) > before, timeout_s=2.0)
    return probe.readings[-1].value_c


def settle(probe: ThermometerProbe) -> None:
    """Wait until a request has either produced a reading or timed out."""
    time.sleep(QUERY_TIMEOUT_S + 0.15)


def test_a_query_yields_one_reading_with_raw_values(
    probe: ThermometerProbe, sim_thermometer: SimGyMcu90614
) -> None:
    sim_thermometer.ambient_c = 25.0
    sim_thermometer.present([36.5])
    assert measure(probe) == 36.5
    reading = probe.readings[-1]
    assert (reading.object_c, reading.ambient_c, reading.sensor) == (36.5, 25.0, "thermo-1")
    assert reading.raw_hex == "5a5a45040e4209c41a"
    assert sim_thermometer.commands == [gy_mcu90614.QUERY[1]]
    status = probe.driver.status()
    assert status.health is Health.OK
    assert status.extra["readings"] == "1"


def test_implausible_values_are_passed_through_as_measured(
    probe: ThermometerProbe, sim_thermometer: SimGyMcu90614
) -> None:
    sim_thermometer.present([0.0, 85.0, 33.0])
    assert [measure(probe) for _ in range(3)] == [0.0, 85.0, 33.0]


def test_nobody_in_front_reads_ambient_or_the_then_value(
    probe: ThermometerProbe, sim_thermometer: SimGyMcu90614
) -> None:
    sim_thermometer.ambient_c = -5.0
    assert measure(probe) == -5.0
    sim_thermometer.present([36.6], then_c=36.8)
    assert [measure(probe) for _ in range(3)] == [36.6, 36.8, 36.8]


@pytest.mark.parametrize(
    "fault", [ThermometerFault.GARBAGE_BEFORE, ThermometerFault.PARTIAL_BEFORE]
)
def test_noise_and_partial_frames_before_a_frame_still_give_the_reading(
    probe: ThermometerProbe, sim_thermometer: SimGyMcu90614, fault: ThermometerFault
) -> None:
    sim_thermometer.fault = fault
    sim_thermometer.present([36.9, 37.1])
    assert [measure(probe) for _ in range(2)] == [36.9, 37.1]
    assert [f for f, _ in probe.faults] == [ReadingFault.MALFORMED] * 2
    status = probe.driver.status()
    assert status.health is Health.OK  # the good frame after the noise cleared it
    assert status.extra["malformed"] == "2"


def test_bad_checksum_is_counted_degrades_and_recovers(
    probe: ThermometerProbe, sim_thermometer: SimGyMcu90614
) -> None:
    sim_thermometer.fault = ThermometerFault.BAD_CHECKSUM
    sim_thermometer.present([36.5])
    probe.driver.request()
    settle(probe)
    assert probe.readings == []
    assert [f for f, _ in probe.faults] == [ReadingFault.CHECKSUM, ReadingFault.TIMEOUT]
    assert probe.faults[0][1].startswith("5a5a4504")
    status = probe.driver.status()
    assert status.health is Health.DEGRADED
    assert status.extra["checksum"] == "1"
    sim_thermometer.fault = ThermometerFault.NONE
    sim_thermometer.present([36.7])
    assert measure(probe) == 36.7
    assert probe.driver.status().health is Health.OK


def test_a_silent_module_times_out_without_blocking(
    probe: ThermometerProbe, sim_thermometer: SimGyMcu90614
) -> None:
    sim_thermometer.fault = ThermometerFault.SILENT
    started = time.monotonic()
    probe.driver.request()
    assert time.monotonic() - started < 0.1  # request() never waits for the module
    assert wait_until(lambda: probe.faults, timeout_s=2.0)
    assert probe.faults == [(ReadingFault.TIMEOUT, "")]
    status = probe.driver.status()
    assert (status.health, status.detail) == (Health.DEGRADED, "last frame: timeout")
    assert status.extra["timeout"] == "1"
    assert [s.health for s in probe.statuses][-1] is Health.DEGRADED


def test_a_new_request_replaces_the_pending_one(
    probe: ThermometerProbe, sim_thermometer: SimGyMcu90614
) -> None:
    sim_thermometer.fault = ThermometerFault.SILENT
    probe.driver.request()
    probe.driver.request()
    settle(probe)
    assert probe.faults == [(ReadingFault.TIMEOUT, "")]  # one timeout, for the live request


def test_a_stream_while_in_query_mode_gives_one_reading_per_request(
    probe: ThermometerProbe, sim_thermometer: SimGyMcu90614
) -> None:
    sim_thermometer.present([], then_c=36.4)
    sim_thermometer.fault = ThermometerFault.STREAM
    assert wait_until(lambda: int(probe.driver.status().extra.get("unsolicited", "0")) >= 3)
    assert probe.readings == []  # nothing unasked is forwarded
    assert measure(probe) == 36.4
    time.sleep(0.3)
    assert len(probe.readings) == 1
    assert probe.driver.status().health is Health.OK


def test_wrong_baud_looks_like_garbage_and_degrades(
    probe: ThermometerProbe, sim_thermometer: SimGyMcu90614
) -> None:
    sim_thermometer.fault = ThermometerFault.WRONG_BAUD
    probe.driver.request()
    settle(probe)
    assert probe.readings == []
    assert [f for f, _ in probe.faults] == [ReadingFault.MALFORMED, ReadingFault.TIMEOUT]
    assert probe.driver.status().health is Health.DEGRADED


def test_continuous_mode_switches_the_module_and_forwards_only_requested_frames(
    attach_thermometer: Attach, sim_thermometer: SimGyMcu90614
) -> None:
    probe = connected(attach_thermometer(mode=ThermometerMode.CONTINUOUS))
    assert wait_until(lambda: sim_thermometer.continuous)
    sim_thermometer.present([], then_c=36.3)
    assert wait_until(lambda: int(probe.driver.status().extra.get("frames", "0")) >= 3)
    assert probe.readings == []
    assert measure(probe) == 36.3
    assert sim_thermometer.commands == [gy_mcu90614.CONTINUOUS[1]]  # no query frames sent


def test_unplug_goes_down_and_replug_recovers_without_a_new_driver(
    probe: ThermometerProbe, sim_thermometer: SimGyMcu90614
) -> None:
    sim_thermometer.present([36.5])
    assert measure(probe) == 36.5

    sim_thermometer.unplug()
    assert wait_until(lambda: probe.driver.status().health is Health.DOWN)
    probe.driver.request()  # asking while unplugged is not an error: it times out
    assert wait_until(lambda: (ReadingFault.TIMEOUT, "") in probe.faults, timeout_s=2.0)
    assert probe.driver.status().health is Health.DOWN

    sim_thermometer.replug()
    assert wait_until(lambda: probe.driver.status().health is Health.OK, timeout_s=3.0)
    sim_thermometer.present([37.0])
    assert measure(probe) == 37.0
    status = probe.driver.status()
    assert status.extra["opens"] == "2"
    healths = [s.health for s in probe.statuses]
    changes = [h for i, h in enumerate(healths) if i == 0 or healths[i - 1] is not h]
    assert changes == [Health.OK, Health.DOWN, Health.OK]


def test_continuous_mode_is_restored_after_a_replug(
    attach_thermometer: Attach, sim_thermometer: SimGyMcu90614
) -> None:
    probe = connected(attach_thermometer(mode="continuous"))
    assert wait_until(lambda: sim_thermometer.continuous)
    sim_thermometer.unplug()
    assert not sim_thermometer.continuous  # the module forgot its mode with the power
    sim_thermometer.replug()
    assert wait_until(lambda: sim_thermometer.continuous, timeout_s=3.0)
    sim_thermometer.present([], then_c=36.2)
    assert measure(probe) == 36.2


def test_ambient_first_modules_are_read_in_their_order(tmp_path: Path) -> None:
    sim = SimGyMcu90614(link_path=tmp_path / "ttyAMB", object_first=False, ambient_c=24.0)
    sim.start()
    driver = SerialThermometer("thermo-2", sim.port, object_first=False, reopen_min_s=0.05)
    readings: list[float | None] = []
    driver.start(lambda reading: readings.append(reading.object_c))
    try:
        assert wait_until(lambda: driver.status().health is Health.OK)
        sim.present([36.5])
        driver.request()
        assert wait_until(lambda: readings)
        assert readings == [36.5]
    finally:
        driver.stop()
        sim.stop()


def test_unknown_model_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="unknown thermometer model"):
        SerialThermometer("t", "loop://", model="mlx-9000")


def test_stop_is_quiet_and_final(probe: ThermometerProbe) -> None:
    probe.driver.request()
    probe.driver.stop()
    settle(probe)
    assert probe.faults == []  # the pending request was cancelled, not timed out
    assert probe.driver.status().health is Health.DOWN
