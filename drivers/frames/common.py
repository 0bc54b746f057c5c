"""The result type and framing helpers shared by the thermometer codecs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from drivers.base import ReadingFault


@dataclass(frozen=True, slots=True)
class FrameResult:
    """One frame (or run of unframed bytes) found in a byte stream.

    Either a temperature (``fault`` is None, ``value_c`` set) or a fault with the bytes that caused
    it, so the driver can count faults and keep the raw hex for the record.
    """

    raw: bytes
    value_c: float | None = None
    object_c: float | None = None
    ambient_c: float | None = None
    fault: ReadingFault | None = None

    @property
    def ok(self) -> bool:
        return self.fault is None and self.value_c is not None


def malformed(raw: bytes) -> FrameResult:
    """Bytes that belong to no valid frame: line noise, a cut-off frame or a wrong baud rate."""
    return FrameResult(raw=raw, fault=ReadingFault.MALFORMED)


def sum8(data: bytes) -> int:
    """Low byte of the arithmetic sum: the checksum every supported thermometer module uses."""
    return sum(data) & 0xFF


def decode_command_triples(buf: bytes, prefix: int) -> tuple[list[int], bytes]:
    """Host commands (the CMD byte of each valid ``prefix CMD SUM`` triple) in ``buf``, and the
    tail that may begin one. A triple with a wrong SUM is skipped, as the modules do.

    The GY-MCU90614 (prefix A5) and LU90614 (prefix FA) take their commands this way; used by
    their simulators.
    """
    codes: list[int] = []
    pos = 0
    while True:
        start = buf.find(prefix, pos)
        if start < 0:
            return codes, b""
        if len(buf) - start < 3:
            return codes, buf[start:]
        code, check = buf[start + 1], buf[start + 2]
        if (prefix + code) & 0xFF == check:
            codes.append(code)
            pos = start + 3
        else:
            pos = start + 1


def header_prefix_at_end(buf: bytes, header: bytes) -> int:
    """Length of the longest proper prefix of ``header`` that ``buf`` ends with.

    Those bytes may be the start of a frame whose rest has not arrived yet, so they are kept.
    """
    for length in range(min(len(header) - 1, len(buf)), 0, -1):
        if buf.endswith(header[:length]):
            return length
    return 0


def decode_fixed_frames(
    buf: bytes,
    header: bytes,
    frame_length: int,
    parse: Callable[[bytes], FrameResult],
) -> tuple[list[FrameResult], bytes]:
    """Find fixed-length frames that start with ``header``; resynchronise on anything else.

    Bytes before a header are reported as one MALFORMED result. When another header starts
    inside a frame, the frame may have been cut off (the module reset mid-frame) and the header
    begins the real one: if the frame fails its checksum, or the inner frame is complete and
    passes its own (a one-byte sum lets 1 in 256 cut-offs pass by chance), the bytes up to the
    inner header are reported MALFORMED and decoding restarts there, so the good frame behind a
    partial one is neither lost nor misread. Returns the results and the tail that may still grow
    into a frame.
    """
    results: list[FrameResult] = []
    pos = 0
    while True:
        start = buf.find(header, pos)
        if start < 0:
            end = len(buf) - header_prefix_at_end(buf[pos:], header)
            if end > pos:
                results.append(malformed(buf[pos:end]))
            return results, buf[end:]
        if start > pos:
            results.append(malformed(buf[pos:start]))
        if len(buf) - start < frame_length:
            return results, buf[start:]
        result = parse(buf[start : start + frame_length])
        inner = _inner_header(buf, start, frame_length, header)
        if result.fault is ReadingFault.CHECKSUM and inner == _PARTIAL:
            # The buffer ends inside a possible header: wait for more bytes before deciding
            # between "bad checksum" and "cut off".
            return results, buf[start:]
        if (
            inner is not None
            and inner >= 0
            and (
                result.fault is ReadingFault.CHECKSUM
                or _complete_and_valid(buf, inner, frame_length, parse)
            )
        ):
            results.append(malformed(buf[start:inner]))
            pos = inner
            continue
        results.append(result)
        pos = start + frame_length


_PARTIAL = -1


def _inner_header(buf: bytes, start: int, frame_length: int, header: bytes) -> int | None:
    """Position of a complete header starting inside the frame at ``start``.

    None when there is none; _PARTIAL when the buffer ends in the middle of a possible header.
    """
    for candidate in range(start + 1, start + frame_length):
        window = buf[candidate : candidate + len(header)]
        if window == header:
            return candidate
        if len(window) < len(header) and header.startswith(window):
            return _PARTIAL
    return None


def _complete_and_valid(
    buf: bytes, start: int, frame_length: int, parse: Callable[[bytes], FrameResult]
) -> bool:
    return len(buf) - start >= frame_length and parse(buf[start : start + frame_length]).ok
