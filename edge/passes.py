"""Signed pass tokens, contracts KK1 and KK2: issue, verify and inspect (docs/passes.md).

A KK1 token is ``"KK1:" + Base45(zlib(COSE_Sign1(CWT claims)))``; a KK2 token, the compact one
new passes get, is ``"KK2:" + Base45(COSE_Sign1(CWT claims))``, with no zlib layer and its
community signed as external data rather than carried. Both are signed with Ed25519 and verify
offline: a gate needs only the community's public keys, a revocation list and the time.

Every byte of a token comes from whoever printed the QR code, so ``verify`` treats it as hostile:
the length is capped before any decoding, decompression and CBOR nesting are bounded, and failures
become a ``Verdict`` with one reason code. What is signed has one spelling (the COSE and CBOR
layers admit only their deterministic encoding); KK1's zlib layer around it may be any RFC 1950
stream a standard tool writes, so a pass is known by its COSE bytes (``Verdict.token_id``), never
by its text. A KK2 token has exactly one text. This module does no I/O and reads no clock.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import importlib.metadata
import math
import re
import zlib
from collections.abc import Callable, Container, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

import cbor2
import nacl.exceptions
import nacl.signing
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from edge.base45 import b45decode, b45encode
from edge.model import PassClaims, PassKind, Verdict, VerifyReason


class TokenFormat(StrEnum):
    """A token contract (docs/passes.md). KK2 is what new passes get; KK1 stays verifiable."""

    KK1 = "kk1"
    KK2 = "kk2"


PREFIX = "KK1:"  # contract KK1
PREFIX_KK2 = "KK2:"
# Gates that run code older than KK2 refuse it: an office upgrades every gate, then issues KK2.
DEFAULT_FORMAT = TokenFormat.KK2
MAX_TOKEN_CHARS = 2048  # refused unread: a real pass is about 190-230 characters
MAX_COSE_BYTES = 4096  # decompression stops here, so a zip bomb costs at most this much memory
KEY_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,32}")
# Community, pass and gate ids: one line of a revocation file, never containing '#' or spaces.
ID_PATTERN = re.compile(r"[A-Za-z0-9_.-]{1,32}")
MAX_TEXT_CHARS = 32  # holder, unit
MAX_PLATE_CHARS = 16
MAX_GATES = 16
MAX_EPOCH_S = 253_402_300_799  # 9999-12-31T23:59:59Z, the last second datetime can hold
# Keys a gate makes for the visitors it registers. The scope travels with the name, so every
# gate that trusts such a key holds it to visitor and vehicle passes, whoever copied it there.
GATE_KEY_PREFIX = "gate-"
GATE_KEY_KINDS = frozenset({PassKind.VISITOR, PassKind.VEHICLE})

# Kind codes are part of the KK1 contract: never renumber, only append.
KIND_CODES: Mapping[PassKind, int] = {
    PassKind.RESIDENT: 1,
    PassKind.TEMPORARY: 2,
    PassKind.VISITOR: 3,
    PassKind.STAFF: 4,
    PassKind.VEHICLE: 5,
}
_KIND_BY_CODE = {code: kind for kind, code in KIND_CODES.items()}

# CWT claim keys (RFC 8392 section 3.1.1) and Kakou's private-use keys (negative, one byte each).
CLAIM_ISS = 1  # community id
CLAIM_SUB = 2  # pass id
CLAIM_EXP = 4
CLAIM_NBF = 5  # KK1: omitted when equal to iat; KK2: the pass's one start time, required
CLAIM_IAT = 6  # KK1 only
CLAIM_KIND = -1
CLAIM_HOLDER = -2
CLAIM_UNIT = -3
CLAIM_GATES = -4  # omitted when the pass is good at every gate
CLAIM_PLATE = -5  # omitted when the pass names no vehicle
_REQUIRED_CLAIMS = frozenset(
    {CLAIM_ISS, CLAIM_SUB, CLAIM_EXP, CLAIM_IAT, CLAIM_KIND, CLAIM_HOLDER, CLAIM_UNIT}
)
_KNOWN_CLAIMS = _REQUIRED_CLAIMS | {CLAIM_NBF, CLAIM_GATES, CLAIM_PLATE}
# KK2 carries no iss (the community is signed as external_aad) and one start time, nbf.
_KK2_REQUIRED_CLAIMS = frozenset(
    {CLAIM_SUB, CLAIM_EXP, CLAIM_NBF, CLAIM_KIND, CLAIM_HOLDER, CLAIM_UNIT}
)
_KK2_KNOWN_CLAIMS = _KK2_REQUIRED_CLAIMS | {CLAIM_GATES, CLAIM_PLATE}
_INT_ONLY = frozenset({int})

COSE_SIGN1_TAG = 18  # RFC 9052 section 4.2
# The protected header {1: -8, 4: h'kid'} (alg: EdDSA, kid) starts with these bytes: map of 2,
# label 1, -8, label 4; the kid's byte string follows.
_PROTECTED_START = b"\xa2\x01\x27\x04"
_ED25519_SIGNATURE_BYTES = 64
_SIG_STRUCTURE_START = b"\x84\x6aSignature1"
# Issued at level 9 (header 78 DA) so printed passes stay the same; verifiers take any level.
_ZLIB_LEVEL = 9
_ZLIB_DEFLATE = 8  # RFC 1950 §2.2 CM: the only compression method zlib defines
_ZLIB_MAX_CINFO = 7  # a window of 2^(7+8) = 32 KiB, the most DEFLATE uses
_ZLIB_FDICT = 0x20  # FLG bit: a preset dictionary, which a gate does not have
_TOKEN_ID_BYTES = 32  # BLAKE2b-256 (RFC 7693) of the COSE_Sign1 bytes
_MAX_CBOR_DEPTH = 8  # tag > array > map > array is the deepest a valid token goes
# cbor2 6 refuses indefinite lengths and duplicate map keys while decoding. 5.x, its last
# pure-Python release (what 32-bit Pi OS installs: cbor2 6 has no armv7l wheel), has no such
# options; there the byte-for-byte re-encoding checks below refuse both all the same.
_STRICT_CBOR = int(importlib.metadata.version("cbor2").split(".")[0]) >= 6


@dataclass(frozen=True, slots=True)
class _SignedPass:
    """A token taken apart but not yet trusted: the signed bytes, the signature, the claims.

    A KK2 pass does not carry its community: ``claims.community`` is the one it was taken apart
    for, which only a signature over that community (``external_aad``) proves.
    """

    token_format: TokenFormat
    protected: bytes
    payload: bytes
    signature: bytes
    claims: PassClaims
    token_id: str


class _RejectedError(Exception):
    """Carries the first failure from deep in the decoder up to the public functions.

    Never escapes this module: ``verify`` turns it into a ``Verdict``, ``decode_unverified``
    into ``None``.
    """

    def __init__(self, reason: VerifyReason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


# ---------------------------------------------------------------------------------------------
# Issuing


def issue(
    private_key: Ed25519PrivateKey,
    *,
    key_id: str,
    community: str,
    pass_id: str,
    kind: PassKind,
    holder: str,
    unit: str,
    not_before: datetime,
    expires: datetime,
    issued_at: datetime,
    gates: Iterable[str] = (),
    plate: str | None = None,
    token_format: TokenFormat = DEFAULT_FORMAT,
) -> str:
    """Sign a pass and return its token. Raises ``ValueError`` on a field the contract forbids.

    Times must be timezone-aware and are kept to the whole second (floored). ``holder`` is
    stored as given: pass ``mask_holder(name)`` to keep a full name out of the QR code. A KK2
    token (the default, a QR version smaller) carries ``not_before`` as its one start time, not
    ``issued_at``; gates must run code that knows KK2 before an office issues it.
    """
    token_format = TokenFormat(token_format)
    kind = PassKind(kind)  # also accepts the kind's name, "resident"
    gate_list = tuple(gates)
    check_field("key_id", key_id)
    check_field("community", community)
    check_field("pass_id", pass_id)
    check_field("holder", holder)
    check_field("unit", unit)
    for gate in gate_list:
        check_field("gate", gate)
    if len(gate_list) > MAX_GATES:
        raise ValueError(f"at most {MAX_GATES} gates, got {len(gate_list)}")
    if len(set(gate_list)) != len(gate_list):
        raise ValueError("gates are listed twice")
    if plate is not None:
        check_field("plate", plate)
    if kind is PassKind.VEHICLE and plate is None:
        raise ValueError("a vehicle pass needs a plate")
    nbf_s = _epoch_s("not_before", not_before)
    exp_s = _epoch_s("expires", expires)
    iat_s = _epoch_s("issued_at", issued_at)
    if exp_s <= nbf_s:
        raise ValueError("expires must be after not_before")

    claims: dict[int, object] = {}
    if token_format is TokenFormat.KK1:
        claims[CLAIM_ISS] = community
    claims[CLAIM_SUB] = pass_id
    claims[CLAIM_EXP] = exp_s
    if token_format is TokenFormat.KK2 or nbf_s != iat_s:
        claims[CLAIM_NBF] = nbf_s
    if token_format is TokenFormat.KK1:
        claims[CLAIM_IAT] = iat_s
    claims[CLAIM_KIND] = KIND_CODES[kind]
    claims[CLAIM_HOLDER] = holder
    claims[CLAIM_UNIT] = unit
    if gate_list:
        claims[CLAIM_GATES] = list(gate_list)
    if plate is not None:
        claims[CLAIM_PLATE] = plate
    # Keys were inserted in bytewise order of their encodings, so this is RFC 8949 section 4.2.1
    # deterministic CBOR, as is the protected header below.
    payload = cbor2.dumps(claims)
    protected = _protected_header(key_id)
    aad = _external_aad(token_format, community)
    signature = private_key.sign(_sig_structure(protected, payload, aad))
    cose = _sign1_bytes(protected, payload, signature)
    if token_format is TokenFormat.KK1:
        return PREFIX + b45encode(zlib.compress(cose, _ZLIB_LEVEL))
    return PREFIX_KK2 + b45encode(cose)


def check_field(field: str, value: str) -> str:
    """Return ``value`` if the token contract allows it for ``field``, else raise ``ValueError``.

    Ids are ASCII so they survive revocation files and logs unchanged; display text must be
    printable so a pass cannot smuggle control characters onto a guard's terminal.
    """
    rule = _FIELD_RULES.get(field)
    if rule is None:
        raise ValueError(f"no such pass field: {field!r}")
    return rule(field, value)


def _check_key_id(field: str, value: str) -> str:
    if not KEY_ID_PATTERN.fullmatch(value):
        raise ValueError(f"key id {value!r} must match [A-Za-z0-9_-]{{1,32}}")
    return value


def _check_id(field: str, value: str) -> str:
    if not ID_PATTERN.fullmatch(value):
        raise ValueError(f"{field} {value!r} must match [A-Za-z0-9_.-]{{1,32}}")
    return value


def _check_display_text(field: str, value: str) -> str:
    limit = MAX_PLATE_CHARS if field == "plate" else MAX_TEXT_CHARS
    if not value or len(value) > limit or value != value.strip():
        raise ValueError(f"{field} must be 1 to {limit} characters, no outer spaces")
    if not value.isprintable():
        raise ValueError(f"{field} must not contain control characters")
    return value


_FIELD_RULES: dict[str, Callable[[str, str], str]] = {
    "key_id": _check_key_id,
    "community": _check_id,
    "pass_id": _check_id,
    "gate": _check_id,
    "holder": _check_display_text,
    "unit": _check_display_text,
    "plate": _check_display_text,
}


def mask_holder(name: str) -> str:
    """Shorten a name for the QR code: surname plus a masked given name.

    '张三' → '张*', '欧阳娜娜' → '欧*', 'Zhang San' → 'Zhang S.'. Anyone's phone can read a QR
    code, so the token carries just enough for a guard to match the pass to its holder.
    """
    words = name.split()
    if len(words) > 1:
        return " ".join([words[0], *(word[0] + "." for word in words[1:])])
    compact = "".join(words)
    return compact if len(compact) <= 1 else compact[0] + "*"


def expiry_after_days(not_before: datetime, days: int) -> datetime:
    """Midnight at the end of the ``days``-th calendar day, counting the day of ``not_before``.

    Printed passes show dates, not times, so a pass runs to the end of its last day in the
    issuer's time zone: issued on 1 January for 365 days, it expires at 00:00 on 1 January of
    the next (non-leap) year and the card says "to 31 December".
    """
    if not_before.tzinfo is None:
        raise ValueError("not_before must be timezone-aware")
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    last_day: date = not_before.date() + timedelta(days=days)
    return datetime.combine(last_day, time(0), tzinfo=not_before.tzinfo)


def _epoch_s(name: str, moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware")
    epoch_s = math.floor(moment.timestamp())
    if not 0 <= epoch_s <= MAX_EPOCH_S:
        raise ValueError(f"{name} is outside 1970..9999")
    return epoch_s


def _protected_header(key_id: str) -> bytes:
    """The protected header map {1: -8, 4: h'kid'} (alg EdDSA, kid), deterministic CBOR."""
    kid = key_id.encode("ascii")
    return _PROTECTED_START + _bstr_head(kid) + kid


def _sign1_bytes(protected: bytes, payload: bytes, signature: bytes) -> bytes:
    """18([protected, {}, payload, signature]) in preferred encoding (RFC 9052 section 4.2).

    Written out rather than through cbor2: the verifier rebuilds it for every scan to prove
    the token it was given has no other spelling, and byte joins are the cheapest way.
    """
    return b"".join(
        (
            b"\xd2\x84",  # tag 18, array of 4
            _bstr_head(protected),
            protected,
            b"\xa0",  # empty unprotected header
            _bstr_head(payload),
            payload,
            _bstr_head(signature),
            signature,
        )
    )


def _bstr_head(data: bytes) -> bytes:
    """The head of a CBOR byte string of ``len(data)`` bytes, shortest form (RFC 8949 §3)."""
    length = len(data)
    if length < 24:
        return bytes((0x40 | length,))
    if length < 0x100:
        return bytes((0x58, length))
    if length < 0x10000:
        return b"\x59" + length.to_bytes(2, "big")
    return b"\x5a" + length.to_bytes(4, "big")


def _sig_structure(protected: bytes, payload: bytes, external_aad: bytes = b"") -> bytes:
    """What Ed25519 signs: COSE_Sign1's Sig_structure (RFC 9052 §4.4).

    ["Signature1", protected, external_aad, payload], written out like ``_sign1_bytes``.
    """
    return b"".join(
        (
            _SIG_STRUCTURE_START,
            _bstr_head(protected),
            protected,
            _bstr_head(external_aad),
            external_aad,
            _bstr_head(payload),
            payload,
        )
    )


def _external_aad(token_format: TokenFormat, community: str) -> bytes:
    """The external_aad of a token's signature: empty for KK1; ``KK2:`` and the community for KK2.

    KK2 signs its community without carrying it, so a pass verifies only at the community it
    was signed for, whichever keys a gate trusts; and as a KK1 signature covers an empty
    external_aad, a signature made for one contract never verifies under the other.
    """
    if token_format is TokenFormat.KK1:
        return b""
    # surrogatepass: a gate's configured community is not the token's to choose, but encoding
    # it must not raise on any text; ids are ASCII, so this is their ASCII bytes.
    return PREFIX_KK2.encode("ascii") + community.encode("utf-8", "surrogatepass")


# ---------------------------------------------------------------------------------------------
# Key scope


def is_gate_key(key_id: str) -> bool:
    """A gate's visitor key: it may sign only short visitor and vehicle passes."""
    return key_id.startswith(GATE_KEY_PREFIX)


