"""Pass tokens (contracts KK1 and KK2): issue, verify, every failure code, and fuzzing of untrusted
input. Most tests below are KK1's; the KK2 section holds it to the same strictness.

Tokens with odd shapes are built here by hand from cbor2, cryptography and zlib, independently
of ``edge.passes``, so the tests also prove the format is what docs/passes.md says it is.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import cbor2
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge import passes
from edge.base45 import ALPHABET, b45decode, b45encode
from edge.model import PassClaims, PassKind, Verdict, VerifyReason
from edge.passes import TokenFormat
from edge.passes_pdf import qr_version

CHINA = timezone(timedelta(hours=8))
ISSUED_AT = datetime(2026, 3, 1, 9, 30, tzinfo=CHINA)
EXPIRES = datetime(2027, 3, 1, 0, 0, tzinfo=CHINA)
AT_GATE = ISSUED_AT + timedelta(days=10)
KID = "hxy1"
IAT_S = int(ISSUED_AT.timestamp())
EXP_S = int(EXPIRES.timestamp())

# Fixed keys make every token, and so every DEFLATE stream below, the same from run to run.
SIGNING_KEY = Ed25519PrivateKey.from_private_bytes(b"kakou test signing key, not real")
OTHER_KEY = Ed25519PrivateKey.from_private_bytes(b"kakou test forging key, not real")
KEYS: dict[str, Ed25519PublicKey] = {KID: SIGNING_KEY.public_key()}


# issue()'s arguments for a typical resident pass, but the key and the contract.
TYPICAL_PASS: dict[str, object] = {
    "key_id": KID,
    "community": "hxy",
    "pass_id": "R-0001234",
    "kind": PassKind.RESIDENT,
    "holder": "张*",
    "unit": "3-2-501",
    "not_before": ISSUED_AT,
    "expires": EXPIRES,
    "issued_at": ISSUED_AT,
}


def make_token(**changes: object) -> str:
    """A typical resident KK1 pass, with any issue() argument changed."""
    arguments: dict[str, object] = {"token_format": TokenFormat.KK1, **TYPICAL_PASS}
    key = changes.pop("private_key", SIGNING_KEY)
    arguments.update(changes)
    return passes.issue(key, **arguments)  # type: ignore[arg-type]


def check(token: str, **changes: object) -> Verdict:
    """verify() as the north gate of community hxy sees it ten days after issue."""
    arguments: dict[str, object] = {
        "keys": KEYS,
        "revoked": frozenset(),
        "community": "hxy",
        "gate": "north",
        "now": AT_GATE,
    }
    arguments.update(changes)
    return passes.verify(token, **arguments)  # type: ignore[arg-type]


def claims_map(**changes: object) -> dict[int, object]:
    """The CWT claims map of the typical pass; a value of None removes the claim."""
    claims: dict[int, object] = {
        1: "hxy",
        2: "R-0001234",
        4: EXP_S,
        6: IAT_S,
        -1: 1,
        -2: "张*",
        -3: "3-2-501",
    }
    for key, value in changes.items():
        label = int(key.removeprefix("c").replace("m", "-"))
        if value is None:
            claims.pop(label, None)
        else:
            claims[label] = value
    return claims


DEFAULT_HEADER: object = {1: -8, 4: KID.encode()}


def sign1(
    claims: object,
    *,
    key: Ed25519PrivateKey = SIGNING_KEY,
    protected: object = DEFAULT_HEADER,
    unprotected: object = None,
    tag: int | None = 18,
    payload: bytes | None = None,
) -> bytes:
    """A COSE_Sign1 built by hand (RFC 9052 §4.2, §4.4), for shapes issue() never makes."""
    protected_bytes = cbor2.dumps(protected)
    payload = cbor2.dumps(claims) if payload is None else payload
    signature = key.sign(cbor2.dumps(["Signature1", protected_bytes, b"", payload]))
    parts = [protected_bytes, {} if unprotected is None else unprotected, payload, signature]
    return cbor2.dumps(parts if tag is None else cbor2.CBORTag(tag, parts))


def wrap(cose: bytes, *, level: int = 9) -> str:
    return passes.PREFIX + b45encode(zlib.compress(cose, level))


def unwrap(token: str) -> bytes:
    return zlib.decompress(b45decode(token.removeprefix(passes.PREFIX)))


# ---------------------------------------------------------------------------------------------
# Round trip and format


def test_round_trip_returns_every_claim() -> None:
    token = make_token(gates=("north", "east"), plate="京A12345", kind=PassKind.VEHICLE)

    verdict = check(token)

    assert verdict.valid
    assert verdict.reason is None
    assert verdict.claims == PassClaims(
        community="hxy",
        pass_id="R-0001234",
        kind=PassKind.VEHICLE,
        holder="张*",
        unit="3-2-501",
        gates=("north", "east"),
        not_before=ISSUED_AT,
        expires=EXPIRES,
        issued_at=ISSUED_AT,
        key_id=KID,
        plate="京A12345",
    )


@pytest.mark.parametrize("kind", list(PassKind))
def test_every_kind_round_trips(kind: PassKind) -> None:
    plate = "京A12345" if kind is PassKind.VEHICLE else None
    verdict = check(make_token(kind=kind, plate=plate))
    assert verdict.valid
    assert verdict.claims is not None
    assert verdict.claims.kind is kind


def test_token_is_cose_sign1_with_eddsa_and_kid_protected() -> None:
    """Checks the layers with general-purpose tools, as another implementation would."""
    token = make_token()
    assert token.startswith("KK1:")
    compressed = b45decode(token[4:])
    assert compressed[:2] == b"\x78\xda"  # zlib, 32 KiB window, level 9

    cose = zlib.decompress(compressed)
    envelope = cbor2.loads(cose)
    assert isinstance(envelope, cbor2.CBORTag)
    assert envelope.tag == 18
    protected, unprotected, payload, signature = envelope.value
    assert cbor2.loads(protected) == {1: -8, 4: b"hxy1"}
    assert dict(unprotected) == {}
    assert len(signature) == 64
    assert cose == cbor2.dumps(cbor2.CBORTag(18, [protected, {}, payload, signature]))

    # RFC 9052 §4.4: the signature covers ["Signature1", protected, external_aad, payload].
    sig_structure = cbor2.dumps(["Signature1", protected, b"", payload])
    SIGNING_KEY.public_key().verify(signature, sig_structure)  # raises if not

    assert cbor2.loads(payload) == claims_map()  # the typical pass's claims, exactly


def test_not_before_is_omitted_when_equal_to_issued_at_and_kept_otherwise() -> None:
    later = ISSUED_AT + timedelta(days=2)
    same = cbor2.loads(cbor2.loads(unwrap(make_token())).value[2])
    different = cbor2.loads(cbor2.loads(unwrap(make_token(not_before=later))).value[2])

    assert 5 not in same
    assert different[5] == int(later.timestamp())
    verdict = check(make_token(not_before=later), now=later + timedelta(seconds=1))
    assert verdict.claims is not None
    assert verdict.claims.not_before == later


# The worked example of docs/passes.md. The key is RFC 8032's first test key: public, never real.
EXAMPLE_KEY = Ed25519PrivateKey.from_private_bytes(
    bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
)
EXAMPLE_COSE_HEX = (
    "d28449a20127044468787931a0582ea701636878790269522d30303031323334041a6b844480061a69a396"
    "9820012164e5bca02a2267332d322d353031584078002a46aa845ee6279144f99d2478d592ef6699a00a3d"
    "b3e646390692dad30f6ee58846086576ab34d7de603608fe44f95ac1b6f4b1c9f2a04e043f1e580e04"
)
EXAMPLE_TOKEN = (
    "KK1:NCFN80%20FFWPWGSLK/-47T8GAFEC6T6B35LNPCGAFWD0MHA646746QF6-P6DF3KWGE8GBF3SUKJAJJ60:XC3"
    "%NVE542D5W58W574627BU7FMF52PL*:B405HW8/%JICF+PIU/CKAK0 705TI97JPIVUQ*0EBAHY2140FRU635SH$6"
    "M6WONV0MO1.U%NP/BK7O0S$3XY1X5D1G6"
)


def test_the_worked_example_of_the_docs() -> None:
    """CBOR and Ed25519 are deterministic, so the example's bytes are fixed; zlib output may
    differ between zlib builds, so the token is checked by decoding it."""
    token = make_token(private_key=EXAMPLE_KEY)
    assert unwrap(token).hex() == EXAMPLE_COSE_HEX
    assert unwrap(EXAMPLE_TOKEN).hex() == EXAMPLE_COSE_HEX
    assert len(EXAMPLE_TOKEN) == 211
    assert qr_version(EXAMPLE_TOKEN) == 8
    assert check(EXAMPLE_TOKEN, keys={KID: EXAMPLE_KEY.public_key()}).valid
    doc = (Path(__file__).parents[2] / "docs" / "passes.md").read_text(encoding="utf-8")
    assert EXAMPLE_TOKEN in doc
    assert EXAMPLE_COSE_HEX in doc


def test_hand_built_token_from_the_spec_verifies() -> None:
    """An independent encoder following docs/passes.md produces tokens the gate accepts."""
    verdict = check(wrap(sign1(claims_map(m4=["north"], m5="京A12345"))))
    assert verdict.valid
    assert verdict.claims is not None
    assert verdict.claims.gates == ("north",)
    assert verdict.claims.plate == "京A12345"


def test_any_zlib_spelling_is_the_same_pass() -> None:
    """The contract fixes what is signed, not the encoder's zlib level or DEFLATE blocks
    (tests/security/test_pass_identity.py tries every spelling)."""
    original = check(make_token())
    stored = zlib.compress(unwrap(make_token()), 0)
    assert stored[2] & 0b110 == 0  # BTYPE 00: stored
    for token in (wrap(unwrap(make_token()), level=6), passes.PREFIX + b45encode(stored)):
        assert token != make_token()
        verdict = check(token)
        assert verdict == original  # same claims, same token_id


def test_token_id_names_what_is_signed_on_every_verdict_that_parsed() -> None:
    token = make_token()
    token_id = hashlib.blake2b(unwrap(token), digest_size=32).hexdigest()
    late = EXPIRES + timedelta(seconds=1)
    parsed = [
        check(token),
        check(token, keys={}),  # unknown_key
        check(token, keys={KID: OTHER_KEY.public_key()}),  # bad_signature
        check(token, now=late),  # expired
        check(token, revoked={"R-0001234"}),
    ]
    assert [v.token_id for v in parsed] == [token_id] * len(parsed)
    assert [v.reason for v in parsed[1:]] == [
        VerifyReason.UNKNOWN_KEY,
        VerifyReason.BAD_SIGNATURE,
        VerifyReason.EXPIRED,
        VerifyReason.REVOKED,
    ]
    assert check(token[:-1]).token_id == ""  # not a token: the caller falls back to the text


def test_a_gate_key_out_of_scope_keeps_the_token_id() -> None:
    gate_kid = passes.GATE_KEY_PREFIX + "north"
    token = make_token(key_id=gate_kid)  # a resident pass: beyond a gate key's scope
    verdict = check(token, keys={gate_kid: SIGNING_KEY.public_key()})
    scoped = passes.within_gate_key_scope(verdict, max_validity=timedelta(days=3))
    assert scoped.reason is VerifyReason.KEY_SCOPE
    assert scoped.claims == verdict.claims
    assert scoped.token_id == verdict.token_id != ""


def test_typical_resident_pass_fits_qr_version_8_at_level_m() -> None:
    """The size target of docs/passes.md: at most 220 characters, QR version 8 or less."""
    for holder in ("张*", "张三", "Zhang S."):
        token = make_token(holder=holder, expires=ISSUED_AT + timedelta(days=365))
        assert len(token) <= 220, holder
        assert qr_version(token) <= 8, holder


def test_times_are_kept_to_the_whole_second() -> None:
    token = make_token(issued_at=ISSUED_AT + timedelta(microseconds=999_999))
    claims = passes.decode_unverified(token)
    assert claims is not None
    assert claims.issued_at == ISSUED_AT


# ---------------------------------------------------------------------------------------------
# One realistic case per reason code


def test_too_large_is_checked_before_decoding() -> None:
    one_megabyte = "KK1:" + "A" * 1_000_000
    assert check(one_megabyte).reason is VerifyReason.TOO_LARGE
    assert check("x" * 2049).reason is VerifyReason.TOO_LARGE
    assert check("\ud800" * 5000).reason is VerifyReason.TOO_LARGE  # not even base45-read


def test_zip_bomb_stops_at_the_output_cap() -> None:
    bomb = zlib.compress(b"\x00" * 1_000_000, 9)  # about 1 KB in, 1 MB out
    token = passes.PREFIX + b45encode(bomb)
    assert len(token) <= passes.MAX_TOKEN_CHARS
    assert check(token).reason is VerifyReason.TOO_LARGE


def test_output_just_over_the_cap_is_too_large_and_at_the_cap_is_not() -> None:
    over = wrap(b"\x00" * (passes.MAX_COSE_BYTES + 1))
    at_cap = wrap(b"\x00" * passes.MAX_COSE_BYTES)
    assert check(over).reason is VerifyReason.TOO_LARGE
    assert check(at_cap).reason is VerifyReason.BAD_STRUCTURE  # decoded in full, then refused


@pytest.mark.parametrize(
    ("make", "why"),
    [
        (lambda t: "KK3:" + t[4:], "a newer contract's prefix"),
        (lambda t: "kk1:" + t[4:], "lowercase prefix"),
        (lambda t: t[4:], "no prefix"),
        (lambda t: "", "empty"),
        (lambda t: "KK1:", "prefix alone"),
        (lambda t: "KK1:hello world", "not base45"),
        (lambda t: t + "\n", "a scanner's trailing newline"),
        (lambda t: "KK1:\ud800" + t[5:], "a lone surrogate"),
        (lambda t: "KK1:" + "\x00" * 3, "NUL characters"),
        (lambda t: t[:-1], "truncated by one character"),
        (lambda t: "KK1:" + b45encode(b"just some bytes"), "base45 of non-zlib"),
        (lambda t: "KK1:" + b45encode(b45decode(t[4:])[:-3]), "truncated zlib stream"),
        (lambda t: "KK1:" + b45encode(b45decode(t[4:]) + b"\x00"), "bytes after the stream"),
        (
            lambda t: "KK1:" + b45encode(zlib.compress(unwrap(t), 9, wbits=-15)),
            "raw deflate, no zlib header",
        ),
    ],
)
def test_bad_encoding(make: Callable[[str], str], why: str) -> None:
    verdict = check(make(make_token()))
    assert verdict.reason is VerifyReason.BAD_ENCODING, why
    assert verdict.claims is None


def _set_ignored_bit(compressed: bytes, at: int) -> bytes | None:
    """The stream with one more bit set at byte ``at`` that inflates to the same output."""
    expected = zlib.decompress(compressed)
    for bit in range(8):
        if compressed[at] & (1 << bit):
            continue
        trial = compressed[:at] + bytes((compressed[at] | 1 << bit,)) + compressed[at + 1 :]
        try:
            if zlib.decompress(trial) == expected:
                return trial
        except zlib.error:
            continue
    return None


def test_set_padding_bits_in_the_last_deflate_byte_spell_the_same_pass() -> None:
    """Inflaters skip these bits (RFC 1951 §3.2.3): another text, the same pass and identity."""
    found = 0
    for number in range(40):  # Huffman-coded passes whose last DEFLATE byte has padding
        token = make_token(pass_id=f"R-{number:07d}", holder="Zhang San Feng", unit="Unit 3 2 501")
        compressed = b45decode(token[4:])
        altered = _set_ignored_bit(compressed, len(compressed) - 5)
        if altered is None:
            continue
        found += 1
        assert check(passes.PREFIX + b45encode(altered)) == check(token)
    assert found > 0


def test_set_padding_bits_in_a_stored_block_header_spell_the_same_pass() -> None:
    stored = zlib.compress(unwrap(make_token()), 0)
    altered = _set_ignored_bit(stored, 2)
    assert altered is not None
    assert check(passes.PREFIX + b45encode(altered)) == check(make_token())


@pytest.mark.parametrize(
    ("cose", "why"),
    [
        (b"\xff\xfe\xfd", "not CBOR"),
        (b"", "nothing"),
        (cbor2.dumps("KK1"), "CBOR, but a string"),
        (sign1(claims_map(), tag=98), "COSE_Sign (tag 98), not COSE_Sign1"),
        (sign1(claims_map(), tag=None), "untagged COSE_Sign1"),
        (sign1(claims_map(), tag=61), "CWT tag 61 instead of 18"),
        (cbor2.dumps(cbor2.CBORTag(18, [b"", {}, b""])), "array of 3"),
        (sign1(claims_map(), unprotected={4: b"hxy1"}), "kid also in the unprotected header"),
        (sign1(claims_map(), protected={1: -7, 4: b"hxy1"}), "alg ES256"),
        (sign1(claims_map(), protected={1: "EdDSA", 4: b"hxy1"}), "alg as text"),
        (sign1(claims_map(), protected={1: -8}), "no kid"),
        (sign1(claims_map(), protected={1: -8, 4: "hxy1"}), "kid as text, not bytes"),
        (sign1(claims_map(), protected={1: -8, 4: b"hxy 1"}), "kid with a space"),
        (sign1(claims_map(), protected={1: -8, 4: b"hxy1", 2: [4]}), "a crit header"),
        (sign1(claims_map(), protected={True: -8, 4: b"hxy1"}), "alg label true, not 1"),
        (sign1(claims_map(m1=9)), "unknown kind"),
        (sign1(claims_map(m1="resident")), "kind as text"),
        (sign1(claims_map(m1=True)), "kind as a bool"),
        (sign1(claims_map(c4=str(EXP_S))), "exp as text"),
        (sign1(claims_map(c4=float(EXP_S))), "exp as a float"),
        (sign1(claims_map(c4=-1)), "exp before 1970"),
        (sign1(claims_map(c4=IAT_S)), "exp equal to iat"),
        (sign1(claims_map(c4=None)), "no exp"),
        (sign1(claims_map(c1=None)), "no community"),
        (sign1(claims_map(c1=b"hxy")), "community as bytes"),
        (sign1(claims_map(c2="R 0001234")), "pass id with a space"),
        (sign1(claims_map(m2="张\n三")), "holder with a newline"),
        (sign1(claims_map(m2="")), "empty holder"),
        (sign1(claims_map(m4="north")), "gates as text, not an array"),
        (sign1(claims_map(m4=[1])), "a gate as a number"),
        (sign1(claims_map(m4=["g"] * 17)), "17 gates"),
        (sign1(claims_map(m99="x")), "an unknown claim"),
        (sign1({**claims_map(), "x": 1}), "a text claim key"),
        (sign1([1, 2, 3]), "claims as an array"),
        (sign1(None, payload=cbor2.dumps(claims_map()) + b"\x00"), "bytes after the claims"),
        (sign1(None, payload=b"\x1b" + bytes(8)), "claims a long-form zero"),
    ],
)
def test_bad_structure(cose: bytes, why: str) -> None:
    verdict = check(wrap(cose))
    assert verdict.reason is VerifyReason.BAD_STRUCTURE, why
    assert verdict.claims is None


def test_bool_claim_key_is_not_taken_for_the_integer() -> None:
    """In Python True == 1; a map keyed by true must not pass for the community claim."""
    claims = claims_map(c1=None)
    claims_bytes = cbor2.dumps(claims)
    # Prepend true: "hxy" to the map by hand: one more entry, key 0xf5.
    payload = bytes((claims_bytes[0] + 1,)) + b"\xf5\x63hxy" + claims_bytes[1:]
    assert cbor2.loads(payload)[True] == "hxy"
    assert check(wrap(sign1(None, payload=payload))).reason is VerifyReason.BAD_STRUCTURE


def test_details_never_carry_control_characters_from_the_token() -> None:
    """cbor2 quotes what it found; a detail reaches logs and the guard's terminal."""
    escape = "\x1b[2J"
    payload = b"\xa2" + cbor2.dumps(escape) + b"\x01" + cbor2.dumps(escape) + b"\x02"
    verdict = check(wrap(sign1(None, payload=payload)))
    assert verdict.reason is VerifyReason.BAD_STRUCTURE
    assert verdict.detail.isprintable(), verdict.detail


