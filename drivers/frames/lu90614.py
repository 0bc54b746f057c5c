"""LU90614 infrared thermometer module (body / material modes), UART 9600 8N1.

Host → module: ``FA CMD SUM`` with SUM = (0xFA + CMD) & 0xFF: body mode ``FA C5 BF``, material
mode ``FA C6 C0``, measure and send ``FA CA C4``.
Module → host: nine bytes ``FE MODE INT DEC 00 00 00 00 SUM``, MODE AC body / AA material,
value = INT + DEC/100 °C, SUM the low byte of the sum of bytes 0..7. A reply in the other mode
than the one asked for is a fault, not a reading: a material (surface) value is not a body value.
"""

from __future__ import annotations

from enum import IntEnum

from drivers.base import ReadingFault
from drivers.frames.common import (
    FrameResult,
    decode_command_triples,
    decode_fixed_frames,
    malformed,
    sum8,
)

COMMAND_PREFIX = 0xFA
HEADER = b"\xfe"
FRAME_LENGTH = 9


class LuMode(IntEnum):
    """The MODE byte of a reply."""

    BODY = 0xAC
    MATERIAL = 0xAA


def command(code: int) -> bytes:
    """Build a host command ``FA CMD SUM``."""
    return bytes((COMMAND_PREFIX, code, (COMMAND_PREFIX + code) & 0xFF))


BODY_MODE = command(0xC5)  # FA C5 BF
MATERIAL_MODE = command(0xC6)  # FA C6 C0
MEASURE = command(0xCA)  # FA CA C4: measure once and send the reply
MODE_COMMANDS = {LuMode.BODY: BODY_MODE, LuMode.MATERIAL: MATERIAL_MODE}


def encode_reading(value_c: float, mode: LuMode) -> bytes:
    """Build the module's reply; the format holds 0.00 to 255.99 °C (ValueError outside)."""
    whole, hundredths = divmod(round(value_c * 100), 100)
    if not 0 <= whole <= 0xFF:
        raise ValueError(f"{value_c} °C does not fit the LU90614 INT/DEC format")
    body = HEADER + bytes((mode, whole, hundredths, 0, 0, 0, 0))
    return body + bytes((sum8(body),))


def decode(buf: bytes, *, mode: LuMode) -> tuple[list[FrameResult], bytes]:
    """Decode complete replies in ``buf`` expecting ``mode``; return results and the tail."""

    def parse(frame: bytes) -> FrameResult:
        if sum8(frame[:8]) != frame[8]:
            return FrameResult(raw=frame, fault=ReadingFault.CHECKSUM)
        if frame[1] not in (LuMode.BODY, LuMode.MATERIAL) or frame[3] > 99:
            return malformed(frame)
        if frame[1] != mode:
            return FrameResult(raw=frame, fault=ReadingFault.WRONG_MODE)
        value_c = (frame[2] * 100 + frame[3]) / 100
        return FrameResult(raw=frame, value_c=value_c, object_c=value_c)

    return decode_fixed_frames(buf, HEADER, FRAME_LENGTH, parse)


def decode_commands(buf: bytes) -> tuple[list[int], bytes]:
    """Host commands (CMD bytes of valid ``FA CMD SUM`` triples) in ``buf``, and the tail."""
    return decode_command_triples(buf, COMMAND_PREFIX)