def within_gate_key_scope(verdict: Verdict, *, max_validity: timedelta) -> Verdict:
    """Refuse a valid pass that a gate key signed beyond its scope (kind, length, gates).

    A gate's key sits on a device in a guard hut; if it leaks, the worst it may mint is a
    visitor pass of a few days for one gate, never a resident's year-long pass.
    """
    claims = verdict.claims
    if not verdict.valid or claims is None or not is_gate_key(claims.key_id):
        return verdict
    problem = ""
    if claims.kind not in GATE_KEY_KINDS:
        problem = f"a gate key may not sign a {claims.kind.value} pass"
    elif claims.expires - claims.not_before > max_validity:
        problem = f"a gate key may not sign a pass longer than {max_validity}"
    elif not claims.gates:
        problem = "a gate key's pass must name its gate"
    if problem:
        return dataclasses.replace(verdict, reason=VerifyReason.KEY_SCOPE, detail=problem)
    return verdict


# ---------------------------------------------------------------------------------------------
# Verifying


def verify(
    token: str,
    *,
    keys: Mapping[str, Ed25519PublicKey],
    revoked: Container[str],
    community: str,
    gate: str | None,
    now: datetime,
) -> Verdict:
    """Decide whether ``token`` (KK1 or KK2) admits its holder at ``gate`` of ``community``.

    Never raises on any token and never accepts a bad one: the first failure found wins, in the
    order too_large, bad_encoding, bad_structure, unknown_key, bad_signature, wrong_community,
    not_yet_valid, expired, gate_not_allowed, revoked. Failures after a good signature carry the
    claims so the log can say whose pass it was; from unknown_key on, the token parsed and the
    verdict carries its ``token_id``, one for every zlib spelling of the pass. A KK2 pass of
    another community is bad_signature: its community is signed, not carried. ``gate=None``
    skips the gate check. A naive ``now`` is a programming error and raises ``ValueError``.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    try:
        signed = _take_apart(token, community)
    except _RejectedError as rejected:
        return Verdict(reason=rejected.reason, detail=rejected.detail)
    key_id = signed.claims.key_id
    public_key = keys.get(key_id)
    if public_key is None:
        detail = f"signed with key {key_id!r}, which this gate does not trust"
        return Verdict(reason=VerifyReason.UNKNOWN_KEY, detail=detail, token_id=signed.token_id)
    aad = _external_aad(signed.token_format, community)
    if not _signature_ok(public_key, signed.signature, signed.protected, signed.payload, aad):
        detail = f"signature does not match key {key_id!r}"
        if signed.token_format is TokenFormat.KK2:
            detail += f" for community {_printable(community, 40)!r}"
        return Verdict(reason=VerifyReason.BAD_SIGNATURE, detail=detail, token_id=signed.token_id)
    # A KK2 pass's claims name this gate's community, which its signature has just covered.
    claims = signed.claims
    reason, detail = _judge(claims, community=community, gate=gate, revoked=revoked, now=now)
    return Verdict(reason=reason, claims=claims, detail=detail, token_id=signed.token_id)


@functools.lru_cache(maxsize=64)
def _fast_key(raw_public_key: bytes) -> nacl.signing.VerifyKey:
    """The key for libsodium, which checks Ed25519 about twice as fast as OpenSSL here
    (bench/bench_passes.py); keys are few, so each is converted once."""
    return nacl.signing.VerifyKey(raw_public_key)


def _signature_ok(
    public_key: Ed25519PublicKey,
    signature: bytes,
    protected: bytes,
    payload: bytes,
    external_aad: bytes,
) -> bool:
    message = _sig_structure(protected, payload, external_aad)
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    try:
        _fast_key(raw).verify(message, signature)
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError):
        return False
    return True


def decode_unverified(token: str, *, community: str = "") -> PassClaims | None:
    """The claims of a well-formed token, signature NOT checked; ``None`` if it is malformed.

    For diagnostics only, such as showing what a refused or foreign card says: nothing here
    proves who issued the pass. A KK2 token does not carry its community, so its claims say
    ``community`` (empty unless given); a KK1 token's say its own.
    """
    try:
        return _take_apart(token, community).claims
    except _RejectedError:
        return None


def _judge(
    claims: PassClaims,
    *,
    community: str,
    gate: str | None,
    revoked: Container[str],
    now: datetime,
) -> tuple[VerifyReason | None, str]:
    """The checks that follow a good signature, in contract order: the first failure and its
    detail, or ``(None, "")``."""
    if claims.community != community:
        return (
            VerifyReason.WRONG_COMMUNITY,
            f"pass is for community {claims.community!r}, this gate is {community!r}",
        )
    if now < claims.not_before:
        return VerifyReason.NOT_YET_VALID, f"valid from {claims.not_before.isoformat()}"
    if now >= claims.expires:  # RFC 8392 §3.1.4: not accepted on or after exp
        return VerifyReason.EXPIRED, f"expired at {claims.expires.isoformat()}"
    if gate is not None and claims.gates and gate not in claims.gates:
        return (
            VerifyReason.GATE_NOT_ALLOWED,
            f"pass allows gates {', '.join(claims.gates)}, not {gate!r}",
        )
    if claims.pass_id in revoked:
        return VerifyReason.REVOKED, f"pass {claims.pass_id} is on the revocation list"
    return None, ""


def _take_apart(token: str, community: str) -> _SignedPass:
    """Undo each layer of the token, checking its shape; the first fault raises.

    ``community`` goes into a KK2 pass's claims unchecked: the caller's signature check proves it.
    """
    if not isinstance(token, str):  # a caller's bug, but the gate must still stay shut
        raise _RejectedError(VerifyReason.BAD_ENCODING, "token is not text")
    if len(token) > MAX_TOKEN_CHARS:
        raise _RejectedError(
            VerifyReason.TOO_LARGE, f"{len(token)} characters, the limit is {MAX_TOKEN_CHARS}"
        )
    if token.startswith(PREFIX_KK2):
        token_format = TokenFormat.KK2
    elif token.startswith(PREFIX):
        token_format = TokenFormat.KK1
    else:
        raise _RejectedError(
            VerifyReason.BAD_ENCODING, f"does not start with {PREFIX_KK2} or {PREFIX}"
        )
    try:
        # Both prefixes are 4 characters. At most 2044 Base45 characters decode to 1363 bytes,
        # under MAX_COSE_BYTES: a KK2 token is bounded by the character cap alone.
        data = b45decode(token[len(PREFIX) :])
    except ValueError as exc:
        raise _RejectedError(VerifyReason.BAD_ENCODING, str(exc)) from None
    cose = _inflate(data) if token_format is TokenFormat.KK1 else data
    return _parse_cose(cose, token_format, community)


def _inflate(compressed: bytes) -> bytes:
    """zlib-decompress at most ``MAX_COSE_BYTES`` from one complete RFC 1950 stream.

    Any level, window and DEFLATE blocks an encoder chose are accepted: they change the token's
    text, not what is signed, and a pass is known by what is signed (``token_id``).
    """
    inflater = zlib.decompressobj()
    try:
        # One byte over the cap tells "too large" from "exactly at the cap".
        inflated = inflater.decompress(compressed, MAX_COSE_BYTES + 1)
    except zlib.error:
        raise _RejectedError(VerifyReason.BAD_ENCODING, _zlib_fault(compressed)) from None
    if len(inflated) > MAX_COSE_BYTES:
        raise _RejectedError(
            VerifyReason.TOO_LARGE, f"decompresses to more than {MAX_COSE_BYTES} bytes"
        )
    if not inflater.eof or inflater.unused_data:
        raise _RejectedError(
            VerifyReason.BAD_ENCODING, "zlib: truncated, or bytes after the stream"
        )
    return inflated


def _zlib_fault(compressed: bytes) -> str:
    """Why zlib refused a stream, named after RFC 1950 §2.2 when the header is at fault.

    zlib itself holds the header to deflate, a window of at most 32 KiB (CINFO 7, as
    ``decompressobj()`` sets it), a right FCHECK and no preset dictionary, the one thing a gate
    never has; so these checks run only to explain a refusal, off the path of a good pass.
    FLEVEL is never a fault: it only records how hard the encoder tried.
    """
    if len(compressed) < 2:  # zlib waits for more rather than refuse, but be sure
        return "zlib: corrupt stream"
    cmf, flg = compressed[0], compressed[1]
    if cmf & 0x0F != _ZLIB_DEFLATE or cmf >> 4 > _ZLIB_MAX_CINFO:
        return "zlib: not deflate with a window of at most 32 KiB"
    if (cmf << 8 | flg) % 31:
        return "zlib: header check bits are wrong"
    if flg & _ZLIB_FDICT:
        return "zlib: preset dictionary not allowed"
    return "zlib: corrupt stream"  # a bad block or a wrong Adler-32


def _loads(data: bytes, what: str) -> object:
    """Decode one bounded CBOR item; the input was capped at ``MAX_COSE_BYTES`` upstream."""
    try:
        if not _STRICT_CBOR:
            return cbor2.loads(data, max_depth=_MAX_CBOR_DEPTH)
        return cbor2.loads(
            data,
            max_depth=_MAX_CBOR_DEPTH,
            allow_indefinite=False,
            allow_duplicate_keys=False,
        )
    # CBORDecodeError covers malformed CBOR and cbor2's semantic-tag decoders (dates, regexes,
    # UUIDs...), which chain their ValueError or TypeError; a bignum past Python's digit limit
    # raises ValueError bare; cbor2 5's decimal-fraction decoder lets decimal's
    # InvalidOperation (an ArithmeticError) out unwrapped. Anything else would be a bug in cbor2
    # and should surface.
    except (cbor2.CBORDecodeError, ValueError, TypeError, ArithmeticError) as exc:
        raise _RejectedError(
            VerifyReason.BAD_STRUCTURE, f"{what}: not well-formed CBOR ({_printable(str(exc))})"
        ) from None


def _printable(text: str, limit: int = 120) -> str:
    """``text`` with control characters escaped: details reach logs and a guard's terminal."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text[:limit])


