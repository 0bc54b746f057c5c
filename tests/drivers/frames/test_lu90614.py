"""drivers.frames.lu90614: vendor vectors, modes, resynchronisation, fuzzing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.base import ReadingFault
from drivers.frames import lu90614 as lu
from drivers.frames.common import FrameResult

H = bytes.fromhex
MATERIAL_4030 = H("FE AA 28 1E 00 00 00 00 EE")  # 40.30 °C material (vendor example)
BODY_4030 = H("FE AC 28 1E 00 00 00 00 F0")  # 40.30 °C body (vendor example)

hundredths = st.integers(min_value=0, max_value=25599)
modes = st.sampled_from(list(lu.LuMode))


def values(results: list[FrameResult]) -> list[float | None]:
    return [r.value_c for r in results if r.ok]


def test_host_commands_match_the_manual() -> None:
    assert H("FA C5 BF") == lu.BODY_MODE
    assert H("FA C6 C0") == lu.MATERIAL_MODE
    assert H("FA CA C4") == lu.MEASURE


def test_encode_reproduces_the_vendor_examples() -> None:
    assert lu.encode_reading(40.3, lu.LuMode.MATERIAL) == MATERIAL_4030
    assert lu.encode_reading(40.3, lu.LuMode.BODY) == BODY_4030


@pytest.mark.parametrize(
    ("frame", "mode"), [(MATERIAL_4030, lu.LuMode.MATERIAL), (BODY_4030, lu.LuMode.BODY)]
)
def test_decode_in_the_expected_mode(frame: bytes, mode: lu.LuMode) -> None:
    results, rest = lu.decode(frame, mode=mode)
    assert values(results) == [40.3]
    assert results[0].object_c == 40.3
    assert rest == b""


def test_a_reply_in_the_other_mode_is_a_fault_not_a_reading() -> None:
    results, _ = lu.decode(MATERIAL_4030, mode=lu.LuMode.BODY)
    assert [r.fault for r in results] == [ReadingFault.WRONG_MODE]
    assert results[0].value_c is None
    assert results[0].raw == MATERIAL_4030


def test_unknown_mode_byte_or_hundredths_over_99_are_malformed() -> None:
    for body in (H("FE AB 28 1E 00 00 00 00"), H("FE AC 28 64 00 00 00 00")):
        frame = body + bytes((sum(body) & 0xFF,))
        results, _ = lu.decode(frame, mode=lu.LuMode.BODY)
        assert [r.fault for r in results] == [ReadingFault.MALFORMED]


def test_bad_checksum_then_a_good_frame() -> None:
    results, rest = lu.decode(BODY_4030[:-1] + b"\x00" + BODY_4030, mode=lu.LuMode.BODY)
    assert [r.fault for r in results] == [ReadingFault.CHECKSUM, None]
    assert rest == b""


@pytest.mark.parametrize("cut", range(1, 9))
def test_a_cut_off_reply_does_not_hide_the_next(cut: int) -> None:
    results, rest = lu.decode(BODY_4030[:cut] + BODY_4030, mode=lu.LuMode.BODY)
    assert values(results) == [40.3]
    assert rest == b""


def test_the_encoder_refuses_what_the_format_cannot_hold() -> None:
    with pytest.raises(ValueError, match="INT/DEC"):
        lu.encode_reading(-1.0, lu.LuMode.BODY)


def test_decode_commands() -> None:
    codes, rest = lu.decode_commands(
        b"\x00" + lu.BODY_MODE + b"\xfa\xca\x00" + lu.MEASURE + b"\xfa"
    )
    assert codes == [0xC5, 0xCA]
    assert rest == b"\xfa"


@given(st.binary(max_size=200), modes)
def test_decode_never_raises_and_accounts_for_every_byte(buf: bytes, mode: lu.LuMode) -> None:
    results, rest = lu.decode(buf, mode=mode)
    assert b"".join(r.raw for r in results) + rest == buf


@given(hundredths, modes)
def test_round_trip(value_h: int, mode: lu.LuMode) -> None:
    results, rest = lu.decode(lu.encode_reading(value_h / 100, mode), mode=mode)
    assert values(results) == [value_h / 100]
    assert rest == b""


@given(
    st.lists(
        st.tuples(
            st.binary(max_size=12).map(lambda b: b.replace(b"\xfe", b"")),
            st.integers(min_value=0, max_value=9999),  # 0 to 99.99 °C
        ),
        max_size=8,
    ),
    st.lists(st.integers(min_value=1, max_value=12), max_size=30),
)
def test_chunked_stream_with_noise_yields_every_reading(
    items: list[tuple[bytes, int]], chunk_sizes: list[int]
) -> None:
    stream = b"".join(junk + lu.encode_reading(h / 100, lu.LuMode.BODY) for junk, h in items)
    found: list[float | None] = []
    rest, pos = b"", 0
    for size in [*chunk_sizes, len(stream)]:
        results, rest = lu.decode(rest + stream[pos : pos + size], mode=lu.LuMode.BODY)
        found += values(results)
        pos += size
    assert found == [h / 100 for _, h in items]
