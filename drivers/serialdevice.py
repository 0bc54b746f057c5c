"""SerialDevice: what every device on a serial line shares, so a new device is only its codec.

A device owns one ``SerialTransport`` whose reader thread calls the device's ``_on_open``,
``_on_bytes`` (and, for devices that judge silence, ``_on_tick``); its status goes to the lane
only when it changed (``StatusChanges``); its counters, kept under its lock, show in status.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections import Counter

from drivers.base import DeviceStatus, StatusListener
from drivers.serialport import Hook, SerialTransport
from drivers.status import StatusChanges


class SerialDevice(ABC):
    """A device on one serial port: its transport, its status told once, its counters."""

    def __init__(
        self,
        name: str,
        url: str,
        baud: int,
        on_status: StatusListener | None,
        reopen_s: tuple[float, float],
        on_tick: Hook | None = None,
    ) -> None:
        """``reopen_s``: the first and the longest pause before reopening a port that failed."""
        self.name = name
        self.url = url
        self._status_changes = StatusChanges(self.status, on_status)
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._transport = SerialTransport(
            name,
            url,
            baudrate=baud,
            on_bytes=self._on_bytes,
            on_open=self._on_open,
            on_tick=on_tick,
            on_status=lambda _status: self._status_changes.check(),
            reopen_min_s=reopen_s[0],
            reopen_max_s=reopen_s[1],
        )

    @abstractmethod
    def status(self) -> DeviceStatus: ...

    @abstractmethod
    def _on_open(self) -> None:
        """On the reader thread, each time the port (re)opens: reset what a new line needs."""

    @abstractmethod
    def _on_bytes(self, data: bytes) -> None:
        """On the reader thread: bytes as they arrive."""
