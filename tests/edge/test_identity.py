"""ID card, phone and plate checks, and the masks lists and the database keep."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge.identity import (
    check_id_number,
    check_phone,
    check_plate,
    id_check_char,
    mask_id_number,
    mask_phone,
)

GOOD_ID = "11010519491231002X"  # the standard's own example


def test_a_valid_id_number_is_returned_canonical() -> None:
    assert check_id_number(" 11010519491231002x ") == GOOD_ID
    assert check_id_number("440524198001010013") == "440524198001010013"


@pytest.mark.parametrize(
    ("number", "says"),
    [
        ("11010519491231002", "18 characters"),
        ("1101051949123100XX", "18 characters"),
        ("11010519491231002Y", "18 characters"),
        ("110105194912310021", "check digit"),
        ("990105194912310028", "province"),
        ("110105194913310023", "birth date"),
        ("110105180001010013", "impossible birth date"),
    ],
)
def test_a_bad_id_number_says_what_is_wrong(number: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        check_id_number(number)


def test_a_birth_date_after_today_is_refused() -> None:
    first17 = "11010520300101001"
    number = first17 + id_check_char(first17)
    assert check_id_number(number) == number
    with pytest.raises(ValueError, match="impossible"):
        check_id_number(number, today=date(2026, 12, 2))


@given(st.text(alphabet="0123456789", min_size=17, max_size=17), st.integers(0, 16))
def test_every_single_digit_typo_is_caught(first17: str, position: int) -> None:
    """MOD 11-2 catches every single substituted digit; that is why the check is worth doing."""
    number = first17 + id_check_char(first17)
    wrong = str((int(number[position]) + 1) % 10)
    typo = number[:position] + wrong + number[position + 1 :]
    assert id_check_char(typo[:17]) != typo[17]


@pytest.mark.parametrize(
    ("check", "text", "canonical"),
    [
        (check_phone, "13812345678", "13812345678"),
        (check_phone, "+86 138-1234-5678", "13812345678"),
        (check_phone, "8613812345678", "13812345678"),
        (check_phone, "(010) 1234 5678", "01012345678"),
        (check_phone, "0755-12345678", "075512345678"),
        (check_plate, "京A12345", "京A12345"),
        (check_plate, "京a·12345", "京A12345"),
        (check_plate, "粤B D12345", "粤BD12345"),
        (check_plate, "沪A12345F", "沪A12345F"),
        (check_plate, "苏E1234学", "苏E1234学"),
    ],
)
def test_phone_numbers_and_plates_are_normalised(
    check: Callable[[str], str], text: str, canonical: str
) -> None:
    assert check(text) == canonical


@pytest.mark.parametrize(
    ("check", "named", "text"),
    [
        *[
            (check_phone, "phone", text)
            for text in ["12345678901", "1381234567", "138123456789", "abc", "", "10086"]
        ],
        *[
            (check_plate, "plate", text)
            for text in ["京I12345", "京A1234O", "AB12345", "京A1234", "京A123456789", ""]
        ],
    ],
)
def test_bad_phone_numbers_and_plates_are_refused(
    check: Callable[[str], str], named: str, text: str
) -> None:
    with pytest.raises(ValueError, match=named):
        check(text)


def test_masks_hide_the_middle_and_keep_what_a_guard_matches_on() -> None:
    assert mask_id_number(GOOD_ID) == "1101**********002X"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("075512345678") == "0755****5678"
    assert mask_phone("123") == "***"


@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_a_masked_id_number_never_shows_the_birth_date(first17: str) -> None:
    masked = mask_id_number(first17 + id_check_char(first17))
    assert masked[6:14] == "********"
    assert len(masked) == 18