def test_long_form_envelope_is_bad_structure() -> None:
    """The signature's length written in two bytes: same CBOR value, different spelling."""
    cose = unwrap(make_token())
    long_form = cose[:-66] + b"\x59\x00\x40" + cose[-64:]
    assert cbor2.loads(long_form) == cbor2.loads(cose)
    assert check(wrap(long_form)).reason is VerifyReason.BAD_STRUCTURE


def test_unknown_key() -> None:
    verdict = check(make_token(key_id="hxy9"))
    assert verdict.reason is VerifyReason.UNKNOWN_KEY
    assert "hxy9" in verdict.detail
    assert verdict.claims is None


def test_forged_with_another_key_under_the_same_kid_is_bad_signature() -> None:
    verdict = check(make_token(private_key=OTHER_KEY))
    assert verdict.reason is VerifyReason.BAD_SIGNATURE
    assert verdict.claims is None


def test_tampered_claims_are_bad_signature() -> None:
    """Move the holder to another household, keeping the original signature."""
    envelope = cbor2.loads(unwrap(make_token()))
    protected, _, payload, signature = envelope.value
    claims = cbor2.loads(payload)
    claims[-3] = "9-9-909"
    forged = cbor2.dumps(cbor2.CBORTag(18, [protected, {}, cbor2.dumps(claims), signature]))
    assert check(wrap(forged)).reason is VerifyReason.BAD_SIGNATURE


