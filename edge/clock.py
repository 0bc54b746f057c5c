"""The gate's clock: wall time, monotonic time, whether NTP has synchronised, and the boot id.

A Raspberry Pi has no real-time clock: until NTP syncs, the wall clock is the last saved time.
Every entry records whether the clock was synchronised, so the office can weigh its times.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from edge.model import Instant

TIMESYNC_MARKER = Path("/run/systemd/timesync/synchronized")
_STA_UNSYNC = 0x0040  # kernel timex status bit: clock not synchronised (adjtimex(2))


class Clock(Protocol):
    def now(self) -> Instant: ...


class _Timex(ctypes.Structure):
    # struct timex from <sys/timex.h> (x86_64 and aarch64 layouts agree on the leading fields).
    _fields_ = [
        ("modes", ctypes.c_uint),
        ("offset", ctypes.c_long),
        ("freq", ctypes.c_long),
        ("maxerror", ctypes.c_long),
        ("esterror", ctypes.c_long),
        ("status", ctypes.c_int),
        ("_rest", ctypes.c_byte * 256),
    ]


def kernel_clock_synced() -> bool | None:
    """The kernel's own view (what timedatectl shows as 'System clock synchronized')."""
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return None
    try:
        libc = ctypes.CDLL(libc_name, use_errno=True)
        timex = _Timex()
        state = libc.adjtimex(ctypes.byref(timex))
    except (OSError, AttributeError):
        return None
    if state < 0:
        return None
    return not (timex.status & _STA_UNSYNC)


def read_boot_id() -> str:
    """The kernel's id for this boot; with monotonic time it orders events across clock jumps."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()
    except OSError:
        return f"unknown-{uuid.uuid4()}"


@dataclass
class SystemClock:
    """The real clock. ``assume_synced`` is for machines with no NTP status to read."""

    assume_synced: bool = False
    marker: Path = TIMESYNC_MARKER
    recheck_s: float = 30.0
    _synced: bool = False
    _checked_at_s: float = float("-inf")

    def synced(self) -> bool:
        mono = time.monotonic()
        if mono - self._checked_at_s >= self.recheck_s:
            self._checked_at_s = mono
            self._synced = (
                self.assume_synced or self.marker.exists() or kernel_clock_synced() is True
            )
        return self._synced

    def now(self) -> Instant:
        return Instant(wall=datetime.now(UTC), mono_s=time.monotonic(), clock_synced=self.synced())
