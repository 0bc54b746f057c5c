"""Base45 (RFC 9285): the published examples, a round trip, and strict rejection."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge.base45 import ALPHABET, b45decode, b45encode

RFC_9285_EXAMPLES = [  # section 4.3 and 4.4
    (b"AB", "BB8"),
    (b"Hello!!", "%69 VD92EX0"),
    (b"base-45", "UJCLQE7W581"),
    (b"ietf!", "QED8WEX0"),
    (b"", ""),
]


@pytest.mark.parametrize(("data", "text"), RFC_9285_EXAMPLES)
def test_rfc_examples_encode_and_decode(data: bytes, text: str) -> None:
    assert b45encode(data) == text
    assert b45decode(text) == data


def test_alphabet_is_the_qr_alphanumeric_set() -> None:
    assert len(ALPHABET) == 45
    assert set(ALPHABET) == set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")


@given(st.binary(max_size=600))
def test_round_trip(data: bytes) -> None:
    text = b45encode(data)
    assert set(text) <= set(ALPHABET)
    assert len(text) == len(data) // 2 * 3 + len(data) % 2 * 2
    assert b45decode(text) == data


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("bb8", "lowercase is not in the alphabet"),
        ("BB#", "'#' is not in the alphabet"),
        ("BB8\n", "no whitespace other than space"),
        ("ÀB8", "non-ASCII"),
        ("\ud800B8", "a lone surrogate"),
        ("B", "a lone trailing character"),
        ("BB8B", "length 1 mod 3"),
        ("GGW", "65536: one more than two bytes hold (RFC 9285 section 6)"),
        (":::", "91124: far over 65535"),
        ("BB8::", "a final pair worth 2024 > 255"),
        ("BB87", "length 1 mod 3 after a full group"),
    ],
)
def test_strict_rejects(text: str, why: str) -> None:
    with pytest.raises(ValueError, match="base45"):
        b45decode(text)


def test_largest_values_still_decode() -> None:
    assert b45decode("FGW") == b"\xff\xff"  # 15 + 16*45 + 32*2025 = 65535
    assert b45decode("U5") == b"\xff"  # 30 + 5*45 = 255


def decodes_uniquely_or_raises_value_error(text: str) -> None:
    """No exception but ValueError; and whatever decodes has exactly one spelling."""
    try:
        data = b45decode(text)
    except ValueError:
        return
    assert b45encode(data) == text


@given(st.text(alphabet=st.characters(exclude_categories=()), max_size=60))
def test_any_text_decodes_uniquely_or_raises_value_error(text: str) -> None:
    decodes_uniquely_or_raises_value_error(text)


@given(st.text(alphabet=ALPHABET, max_size=60))
def test_alphabet_text_decodes_uniquely_or_raises_value_error(text: str) -> None:
    decodes_uniquely_or_raises_value_error(text)