def test_flipped_signature_bit_is_bad_signature() -> None:
    cose = bytearray(unwrap(make_token()))
    cose[-1] ^= 0x01
    assert check(wrap(bytes(cose))).reason is VerifyReason.BAD_SIGNATURE


def test_wrong_community() -> None:
    verdict = check(make_token(community="other"))
    assert verdict.reason is VerifyReason.WRONG_COMMUNITY
    assert verdict.claims is not None
    assert verdict.claims.community == "other"


def test_not_yet_valid_until_the_second_of_not_before() -> None:
    later = ISSUED_AT + timedelta(days=5)
    token = make_token(not_before=later)
    verdict = check(token, now=later - timedelta(seconds=1))
    assert verdict.reason is VerifyReason.NOT_YET_VALID
    assert verdict.claims is not None
    assert check(token, now=later).valid


def test_expired_from_the_second_of_exp() -> None:
    token = make_token()
    assert check(token, now=EXPIRES - timedelta(seconds=1)).valid
    verdict = check(token, now=EXPIRES)  # RFC 8392: not accepted on or after exp
    assert verdict.reason is VerifyReason.EXPIRED
    assert verdict.claims is not None
    assert verdict.claims.pass_id == "R-0001234"


def test_gate_not_allowed_only_when_the_pass_lists_gates() -> None:
    limited = make_token(gates=("north", "east"))
    assert check(limited, gate="east").valid
    assert check(limited, gate="west").reason is VerifyReason.GATE_NOT_ALLOWED
    assert check(limited, gate=None).valid  # no gate given: no gate check
    assert check(make_token(), gate="west").valid  # no list: every gate


