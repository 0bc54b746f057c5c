"""Passes under cbor2 5, which 32-bit Raspberry Pi OS installs (cbor2 6 has no armv7l wheel).

cbor2 5 cannot refuse indefinite lengths or duplicate map keys while decoding, decodes a tag's
array as a list, and lets decimal's InvalidOperation out of its decimal-fraction decoder. With
the decoder's strict options dropped, as edge.passes does under cbor2 5, validly signed tokens in
those spellings must still be bad_structure, and a good one must still pass.
"""

from __future__ import annotations

import cbor2
import pytest

from edge import passes
from edge.model import VerifyReason
from tests.edge.test_passes import SIGNING_KEY, check, claims_map, make_token, sign1, unwrap, wrap


@pytest.fixture(params=["strict", "lenient"])
def decoder(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "lenient":
        monkeypatch.setattr(passes, "_STRICT_CBOR", False)
    return str(request.param)


def _signed_with_payload(payload: bytes) -> bytes:
    return sign1(None, payload=payload)


def test_a_good_pass_still_verifies(decoder: str) -> None:
    assert check(make_token()).valid


def test_duplicate_claim_keys_are_bad_structure(decoder: str) -> None:
    """{..., -2: "张*", -2: "李*"}: a decoder that keeps the last value must not take it."""
    claims = cbor2.dumps(claims_map())
    payload = bytes((claims[0] + 1,)) + claims[1:] + cbor2.dumps(-2) + cbor2.dumps("李*")
    verdict = check(wrap(_signed_with_payload(payload)))
    assert verdict.reason is VerifyReason.BAD_STRUCTURE, verdict.detail


def test_indefinite_length_claims_are_bad_structure(decoder: str) -> None:
    claims = cbor2.dumps(claims_map())
    payload = b"\xbf" + claims[1:] + b"\xff"  # the same map, spelled with a break
    verdict = check(wrap(_signed_with_payload(payload)))
    assert verdict.reason is VerifyReason.BAD_STRUCTURE, verdict.detail


def test_indefinite_length_envelope_is_bad_structure(decoder: str) -> None:
    cose = unwrap(make_token())
    assert cose[:2] == b"\xd2\x84"  # tag 18, array of 4
    verdict = check(wrap(b"\xd2\x9f" + cose[2:] + b"\xff"))
    assert verdict.reason is VerifyReason.BAD_STRUCTURE, verdict.detail


def test_a_decimal_fraction_of_text_is_bad_structure(decoder: str) -> None:
    """cbor2 5 raises decimal.InvalidOperation for it; verify() must not raise."""
    cose = sign1(claims_map(m2=cbor2.CBORTag(4, [0, "x"])), key=SIGNING_KEY)
    verdict = check(wrap(cose))
    assert verdict.reason is VerifyReason.BAD_STRUCTURE, verdict.detail
