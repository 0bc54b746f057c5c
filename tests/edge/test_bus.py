"""edge/bus.py: one table of typed events; every event in it is published by product code, a
listener for one kind hears only that kind, and a failing listener never reaches the publisher."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from edge.bus import EVENTS, AlarmRaised, Bus, BusEvent, EntryRecorded, StepChanged

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = [ROOT / "edge", ROOT / "sync", ROOT / "drivers"]


def _product_source() -> str:
    return "\n".join(
        path.read_text(encoding="utf-8")
        for folder in PRODUCT
        for path in folder.rglob("*.py")
        if path != ROOT / "edge" / "bus.py"
    )


@pytest.mark.parametrize("event", EVENTS, ids=lambda event: event.__name__)
def test_every_event_in_the_table_is_published_by_the_product(event: type[BusEvent]) -> None:
    """A listener for an event nobody sends would wait forever: the table holds only live ones."""
    assert re.search(rf"\bpublish\(\s*{event.__name__}\(", _product_source()), event.__name__


def test_topics_are_unique_and_every_event_subclass_is_in_the_table() -> None:
    topics = [event.TOPIC for event in EVENTS]
    assert len(set(topics)) == len(topics)
    assert all(topics)
    # By name: a slotted dataclass replaces its class, and the first one may linger until GC.
    assert {c.__name__ for c in BusEvent.__subclasses__()} == {e.__name__ for e in EVENTS}


def test_a_listener_for_one_kind_hears_only_that_kind() -> None:
    bus = Bus()
    alarms: list[AlarmRaised] = []
    everything: list[BusEvent] = []
    stop = bus.on(AlarmRaised, alarms.append)
    bus.subscribe(everything.append)
    bus.publish(StepChanged(lane="in-1", step="look"))
    bus.publish(AlarmRaised(lane="in-1", kind="fever", detail="张*"))
    stop()
    bus.publish(AlarmRaised(lane="in-1", kind="door_forced"))
    assert [(a.lane, a.kind, a.detail) for a in alarms] == [("in-1", "fever", "张*")]
    assert [e.topic for e in everything] == ["step", "alarm", "alarm"]
    assert everything[0].data == {"step": "look"}


def test_a_failing_listener_never_reaches_the_publisher_or_the_others() -> None:
    bus = Bus()
    heard: list[BusEvent] = []

    def broken(event: BusEvent) -> None:
        raise RuntimeError("a listener's bug")

    bus.subscribe(broken)
    bus.subscribe(heard.append)
    bus.publish(StepChanged(lane="in-1", step="stop"))
    assert len(heard) == 1


def test_events_are_frozen() -> None:
    event = StepChanged(lane="in-1", step="look")
    with pytest.raises(AttributeError):
        event.step = "ask"  # type: ignore[misc]
    assert EntryRecorded.TOPIC == "entry"