def test_revoked() -> None:
    verdict = check(make_token(), revoked=frozenset({"R-0001234"}))
    assert verdict.reason is VerifyReason.REVOKED
    assert verdict.claims is not None
    assert verdict.claims.holder == "张*"


def test_first_failure_wins_in_contract_order() -> None:
    everything_wrong = make_token(community="other", gates=("east",))
    after_expiry = EXPIRES + timedelta(days=1)
    revoked = frozenset({"R-0001234"})
    assert (
        check(everything_wrong, now=after_expiry, revoked=revoked).reason
        is VerifyReason.WRONG_COMMUNITY
    )
    expired_revoked = make_token(gates=("east",))
    assert check(expired_revoked, now=after_expiry, revoked=revoked).reason is (
        VerifyReason.EXPIRED
    )
    assert check(expired_revoked, revoked=revoked).reason is VerifyReason.GATE_NOT_ALLOWED
    forged_unknown = make_token(private_key=OTHER_KEY, key_id="nope")
    assert check(forged_unknown).reason is VerifyReason.UNKNOWN_KEY
    forged_wrong_community = make_token(private_key=OTHER_KEY, community="other")
    assert check(forged_wrong_community).reason is VerifyReason.BAD_SIGNATURE


def test_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        check(make_token(), now=datetime(2026, 3, 10))


# ---------------------------------------------------------------------------------------------
# Diagnostics and helpers


def test_decode_unverified_reads_a_forged_pass_and_refuses_junk() -> None:
    forged = passes.decode_unverified(make_token(private_key=OTHER_KEY))
    assert forged is not None
    assert forged.pass_id == "R-0001234"
    assert passes.decode_unverified("KK1:NOPE") is None
    assert passes.decode_unverified("KK2:NOPE") is None
    assert passes.decode_unverified("x" * 10_000) is None


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三", "张*"),
        ("欧阳娜娜", "欧*"),
        ("王", "王"),
        ("Zhang San", "Zhang S."),
        ("  Li   Xiao Long ", "Li X. L."),
        ("", ""),
    ],
)
def test_mask_holder(name: str, masked: str) -> None:
    assert passes.mask_holder(name) == masked


