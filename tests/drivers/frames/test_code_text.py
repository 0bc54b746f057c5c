"""drivers.frames.code_text: terminators, the length bound, idle flushes, text decoding."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from drivers.frames.code_text import CodeChunk, decode_text, flush_idle, split_codes


def test_cr_lf_and_crlf_each_end_one_code() -> None:
    split = split_codes(b"A\rB\nC\r\nD")
    assert split.codes == [CodeChunk(b"A", 1), CodeChunk(b"B", 1), CodeChunk(b"C", 1)]
    assert split.rest == b"D"
    assert split.dropping == 0


def test_a_single_terminator_can_be_chosen() -> None:
    assert split_codes(b"A\nB\r", terminators=b"\r").codes == [CodeChunk(b"A\nB", 3)]


def test_over_long_code_is_dropped_and_reported_once_with_its_length() -> None:
    first = split_codes(b"x" * 10, max_len=4)
    assert (first.codes, first.rest, first.dropping) == ([], b"", 10)
    second = split_codes(b"y" * 5 + b"\rOK\r", max_len=4, dropping=first.dropping)
    assert second.codes == [CodeChunk(b"", 15, truncated=True), CodeChunk(b"OK", 2)]
    assert (second.rest, second.dropping) == (b"", 0)


def test_code_of_exactly_max_len_passes() -> None:
    assert split_codes(b"abcd\r", max_len=4).codes == [CodeChunk(b"abcd", 4)]
    assert split_codes(b"abcde\r", max_len=4).codes == [CodeChunk(b"", 5, truncated=True)]


def test_idle_flush() -> None:
    assert flush_idle(b"CODE", 0) == [CodeChunk(b"CODE", 4)]
    assert flush_idle(b"", 0) == []
    assert flush_idle(b"", 3000) == [CodeChunk(b"", 3000, truncated=True)]


def test_decode_text_prefers_utf8_then_gbk_then_replaces() -> None:
    assert decode_text("通行证".encode()) == "通行证"
    assert decode_text("通行证".encode("gbk")) == "通行证"
    assert decode_text(b"\xff\xfe\xfd") == "\ufffd\ufffd\ufffd"


@given(st.binary(max_size=300), st.integers(min_value=1, max_value=64), st.integers(0, 100))
def test_split_never_raises_and_respects_the_bound(buf: bytes, max_len: int, dropping: int) -> None:
    split = split_codes(buf, max_len=max_len, dropping=dropping)
    assert len(split.rest) <= max_len
    assert all(len(c.data) <= max_len for c in split.codes)
    assert all(b"\r" not in c.data and b"\n" not in c.data for c in split.codes)
    assert (split.rest == b"") or split.dropping == 0


@given(st.binary(max_size=300), st.lists(st.integers(min_value=1, max_value=40), max_size=20))
def test_chunking_does_not_change_the_codes(buf: bytes, sizes: list[int]) -> None:
    whole = split_codes(buf, max_len=16)
    codes: list[CodeChunk] = []
    rest, dropping, pos = b"", 0, 0
    for size in [*sizes, len(buf)]:
        split = split_codes(rest + buf[pos : pos + size], max_len=16, dropping=dropping)
        codes += split.codes
        rest, dropping, pos = split.rest, split.dropping, pos + size
    assert codes == whole.codes
    assert (rest, dropping) == (whole.rest, whole.dropping)


@given(st.binary(max_size=200))
def test_decode_text_never_raises(data: bytes) -> None:
    assert isinstance(decode_text(data), str)
