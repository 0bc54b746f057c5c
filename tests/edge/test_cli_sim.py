"""`kakou sim` against a served simulated gate: the door contact (shut at start, opened and closed
from the command line), a crowd through an exit lane, and `sim temp` values that stay with one
visit."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from edge.app.boot import build_gate
from edge.bus import AlarmRaised, BusEvent, EntryRecorded
from tests.drivers.waiting import wait_until
from tests.edge.console.conftest import gate_settings
from tests.edge.test_cli_run import ServedGate, assert_clean_exit, invoke

DOOR_PIN = 16
EXIT_LANE: dict[str, Any] = {
    "id": "out-1",
    "direction": "out",
    "relay": {"pin": 5},
    "indicator": {"green_pin": 6, "red_pin": 13, "buzzer_pin": 19},
}


@pytest.fixture
def served(tmp_path: Path) -> Iterator[ServedGate]:
    """In-1 with a door contact, and an exit lane out-1."""
    in_lane = {"id": "in-1", "door": {"contact_pin": DOOR_PIN, "bounce_s": 0}}
    gate = build_gate(gate_settings(tmp_path / "state", lanes=[in_lane, EXIT_LANE]))
    served = ServedGate(gate)
    yield served
    served.shut_down()
    gate.stop()


def _door_status(served: ServedGate) -> str:
    [status] = [s for s in served.gate.device_status() if s.name == "in-1/door"]
    return status.detail


def test_the_door_starts_shut_and_opens_and_closes_from_the_command_line(
    served: ServedGate,
) -> None:
    alarms: list[AlarmRaised] = []
    served.gate.bus.on(AlarmRaised, alarms.append)
    assert _door_status(served) == "closed"  # not open, as an unwired mock pin reads

    opened = invoke("sim", "--url", served.url, "door", "open")
    assert_clean_exit(opened, 0)
    assert opened.stdout == "door of lane in-1 is open\n"
    assert _door_status(served) == "open"
    assert wait_until(lambda: [a.kind for a in alarms] == ["door_forced"], timeout_s=5), alarms

    closed = invoke("sim", "--url", served.url, "door", "close", "--lane", "in-1")
    assert_clean_exit(closed, 0)
    assert closed.stdout == "door of lane in-1 is closed\n"
    assert _door_status(served) == "closed"


def test_a_lane_without_a_door_contact_is_a_clear_error(served: ServedGate) -> None:
    result = invoke("sim", "--url", served.url, "door", "open", "--lane", "out-1")
    assert_clean_exit(result, 1)
    assert "lane out-1 has no door contact" in result.stderr


def test_a_crowd_through_the_exit_lane_gets_every_decision_right(served: ServedGate) -> None:
    entries: list[EntryRecorded] = []
    served.gate.bus.on(EntryRecorded, entries.append)
    result = invoke("sim", "--url", served.url, "crowd", "30", "--seed", "1", "--lane", "out-1")
    assert_clean_exit(result, 0)
    assert "matching the expected decision 30" in result.stdout
    assert {e.lane for e in entries} == {"out-1"}
    assert not [e for e in entries if e.entry.draft.temperatures]  # nobody measured on the way out


def test_sim_temp_values_belong_to_one_visit(served: ServedGate) -> None:
    events: list[BusEvent] = []
    served.gate.bus.subscribe(events.append)
    assert_clean_exit(invoke("sim", "--url", served.url, "temp", "38.6", "38.7"), 0)
    # A pass that does not verify ends the visit before anyone is measured ...
    assert_clean_exit(invoke("sim", "--url", served.url, "present", "not a pass"), 0)
    assert wait_until(lambda: [e for e in events if isinstance(e, EntryRecorded)], timeout_s=5)
    # ... so the fever meant for it is not what the next person reads: they read only theirs.
    assert_clean_exit(invoke("sim", "--url", served.url, "temp", "36.5"), 0)
    assert served.gate.simulation is not None
    served.gate.simulation.present_sample("in-1", "resident")
    recorded = lambda: [e for e in events if isinstance(e, EntryRecorded)]  # noqa: E731
    assert wait_until(lambda: len(recorded()) == 2, timeout_s=15), events
    second = recorded()[1].entry.draft
    assert second.outcome.value == "passed"
    assert [m.reading.value_c for m in second.temperatures] == [36.5]