def test_expiry_after_days_runs_to_midnight_after_the_last_day() -> None:
    assert passes.expiry_after_days(ISSUED_AT, 365) == datetime(2027, 3, 1, tzinfo=CHINA)
    assert passes.expiry_after_days(ISSUED_AT, 1) == datetime(2026, 3, 2, tzinfo=CHINA)
    with pytest.raises(ValueError, match="at least 1"):
        passes.expiry_after_days(ISSUED_AT, 0)
    with pytest.raises(ValueError, match="timezone-aware"):
        passes.expiry_after_days(datetime(2026, 3, 1), 1)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"key_id": "hxy/1"}, "key id"),
        ({"community": "小区"}, "community"),
        ({"pass_id": "R#1"}, "pass_id"),
        ({"pass_id": "R" * 33}, "pass_id"),
        ({"holder": "张\x1b[31m"}, "control"),
        ({"holder": " 张*"}, "outer spaces"),
        ({"unit": ""}, "unit"),
        ({"gates": ("north", "north")}, "twice"),
        ({"gates": tuple(f"g{n}" for n in range(17))}, "at most 16"),
        ({"gates": ("north gate",)}, "gate"),
        ({"plate": "京A 12345 京A 12345"}, "plate"),
        ({"kind": PassKind.VEHICLE}, "plate"),
        ({"expires": ISSUED_AT}, "after not_before"),
        ({"issued_at": datetime(2026, 3, 1)}, "timezone-aware"),
        ({"not_before": datetime(1969, 12, 31, tzinfo=UTC), "issued_at": ISSUED_AT}, "1970"),
    ],
)
def test_issue_refuses_what_the_contract_forbids(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_token(**changes)


def test_check_field_knows_only_pass_fields() -> None:
    with pytest.raises(ValueError, match="no such pass field"):
        passes.check_field("colour", "red")


# ---------------------------------------------------------------------------------------------
# Fuzzing: never raise, never accept

VALID = make_token()  # short enough that zlib stores it: a stored DEFLATE block
# Longer text compresses, so zlib picks a Huffman block, which ends in padding bits; with
# the fixed key, this pass's padding is reachable by 4 one-character edits near the end.
VALID_HUFFMAN = make_token(
    pass_id="R-0000010",
    holder="Zhang San Feng",
    unit="Building 3 Unit 2",
    not_before=ISSUED_AT + timedelta(days=1),
)
AFTER_BOTH_START = ISSUED_AT + timedelta(days=2)
ANY_CHARACTER = st.characters(exclude_categories=())  # includes lone surrogates and NUL


def _never_valid(token: str) -> Verdict:
    verdict = check(token)
    assert not verdict.valid
    assert verdict.reason is not None
    assert verdict.detail.isprintable()  # it is logged and shown to the guard
    return verdict


@given(st.text(alphabet=ANY_CHARACTER, max_size=300))
def test_random_text_never_verifies(text: str) -> None:
    _never_valid(text)


@pytest.mark.parametrize("prefix", [passes.PREFIX, passes.PREFIX_KK2])
@given(body=st.text(alphabet=ALPHABET, max_size=400))
def test_random_base45_after_a_prefix_never_verifies(prefix: str, body: str) -> None:
    _never_valid(prefix + body)


@given(st.binary(max_size=400))
def test_random_bytes_behind_zlib_never_verify(data: bytes) -> None:
    verdict = _never_valid(wrap(data))
    assert verdict.reason in (VerifyReason.BAD_STRUCTURE, VerifyReason.TOO_LARGE)


@given(st.binary(max_size=300))
def test_random_deflate_data_behind_a_good_header_never_verifies(data: bytes) -> None:
    _never_valid(passes.PREFIX + b45encode(b"\x78\xda" + data))


@given(st.binary(max_size=300))
def test_random_bytes_where_the_zlib_stream_goes_never_verify(data: bytes) -> None:
    """Any header bytes, too: the RFC 1950 header checks must not trip over short or odd ones."""
    verdict = _never_valid(passes.PREFIX + b45encode(data))
    assert verdict.reason in (VerifyReason.BAD_ENCODING, VerifyReason.TOO_LARGE)


@given(st.binary(max_size=300), st.binary(max_size=40))
def test_signed_random_payload_and_header_bytes_never_verify(payload: bytes, header: bytes) -> None:
    """Arbitrary bytes where the claims and the protected header go, correctly signed."""
    _never_valid(wrap(sign1(None, payload=payload)))
    protected = header
    signature = SIGNING_KEY.sign(cbor2.dumps(["Signature1", protected, b"", cbor2.dumps({})]))
    cose = cbor2.dumps(cbor2.CBORTag(18, [protected, {}, cbor2.dumps(claims_map()), signature]))
    _never_valid(wrap(cose))


CBOR_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**64), max_value=2**64 - 1)
    | st.floats()
    | st.binary(max_size=70)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(st.integers(-6, 6) | st.text(max_size=3), children, max_size=8)
    ),
    max_leaves=12,
)
# Generating nested CBOR is slow next to what the test does with it; that is expected here.
CBOR_FUZZ = settings(suppress_health_check=[HealthCheck.too_slow])


@CBOR_FUZZ
@given(CBOR_VALUES, st.sampled_from([18, 61, 98, None]))
def test_random_cbor_never_verifies(value: object, tag: int | None) -> None:
    cose = cbor2.dumps(value if tag is None else cbor2.CBORTag(tag, value))
    _never_valid(wrap(cose))


@CBOR_FUZZ
@given(CBOR_VALUES, CBOR_VALUES)
def test_signed_random_claims_and_headers_never_verify(claims: object, header: object) -> None:
    """Even with a good signature, a payload that is not a pass is refused."""
    _never_valid(wrap(sign1(claims)))
    _never_valid(wrap(sign1(claims_map(), protected=header)))


@CBOR_FUZZ
@given(
    st.dictionaries(
        st.sampled_from([1, 2, 4, 5, 6, -1, -2, -3, -4, -5]),
        CBOR_VALUES,
        max_size=10,
    )
)
def test_signed_claims_with_wrong_types_never_verify_unless_well_formed(
    changes: dict[int, object],
) -> None:
    claims = {**claims_map(), **changes}
    verdict = check(wrap(sign1(claims)))
    if verdict.valid:  # only if every changed claim happened to be well-formed
        assert verdict.claims is not None
        assert passes.decode_unverified(wrap(sign1(claims))) == verdict.claims


MUTATION_CHARACTERS = st.sampled_from(ALPHABET + "abkz#\x00é\ud800\n")


