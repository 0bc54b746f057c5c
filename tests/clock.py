"""A clock tests move by hand, standing in for edge.clock.SystemClock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from edge.clock import Instant


@dataclass
class FakeClock:
    """A clock tests move by hand."""

    wall: datetime = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
    mono_s: float = 1000.0
    clock_synced: bool = True

    def now(self) -> Instant:
        return Instant(wall=self.wall, mono_s=self.mono_s, clock_synced=self.clock_synced)

    def advance(self, seconds: float) -> Instant:
        self.wall += timedelta(seconds=seconds)
        self.mono_s += seconds
        return self.now()
