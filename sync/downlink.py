"""Signed downlink documents: sign at the office, verify at the gate. Pure: no I/O; the clock
is an argument.

Format (docs/mqtt.md, "Signed downlink"): a JSON envelope ``{"v":1, "type":"signed", "kid",
"payload", "sig"}`` whose ``payload`` is the document's JSON *text* and ``sig`` is the Ed25519
signature (base64url, no padding) over ``SIGNING_CONTEXT + payload.encode("utf-8")``.

Why not canonical JSON: the verifier checks the exact bytes it was sent, so no two programs have
to agree on how to re-serialise floats or key order, and the document still reads as JSON in any
MQTT tool. Why not COSE like passes: a pass must fit a QR code; a downlink document need not, and
JSON keeps it inspectable. The context string keeps a downlink signature from ever being valid
as a pass signature (whose signed bytes start with CBOR ``84 6A``) or the reverse.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
from collections.abc import Container, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from edge.passes import is_gate_key
from sync.contract import (
    MAX_PAYLOAD_BYTES,
    DownlinkDocument,
    DownlinkKind,
    Malformed,
    SignedEnvelope,
    parse_payload,
)

SIGNING_CONTEXT = b"kakou-downlink-v1\n"


class Refusal(StrEnum):
    """Why a downlink message was not applied. One code per failure; the first found wins."""

    MALFORMED = "malformed"
    UNSIGNED = "unsigned"
    UNKNOWN_KEY = "unknown_key"
    BAD_SIGNATURE = "bad_signature"
    WRONG_TYPE = "wrong_type"
    WRONG_COMMUNITY = "wrong_community"
    STALE = "stale"
    REPLAYED = "replayed"
    BAD_BODY = "bad_body"
    NOT_A_SIGNER = "not_a_signer"
    IMPLAUSIBLE = "implausible"
    FORBIDDEN_KEY = "forbidden_key"


ALARMING = frozenset(
    {Refusal.NOT_A_SIGNER, Refusal.BAD_SIGNATURE, Refusal.IMPLAUSIBLE, Refusal.FORBIDDEN_KEY}
)
"""Refusals that mean a key is misused or forged rather than a message garbled or repeated:
the gate raises an alarm (``downlink_refused``) for each, so the office hears of it."""


@dataclass(frozen=True, slots=True)
class Rejected:
    reason: Refusal
    detail: str


@dataclass(frozen=True, slots=True)
class Opened:
    """A document whose signature verified: which key signed it and the digest of its bytes."""

    document: DownlinkDocument
    kid: str
    sha256: str


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def document_text(document: DownlinkDocument) -> str:
    """The payload text the office signs: compact JSON of the document, keys sorted."""
    return json.dumps(
        document.model_dump(mode="json"),
        ensure_ascii=False,
        allow_nan=False,
        sort_keys=True,
        separators=(",", ":"),
    )


def sign_document(document: DownlinkDocument, *, key: Ed25519PrivateKey, kid: str) -> bytes:
    """The envelope to publish (retained) for ``document``, signed with ``key`` as ``kid``."""
    payload = document_text(document)
    signature = key.sign(SIGNING_CONTEXT + payload.encode("utf-8"))
    envelope = SignedEnvelope(kid=kid, payload=payload, sig=_b64url(signature))
    return envelope.model_dump_json().encode("utf-8")


def open_envelope(
    message: bytes,
    *,
    keys: Mapping[str, Ed25519PublicKey],
    community: str,
    kind: DownlinkKind,
    pass_keys: Container[str] = frozenset(),
) -> Opened | Rejected:
    """Verify a downlink message from ``kind``'s topic; never raises on any input.

    ``keys`` are the downlink signers only; ``pass_keys`` the ids the gate trusts for passes
    alone, so a document signed with one is told apart (``not_a_signer``) from an unknown key.
    A gate's own ``gate-`` key is never a signer, whatever the caller passes. Checks, in order:
    JSON object, signed envelope, a signer key, the signature, then the document's shape, type
    (must match the topic) and community. Plausibility and version order are the caller's
    (``judge_plausible``, ``judge_version``), since they need the clock and what was applied.
    """
    if len(message) > MAX_PAYLOAD_BYTES:
        return Rejected(Refusal.MALFORMED, f"{len(message)} bytes is over the limit")
    try:
        raw = json.loads(message)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        return Rejected(Refusal.MALFORMED, f"not JSON: {str(exc)[:120]}")
    if not isinstance(raw, dict):
        return Rejected(Refusal.MALFORMED, "not a JSON object")
    if "sig" not in raw or "kid" not in raw:
        return Rejected(Refusal.UNSIGNED, "no signature: a bare document is never applied")
    envelope = parse_payload(SignedEnvelope, message)
    if isinstance(envelope, Malformed):
        return Rejected(Refusal.MALFORMED, f"envelope: {envelope.reason}")
    public_key = None if is_gate_key(envelope.kid) else keys.get(envelope.kid)
    if public_key is None and (envelope.kid in pass_keys or is_gate_key(envelope.kid)):
        return Rejected(
            Refusal.NOT_A_SIGNER, f"key {envelope.kid!r} may sign passes, never downlink"
        )
    if public_key is None:
        return Rejected(Refusal.UNKNOWN_KEY, f"signed with key {envelope.kid!r}, not trusted here")
    payload = envelope.payload.encode("utf-8")
    try:
        signature = _unb64url(envelope.sig)
        public_key.verify(signature, SIGNING_CONTEXT + payload)
    except (InvalidSignature, binascii.Error, ValueError):
        return Rejected(Refusal.BAD_SIGNATURE, f"signature does not match key {envelope.kid!r}")
    document = parse_payload(DownlinkDocument, payload)
    if isinstance(document, Malformed):
        return Rejected(Refusal.MALFORMED, f"document: {document.reason}")
    if document.type is not kind:
        return Rejected(
            Refusal.WRONG_TYPE, f"a {document.type} document on the {kind} topic is not applied"
        )
    if document.community != community:
        return Rejected(
            Refusal.WRONG_COMMUNITY, f"for community {document.community!r}, not {community!r}"
        )
    return Opened(document, envelope.kid, hashlib.sha256(payload).hexdigest())


@dataclass(frozen=True, slots=True)
class Applied:
    """What the gate last applied for one kind (kept in the store's meta table)."""

    version: int
    issued_at: str
    sha256: str
    kid: str


def judge_plausible(opened: Opened, *, now: datetime, max_future_s: float) -> Rejected | None:
    """None if ``opened`` could have been signed by now; else why not (``implausible``).

    The contract (docs/mqtt.md, "Versions"): a document is issued no later than the gate's clock
    plus ``max_future_s``, and its version is never more than its issue time in Unix seconds.
    So no version a gate accepts exceeds its own clock by more than the allowed skew, and a
    leaked signer cannot push the counter beyond the reach of the office's next documents.
    """
    document = opened.document
    ahead_s = (document.issued_at - now).total_seconds()
    if ahead_s > max_future_s:
        return Rejected(
            Refusal.IMPLAUSIBLE,
            f"issued at {document.issued_at.isoformat()}, {ahead_s:.0f} s in the future of the "
            f"gate's clock (allowed {max_future_s:.0f} s); signed by {opened.kid!r}",
        )
    ceiling = math.floor(document.issued_at.timestamp())
    if document.version > ceiling:
        return Rejected(
            Refusal.IMPLAUSIBLE,
            f"version {document.version} is beyond its issue time in Unix seconds ({ceiling}); "
            f"signed by {opened.kid!r}",
        )
    return None


def judge_version(
    applied: Applied | None, opened: Opened, *, signers: Container[str]
) -> Rejected | None:
    """None if ``opened`` is newer than what was applied; else why it is refused.

    A retained document arrives again at every reconnect: the same version with the same bytes
    is a ``replayed`` no-op. An older version, or the same version with other bytes, is refused
    (``stale``): versions only ever grow, so either is a replay of something superseded or a
    signer reusing a number. A version applied from a key that is no longer among ``signers``
    binds nothing: rotating the signer on the gate starts the count again, so a leaked key's
    last document can never block its successor's.
    """
    if applied is None or applied.kid not in signers or opened.document.version > applied.version:
        return None
    if opened.document.version == applied.version and opened.sha256 == applied.sha256:
        return Rejected(Refusal.REPLAYED, f"version {applied.version} is already applied")
    return Rejected(
        Refusal.STALE,
        f"version {opened.document.version} is not newer than applied {applied.version}",
    )