@st.composite
def mutations(draw: st.DrawFn, originals: tuple[str, ...]) -> tuple[str, str]:
    """(original, the original with characters replaced, inserted or deleted, or cut short)."""
    original = draw(st.sampled_from(originals))
    token = original
    for _ in range(draw(st.integers(1, 3))):
        operation = draw(st.sampled_from(["replace", "insert", "delete", "truncate"]))
        # Half the edits land in the last 12 characters, where the DEFLATE block ends.
        tail = draw(st.booleans())
        at = draw(st.integers(max(len(token) - 12, 0) if tail else 0, max(len(token) - 1, 0)))
        if operation == "replace":
            token = token[:at] + draw(MUTATION_CHARACTERS) + token[at + 1 :]
        elif operation == "insert":
            token = token[:at] + draw(MUTATION_CHARACTERS) + token[at:]
        elif operation == "delete":
            token = token[:at] + token[at + 1 :]
        else:
            token = token[:at]
    return original, token


def _same_pass_or_refused(original: str, mutated: str) -> None:
    """An edited token verifies only as the pass it was: a padding bit the inflater skips may
    change the text, never the claims or the identity."""
    verdict = check(mutated, now=AFTER_BOTH_START)
    if verdict.valid:
        assert verdict == check(original, now=AFTER_BOTH_START), mutated


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(mutations((VALID, VALID_HUFFMAN)))
def test_mutated_tokens_never_verify_as_another_pass(case: tuple[str, str]) -> None:
    _same_pass_or_refused(*case)


@pytest.mark.parametrize("original", [VALID, VALID_HUFFMAN], ids=["stored", "huffman"])
def test_no_single_character_change_near_the_end_verifies_as_another_pass(original: str) -> None:
    """Exhaustive over the last 12 characters, where the DEFLATE data and Adler-32 end."""
    assert check(original, now=AFTER_BOTH_START).valid
    for at in range(len(original) - 12, len(original)):
        for character in ALPHABET:
            _same_pass_or_refused(original, original[:at] + character + original[at + 1 :])


# ---------------------------------------------------------------------------------------------
# KK2: the compact contract. Built and checked by hand as above: no zlib, no iss, one start time
# (nbf), and the community signed as the Sig_structure's external_aad (RFC 9052 §4.3).


def make_kk2(**changes: object) -> str:
    """The typical resident pass of ``make_token`` as a KK2 token."""
    return make_token(token_format=TokenFormat.KK2, **changes)


def kk2_claims(**changes: object) -> dict[int, object]:
    """The KK2 claims map of the typical pass: ``claims_map`` without iss and iat, with nbf as
    the start, in deterministic key order; ``changes`` as for ``claims_map``."""
    claims = claims_map(**{"c1": None, "c6": None, "c5": IAT_S, **changes})
    reordered: dict[int, object] = cbor2.loads(cbor2.dumps(claims, canonical=True))
    return reordered


def sign1_kk2(
    claims: object,
    *,
    community: str = "hxy",
    aad: bytes | None = None,
    key: Ed25519PrivateKey = SIGNING_KEY,
    protected: object = DEFAULT_HEADER,
    payload: bytes | None = None,
) -> bytes:
    """A KK2 COSE_Sign1 by hand: external_aad is b"KK2:" + the community unless ``aad``."""
    protected_bytes = cbor2.dumps(protected)
    payload = cbor2.dumps(claims) if payload is None else payload
    aad = b"KK2:" + community.encode() if aad is None else aad
    signature = key.sign(cbor2.dumps(["Signature1", protected_bytes, aad, payload]))
    return cbor2.dumps(cbor2.CBORTag(18, [protected_bytes, {}, payload, signature]))


def wrap_kk2(cose: bytes) -> str:
    return passes.PREFIX_KK2 + b45encode(cose)


def unwrap_kk2(token: str) -> bytes:
    return b45decode(token.removeprefix(passes.PREFIX_KK2))


def test_new_passes_are_kk2_by_default() -> None:
    token = passes.issue(SIGNING_KEY, **TYPICAL_PASS)  # type: ignore[arg-type]
    assert passes.DEFAULT_FORMAT is TokenFormat.KK2
    assert token == make_kk2()
    by_name = passes.issue(SIGNING_KEY, token_format="kk1", **TYPICAL_PASS)  # type: ignore[arg-type]
    assert by_name == make_token()


@pytest.mark.parametrize("kind", list(PassKind))
def test_kk2_verifies_to_the_same_claims_as_kk1(kind: PassKind) -> None:
    extra: dict[str, object] = {"gates": ("north", "east")}
    if kind is PassKind.VEHICLE:
        extra["plate"] = "京A12345"
    kk1, kk2 = check(make_token(kind=kind, **extra)), check(make_kk2(kind=kind, **extra))
    assert kk1.valid
    assert kk2.valid
    assert kk2.claims == kk1.claims
    assert kk2.token_id != kk1.token_id  # two signed objects, two codes


def test_kk2_is_cose_sign1_with_the_community_as_external_aad() -> None:
    """Checks the layers with general-purpose tools, as another implementation would."""
    token = make_kk2()
    assert token.startswith("KK2:")
    cose = unwrap_kk2(token)
    envelope = cbor2.loads(cose)
    assert envelope.tag == 18
    protected, unprotected, payload, signature = envelope.value
    assert cbor2.loads(protected) == {1: -8, 4: b"hxy1"}
    assert dict(unprotected) == {}
    assert cose == cbor2.dumps(cbor2.CBORTag(18, [protected, {}, payload, signature]))
    assert cbor2.loads(payload) == kk2_claims()  # no iss, no iat: nbf is the start
    public = SIGNING_KEY.public_key()
    public.verify(signature, cbor2.dumps(["Signature1", protected, b"KK2:hxy", payload]))
    with pytest.raises(InvalidSignature):  # not KK1's empty external_aad
        public.verify(signature, cbor2.dumps(["Signature1", protected, b"", payload]))
    assert check(token).token_id == hashlib.blake2b(cose, digest_size=32).hexdigest()


def test_kk2_keeps_the_start_time_and_not_the_signing_time() -> None:
    later = AT_GATE + timedelta(days=2)
    payload = cbor2.loads(cbor2.loads(unwrap_kk2(make_kk2(not_before=later))).value[2])
    assert payload[5] == int(later.timestamp())
    assert 6 not in payload
    claims = passes.decode_unverified(make_kk2(not_before=later))
    assert claims is not None
    assert claims.not_before == claims.issued_at == later
    assert check(make_kk2(not_before=later)).reason is VerifyReason.NOT_YET_VALID
    assert check(make_kk2(not_before=later), now=later).valid


