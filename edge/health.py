"""The gate's health watcher: device health and sync progress become alarms on the bus.

Drivers report health as state (ok, degraded, down), not as events, and the sync knows its
backlog only when asked; someone has to look. This watcher looks every few seconds, whether or
not a console is running or a browser is open, and announces a condition once when it begins
(``alarm`` with kind ``device_down`` or ``sync_backlog``) and once when it ends (``cleared``).
Listeners decide the rest: the console's alarm board shows it, the sync forwards it to the
office as an alert. It imports nothing above the edge core: boot hands it plain callables.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from pydantic import PositiveFloat, PositiveInt

from drivers.base import DeviceStatus, Health
from drivers.threads import Periodic
from edge.bus import AlarmCleared, AlarmRaised, Bus
from edge.configmodel import ConfigModel

log = logging.getLogger(__name__)

WATCH_INTERVAL_S = 2.0  # a device down shows within seconds; a look costs a few status reads
DEVICE_DOWN = "device_down"
SYNC_BACKLOG = "sync_backlog"


class AlarmSettings(ConfigModel):
    """When the gate's own state becomes an alarm on the console."""

    sync_backlog_entries: PositiveInt = 1000
    """Raise sync_backlog when more entries than this wait for the receiver."""
    sync_silent_s: PositiveFloat = 900.0
    """Raise sync_backlog when entries wait and no acknowledgement came this long."""


@dataclass(frozen=True, slots=True)
class SyncProgress:
    """What the watcher needs of the sync: entries waiting, and the last acknowledgement."""

    backlog: int
    last_ack_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class BacklogLimits:
    """When waiting entries are an alarm: too many, or waiting with no acknowledgement."""

    max_entries: int
    silent_s: float


def sync_backlog_detail(
    progress: SyncProgress,
    oldest_pending_at: datetime | None,
    limits: BacklogLimits,
    now: datetime,
) -> str | None:
    """Why the sync backlog is an alarm now (too many entries wait, or they wait and no
    acknowledgement came for ``limits.silent_s``), or None when it is not."""
    if progress.backlog > limits.max_entries:
        return f"backlog {progress.backlog} (alarm above {limits.max_entries})"
    if progress.backlog == 0 or oldest_pending_at is None:
        return None
    # Silent since the last acknowledgement, or since the oldest entry waiting if that is later
    # (or if no acknowledgement came since the gate started).
    since = oldest_pending_at
    if progress.last_ack_at is not None and progress.last_ack_at > since:
        since = progress.last_ack_at
    silent_s = (now - since).total_seconds()
    if silent_s <= limits.silent_s:
        return None
    return f"backlog {progress.backlog}; no acknowledgement for {silent_s / 60:.0f} min"


@dataclass(frozen=True, slots=True)
class SyncWatch:
    """The sync's side of the watch, when [mqtt] sync runs."""

    progress: Callable[[], SyncProgress]
    oldest_pending_at: Callable[[], datetime | None]
    limits: BacklogLimits


class HealthWatcher:
    """Polls devices (and the sync) and publishes each condition's start and end on the bus."""

    def __init__(
        self,
        bus: Bus,
        *,
        devices: Callable[[], Iterable[DeviceStatus]],
        now: Callable[[], datetime],
        sync: SyncWatch | None = None,
        interval_s: float = WATCH_INTERVAL_S,
    ) -> None:
        self._bus = bus
        self._devices = devices
        self._now = now
        self._sync = sync
        self._active: dict[tuple[str, str], str] = {}  # (kind, subject) → lane, while active
        # On a thread of its own: no request pool or lane can hold an alarm back.
        self._watch = Periodic("health-watch", self.check, interval_s)

    def check(self) -> None:
        """One look at every device and the sync; announces what began or ended since the last."""
        for device in self._devices():
            down = device.health is Health.DOWN
            self._condition(
                DEVICE_DOWN,
                device.name,
                _lane_of(device.name),
                down,
                f"{device.name}: {device.detail}",
            )
        if self._sync is not None:
            detail = sync_backlog_detail(
                self._sync.progress(),
                self._sync.oldest_pending_at(),
                self._sync.limits,
                self._now(),
            )
            self._condition(SYNC_BACKLOG, "sync", "", detail is not None, detail or "")

    def start(self) -> None:
        self._watch.start()

    def stop(self) -> None:
        self._watch.stop()

    def _condition(self, kind: str, subject: str, lane: str, active: bool, detail: str) -> None:
        key = (kind, subject)
        if active and key not in self._active:
            self._active[key] = lane
            log.warning("%s: %s", kind, detail)
            self._bus.publish(AlarmRaised(lane=lane, kind=kind, detail=detail))
        elif not active and key in self._active:
            del self._active[key]
            log.info("%s over: %s", kind, subject)
            self._bus.publish(AlarmCleared(lane=lane, kind=kind, detail=subject))


def _lane_of(device_name: str) -> str:
    """Devices are named 'lane/device' ('in-1/thermometer'); the lane is the first part."""
    return device_name.split("/", 1)[0]