def _parse_cose(cose: bytes, token_format: TokenFormat, community: str) -> _SignedPass:
    """Check the COSE_Sign1 envelope and its protected header, then the claims inside."""
    envelope = _loads(cose, "COSE_Sign1")
    if not (isinstance(envelope, cbor2.CBORTag) and envelope.tag == COSE_SIGN1_TAG):
        raise _RejectedError(VerifyReason.BAD_STRUCTURE, "not a tagged COSE_Sign1 (tag 18)")
    parts = envelope.value
    # cbor2 6 decodes the inside of a tag as immutable: a tuple, and a frozendict for the map;
    # cbor2 5 as a list and a dict.
    if not (isinstance(parts, tuple | list) and len(parts) == 4):
        raise _RejectedError(VerifyReason.BAD_STRUCTURE, "COSE_Sign1 is not an array of 4")
    protected, unprotected, payload, signature = parts
    if not (
        type(protected) is bytes
        # The kid lives in the protected header and nothing may sit beside it: the rebuild
        # below holds this slot to an empty map, a0.
        and not unprotected
        and type(payload) is bytes
        and type(signature) is bytes
        and len(signature) == _ED25519_SIGNATURE_BYTES
    ):
        raise _RejectedError(
            VerifyReason.BAD_STRUCTURE,
            "COSE_Sign1 must be [protected bstr, {}, payload bstr, 64-byte signature]",
        )
    if _sign1_bytes(protected, payload, signature) != cose:
        raise _RejectedError(VerifyReason.BAD_STRUCTURE, "COSE_Sign1 is not in preferred encoding")
    key_id = _parse_protected(protected)
    claims = _parse_claims(payload, key_id, token_format, community)
    return _SignedPass(
        token_format=token_format,
        protected=protected,
        payload=payload,
        signature=signature,
        claims=claims,
        # The envelope was just held to its one encoding, so these bytes are a function of the
        # signed content and the signature: the same for every zlib spelling of this pass, and
        # different for a copied signature under edited claims. KK1 claims hold iss and KK2's
        # never do, so no KK1 pass has a KK2 pass's bytes. BLAKE2b rather than SHA-256:
        # hashlib's OpenSSL SHA-256 cost 5 % of a verification here (bench/bench_passes.py).
        token_id=hashlib.blake2b(cose, digest_size=_TOKEN_ID_BYTES).hexdigest(),
    )