def test_a_kk2_pass_verifies_only_in_the_community_it_was_signed_for() -> None:
    """KK2 signs its community instead of carrying it: a pass of another community fails its
    signature even at a gate that trusts the same key, and names no claims."""
    token = make_kk2(community="other")
    assert len(token) == len(make_kk2())  # the community costs no characters
    verdict = check(token)
    assert verdict.reason is VerifyReason.BAD_SIGNATURE
    assert "'hxy'" in verdict.detail
    assert verdict.claims is None
    assert verdict.token_id != ""
    there = check(token, community="other")
    assert there.valid
    assert there.claims is not None
    assert there.claims.community == "other"


def test_a_kk2_community_is_not_a_prefix_game() -> None:
    """The aad is "KK2:" + the whole community: "hx" or "hxy1" is not "hxy"."""
    for gate_community in ("hx", "hxy1", "HXY", ""):
        assert check(make_kk2(), community=gate_community).reason is VerifyReason.BAD_SIGNATURE


def test_decode_unverified_names_the_community_a_caller_gives_for_kk2() -> None:
    bare = passes.decode_unverified(make_kk2())
    named = passes.decode_unverified(make_kk2(), community="hxy")
    assert bare is not None
    assert named is not None
    assert bare.community == ""
    assert named == check(make_kk2()).claims
    kk1 = passes.decode_unverified(make_token(community="other"), community="hxy")
    assert kk1 is not None
    assert kk1.community == "other"  # KK1 carries its own


def test_a_signature_for_one_contract_never_verifies_under_the_other() -> None:
    """The same signed claims and key, moved between contracts: refused at the signature, because
    KK1 signs an empty external_aad and KK2 signs "KK2:" + community."""
    kk1_signed = sign1(kk2_claims())  # KK2-shaped claims, KK1's empty aad
    assert check(wrap_kk2(kk1_signed)).reason is VerifyReason.BAD_SIGNATURE
    kk2_signed = sign1_kk2(claims_map())  # KK1-shaped claims, KK2's aad
    assert check(wrap(kk2_signed)).reason is VerifyReason.BAD_SIGNATURE
    # And whole tokens moved across keep failing on their claims first.
    assert check(wrap(unwrap_kk2(make_kk2()))).reason is VerifyReason.BAD_STRUCTURE
    assert check(wrap_kk2(unwrap(make_token()))).reason is VerifyReason.BAD_STRUCTURE
    assert check(passes.PREFIX + make_kk2()[4:]).reason is VerifyReason.BAD_ENCODING
    assert check(passes.PREFIX_KK2 + make_token()[4:]).reason is VerifyReason.BAD_STRUCTURE


def test_hand_built_kk2_token_from_the_spec_verifies() -> None:
    verdict = check(wrap_kk2(sign1_kk2(kk2_claims(m4=["north"], m5="京A12345", m1=5))))
    assert verdict.valid
    assert verdict.claims is not None
    assert (verdict.claims.kind, verdict.claims.plate) == (PassKind.VEHICLE, "京A12345")
    assert verdict.claims.gates == ("north",)
    assert verdict.claims.community == "hxy"


@pytest.mark.parametrize(
    ("cose", "why"),
    [
        (sign1_kk2(kk2_claims(c1="hxy")), "iss, which KK2 signs but never carries"),
        (sign1_kk2(kk2_claims(c6=IAT_S)), "iat, which KK2 does not carry"),
        (sign1_kk2(kk2_claims(c5=None)), "no start time"),
        (sign1_kk2(kk2_claims(c5=str(IAT_S))), "nbf as text"),
        (sign1_kk2(kk2_claims(c4=IAT_S)), "exp equal to nbf"),
        (sign1_kk2(kk2_claims(c2=None)), "no pass id"),
        (sign1_kk2(kk2_claims(m3=None)), "no unit"),
        (sign1_kk2(kk2_claims(m1=9)), "unknown kind"),
        (sign1_kk2(kk2_claims(m99="x")), "an unknown claim"),
        (sign1_kk2(kk2_claims(), protected={1: -7, 4: b"hxy1"}), "alg ES256"),
        (sign1_kk2(None, payload=cbor2.dumps(kk2_claims()) + b"\x00"), "bytes after the claims"),
        (sign1_kk2(None, payload=b"\xb8\x06" + cbor2.dumps(kk2_claims())[1:]), "long map head"),
        (sign1_kk2(kk2_claims()) + b"\x00", "a byte after the envelope"),
    ],
)
def test_kk2_bad_structure(cose: bytes, why: str) -> None:
    verdict = check(wrap_kk2(cose))
    assert verdict.reason is VerifyReason.BAD_STRUCTURE, why
    assert verdict.claims is None


def test_kk2_has_no_zlib_layer_and_one_spelling() -> None:
    """A zlib stream behind KK2: is not a COSE_Sign1, and a long-form length is refused."""
    cose = unwrap_kk2(make_kk2())
    assert check(passes.PREFIX_KK2 + b45encode(zlib.compress(cose, 9))).reason is (
        VerifyReason.BAD_STRUCTURE
    )
    long_form = cose[:-66] + b"\x59\x00\x40" + cose[-64:]
    assert cbor2.loads(long_form) == cbor2.loads(cose)
    assert check(wrap_kk2(long_form)).reason is VerifyReason.BAD_STRUCTURE


def test_kk2_too_large_and_bad_encoding() -> None:
    assert check("KK2:" + "A" * 2045).reason is VerifyReason.TOO_LARGE
    assert check("KK2:" + "000" * 681).reason is VerifyReason.BAD_STRUCTURE  # the most it decodes
    for text in ("KK2:", "kk2:" + make_kk2()[4:], make_kk2() + "\n", "KK2:hello", "KK2:ABCD"):
        assert check(text).reason in (VerifyReason.BAD_ENCODING, VerifyReason.BAD_STRUCTURE), text
    assert check(make_kk2()[:-1]).reason is VerifyReason.BAD_ENCODING  # a lone character left


def test_kk2_unknown_key_expired_revoked_and_gate() -> None:
    assert check(make_kk2(key_id="hxy9")).reason is VerifyReason.UNKNOWN_KEY
    assert check(make_kk2(private_key=OTHER_KEY)).reason is VerifyReason.BAD_SIGNATURE
    expired = check(make_kk2(), now=EXPIRES)
    assert expired.reason is VerifyReason.EXPIRED
    assert expired.claims is not None
    assert expired.claims.community == "hxy"
    assert check(make_kk2(), revoked={"R-0001234"}).reason is VerifyReason.REVOKED
    assert check(make_kk2(gates=("east",))).reason is VerifyReason.GATE_NOT_ALLOWED


