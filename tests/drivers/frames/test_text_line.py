"""drivers.frames.text_line: configured line patterns, bounds, and fuzzing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.base import ReadingFault
from drivers.frames.text_line import MAX_LINE_BYTES, TextLineCodec

PATTERN = r"^T=(?P<value>-?\d+(?:\.\d+)?) A=(?P<ambient>-?\d+(?:\.\d+)?)$"
TEMPLATE = "T={value:.2f} A={ambient:.2f}"


@pytest.fixture
def codec() -> TextLineCodec:
    return TextLineCodec.from_pattern(PATTERN)


def test_a_pattern_needs_a_value_group() -> None:
    with pytest.raises(ValueError, match="named group 'value'"):
        TextLineCodec.from_pattern(r"T=(\d+)")


def test_lines_with_value_and_ambient(codec: TextLineCodec) -> None:
    results, rest = codec.decode(b"T=36.52 A=21.10\r\nT=-3.00 A=-5.5\nT=37")
    assert [(r.value_c, r.ambient_c) for r in results] == [(36.52, 21.1), (-3.0, -5.5)]
    assert results[0].raw == b"T=36.52 A=21.10"
    assert rest == b"T=37"


def test_value_only_pattern() -> None:
    results, _ = TextLineCodec.from_pattern(r"(?P<value>\d+\.\d)C").decode(b"Temp 36.5C\r")
    assert [(r.value_c, r.ambient_c) for r in results] == [(36.5, None)]


def test_unmatched_and_glued_lines_are_malformed(codec: TextLineCodec) -> None:
    results, _ = codec.decode(b"hello\r\nT=36.5 T=36.50 A=20.00\r\n")
    assert [r.fault for r in results] == [ReadingFault.MALFORMED, ReadingFault.MALFORMED]


def test_an_endless_line_is_bounded(codec: TextLineCodec) -> None:
    results, rest = codec.decode(b"9" * (MAX_LINE_BYTES + 1))
    assert [r.fault for r in results] == [ReadingFault.MALFORMED]
    assert rest == b""


@given(st.binary(max_size=400))
def test_decode_never_raises_and_bounds_the_tail(buf: bytes) -> None:
    codec = TextLineCodec.from_pattern(PATTERN)
    _, rest = codec.decode(buf)
    assert len(rest) <= MAX_LINE_BYTES


@given(st.integers(-9999, 9999), st.integers(-9999, 9999))
def test_round_trip(value_h: int, ambient_h: int) -> None:
    codec = TextLineCodec.from_pattern(PATTERN)
    line = codec.encode(TEMPLATE, value_h / 100, ambient_h / 100)
    results, rest = codec.decode(line)
    assert [(r.value_c, r.ambient_c) for r in results] == [(value_h / 100, ambient_h / 100)]
    assert rest == b""
