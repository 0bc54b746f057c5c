"""Split the unframed text a scanner sends into codes: terminators, a length bound, idle gaps.

Serial QR scanners send the decoded text followed by a tail (CR, LF or CRLF), or with no tail at
all (the GM65 factory default), in which case a pause on the line ends the code. Input longer than
``max_len`` is dropped up to its end and reported once, with its length, so a flood can never grow
a buffer or pass for a code.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class CodeChunk:
    """One code as bytes (empty when truncated) and the number of bytes the device sent."""

    data: bytes
    raw_length: int
    truncated: bool = False


@dataclass(frozen=True, slots=True)
class CodeSplit:
    """The outcome of one split: completed codes in order, and the state to pass to the next call.

    ``rest`` holds an unterminated code of at most ``max_len`` bytes; ``dropping`` counts the bytes
    of an over-long code discarded so far (0 when not inside one).
    """

    codes: list[CodeChunk] = field(default_factory=list)
    rest: bytes = b""
    dropping: int = 0


def split_codes(
    buf: bytes,
    terminators: bytes = b"\r\n",
    max_len: int = 2048,
    *,
    dropping: int = 0,
) -> CodeSplit:
    """Split ``buf`` (the previous ``rest`` plus new bytes) at any byte in ``terminators``.

    Empty segments are skipped, so CRLF ends one code, not two. Never raises.
    """
    codes: list[CodeChunk] = []
    pos = 0
    while True:
        end = _next_terminator(buf, pos, terminators)
        if end < 0:
            break
        segment_length = end - pos
        if dropping:
            codes.append(CodeChunk(b"", dropping + segment_length, truncated=True))
            dropping = 0
        elif segment_length > max_len:
            codes.append(CodeChunk(b"", segment_length, truncated=True))
        elif segment_length:
            codes.append(CodeChunk(buf[pos:end], segment_length))
        pos = end + 1
    tail = buf[pos:]
    if dropping:
        return CodeSplit(codes, b"", dropping + len(tail))
    if len(tail) > max_len:
        return CodeSplit(codes, b"", len(tail))
    return CodeSplit(codes, tail, 0)


def flush_idle(rest: bytes, dropping: int) -> list[CodeChunk]:
    """End the pending code because the line went quiet (no tail configured)."""
    if dropping:
        return [CodeChunk(b"", dropping + len(rest), truncated=True)]
    if rest:
        return [CodeChunk(rest, len(rest))]
    return []


def _next_terminator(buf: bytes, start: int, terminators: bytes) -> int:
    found = [i for i in (buf.find(t, start) for t in terminators) if i >= 0]
    return min(found) if found else -1


def decode_text(data: bytes, encodings: tuple[str, ...] = ("utf-8", "gbk")) -> str:
    """Decode a code's bytes with the first encoding that fits; never raises.

    UTF-8 first (what we configure), then GBK (the GM65 factory encoding); bytes that fit neither
    come back with U+FFFD replacement characters, which no pass token contains.
    """
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", errors="replace")