def test_a_gate_key_kk2_pass_keeps_its_scope() -> None:
    gate_kid = passes.GATE_KEY_PREFIX + "north"
    keys = {gate_kid: SIGNING_KEY.public_key()}
    resident = check(make_kk2(key_id=gate_kid), keys=keys)
    assert passes.within_gate_key_scope(resident, max_validity=timedelta(days=3)).reason is (
        VerifyReason.KEY_SCOPE
    )
    visitor = make_kk2(key_id=gate_kid, kind=PassKind.VISITOR, gates=("north",))  # a year
    long_visitor = check(visitor, keys=keys)
    assert long_visitor.valid
    assert passes.within_gate_key_scope(long_visitor, max_validity=timedelta(days=3)).reason is (
        VerifyReason.KEY_SCOPE
    )


# The KK2 worked example of docs/passes.md: the KK1 example's pass, key and kid.
EXAMPLE_KK2_COSE_HEX = (
    "d28449a20127044468787931a05829a60269522d30303031323334041a6b844480051a69a396982001216"
    "4e5bca02a2267332d322d3530315840ef3a8ed3ae099c532830b782ab12159df146937476e9632eabdce64"
    "1b8e1b07377fe3dc0bd171a39cd383b50ffd2b97d7577fcfa2d969418b13b7547c9c34608"
)
EXAMPLE_KK2_TOKEN = (
    "KK2:RRQ+D9P60CO0E9DKEF8CK.B5WD0MHA646746QF6-P6DF3KWGD8GBF3SUKJAJJ60:XC3%NVE542D5W58W5746"
    "27B.AUN2I30MEYJS35/8N9SL/W2QMU%SIL1FAOCVWL+4TYGN DMS7FD 7W+N8E3L.PJM7FFWAKNB%E7:VFY5MWIB"
    "IM8$E MPI%8"
)


def test_the_kk2_worked_example_of_the_docs() -> None:
    """No zlib: the token itself is fixed, byte for byte."""
    token = make_kk2(private_key=EXAMPLE_KEY)
    assert token == EXAMPLE_KK2_TOKEN
    assert unwrap_kk2(token).hex() == EXAMPLE_KK2_COSE_HEX
    assert len(EXAMPLE_KK2_TOKEN) == 187
    assert qr_version(EXAMPLE_KK2_TOKEN) == 8
    verdict = check(EXAMPLE_KK2_TOKEN, keys={KID: EXAMPLE_KEY.public_key()})
    assert verdict.valid
    assert verdict.claims == check(EXAMPLE_TOKEN, keys={KID: EXAMPLE_KEY.public_key()}).claims
    doc = (Path(__file__).parents[2] / "docs" / "passes.md").read_text(encoding="utf-8")
    assert EXAMPLE_KK2_TOKEN in doc
    assert EXAMPLE_KK2_COSE_HEX in doc


@pytest.mark.parametrize("key_id", ["hxy1", "office-2026"])
def test_every_typical_kk2_pass_fits_qr_version_8(key_id: str) -> None:
    """The size target of the KK2 section of docs/passes.md: what KK1 put in version 9 (long key
    ids, gate lists, plates) fits version 8 (221 characters) as KK2."""
    year = ISSUED_AT + timedelta(days=365)
    typical = [
        {"holder": "张*"},
        {"holder": "张三"},
        {"holder": "Zhang S."},
        {"not_before": ISSUED_AT + timedelta(days=1)},
        {"kind": PassKind.VISITOR, "gates": ("north",)},
        {"kind": PassKind.VEHICLE, "plate": "京A12345"},
    ]
    for changes in typical:
        token = make_kk2(key_id=key_id, expires=year, **changes)
        kk1 = make_token(key_id=key_id, expires=year, **changes)
        assert len(token) <= len(kk1) - 21, changes  # zlib's 11 bytes and iss's 5, at least
        assert qr_version(token) <= 8, changes


VALID_KK2 = make_kk2()


def _refused_unless_unchanged(text: str) -> None:
    """KK2 has one spelling: any other text is refused, never a pass."""
    if text != VALID_KK2:
        _never_valid(text)


@given(st.binary(max_size=400))
def test_random_bytes_behind_the_kk2_prefix_never_verify(data: bytes) -> None:
    verdict = _never_valid(wrap_kk2(data))
    assert verdict.reason is VerifyReason.BAD_STRUCTURE


@CBOR_FUZZ
@given(CBOR_VALUES, CBOR_VALUES)
def test_kk2_signed_random_claims_and_headers_never_verify(claims: object, header: object) -> None:
    _never_valid(wrap_kk2(sign1_kk2(claims)))
    _never_valid(wrap_kk2(sign1_kk2(kk2_claims(), protected=header)))


@given(st.binary(max_size=300), st.binary(max_size=20))
def test_kk2_signed_random_payload_or_aad_never_verifies(payload: bytes, aad: bytes) -> None:
    _never_valid(wrap_kk2(sign1_kk2(None, payload=payload)))
    if aad != b"KK2:hxy":
        _never_valid(wrap_kk2(sign1_kk2(kk2_claims(), aad=aad)))


@CBOR_FUZZ
@given(
    st.dictionaries(st.sampled_from([1, 2, 4, 5, 6, -1, -2, -3, -4, -5]), CBOR_VALUES, max_size=10)
)
def test_kk2_signed_claims_with_wrong_types_never_verify_unless_well_formed(
    changes: dict[int, object],
) -> None:
    claims = {**kk2_claims(), **changes}
    verdict = check(wrap_kk2(sign1_kk2(claims)))
    if verdict.valid:
        assert 1 not in claims
        assert 6 not in claims
        assert passes.decode_unverified(wrap_kk2(sign1_kk2(claims)), community="hxy") == (
            verdict.claims
        )


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(mutations((VALID_KK2,)))
def test_mutated_kk2_tokens_never_verify(case: tuple[str, str]) -> None:
    _refused_unless_unchanged(case[1])


def test_no_single_character_change_anywhere_verifies_as_kk2() -> None:
    """Exhaustive: every position, every Base45 character. KK2 has no bits a decoder skips."""
    assert check(VALID_KK2).valid
    for at in range(len(VALID_KK2)):
        for character in ALPHABET:
            _refused_unless_unchanged(VALID_KK2[:at] + character + VALID_KK2[at + 1 :])
