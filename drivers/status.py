"""Status changes, told once: the drivers' reader threads check often, the lane hears changes."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager

from drivers.base import DeviceStatus, Health, StatusListener

log = logging.getLogger(__name__)


def counted(counts: Mapping[str, int]) -> dict[str, str]:
    """A device's counters as status extras, in name order."""
    return {key: str(count) for key, count in sorted(counts.items())}


class HealthRecord:
    """A device's health and detail, and its last problem kept after it recovered (for the
    console and ``kakou doctor``). Read the fields holding the device's lock, the one given."""

    def __init__(self, name: str, lock: AbstractContextManager[bool]) -> None:
        self.name = name
        self._lock = lock
        self.health = Health.DOWN
        self.detail = "not started"
        self.last_error = ""

    def set(self, health: Health, detail: str, *, quiet: bool = False) -> bool:
        """Record ``health`` and ``detail``; True if either moved. A problem is logged once
        and kept as the last error, unless ``quiet`` (an expected state, such as stopped)."""
        with self._lock:
            changed = (health, detail) != (self.health, self.detail)
            self.health, self.detail = health, detail
            if health is not Health.OK and not quiet:
                self.last_error = detail
        if changed and health is not Health.OK and not quiet:
            log.warning("%s: %s: %s", self.name, health, detail)
        return changed


class StatusChanges:
    """Hands a device's status to its listener only when health or detail moved: a driver may
    check after every byte or frame, the lane hears each change once. Safe from any thread."""

    def __init__(self, status: Callable[[], DeviceStatus], listener: StatusListener | None):
        self._status = status
        self._listener = listener
        self._lock = threading.Lock()
        self._last: tuple[Health, str] | None = None

    def check(self) -> None:
        if self._listener is None:
            return
        status = self._status()
        key = (status.health, status.detail)
        with self._lock:
            changed, self._last = key != self._last, key
        if changed:
            self._listener(status)
