"""Value types and small interfaces every device driver shares.

Drivers report what they saw; they never decide anything about the checkpoint rule.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol


class Health(StrEnum):
    """Device health as announced to the lane and the console."""

    OK = "ok"
    DEGRADED = "degraded"
    DOWN = "down"


class ReadingFault(StrEnum):
    """Why a thermometer frame did not yield a usable temperature."""

    CHECKSUM = "checksum"
    WRONG_MODE = "wrong_mode"
    TIMEOUT = "timeout"
    MALFORMED = "malformed"


@dataclass(frozen=True, slots=True)
class Reading:
    """One temperature reading as the module reported it, before any offset or plausibility check.

    ``value_c`` is the temperature the module calls its measurement (object/body temperature);
    ``object_c`` and ``ambient_c`` are the raw values kept for the record where the module sends
    them. ``manual`` marks a value typed in by a guard from a handheld thermometer.
    """

    value_c: float
    sensor: str
    object_c: float | None = None
    ambient_c: float | None = None
    manual: bool = False
    raw_hex: str = ""


@dataclass(frozen=True, slots=True)
class Scan:
    """One decoded code from a scanner or camera.

    ``text`` is the decoded content (bounded in length by the driver); ``truncated`` tells that the
    device sent more than the driver accepts, so the content can never verify.
    """

    text: str
    source: str
    truncated: bool = False
    raw_length: int = 0


@dataclass(frozen=True, slots=True)
class DeviceStatus:
    """What a device reports about itself: health, and the last error if any."""

    name: str
    health: Health
    detail: str = ""
    extra: dict[str, str] = field(default_factory=dict)


ScanListener = Callable[[Scan], None]
ReadingListener = Callable[[Reading], None]
StatusListener = Callable[[DeviceStatus], None]


class RereadWindow:
    """A code seen again within ``window_s`` is the same presentation; the window slides while
    the code stays in view, so a pass held up for ten seconds is one scan."""

    def __init__(self, window_s: float) -> None:
        self.window_s = window_s
        self._seen: dict[str, float] = {}

    def is_reread(self, scan: Scan, now_s: float) -> bool:
        key = scan.text if not scan.truncated else f"\x00truncated:{scan.raw_length}"
        last_s = self._seen.get(key)
        self._seen[key] = now_s
        if len(self._seen) > 64:
            horizon_s = now_s - self.window_s
            self._seen = {code: seen for code, seen in self._seen.items() if seen >= horizon_s}
        return last_s is not None and now_s - last_s < self.window_s


class Scanner(Protocol):
    """A source of scanned codes (serial QR scanner, camera)."""

    def start(self, on_scan: ScanListener) -> None: ...
    def stop(self) -> None: ...
    def status(self) -> DeviceStatus: ...


class Thermometer(Protocol):
    """A temperature sensor that can be asked for one measurement."""

    def start(self, on_reading: ReadingListener) -> None: ...
    def request(self) -> None:
        """Ask for one measurement; the result (if any) arrives through ``on_reading``."""

    def stop(self) -> None: ...
    def status(self) -> DeviceStatus: ...


class Relay(Protocol):
    """The gate lock relay. Released (locked) unless told otherwise."""

    def pulse(self, seconds: float) -> None: ...
    def hold_open(self) -> None: ...
    def release(self) -> None: ...
    @property
    def is_energised(self) -> bool: ...
    def close(self) -> None: ...


class Indicator(Protocol):
    """LEDs and buzzer patterns shown to the resident."""

    def show(self, signal: str) -> None:
        """Show a named signal: ``pass``, ``deny``, ``fever``, ``wait`` or ``idle``."""

    def close(self) -> None: ...
