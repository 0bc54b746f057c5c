"""Status changes, told once: the drivers' reader threads check often, the lane hears changes."""

from __future__ import annotations

import threading
from collections.abc import Callable

from drivers.base import DeviceStatus, Health, StatusListener


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
