"""drivers.frames.code_text: terminators, the length bound, idle flushes, text decoding."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.frames.code_text import (
    ECI_CODECS,
    CodeChunk,
    decode_text,
    flush_idle,
    split_codes,
    symbol_text,
)


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
    assert decode_text("通行证".encode("gbk")) == "通行证"  # the GM65 factory output encoding
    assert decode_text(b"\xff\xfe\xfd") == "\ufffd\ufffd\ufffd"


ECI_UTF8 = b"\\000026"


@pytest.mark.parametrize(
    ("transmitted", "text"),
    [
        # ASCII, with or without ECI: every pass token.
        (b"]Q1KK1:ABC", "KK1:ABC"),
        (b"]Q2" + ECI_UTF8 + b"KK1:ABC", "KK1:ABC"),
        # UTF-8 with and without ECI.
        (b"]Q1" + "通行证 é".encode(), "通行证 é"),
        (b"]Q2" + ECI_UTF8 + "通行证 é".encode(), "通行证 é"),
        (b"]Q2" + ECI_UTF8 + b"ab\xff", None),  # declared UTF-8, is not: unreadable
        # Shift JIS: declared (ECI 20), in Kanji mode or without ECI (full-width text).
        (b"]Q2\\000020" + "こんにちは世界".encode("shift_jis"), "こんにちは世界"),
        (b"]Q1" + "こんにちは世界".encode("shift_jis"), "こんにちは世界"),
        (b"]Q1" + "ｶﾀｶﾅ".encode("shift_jis"), None),  # half-width: GBK and Latin-1 look so
        # GBK: text only where an ECI declares it; without, never another text.
        (b"]Q2\\000029" + "通行证 B-0042".encode("gbk"), "通行证 B-0042"),
        (b"]Q2\\000031" + "王*华".encode("gbk"), "王*华"),
        (b"]Q1" + "通行证 B-0042".encode("gbk"), None),
        (b"]Q1" + "王*华".encode("gbk"), None),
        # ISO-8859-1: the default of the 2006 and 2015 editions, declared or not.
        (b"]Q1caf\xe9 au lait", "café au lait"),
        (b"]Q2\\000003caf\xe9", "café"),
        (b"]Q1M\xfcller", None),  # also valid GBK: cannot be told apart
        # Binary: never text.
        (b"]Q1\x00\x81\x9f\xff", None),
        (b"]Q2\\000899\x00\x01", None),
        (b"]Q2\\000127abc", None),  # an ECI with no character set
        # ECI protocol details: a doubled backslash is one; parts switch character sets.
        (b"]Q2" + ECI_UTF8 + b"a\\\\b", "a\\b"),
        (b"]Q2" + ECI_UTF8 + "é".encode() + b"\\000020" + "世".encode("shift_jis"), "é世"),
        (b"]Q2" + ECI_UTF8 + b"a\\12", None),  # a malformed escape
        (b"QR data", None),  # no symbology identifier
    ],
)
def test_symbol_text_is_what_the_symbol_declares_or_unreadable(
    transmitted: bytes, text: str | None
) -> None:
    assert symbol_text(transmitted) == text


@given(
    st.text(max_size=40),
    st.sampled_from(sorted(set(ECI_CODECS.items()), key=lambda item: item[0])),
)
def test_declared_text_always_comes_back_exactly(text: str, eci_codec: tuple[int, str]) -> None:
    eci, codec = eci_codec
    try:
        data = text.encode(codec)
    except UnicodeEncodeError:
        return
    escaped = data.replace(b"\\", b"\\\\")
    assert symbol_text(b"]Q2\\%06d" % eci + escaped) == text


@given(st.binary(max_size=200))
def test_symbol_text_never_raises_and_ascii_is_always_text(data: bytes) -> None:
    text = symbol_text(b"]Q1" + data)
    assert text is None or isinstance(text, str)
    if data.isascii():
        assert text == data.decode("ascii")


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
