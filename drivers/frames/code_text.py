"""Code bytes → text: the unframed text a serial scanner sends, split into codes (terminators,
a length bound, idle gaps) and decoded; and the text a QR symbol declares (symbol_text).

Serial QR scanners send the decoded text followed by a tail (CR, LF or CRLF), or with no tail at
all (the GM65 factory default), in which case a pause on the line ends the code. Input longer than
``max_len`` is dropped up to its end and reported once, with its length, so a flood can never grow
a buffer or pass for a code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final


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
    """Decode a serial scanner's bytes with the first configured encoding that fits; never raises.

    A serial scanner transcodes what it read into its output encoding (UTF-8 where we configure
    it, GBK from the GM65 factory), so the line carries one of ``encodings``. Bytes that fit
    none come back with U+FFFD replacement characters, which no pass token contains, so the
    lane denies them as a bad encoding (each such code distinct, unlike an empty text).
    """
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", errors="replace")


# --- the text of a QR symbol, as the symbol declares it --------------------------------------

# ECI assignments (AIM ECI specification) that name a character set, as Python codecs.
# 20 is Shift JIS: cp932 is its superset (NEC and IBM extensions) and decodes no byte differently.
ECI_CODECS: Final[dict[int, str]] = {
    0: "cp437",
    1: "latin-1",
    2: "cp437",
    3: "latin-1",
    **{eci: f"iso8859_{eci - 2}" for eci in range(4, 14)},
    **{eci: f"iso8859_{eci - 2}" for eci in range(15, 19)},
    20: "cp932",
    21: "cp1250",
    22: "cp1251",
    23: "cp1252",
    24: "cp1256",
    25: "utf-16-be",
    26: "utf-8",
    27: "ascii",
    28: "big5",
    29: "gb18030",
    30: "euc_kr",
    31: "gbk",
    32: "gb18030",
    33: "utf-16-le",
    34: "utf-32-be",
    35: "utf-32-le",
    170: "ascii",
}
DEFAULT_ECI: Final = 3  # ISO/IEC 18004:2006 and :2015: byte mode without ECI is ISO-8859-1
# What text read without a declaration must not hold: controls (but tab, CR, LF and the GS1
# separator), private-use characters (where Shift JIS puts stray bytes), half-width katakana.
_NOT_UNDECLARED_TEXT: Final = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1c\x1e\x1f\x7f-\x9f\ue000-\uf8ff\uff61-\uff9f]"
)


def symbol_text(transmitted: bytes) -> str | None:
    """The text of a QR symbol from its transmitted data, or None when it is not text.

    ``transmitted`` is what ISO/IEC 18004 section 6.4.2 calls the transmitted data: the
    symbology identifier "]Qm", then the data; a modifier m of 2, 4 or 6 says the ECI protocol
    is in use, and each "\\nnnnnn" in the data switches the character set ("\\\\" is one
    backslash). The rule, so that a code is never read as a text it does not hold:

    - With ECI: every part is decoded strictly in the character set its ECI names (before the
      first ECI, the default, ISO-8859-1). An unknown ECI, binary data (ECI 899) or a byte that
      is invalid in the declared set makes the symbol unreadable.
    - Without ECI the standard's default depends on its edition (ISO-8859-1 since 2006, JIS8 /
      Shift JIS in 2000, and Kanji mode is always Shift JIS), and many encoders write UTF-8
      without saying so. So the bytes are text if they are ASCII (the same in all of these,
      and every Kakou pass), or strict UTF-8, or strict Shift JIS made of full-width characters
      only (Japanese text; GBK or Latin-1 bytes seen through Shift JIS turn into half-width
      katakana), or ISO-8859-1 without control characters that is not also GBK text (a Chinese
      encoder's GBK bytes are valid Latin-1 too, so such bytes cannot be told apart).
      Anything else is unreadable: never re-guessed into some other character set.
    """
    if len(transmitted) < 3 or transmitted[:2] != b"]Q" or transmitted[2:3] not in b"0123456":
        return None
    data = transmitted[3:]
    if transmitted[2:3] not in b"246":
        return _undeclared_text(data)
    parts = _eci_parts(data)
    if parts is None:
        return None
    texts = []
    for eci, part in parts:
        codec = ECI_CODECS.get(eci)
        if codec is None:
            return None
        try:
            texts.append(part.decode(codec))
        except UnicodeDecodeError:
            return None
    return "".join(texts)


def _eci_parts(data: bytes) -> list[tuple[int, bytes]] | None:
    """Split ECI-protocol data into (ECI, bytes) parts; None when an escape is malformed."""
    parts: list[tuple[int, bytes]] = []
    eci, part, pos = DEFAULT_ECI, bytearray(), 0
    while pos < len(data):
        byte = data[pos]
        if byte != 0x5C:  # backslash
            part.append(byte)
            pos += 1
        elif data[pos + 1 : pos + 2] == b"\\":
            part.append(byte)
            pos += 2
        else:
            designator = data[pos + 1 : pos + 7]
            if len(designator) != 6 or not designator.isdigit():
                return None
            parts.append((eci, bytes(part)))
            eci, part, pos = int(designator), bytearray(), pos + 7
    parts.append((eci, bytes(part)))
    return [(eci, part) for eci, part in parts if part]


def _undeclared_text(data: bytes) -> str | None:
    if data.isascii():
        return data.decode("ascii")
    for codec in ("utf-8", "cp932"):
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        if codec == "utf-8" or not _NOT_UNDECLARED_TEXT.search(text):
            return text
    text = data.decode("latin-1")
    if _NOT_UNDECLARED_TEXT.search(text) or _decodes(data, "gbk"):
        return None
    return text


def _decodes(data: bytes, codec: str) -> bool:
    try:
        data.decode(codec)
    except UnicodeDecodeError:
        return False
    return True
