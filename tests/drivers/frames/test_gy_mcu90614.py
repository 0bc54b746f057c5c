"""drivers.frames.gy_mcu90614: vendor vectors, resynchronisation, and fuzzing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.base import ReadingFault
from drivers.frames import gy_mcu90614 as gy

EXAMPLE = bytes.fromhex("5A5A45040E4209C41A")  # object 36.50 °C, ambient 25.00 °C (vendor example)

hundredths = st.integers(min_value=-32768, max_value=32767)
# -40 °C to 100 °C: no frame in this range can hold a header in its data bytes (that needs a
# 0x5A high byte, above 230 °C), so the stream is unambiguous and every reading must come back.
plausible_hundredths = st.integers(min_value=-4000, max_value=10000)
noise = st.binary(max_size=20).map(lambda b: bytes(x for x in b if x != 0x5A))


def readings(results: list[gy.FrameResult]) -> list[tuple[float | None, float | None]]:
    return [(r.object_c, r.ambient_c) for r in results if r.ok]


def test_host_commands_match_the_manual() -> None:
    assert bytes.fromhex("A515BA") == gy.QUERY
    assert bytes.fromhex("A545EA") == gy.CONTINUOUS
    assert bytes.fromhex("A5AE53") == gy.BAUD_9600
    assert bytes.fromhex("A5AF54") == gy.BAUD_115200
    assert bytes.fromhex("A551F6") == gy.AUTOSTART_ON
    assert bytes.fromhex("A552F7") == gy.AUTOSTART_OFF


def test_encode_reproduces_the_vendor_example() -> None:
    assert gy.encode_reading(36.5, 25.0) == EXAMPLE


def test_decode_the_vendor_example() -> None:
    results, rest = gy.decode(EXAMPLE)
    assert rest == b""
    assert len(results) == 1
    assert results[0].ok
    assert (results[0].value_c, results[0].object_c, results[0].ambient_c) == (36.5, 36.5, 25.0)
    assert results[0].raw == EXAMPLE


def test_ambient_first_byte_order_swaps_the_pairs() -> None:
    frame = gy.encode_reading(36.5, 25.0, object_first=False)
    assert frame[4:6] == (2500).to_bytes(2, "big")
    results, _ = gy.decode(frame, object_first=False)
    assert readings(results) == [(36.5, 25.0)]
    swapped, _ = gy.decode(frame)  # read with the wrong order: the values trade places
    assert readings(swapped) == [(25.0, 36.5)]


def test_negative_temperatures_are_signed() -> None:
    results, _ = gy.decode(gy.encode_reading(-12.34, -20.0))
    assert readings(results) == [(-12.34, -20.0)]


def test_encode_rejects_values_outside_the_field() -> None:
    with pytest.raises(ValueError, match="16-bit"):
        gy.encode_reading(400.0, 20.0)


def test_garbage_before_a_frame_is_reported_once_then_the_frame_decodes() -> None:
    results, rest = gy.decode(b"\x01\x02\x03" + EXAMPLE)
    assert [r.fault for r in results] == [ReadingFault.MALFORMED, None]
    assert results[0].raw == b"\x01\x02\x03"
    assert readings(results) == [(36.5, 25.0)]
    assert rest == b""


@pytest.mark.parametrize("cut", [1, 2, 3, 4, 5, 6, 7, 8])
def test_a_cut_off_frame_before_a_frame_does_not_hide_it(cut: int) -> None:
    results, rest = gy.decode(EXAMPLE[:cut] + EXAMPLE)
    assert readings(results) == [(36.5, 25.0)]
    assert rest == b""
    assert all(r.fault is ReadingFault.MALFORMED for r in results if not r.ok)


def test_bad_checksum_is_a_fault_and_the_next_frame_still_decodes() -> None:
    bad = EXAMPLE[:-1] + b"\x00"
    results, rest = gy.decode(bad + EXAMPLE)
    assert [r.fault for r in results] == [ReadingFault.CHECKSUM, None]
    assert results[0].raw == bad
    assert rest == b""


def test_incomplete_frame_is_returned_as_the_tail() -> None:
    results, rest = gy.decode(EXAMPLE[:5])
    assert (results, rest) == ([], EXAMPLE[:5])
    results, rest = gy.decode(rest + EXAMPLE[5:])
    assert readings(results) == [(36.5, 25.0)]
    assert rest == b""


def test_a_possible_header_start_at_the_end_is_kept() -> None:
    results, rest = gy.decode(b"\x10\x11\x5a")
    assert [r.raw for r in results] == [b"\x10\x11"]
    assert rest == b"\x5a"


def test_decode_commands_finds_valid_commands_among_noise() -> None:
    codes, rest = gy.decode_commands(b"\x00" + gy.QUERY + b"\xa5\x15\x00" + gy.CONTINUOUS + b"\xa5")
    assert codes == [0x15, 0x45]
    assert rest == b"\xa5"


@given(st.binary(max_size=200))
def test_decode_never_raises_and_accounts_for_every_byte(buf: bytes) -> None:
    results, rest = gy.decode(buf)
    assert b"".join(r.raw for r in results) + rest == buf
    assert len(rest) < gy.FRAME_LENGTH + len(gy.HEADER)


@given(hundredths, hundredths, st.booleans())
def test_round_trip(object_h: int, ambient_h: int, object_first: bool) -> None:
    frame = gy.encode_reading(object_h / 100, ambient_h / 100, object_first=object_first)
    results, rest = gy.decode(frame, object_first=object_first)
    assert rest == b""
    assert readings(results) == [(object_h / 100, ambient_h / 100)]


@given(
    st.lists(st.tuples(noise, plausible_hundredths, plausible_hundredths), max_size=8),
    st.lists(st.integers(min_value=1, max_value=12), max_size=30),
)
def test_chunked_stream_with_noise_yields_every_reading(
    items: list[tuple[bytes, int, int]], chunk_sizes: list[int]
) -> None:
    stream = b"".join(junk + gy.encode_reading(o / 100, a / 100) for junk, o, a in items)
    found: list[tuple[float | None, float | None]] = []
    rest = b""
    pos = 0
    for size in [*chunk_sizes, len(stream)]:
        results, rest = gy.decode(rest + stream[pos : pos + size])
        found += readings(results)
        pos += size
    assert found == [(o / 100, a / 100) for _, o, a in items]
    assert rest == b""


@given(st.binary(max_size=60))
def test_decode_commands_never_raises(buf: bytes) -> None:
    codes, rest = gy.decode_commands(buf)
    assert all(0 <= code <= 255 for code in codes)
    assert len(rest) < 3
