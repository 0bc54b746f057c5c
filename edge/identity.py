"""Checking and masking what a visitor tells the guard: ID card, phone, plate.

Pure functions. A check returns the number in its one canonical spelling or raises
``ValueError`` with a message a guard can act on; masks are what lists, logs and (by default)
the database keep, so a lost tablet or a copied file does not hand out whole numbers.
"""

from __future__ import annotations

import re
from datetime import date

# GB 11643-1999: 17 digits weighted 2^(17-i) mod 11, then ISO 7064 MOD 11-2 maps the sum.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"
_ID_SHAPE = re.compile(r"\d{17}[\dX]")
# First two digits: the province-level division (GB/T 2260); 71, 81, 82 and 83 are Taiwan,
# Hong Kong, Macao and residence permits' own codes.
_ID_PROVINCES = frozenset(
    {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46}
    | {50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83}
)
_EARLIEST_BIRTH = date(1900, 1, 1)


class InvalidFieldError(ValueError):
    """A refused field: ``code`` names the problem for translation, the message explains it."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


_MOBILE = re.compile(r"1[3-9]\d{9}")
_LANDLINE = re.compile(r"0\d{2,3}\d{7,8}")
_PHONE_NOISE = re.compile(r"[\s\-()（）]")

# Province abbreviations on plates, plus 使 (embassy) and 领 (consulate).
_PLATE_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
# I and O are never issued (they read as 1 and 0).
_PLATE_CHAR = "[A-HJ-NP-Z0-9]"
_PLATE = re.compile(
    rf"[{_PLATE_PROVINCES}][A-HJ-NP-Z]"
    rf"(?:{_PLATE_CHAR}{{5}}|{_PLATE_CHAR}{{4}}[挂学警港澳]|[DF]{_PLATE_CHAR}{{5}}|{_PLATE_CHAR}{{5}}[DF])"
)
_PLATE_NOISE = re.compile(r"[\s·•.\-]")


def check_id_number(text: str, *, today: date | None = None) -> str:
    """The 18-character resident ID card number, upper-case X; ``InvalidFieldError`` if not.

    Checks the shape, the province code, the birth date (a real day, not in the future) and
    the check character, so a mistyped digit is caught at the gate, not in the ledger.
    """
    number = text.strip().replace(" ", "").upper()
    if not _ID_SHAPE.fullmatch(number):
        raise InvalidFieldError(
            "id_shape", "ID card number must be 17 digits and a digit or X (18 characters)"
        )
    if int(number[:2]) not in _ID_PROVINCES:
        raise InvalidFieldError(
            "id_province", f"ID card number starts with {number[:2]}, which is no province code"
        )
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidFieldError("id_birth", "ID card number holds no real birth date") from None
    if born < _EARLIEST_BIRTH or (today is not None and born > today):
        raise InvalidFieldError("id_birth", "ID card number holds an impossible birth date")
    if id_check_char(number[:17]) != number[17]:
        raise InvalidFieldError(
            "id_check", "ID card number check digit is wrong: a character was mistyped"
        )
    return number


def id_check_char(first17: str) -> str:
    """The 18th character for the first 17 digits (GB 11643-1999, ISO 7064 MOD 11-2)."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK_CHARS[total % 11]


def check_phone(text: str) -> str:
    """A mainland mobile (11 digits) or landline with area code, digits only.

    A leading +86 or 86 is dropped; spaces, dashes and brackets are ignored.
    """
    digits = _PHONE_NOISE.sub("", text.strip())
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if _MOBILE.fullmatch(digits) or _LANDLINE.fullmatch(digits):
        return digits
    raise InvalidFieldError(
        "phone", "phone must be an 11-digit mobile (1xx…) or a landline with its area code"
    )


def check_plate(text: str) -> str:
    """A mainland licence plate, upper case, no separators: '粤B D12345' → '粤BD12345'.

    Accepts the ordinary 7-character plates (with 挂/学/警/港/澳 endings) and the 8-character
    new-energy plates; refuses I and O, which plates never use.
    """
    plate = _PLATE_NOISE.sub("", text.strip()).upper()
    if not _PLATE.fullmatch(plate):
        raise InvalidFieldError(
            "plate", "plate must look like 京A12345 or 粤BD12345 (I and O are never used)"
        )
    return plate


def mask_id_number(number: str) -> str:
    """'11010519491231002X' → '1101**********002X': region and check kept, birth date hidden."""
    if len(number) <= 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def mask_phone(number: str) -> str:
    """'13812345678' → '138****5678'; a landline keeps its area code and last four digits."""
    if len(number) <= 7:
        return "*" * len(number)
    head = 3 if number.startswith("1") else len(number) - 8
    return number[:head] + "*" * (len(number) - head - 4) + number[-4:]
