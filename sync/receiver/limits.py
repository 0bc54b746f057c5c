"""Bounds on what a gate account's garbage can make the receiver keep (issue #10).

Rejects are evidence, so they are kept, but never at the sender's pace: each one keeps at most
``REJECT_KEEP_BYTES`` of its payload (``RejectedMessage.of``), and each gate has a token bucket
of rejects to store. Beyond it a reject is counted, not stored, and the count is logged once a
window per gate, so a flood of garbage costs a few lines of log, not the disk.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sync.contract import parse_gate_topic

log = logging.getLogger(__name__)

REJECT_KEEP_BYTES = 4096
"""The head of a rejected payload that is stored; with its size and SHA-256 that identifies it."""


@dataclass(frozen=True, slots=True)
class RejectLimit:
    """How many rejects one gate may have stored: a burst, then a steady rate."""

    burst: int = 50
    per_minute: float = 1.0
    log_window_s: float = 60.0
    """At most one warning per gate in this long about rejects dropped."""


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated_s: float
    dropped: int = 0
    logged_s: float | None = None


@dataclass(slots=True)
class RejectThrottle:
    """A token bucket of stored rejects per gate (community/gate of the topic)."""

    limit: RejectLimit = field(default_factory=RejectLimit)
    now_s: Callable[[], float] = time.monotonic
    dropped: int = 0
    """Rejects counted and not stored since start, over every gate."""
    _buckets: dict[str, _Bucket] = field(default_factory=dict)

    def admit(self, topic: str) -> bool:
        """Whether a reject on ``topic`` may be stored now; a refusal is counted."""
        where = parse_gate_topic(topic)
        # Topics that name no gate share one bucket: they cannot take a gate's share.
        key = f"{where.community}/{where.gate}" if where is not None else "?"
        now_s = self.now_s()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(tokens=float(self.limit.burst), updated_s=now_s)
        refill = (now_s - bucket.updated_s) * self.limit.per_minute / 60.0
        bucket.tokens = min(float(self.limit.burst), bucket.tokens + refill)
        bucket.updated_s = now_s
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return True
        bucket.dropped += 1
        self.dropped += 1
        if bucket.logged_s is None or now_s - bucket.logged_s >= self.limit.log_window_s:
            log.warning(
                "%s: over %d rejects stored at %.1f a minute; %d dropped unstored so far",
                key,
                self.limit.burst,
                self.limit.per_minute,
                bucket.dropped,
            )
            bucket.logged_s = now_s
        return False
