"""Which time a pass is judged at while the clock is not synchronised.

A Raspberry Pi has no real-time clock: after a power cut it starts at the last saved time and
stays there until NTP answers, and anyone at the gate can wind a clock back. A verifier that
trusts the device time can be fooled into accepting an expired pass. So the gate remembers the
latest time it had reason to believe (read while synchronised, with the boot id and monotonic
time of that moment) and, by default, never judges a pass earlier than that.

Pure: no clock is read and nothing is stored here. The lane passes in the moment (``Instant``)
and the last trusted time; ``TrustedTimeKeeper`` decides when that is worth persisting.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from edge.model import Instant

META_KEY = "clock.last_trusted"
"""Store meta key holding the last trusted time (JSON: wall, boot_id, mono_s)."""

PERSIST_EVERY_S = 600.0
"""How often a synchronised gate saves its trusted time: the most a restart can forget."""


class UnsyncedPolicy(StrEnum):
    """``[clock] unsynced_policy``: how passes are judged before the first NTP sync."""

    NOT_BEFORE_LAST_TRUSTED = "not_before_last_trusted"
    """Judge at the device time, but never earlier than the last trusted time (default)."""
    TRUST_DEVICE = "trust_device"
    """Judge at the device time as it is (a gate with a battery-backed RTC)."""
    DENY_UNTIL_SYNCED = "deny_until_synced"
    """Judge no pass until NTP has synchronised; the guard lets people through by override."""


@dataclass(frozen=True, slots=True)
class TrustedTime:
    """A wall time read while the clock was synchronised, with where it was read."""

    wall: datetime
    boot_id: str
    mono_s: float

    def to_meta(self) -> str:
        return json.dumps(
            {"wall": self.wall.isoformat(), "boot_id": self.boot_id, "mono_s": self.mono_s}
        )

    @classmethod
    def from_meta(cls, text: str | None) -> TrustedTime | None:
        """Parse a stored value; anything unreadable counts as nothing known (None)."""
        if not text:
            return None
        try:
            data = json.loads(text)
            wall = datetime.fromisoformat(str(data["wall"]))
            if wall.tzinfo is None:
                return None
            return cls(wall=wall, boot_id=str(data["boot_id"]), mono_s=float(data["mono_s"]))
        except (ValueError, KeyError, TypeError):
            return None

    @classmethod
    def of(cls, at: Instant, boot_id: str) -> TrustedTime:
        return cls(wall=at.wall, boot_id=boot_id, mono_s=at.mono_s)


class PassTimeBasis(StrEnum):
    """Why ``PassTime.at`` is what it is (for the entry's record and the log)."""

    SYNCED = "synced"
    DEVICE = "device"
    LAST_TRUSTED = "last_trusted"
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class PassTime:
    """The time to verify a pass against; ``at`` None means: judge no pass now."""

    at: datetime | None
    basis: PassTimeBasis


def earliest_possible_now(
    trusted: TrustedTime | None, boot_id: str, mono_s: float
) -> datetime | None:
    """The earliest the real time can be, from the last trusted time alone.

    In the boot it was read in, the monotonic clock (which nobody can wind back) says how much
    time has passed since; after a reboot only the trusted time itself is a lower bound.
    """
    if trusted is None:
        return None
    if trusted.boot_id == boot_id and mono_s >= trusted.mono_s:
        return trusted.wall + timedelta(seconds=mono_s - trusted.mono_s)
    return trusted.wall


def pass_time(
    policy: UnsyncedPolicy, at: Instant, *, boot_id: str, trusted: TrustedTime | None
) -> PassTime:
    """The 'now' a pass shown at ``at`` is verified against, under ``policy``.

    A synchronised clock is believed. Otherwise, by default, the later of the device time and
    the earliest possible real time: winding the clock back cannot revive an expired pass, and
    a clock that is ahead can only make passes expire early (the gate stays shut, fail-secure).
    """
    if at.clock_synced:
        return PassTime(at.wall, PassTimeBasis.SYNCED)
    if policy is UnsyncedPolicy.TRUST_DEVICE:
        return PassTime(at.wall, PassTimeBasis.DEVICE)
    if policy is UnsyncedPolicy.DENY_UNTIL_SYNCED:
        return PassTime(None, PassTimeBasis.REFUSED)
    bound = earliest_possible_now(trusted, boot_id, at.mono_s)
    if bound is not None and bound > at.wall:
        return PassTime(bound, PassTimeBasis.LAST_TRUSTED)
    return PassTime(at.wall, PassTimeBasis.DEVICE)


class TrustedTimeKeeper:
    """Follows the clock and says when the latest trusted time is due to be saved.

    Not thread-safe: one owner (the main loop) calls ``observe``; readers take ``latest``, a
    single attribute read of an immutable value.
    """

    def __init__(
        self, boot_id: str, saved: TrustedTime | None, *, persist_every_s: float = PERSIST_EVERY_S
    ) -> None:
        self.boot_id = boot_id
        self.latest = saved
        self._persist_every_s = persist_every_s
        self._saved_mono_s: float | None = None

    def observe(self, at: Instant) -> TrustedTime | None:
        """Note ``at``; return the trusted time to persist now, or None when nothing is due."""
        if not at.clock_synced:
            return None
        self.latest = TrustedTime.of(at, self.boot_id)
        if (
            self._saved_mono_s is not None
            and at.mono_s - self._saved_mono_s < self._persist_every_s
        ):
            return None
        self._saved_mono_s = at.mono_s
        return self.latest
