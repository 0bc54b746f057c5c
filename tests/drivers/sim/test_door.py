"""drivers.sim.door: the simulated contact shuts and opens a real GpioDoor on MockFactory pins,
with either pull, and an opening while the lock is shut is the forced-door alarm."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from gpiozero.pins.mock import MockFactory

from drivers.door import DoorAlarm, DoorAlarmKind, GpioDoor
from drivers.sim.door import SimDoorContact
from tests.drivers.waiting import wait_until

CONTACT = 5


@pytest.fixture(params=[True, False], ids=["pull-up", "pull-down"])
def door(mock_factory: MockFactory, request: pytest.FixtureRequest) -> Iterator[GpioDoor]:
    alarms: list[DoorAlarm] = []
    door = GpioDoor(
        "in-1/door",
        contact_pin=CONTACT,
        relay_energised=lambda: False,
        on_alarm=alarms.append,
        contact_pull_up=request.param,
        bounce_s=None,
        pin_factory=mock_factory,
    )
    door.alarms = alarms  # type: ignore[attr-defined]
    yield door
    door.close()


def test_an_unwired_mock_contact_reads_open_until_the_simulator_shuts_it(door: GpioDoor) -> None:
    assert door.is_open  # why a simulated gate must shut its doors at start
    contact = SimDoorContact(door)
    contact.shut()
    assert not contact.is_open
    assert door.status().detail == "closed"
    assert door.alarms == []  # type: ignore[attr-defined]


def test_opening_a_locked_door_is_forced_and_shutting_it_closes_it(door: GpioDoor) -> None:
    contact = SimDoorContact(door)
    contact.shut()
    contact.open()
    assert door.is_open
    assert wait_until(lambda: bool(door.alarms))  # type: ignore[attr-defined]
    assert [a.kind for a in door.alarms] == [DoorAlarmKind.FORCED]  # type: ignore[attr-defined]
    contact.shut()
    assert not door.is_open
    assert door.status().extra["openings"] == "1"


def test_only_a_mock_pin_can_be_simulated() -> None:
    class RealPin:
        pass

    class Door:
        name = "in-1/door"
        contact_pin = RealPin()
        contact_pull_up = True

    with pytest.raises(TypeError, match="only a MockFactory pin"):
        SimDoorContact(Door())  # type: ignore[arg-type]
