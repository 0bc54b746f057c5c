"""drivers.sim.door: the simulated contact shuts and opens a real GpioDoor on MockFactory pins,
with either pull, and an opening while the lock is shut is the forced-door alarm."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from drivers.door import DoorAlarmKind
from drivers.sim.door import SimDoorContact
from tests.drivers.doors import Door
from tests.drivers.waiting import wait_until


@pytest.fixture(params=[True, False], ids=["pull-up", "pull-down"])
def door(make_door: Callable[..., Door], request: pytest.FixtureRequest) -> Door:
    """A door whose contact nothing drives yet: the simulator is what shuts it."""
    return make_door(contact_pull_up=request.param, bounce_s=None, shut=False)


def test_an_unwired_mock_contact_reads_open_until_the_simulator_shuts_it(door: Door) -> None:
    assert door.door.is_open  # why a simulated gate must shut its doors at start
    contact = SimDoorContact(door.door)
    contact.shut()
    assert not contact.is_open
    assert door.door.status().detail == "closed"
    assert door.kinds() == []


def test_opening_a_locked_door_is_forced_and_shutting_it_closes_it(door: Door) -> None:
    contact = SimDoorContact(door.door)
    contact.shut()
    contact.open()
    assert door.door.is_open
    assert wait_until(lambda: door.kinds() == [DoorAlarmKind.FORCED])
    contact.shut()
    assert not door.door.is_open
    assert door.door.status().extra["openings"] == "1"


def test_only_a_mock_pin_can_be_simulated() -> None:
    class RealPin:
        pass

    class Door:
        name = "in-1/door"
        contact_pin = RealPin()
        contact_pull_up = True

    with pytest.raises(TypeError, match="only a MockFactory pin"):
        SimDoorContact(Door())  # type: ignore[arg-type]
