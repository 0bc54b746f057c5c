"""drivers.frames.htpa: the binary and ASCII frames of HTPA32x32 boards, and fuzzing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.base import ReadingFault
from drivers.frames import htpa
from drivers.frames.common import FrameResult

EXAMPLE = bytes.fromhex("AA 55 06 24 07 30")  # 36.7 °C (vendor example)
tenths = st.integers(min_value=0, max_value=2559)


def values(results: list[FrameResult]) -> list[float | None]:
    return [r.value_c for r in results if r.ok]


def test_binary_vendor_example() -> None:
    assert htpa.encode_binary(36.7) == EXAMPLE
    results, rest = htpa.decode_binary(EXAMPLE)
    assert values(results) == [36.7]
    assert rest == b""


def test_binary_bad_checksum_and_tenths_over_9() -> None:
    results, _ = htpa.decode_binary(EXAMPLE[:-1] + b"\x00")
    assert [r.fault for r in results] == [ReadingFault.CHECKSUM]
    body = bytes.fromhex("AA 55 06 24 0A")
    results, _ = htpa.decode_binary(body + bytes((sum(body) & 0xFF,)))
    assert [r.fault for r in results] == [ReadingFault.MALFORMED]


@pytest.mark.parametrize("cut", range(1, 6))
def test_binary_cut_off_frame_does_not_hide_the_next(cut: int) -> None:
    results, rest = htpa.decode_binary(EXAMPLE[:cut] + EXAMPLE)
    assert values(results) == [36.7]
    assert rest == b""


def test_binary_encoder_refuses_negative_values() -> None:
    with pytest.raises(ValueError, match="HTPA"):
        htpa.encode_binary(-0.5)


def test_ascii_frames() -> None:
    assert htpa.encode_ascii(36.7) == b"{36.7}"
    results, rest = htpa.decode_ascii(b"{36.7}{-1.5}{37}")
    assert values(results) == [36.7, -1.5, 37.0]
    assert rest == b""


def test_ascii_noise_broken_and_cut_off_frames() -> None:
    results, rest = htpa.decode_ascii(b"zz{3x.7}{36{36.8}{12")
    assert [(r.raw, r.fault) for r in results] == [
        (b"zz", ReadingFault.MALFORMED),
        (b"{3x.7}", ReadingFault.MALFORMED),
        (b"{36", ReadingFault.MALFORMED),
        (b"{36.8}", None),
    ]
    assert rest == b"{12"  # may still become a frame


def test_ascii_unclosed_brace_is_dropped_once_too_long() -> None:
    results, rest = htpa.decode_ascii(b"{" + b"9" * 20)
    assert [r.fault for r in results] == [ReadingFault.MALFORMED]
    assert rest == b""


@given(st.binary(max_size=200))
def test_decoders_never_raise_and_account_for_every_byte(buf: bytes) -> None:
    for decode in (htpa.decode_binary, htpa.decode_ascii):
        results, rest = decode(buf)
        assert b"".join(r.raw for r in results) + rest == buf


@given(tenths)
def test_binary_round_trip(value_t: int) -> None:
    results, _ = htpa.decode_binary(htpa.encode_binary(value_t / 10))
    assert values(results) == [value_t / 10]


@given(st.integers(min_value=-999, max_value=9999))
def test_ascii_round_trip(value_t: int) -> None:
    results, _ = htpa.decode_ascii(htpa.encode_ascii(value_t / 10))
    assert values(results) == [value_t / 10]


@given(
    st.lists(st.tuples(st.text("xyz 0123.", max_size=6), tenths), max_size=8),
    st.lists(st.integers(min_value=1, max_value=7), max_size=30),
)
def test_ascii_chunked_stream_yields_every_reading(
    items: list[tuple[str, int]], chunk_sizes: list[int]
) -> None:
    stream = b"".join(junk.encode() + htpa.encode_ascii(t / 10) for junk, t in items)
    found: list[float | None] = []
    rest, pos = b"", 0
    for size in [*chunk_sizes, len(stream)]:
        results, rest = htpa.decode_ascii(rest + stream[pos : pos + size])
        found += values(results)
        pos += size
    assert found == [t / 10 for _, t in items]
