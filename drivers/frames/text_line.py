"""Plain-text thermometer modules: one line per measurement, parsed with a configured regex.

Covers most modules not handled by a binary codec, e.g. ``T=36.52 A=21.10`` or ``36.5C``. The
pattern needs a named group ``value`` (°C); an optional ``ambient`` group fills ambient_c. Lines
end at CR or LF; a line the pattern does not match is MALFORMED, never an exception.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from drivers.frames.common import FrameResult, malformed

MAX_LINE_BYTES = 256


@dataclass(frozen=True, slots=True)
class TextLineCodec:
    """A compiled line format: ``TextLineCodec(r"T=(?P<value>-?\\d+(?:\\.\\d+)?)")``."""

    pattern: re.Pattern[str]

    @classmethod
    def from_pattern(cls, pattern: str) -> TextLineCodec:
        compiled = re.compile(pattern)
        if "value" not in compiled.groupindex:
            raise ValueError("the line pattern needs a named group 'value'")
        return cls(compiled)

    def encode(self, template: str, value_c: float, ambient_c: float | None = None) -> bytes:
        """Format a line for a simulator, e.g. template ``"T={value:.2f} A={ambient:.2f}"``."""
        return (template.format(value=value_c, ambient=ambient_c) + "\r\n").encode("ascii")

    def decode(self, buf: bytes) -> tuple[list[FrameResult], bytes]:
        """Parse complete lines in ``buf``; return results and the unterminated tail."""
        results: list[FrameResult] = []
        lines = re.split(rb"[\r\n]", buf)
        rest = lines.pop()
        for line in lines:
            if line:
                results.append(self._parse(line))
        if len(rest) > MAX_LINE_BYTES:
            results.append(malformed(rest))
            rest = b""
        return results, rest

    def _parse(self, line: bytes) -> FrameResult:
        if len(line) > MAX_LINE_BYTES:
            return malformed(line)
        match = self.pattern.search(line.decode("ascii", errors="replace"))
        if match is None:
            return malformed(line)
        try:
            value_c = float(match.group("value"))
            ambient = match.groupdict().get("ambient")
            ambient_c = float(ambient) if ambient is not None else None
        except ValueError:
            return malformed(line)
        return FrameResult(raw=line, value_c=value_c, object_c=value_c, ambient_c=ambient_c)
