"""GY-MCU90614 / GY-MCU90615 (MLX90614/90615 behind a small MCU), UART 8N1, 9600 or 115200 baud.

Host → module: three bytes ``A5 CMD SUM`` with SUM = (0xA5 + CMD) & 0xFF.
Module → host: nine bytes ``5A 5A 45 04 TOH TOL TAH TAL SUM``: object and ambient temperature as
signed 16-bit big-endian hundredths of a degree, SUM the low byte of the sum of bytes 0..7.
One public code sample sends the ambient pair first, so the order is a parameter.
"""

from __future__ import annotations

from drivers.base import ReadingFault
from drivers.frames.common import FrameResult, decode_command_triples, decode_fixed_frames, sum8

COMMAND_PREFIX = 0xA5


def command(code: int) -> bytes:
    """Build a host command ``A5 CMD SUM``."""
    return bytes((COMMAND_PREFIX, code, (COMMAND_PREFIX + code) & 0xFF))


QUERY = command(0x15)  # A5 15 BA: measure once, answer one frame (and leave continuous output)
CONTINUOUS = command(0x45)  # A5 45 EA: stream frames at about 14 Hz
BAUD_9600 = command(0xAE)  # A5 AE 53
BAUD_115200 = command(0xAF)  # A5 AF 54
AUTOSTART_ON = command(0x51)  # A5 51 F6: stream from power-on (applies after a power cycle)
AUTOSTART_OFF = command(0x52)  # A5 52 F7

HEADER = bytes((0x5A, 0x5A, 0x45, 0x04))  # frame marker 5A 5A, data type 45 (temperature), 4 bytes
FRAME_LENGTH = 9


def encode_reading(object_c: float, ambient_c: float, *, object_first: bool = True) -> bytes:
    """Build the module's 9-byte answer; raises ValueError outside the signed 16-bit range."""
    first, second = (object_c, ambient_c) if object_first else (ambient_c, object_c)
    body = HEADER + _hundredths(first) + _hundredths(second)
    return body + bytes((sum8(body),))


def decode(buf: bytes, *, object_first: bool = True) -> tuple[list[FrameResult], bytes]:
    """Decode every complete frame in ``buf``; return the results and the unconsumed tail.

    Never raises: noise and cut-off frames come back as MALFORMED results, a frame whose SUM does
    not match as CHECKSUM, so the driver can count them.
    """

    def parse(frame: bytes) -> FrameResult:
        if sum8(frame[:8]) != frame[8]:
            return FrameResult(raw=frame, fault=ReadingFault.CHECKSUM)
        first = int.from_bytes(frame[4:6], "big", signed=True) / 100
        second = int.from_bytes(frame[6:8], "big", signed=True) / 100
        object_c, ambient_c = (first, second) if object_first else (second, first)
        return FrameResult(raw=frame, value_c=object_c, object_c=object_c, ambient_c=ambient_c)

    return decode_fixed_frames(buf, HEADER, FRAME_LENGTH, parse)


def decode_commands(buf: bytes) -> tuple[list[int], bytes]:
    """Host commands (CMD bytes of valid ``A5 CMD SUM`` triples) in ``buf``, and the tail."""
    return decode_command_triples(buf, COMMAND_PREFIX)


def _hundredths(value_c: float) -> bytes:
    try:
        return round(value_c * 100).to_bytes(2, "big", signed=True)
    except OverflowError as exc:
        raise ValueError(f"{value_c} °C does not fit a signed 16-bit hundredths field") from exc


__all__ = [
    "AUTOSTART_OFF",
    "AUTOSTART_ON",
    "BAUD_9600",
    "BAUD_115200",
    "CONTINUOUS",
    "FRAME_LENGTH",
    "HEADER",
    "QUERY",
    "FrameResult",
    "command",
    "decode",
    "decode_commands",
    "encode_reading",
]
