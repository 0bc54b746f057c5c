"""edge/health.py: device health and sync progress become alarms on the bus, once when a
condition begins and once when it ends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from drivers.base import DeviceStatus, Health
from edge.bus import Bus, BusEvent
from edge.health import BacklogLimits, HealthWatcher, SyncProgress, SyncWatch, sync_backlog_detail

NOW = datetime(2026, 12, 4, 7, 0, tzinfo=UTC)
LIMITS = BacklogLimits(max_entries=100, silent_s=900)


def _events(bus: Bus) -> list[BusEvent]:
    events: list[BusEvent] = []
    bus.subscribe(events.append)
    return events


def test_a_device_going_down_is_announced_once_and_its_recovery_once() -> None:
    bus = Bus()
    events = _events(bus)
    health_now = {"in-1/thermometer": Health.OK}

    def devices() -> list[DeviceStatus]:
        return [DeviceStatus(name, health, "silent") for name, health in health_now.items()]

    watcher = HealthWatcher(bus, devices=devices, now=lambda: NOW)
    watcher.check()
    assert events == []
    health_now["in-1/thermometer"] = Health.DOWN
    watcher.check()
    watcher.check()  # still down: no second alarm
    health_now["in-1/thermometer"] = Health.DEGRADED
    watcher.check()
    health_now["in-1/thermometer"] = Health.DOWN
    watcher.check()
    assert [(e.topic, e.lane, e.data["kind"]) for e in events] == [
        ("alarm", "in-1", "device_down"),
        ("cleared", "in-1", "device_down"),
        ("alarm", "in-1", "device_down"),
    ]
    assert events[0].data["detail"] == "in-1/thermometer: silent"


@pytest.mark.parametrize(
    ("backlog", "oldest_min", "ack_min", "raised"),
    [
        (1001, 1, None, True),  # too many waiting
        (5, 20, None, True),  # waiting with no acknowledgement since the oldest, 20 > 15 min
        (5, 20, 2, False),  # an acknowledgement came 2 minutes ago: the sync moves
        (0, None, None, False),
        (5, 10, None, False),
    ],
)
def test_the_sync_backlog_alarm(
    backlog: int, oldest_min: float | None, ack_min: float | None, raised: bool
) -> None:
    bus = Bus()
    events = _events(bus)
    oldest = None if oldest_min is None else NOW - timedelta(minutes=oldest_min)
    ack = None if ack_min is None else NOW - timedelta(minutes=ack_min)
    watch = SyncWatch(
        lambda: SyncProgress(backlog, ack), lambda: oldest, BacklogLimits(1000, 900.0)
    )
    HealthWatcher(bus, devices=list, now=lambda: NOW, sync=watch).check()
    assert [e.data["kind"] for e in events if e.topic == "alarm"] == (
        ["sync_backlog"] if raised else []
    )


def test_the_sync_backlog_says_why_it_is_an_alarm() -> None:
    long_ago = NOW - timedelta(hours=2)
    assert sync_backlog_detail(SyncProgress(0), None, LIMITS, NOW) is None
    assert sync_backlog_detail(SyncProgress(101), NOW, LIMITS, NOW) == (
        "backlog 101 (alarm above 100)"
    )
    assert sync_backlog_detail(SyncProgress(100), NOW - timedelta(seconds=60), LIMITS, NOW) is None
    assert sync_backlog_detail(SyncProgress(3), long_ago, LIMITS, NOW) == (
        "backlog 3; no acknowledgement for 120 min"
    )
    old_ack = SyncProgress(3, last_ack_at=long_ago)
    # An old acknowledgement, but the entries waiting are only a minute old: not yet.
    assert sync_backlog_detail(old_ack, NOW - timedelta(seconds=60), LIMITS, NOW) is None
    assert sync_backlog_detail(old_ack, NOW - timedelta(seconds=901), LIMITS, NOW) is not None