def _parse_protected(protected: bytes) -> str:
    """The key id from a protected header that is exactly {1: -8, 4: h'kid'}.

    Compared byte for byte with the one deterministic encoding (RFC 8949 §4.2.1), so another
    algorithm, an extra label (crit, content type...) or another spelling is refused, never
    skipped over.
    """
    if protected[:4] != _PROTECTED_START or len(protected) < 6:
        raise _RejectedError(
            VerifyReason.BAD_STRUCTURE,
            "protected header must be {1: -8, 4: kid}: alg EdDSA and the key id, nothing else",
        )
    kid = protected[5:] if protected[4] < 0x58 else protected[6:]  # after a 1- or 2-byte head
    key_id = kid.decode("latin-1")
    if not KEY_ID_PATTERN.fullmatch(key_id) or _protected_header(key_id) != protected:
        raise _RejectedError(
            VerifyReason.BAD_STRUCTURE, "kid must be a byte string of 1-32 [A-Za-z0-9_-]"
        )
    return key_id


def _parse_claims(
    payload: bytes, key_id: str, token_format: TokenFormat, community: str
) -> PassClaims:
    """Typed claims from the payload map; any unknown key, missing key or wrong type rejects.

    A KK2 pass names ``community``, which it does not carry: only its signature can say whether
    that is the one it was signed for.
    """
    if token_format is TokenFormat.KK1:
        required, known = _REQUIRED_CLAIMS, _KNOWN_CLAIMS
    else:
        required, known = _KK2_REQUIRED_CLAIMS, _KK2_KNOWN_CLAIMS
    claims = _loads(payload, "claims")
    if type(claims) is not dict or not set(map(type, claims)) <= _INT_ONLY:
        # Integer keys only: True == 1 and 1.0 == 1 in Python, and would pass for the community.
        raise _RejectedError(
            VerifyReason.BAD_STRUCTURE, "claims are not a CBOR map with integer keys"
        )
    if not claims.keys() <= known:
        # A newer contract adds claims under a new prefix; ignoring one here could skip a limit.
        unknown = min(claims.keys() - known)
        raise _RejectedError(VerifyReason.BAD_STRUCTURE, f"unknown claim {unknown}")
    if not claims.keys() >= required:
        missing = min(required - claims.keys())
        raise _RejectedError(VerifyReason.BAD_STRUCTURE, f"missing claim {missing}")

    kind_code = claims[CLAIM_KIND]
    if type(kind_code) is not int or kind_code not in _KIND_BY_CODE:
        raise _RejectedError(VerifyReason.BAD_STRUCTURE, f"unknown pass kind {kind_code!r:.20}")
    gates_value = claims.get(CLAIM_GATES, [])
    if type(gates_value) is not list or len(gates_value) > MAX_GATES:
        raise _RejectedError(
            VerifyReason.BAD_STRUCTURE, f"gates must be a list of at most {MAX_GATES}"
        )
    if token_format is TokenFormat.KK1:
        issued_at = _time_claim(claims, CLAIM_IAT)
        not_before = _time_claim(claims, CLAIM_NBF) if CLAIM_NBF in claims else issued_at
    else:  # KK2 says when a pass starts, not when it was signed
        not_before = issued_at = _time_claim(claims, CLAIM_NBF)
    expires = _time_claim(claims, CLAIM_EXP)
    if expires <= not_before:
        raise _RejectedError(VerifyReason.BAD_STRUCTURE, "exp is not after nbf")
    plate = claims.get(CLAIM_PLATE)
    if token_format is TokenFormat.KK1:
        community = _text_claim("community", claims[CLAIM_ISS])
    decoded = PassClaims(
        community=community,
        pass_id=_text_claim("pass_id", claims[CLAIM_SUB]),
        kind=_KIND_BY_CODE[kind_code],
        holder=_text_claim("holder", claims[CLAIM_HOLDER]),
        unit=_text_claim("unit", claims[CLAIM_UNIT]),
        gates=tuple(_text_claim("gate", gate) for gate in gates_value),
        not_before=not_before,
        expires=expires,
        issued_at=issued_at,
        key_id=key_id,
        plate=None if plate is None else _text_claim("plate", plate),
    )
    if cbor2.dumps(claims) != payload:
        raise _RejectedError(VerifyReason.BAD_STRUCTURE, "claims have extra or long-form bytes")
    return decoded


def _text_claim(field: str, value: object) -> str:
    if type(value) is not str:
        raise _RejectedError(VerifyReason.BAD_STRUCTURE, f"{field} is not text")
    try:
        return check_field(field, value)
    except ValueError as exc:
        raise _RejectedError(VerifyReason.BAD_STRUCTURE, str(exc)[:200]) from None


def _time_claim(claims: dict[object, object], key: int) -> datetime:
    value = claims[key]
    if type(value) is not int or not 0 <= value <= MAX_EPOCH_S:
        raise _RejectedError(
            VerifyReason.BAD_STRUCTURE, f"claim {key} is not whole epoch seconds in 1970..9999"
        )
    return datetime.fromtimestamp(value, tz=UTC)
