"""Time-ordered entry ids: UUID version 7 (RFC 9562 §5.7), monotonic within the process.

Python 3.11 has no ``uuid.uuid7``. Ids sort by creation time, which keeps the entries' primary
key index append-only and lets the community receiver order ids from different gates roughly.
The timestamp inside an id is never the entry's time (``recorded_at`` is): after the clock steps
back, ids keep the later timestamp so that they still sort in the order they were made.
"""

from __future__ import annotations

import secrets
import threading
import uuid

_MAX_UNIX_MS = (1 << 48) - 1
# RFC 9562 §6.2 Method 1 (fixed-length dedicated counter): the 12 bits of rand_a and the top
# 30 bits of rand_b form a 42-bit counter. It is seeded at random each millisecond with its top
# bit clear, so at least 2**41 ids fit in one millisecond before the counter overflows.
_COUNTER_BITS = 42
_COUNTER_SEED_BITS = _COUNTER_BITS - 1
_COUNTER_MAX = (1 << _COUNTER_BITS) - 1
_TAIL_BITS = 32  # low bits of rand_b, fresh random in every id
_VERSION = 0x7
_VARIANT = 0b10


class Uuid7Generator:
    """Makes UUIDv7 values that strictly increase, even when the wall clock steps back.

    A Pi without a real-time clock jumps when NTP syncs; if the time given goes backwards, the
    generator keeps using its last timestamp and counts on, so ids never go out of order.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last_ms = -1
        self._counter = 0

    def next(self, unix_ms: int) -> uuid.UUID:
        """The next id for a moment given in milliseconds since the Unix epoch."""
        unix_ms = min(max(unix_ms, 0), _MAX_UNIX_MS)
        with self._lock:
            if unix_ms > self._last_ms:
                self._last_ms = unix_ms
                self._counter = secrets.randbits(_COUNTER_SEED_BITS)
            elif self._counter < _COUNTER_MAX:
                self._counter += 1
            else:
                # Counter exhausted: borrow the next millisecond (RFC 9562 §6.2, rollover).
                self._last_ms = min(self._last_ms + 1, _MAX_UNIX_MS)
                self._counter = secrets.randbits(_COUNTER_SEED_BITS)
            timestamp_ms = self._last_ms
            counter = self._counter
        rand_a = counter >> (_COUNTER_BITS - 12)
        rand_b = ((counter & ((1 << 30) - 1)) << _TAIL_BITS) | secrets.randbits(_TAIL_BITS)
        value = (timestamp_ms << 80) | (_VERSION << 76) | (rand_a << 64) | (_VARIANT << 62) | rand_b
        return uuid.UUID(int=value)


_process_generator = Uuid7Generator()


def uuid7(unix_ms: int) -> uuid.UUID:
    """A UUIDv7 for ``unix_ms``, strictly greater than every id this process made before."""
    return _process_generator.next(unix_ms)


def uuid7_unix_ms(value: uuid.UUID) -> int:
    """The millisecond timestamp carried in a UUIDv7 (its top 48 bits)."""
    return value.int >> 80
