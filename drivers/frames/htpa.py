"""HTPA32x32 thermopile-array boards (kiosk modules): 115200 baud, one frame about every 500 ms.

A board sends either ASCII ``{36.7}`` or binary ``AA 55 06 INT DEC SUM`` with DEC in tenths and
SUM the low byte of the sum of bytes 0..4 (``AA 55 06 24 07 30`` = 36.7 °C). The boards cannot be
asked, they stream; a board uses one format, so there is one decoder per format.
"""

from __future__ import annotations

import re

from drivers.base import ReadingFault
from drivers.frames.common import FrameResult, decode_fixed_frames, malformed, sum8

BINARY_HEADER = b"\xaa\x55\x06"
BINARY_LENGTH = 6
ASCII_MAX_LENGTH = 10  # "{-123.45}" plus slack: an unclosed brace longer than this is noise
_ASCII_FRAME = re.compile(rb"\{(-?\d{1,3}(?:\.\d{1,2})?)\}")


def encode_binary(value_c: float) -> bytes:
    """``AA 55 06 INT DEC SUM``; holds 0.0 to 255.9 °C in tenths (ValueError outside)."""
    whole, tenths = divmod(round(value_c * 10), 10)
    if not 0 <= whole <= 0xFF:
        raise ValueError(f"{value_c} °C does not fit the HTPA binary format")
    body = BINARY_HEADER + bytes((whole, tenths))
    return body + bytes((sum8(body),))


def encode_ascii(value_c: float) -> bytes:
    """``{36.7}``: one decimal, as the boards print it."""
    return b"{%.1f}" % value_c


def decode_binary(buf: bytes) -> tuple[list[FrameResult], bytes]:
    """Decode binary frames in ``buf``; return the results and the tail. Never raises."""

    def parse(frame: bytes) -> FrameResult:
        if sum8(frame[:5]) != frame[5]:
            return FrameResult(raw=frame, fault=ReadingFault.CHECKSUM)
        if frame[4] > 9:
            return malformed(frame)
        value_c = (frame[3] * 10 + frame[4]) / 10
        return FrameResult(raw=frame, value_c=value_c, object_c=value_c)

    return decode_fixed_frames(buf, BINARY_HEADER, BINARY_LENGTH, parse)


def decode_ascii(buf: bytes) -> tuple[list[FrameResult], bytes]:
    """Decode ``{…}`` frames in ``buf``; return the results and the tail. Never raises."""
    results: list[FrameResult] = []
    pos = 0
    while True:
        start = buf.find(b"{", pos)
        if start < 0:
            if len(buf) > pos:
                results.append(malformed(buf[pos:]))
            return results, b""
        if start > pos:
            results.append(malformed(buf[pos:start]))
        match = _ASCII_FRAME.match(buf, start)
        if match is not None:
            value_c = float(match.group(1))
            results.append(FrameResult(raw=match.group(0), value_c=value_c, object_c=value_c))
            pos = match.end()
            continue
        close = buf.find(b"}", start + 1)
        reopen = buf.find(b"{", start + 1)
        if close >= 0 and (reopen < 0 or close < reopen):
            end = close + 1  # a closed frame that is not a temperature, e.g. "{3x.7}"
        elif reopen >= 0:
            end = reopen  # cut off: a new frame starts before this one closed
        elif len(buf) - start < ASCII_MAX_LENGTH:
            return results, buf[start:]  # may still be completed by the next bytes
        else:
            end = len(buf)
        results.append(malformed(buf[start:end]))
        pos = end
