"""A whole simulated gate (real ptys, real serial drivers, real lane and SQLite) riding out device
faults: the thermometer unplugged and plugged back in mid-crowd is reported down, then ok, and the
lane carries on without a restart with every decision right; a thermometer that goes silent ends
the visit by the measure timeout or lets a guard's manual reading decide. Nobody ever passes
without a plausible, normal reading."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from drivers.base import Health, Reading
from drivers.sim.thermometer import SimGyMcu90614, ThermometerFault
from edge.app.boot import Gate, build_gate, ensure_sim_issuer
from edge.app.settings import Settings, load_settings
from edge.bus import BusEvent
from edge.model import Entry, Outcome, PassKind, Step
from edge.rule import Reason
from tests.drivers.waiting import wait_until

LANE = "in-1"
THERMOMETER = f"{LANE}/thermometer"
CROWD_TIMEOUT_S = 60.0


def fault_settings(state_dir: Path, *, measure_s: float = 20.0) -> Settings:
    """The embedded default: state in ``state_dir``, no console, quick re-measure and timeouts."""
    base = load_settings(None)
    policy = base.policy.model_copy(
        update={
            "fever": base.policy.fever.model_copy(update={"recheck_after_s": 1.0}),
            "timeouts": base.policy.timeouts.model_copy(update={"measure_s": measure_s}),
        }
    )
    return base.model_copy(
        update={
            "site": base.site.model_copy(update={"state_dir": state_dir}),
            "console": base.console.model_copy(update={"enabled": False}),
            "policy": policy,
        }
    )


def sim_thermometer(gate: Gate) -> SimGyMcu90614:
    """The simulated module behind the lane (edge.simulation keeps its SimLanes private)."""
    assert gate.simulation is not None
    thermometer = gate.simulation.lanes[LANE].thermometer
    assert isinstance(thermometer, SimGyMcu90614)
    return thermometer


def thermometer_health(gate: Gate) -> Health:
    return next(s.health for s in gate.device_status() if s.name == THERMOMETER)


class Entries:
    """Entries as the lane announces them."""

    def __init__(self, gate: Gate) -> None:
        self.lock = threading.Condition()
        self.entries: list[Entry] = []
        self.relay_pulses: list[str] = []
        gate.bus.subscribe(self.on_bus)

    def on_bus(self, event: BusEvent) -> None:
        with self.lock:
            if event.topic == "entry":
                self.entries.append(event.data["entry"])
            elif event.topic == "relay" and event.data.get("action") == "pulse":
                self.relay_pulses.append(str(event.data["entry_id"]))
            self.lock.notify_all()

    def wait_for(self, count: int, timeout_s: float = 10.0) -> list[Entry]:
        with self.lock:
            assert self.lock.wait_for(lambda: len(self.entries) >= count, timeout_s), self.entries
            return list(self.entries)


def assert_nobody_passed_without_a_normal_reading(entries: list[Entry]) -> None:
    for entry in entries:
        if entry.draft.outcome is Outcome.PASSED:
            temperatures = entry.draft.temperatures
            assert any(t.plausible and not t.fever for t in temperatures), entry


@pytest.fixture
def gate(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Gate]:
    measure_s = getattr(request, "param", 20.0)
    gate = build_gate(fault_settings(tmp_path / "state", measure_s=measure_s))
    yield gate
    gate.stop()


def test_thermometer_unplugged_mid_crowd_is_down_then_ok_and_the_lane_recovers(
    gate: Gate,
) -> None:
    thermometer = sim_thermometer(gate)
    assert wait_until(lambda: thermometer_health(gate) is Health.OK, timeout_s=5)
    count, unplug_after = 24, 6
    unplugged = threading.Event()

    def unplug_between_visits(event: BusEvent) -> None:
        # On the lane's own thread, right after an entry: no reading is in flight, so none is
        # lost with the cable; the next person then waits on a thermometer that is gone.
        if event.topic == "entry" and event.data["entry"].seq == unplug_after:
            thermometer.unplug()
            unplugged.set()

    gate.bus.subscribe(unplug_between_visits)
    entries = Entries(gate)
    assert gate.simulation is not None
    crowd_id = gate.simulation.start_crowd(LANE, count, seed=1)

    assert unplugged.wait(CROWD_TIMEOUT_S)
    assert wait_until(lambda: thermometer_health(gate) is Health.DOWN, timeout_s=3)
    down_detail = next(s.detail for s in gate.device_status() if s.name == THERMOMETER)
    time.sleep(1.5)  # the next person stands at the sensor while it is unplugged
    during_outage = len(entries.entries)
    assert gate.lanes[LANE].state.step is Step.MEASURE  # someone is waiting on the sensor
    thermometer.replug()
    assert wait_until(lambda: thermometer_health(gate) is Health.OK, timeout_s=8)

    deadline = time.monotonic() + CROWD_TIMEOUT_S
    status: dict[str, Any] | None = None
    while time.monotonic() < deadline:
        status = gate.simulation.crowd_status(crowd_id)
        assert status is not None
        if status["state"] != "running":
            break
        time.sleep(0.1)
    assert status is not None
    assert status["state"] == "done", status
    assert status["mismatches"] == [], status
    assert status["matched"] == status["recorded"] == count
    assert down_detail  # what the console showed while it was gone
    stored = entries.wait_for(count)
    assert len(stored) > during_outage  # entries kept flowing after the replug, no restart
    assert all(lane.alive for lane in gate.lanes.values())
    assert_nobody_passed_without_a_normal_reading(stored)
    passed = {e.id for e in stored if e.draft.outcome is Outcome.PASSED}
    assert set(entries.relay_pulses) == passed


def _present(gate: Gate, number: int) -> None:
    issuer = ensure_sim_issuer(gate.settings)
    _, token = issuer.token(
        random.Random(number), 900 + number, PassKind.RESIDENT, datetime.now(UTC)
    )
    assert gate.simulation is not None
    gate.simulation.present(LANE, token.encode("ascii"))


@pytest.mark.parametrize("gate", [1.5], indirect=True)
def test_a_silent_thermometer_ends_the_visit_by_the_measure_timeout(gate: Gate) -> None:
    thermometer = sim_thermometer(gate)
    thermometer.fault = ThermometerFault.SILENT
    entries = Entries(gate)
    _present(gate, 1)
    (entry,) = entries.wait_for(1, timeout_s=8)
    assert entry.draft.outcome is Outcome.ABANDONED
    assert Reason.TIMEOUT_MEASURE.value in entry.draft.reasons
    assert entry.draft.temperatures == ()
    assert entries.relay_pulses == []
    # The port is open but the module says nothing: degraded, not down (once a query timed out).
    deadline = time.monotonic() + 5.0
    while thermometer_health(gate) is not Health.DEGRADED and time.monotonic() < deadline:
        time.sleep(0.05)
    assert thermometer_health(gate) is Health.DEGRADED
    assert not gate.lanes[LANE].snapshot()["relay_energised"]


def test_a_silent_thermometer_lets_a_guard_s_manual_reading_decide(gate: Gate) -> None:
    thermometer = sim_thermometer(gate)
    thermometer.fault = ThermometerFault.SILENT
    entries = Entries(gate)
    lane = gate.lanes[LANE]
    _present(gate, 2)
    assert wait_until(lambda: lane.state.step is Step.MEASURE, timeout_s=15)
    time.sleep(1.2)  # the lane asks the module again; nothing comes back
    assert entries.entries == []
    # A handheld reading that is implausible (a cold forehead) is no pass either.
    lane.submit_reading(Reading(value_c=33.1, sensor="handheld:guard-07", manual=True))
    time.sleep(0.3)
    assert entries.entries == []
    assert lane.state.step is Step.MEASURE
    lane.submit_reading(Reading(value_c=36.6, sensor="handheld:guard-07", manual=True))
    (entry,) = entries.wait_for(1)
    assert entry.draft.outcome is Outcome.PASSED
    assert Reason.MANUAL_READING.value in entry.draft.reasons
    assert [t.reading.manual for t in entry.draft.temperatures] == [True, True]
    assert_nobody_passed_without_a_normal_reading([entry])
    assert entries.relay_pulses == [entry.id]
