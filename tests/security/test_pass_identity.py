"""One pass, one identity (issue #10, part 6), in both contracts.

A pass is the COSE_Sign1 it carries, not the text of its QR code: any valid RFC 1950 spelling of
the same signed bytes verifies as that pass with one identity, the lane knows a re-spelled
re-scan for the code it has just seen, and a pass that another COSE implementation built verifies
here, as Kakou's verify there. A KK2 pass has no zlib layer, so it has one spelling, and it signs
its community as external_aad (docs/passes.md, "KK2").

The token side is built here from zlib, cbor2 and cryptography following RFC 1950, 9052 and
9285, never from ``edge.passes``, so these tests prove the format rather than the code.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import cbor2
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from edge import passes
from edge.model import Outcome, PassKind, Verdict, VerifyReason
from edge.policy import Policy
from tests.edge import test_lane as lane_rig
from tests.tokens import signed_token

# The lane rig of tests/edge/test_lane.py: a real store, MockFactory pins, the lane thread.
make_rig = lane_rig.make_rig
pin_factory = lane_rig.pin_factory

ISSUED_AT = datetime(2026, 3, 1, 1, 30, tzinfo=UTC)
EXPIRES = datetime(2027, 2, 28, 16, 0, tzinfo=UTC)
AT_GATE = ISSUED_AT + timedelta(days=10)
KID = "hxy1"
KEY = Ed25519PrivateKey.from_private_bytes(b"kakou pass identity test key 32B")
KEYS: dict[str, Ed25519PublicKey] = {KID: KEY.public_key()}


# ------------------------------------------------------------------ an independent encoder

B45_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"


def b45(data: bytes) -> str:
    """RFC 9285 §4: two bytes to three characters, least significant first."""
    out = []
    for at in range(0, len(data), 2):
        pair = data[at : at + 2]
        value = int.from_bytes(pair, "big")
        digits = 3 if len(pair) == 2 else 2
        for _ in range(digits):
            value, digit = divmod(value, 45)
            out.append(B45_ALPHABET[digit])
    return "".join(out)


def unb45(text: str) -> bytes:
    """RFC 9285 §4.2, the inverse of ``b45`` (no validation: used on Kakou's own output)."""
    out = bytearray()
    for at in range(0, len(text), 3):
        group = text[at : at + 3]
        value = sum(B45_ALPHABET.index(c) * 45**n for n, c in enumerate(group))
        out += value.to_bytes(2 if len(group) == 3 else 1, "big")
    return bytes(out)


def claims(**changes: object) -> dict[int, object]:
    """CWT claims of a resident pass as docs/passes.md lists them."""
    base: dict[int, object] = {
        1: "hxy",
        2: "R-0001234",
        4: int(EXPIRES.timestamp()),
        6: int(ISSUED_AT.timestamp()),
        -1: 1,
        -2: "张*",
        -3: "3-2-501",
    }
    base.update({int(k.removeprefix("c").replace("m", "-")): v for k, v in changes.items()})
    return base


def cose_sign1(claim_map: dict[int, object], key: Ed25519PrivateKey = KEY, kid: str = KID) -> bytes:
    """COSE_Sign1 per RFC 9052 §4.2 and §4.4, deterministic CBOR (RFC 8949 §4.2)."""
    protected = cbor2.dumps({1: -8, 4: kid.encode()}, canonical=True)
    payload = cbor2.dumps(claim_map, canonical=True)
    signature = key.sign(cbor2.dumps(["Signature1", protected, b"", payload]))
    return cbor2.dumps(cbor2.CBORTag(18, [protected, {}, payload, signature]))


def identity_of(cose: bytes) -> str:
    """``Verdict.token_id`` as docs/passes.md defines it: BLAKE2b-256 of the COSE_Sign1 bytes."""
    return hashlib.blake2b(cose, digest_size=32).hexdigest()


def token_of(stream: bytes) -> str:
    return "KK1:" + b45(stream)


def stream_of(token: str) -> bytes:
    return unb45(token.removeprefix("KK1:"))


def stored_stream(
    cose: bytes, chunk_sizes: tuple[int, ...], *, header: bytes = b"\x78\x01", pad: int = 0
) -> bytes:
    """RFC 1950 around stored DEFLATE blocks (RFC 1951 §3.2.4) of the given sizes, the last
    block taking the rest; ``pad`` sets the header bits an inflater skips."""
    chunks, at = [], 0
    for size in chunk_sizes:
        chunks.append(cose[at : at + size])
        at += size
    chunks.append(cose[at:])
    out = bytearray(header)
    for number, chunk in enumerate(chunks):
        out.append((1 if number == len(chunks) - 1 else 0) | pad << 3)
        out += len(chunk).to_bytes(2, "little") + (len(chunk) ^ 0xFFFF).to_bytes(2, "little")
        out += chunk
    return bytes(out) + zlib.adler32(cose).to_bytes(4, "big")


def compressed(
    cose: bytes, level: int = -1, wbits: int = 15, mem: int = 8, strategy: int = 0
) -> bytes:
    deflater = zlib.compressobj(level, zlib.DEFLATED, wbits, mem, strategy)
    return deflater.compress(cose) + deflater.flush()


def flushed(cose: bytes) -> bytes:
    """A stream cut by a sync flush mid-way, as a streaming encoder writes it."""
    deflater = zlib.compressobj(6)
    half = len(cose) // 2
    first = deflater.compress(cose[:half]) + deflater.flush(zlib.Z_SYNC_FLUSH)
    return first + deflater.compress(cose[half:]) + deflater.flush()


def spellings(cose: bytes) -> dict[str, bytes]:
    """Many valid RFC 1950 streams of the same bytes: every level, window, memory level,
    strategy, flush and stored-block split an encoder may choose."""
    found = {f"level {level}": zlib.compress(cose, level) for level in range(10)}
    found |= {f"window 2^{bits}": compressed(cose, 9, wbits=bits) for bits in range(9, 16)}
    found |= {f"memLevel {mem}": compressed(cose, 9, mem=mem) for mem in (1, 9)}
    strategies = {
        "filtered": zlib.Z_FILTERED,
        "huffman only": zlib.Z_HUFFMAN_ONLY,
        "rle": zlib.Z_RLE,
        "fixed": zlib.Z_FIXED,
    }
    found |= {name: compressed(cose, 6, strategy=code) for name, code in strategies.items()}
    found["sync flush"] = flushed(cose)
    for sizes in [(), (0,), (1,), (7, 7, 7), (32,), (64,), (100,), (len(cose) - 1,)]:
        found[f"stored blocks {sizes}"] = stored_stream(cose, sizes)
    found |= {
        f"stored, 78 DA, split at {cut}": stored_stream(cose, (cut,), header=b"\x78\xda")
        for cut in range(1, len(cose))
    }
    found["stored, ignored header bits set"] = stored_stream(cose, (), pad=0b11111)
    return found


def check(token: str, keys: dict[str, Ed25519PublicKey] = KEYS) -> Verdict:
    return passes.verify(
        token, keys=keys, revoked=frozenset(), community="hxy", gate="north", now=AT_GATE
    )


GENUINE = cose_sign1(claims())
# A long pass of repeated text: encoders choose Huffman blocks, fixed and dynamic, for it.
LONG = cose_sign1(
    claims(
        m2="Zhang San Feng",
        m3="Building 3 Unit 2",
        m4=["north", *(f"north-{n:02d}" for n in range(15))],
    )
)


# ------------------------------------------------------------------ (a) one pass, one identity


@pytest.mark.parametrize("cose", [GENUINE, LONG], ids=["typical", "long"])
def test_every_spelling_of_one_pass_verifies_as_that_pass_with_one_identity(cose: bytes) -> None:
    found = spellings(cose)
    verdicts = {name: check(token_of(stream)) for name, stream in found.items()}

    refused = {name: v.reason for name, v in verdicts.items() if not v.valid}
    assert refused == {}
    assert len({token_of(s) for s in found.values()}) > 130  # that many distinct texts...
    assert {v.token_id for v in verdicts.values()} == {identity_of(cose)}  # ...one identity
    assert len({v.claims for v in verdicts.values()}) == 1


def test_the_spellings_cover_stored_fixed_and_dynamic_blocks() -> None:
    """So the test above proves what it says: every DEFLATE block type was tried."""
    block_types = {
        stream[2] >> 1 & 0b11 for cose in (GENUINE, LONG) for stream in spellings(cose).values()
    }
    assert block_types == {0, 1, 2}


def test_a_forged_copy_with_the_genuine_signature_is_another_code() -> None:
    """The identity covers the signed bytes and the signature together: a card whose claims were
    edited under a copied signature must not pass for the genuine code (and be swallowed as a
    re-read of it); it is its own code, refused."""
    genuine = check(token_of(zlib.compress(GENUINE)))
    envelope = cbor2.loads(GENUINE)
    protected, _, _, signature = envelope.value
    edited = cbor2.dumps(claims(m3="9-9-999"), canonical=True)
    forged = check(
        token_of(zlib.compress(cbor2.dumps(cbor2.CBORTag(18, [protected, {}, edited, signature]))))
    )
    assert forged.reason is VerifyReason.BAD_SIGNATURE
    assert forged.token_id
    assert forged.token_id != genuine.token_id


NO_MEASURE_LONG_WINDOW = Policy.model_validate(
    {"measure_directions": [], "timeouts": {"same_pass_ignore_s": 120}}
)


def _lane_token_cose(rig: lane_rig.Rig, pass_id: str) -> tuple[str, bytes]:
    """A KK1 pass the rig's lane trusts, and its COSE bytes: KK1 is the contract with spellings."""
    token = signed_token(
        rig.key,
        key_id=lane_rig.KID,
        community=lane_rig.COMMUNITY,
        pass_id=pass_id,
        holder="王*",
        valid_days=(-30, 30),
        token_format=passes.TokenFormat.KK1,
    )
    return token, zlib.decompress(stream_of(token))


def test_a_re_spelled_re_scan_after_passing_is_the_same_code(make_rig: lane_rig.RigFactory) -> None:
    """The re-read window ignores a pass still held up after its visit; before, each of 126
    stored-block splits of it was a new code and a new visit: the gate opened again."""
    rig = make_rig(policy=NO_MEASURE_LONG_WINDOW, open_s=0.2)
    token, cose = _lane_token_cose(rig, "R-0001")
    assert [e.draft.outcome for e in rig.scan(token).entries] == [Outcome.PASSED]
    rig.bus_log.wait_for("relay", action="pulse")

    re_spelled = {token_of(stream) for stream in spellings(cose).values()} - {token}
    new_entries = [entry for text in re_spelled for entry in rig.scan(text).entries]

    assert len(re_spelled) > 140
    assert new_entries == []
    assert [e.draft.outcome for e in rig.stored()] == [Outcome.PASSED]
    assert len(rig.bus_log.of("relay", action="pulse")) == 1  # the gate opened once


def test_a_re_spelled_re_scan_during_the_visit_does_not_cut_it_short(
    make_rig: lane_rig.RigFactory,
) -> None:
    thermometer = lane_rig.HandThermometer()
    rig = make_rig(thermometer=thermometer, open_s=0.2)
    token, cose = _lane_token_cose(rig, "R-0001")
    assert rig.scan(token).entries == ()
    assert rig.lane.snapshot()["step"] == "measure"

    for cut in (1, 40, 90):
        assert rig.scan(token_of(stored_stream(cose, (cut,), header=b"\x78\xda"))).entries == ()
    assert rig.scan(token_of(zlib.compress(cose, 6))).entries == ()
    assert rig.lane.snapshot()["step"] == "measure"

    thermometer.deliver(36.6)
    (entry,) = rig.bus_log.wait_for("entry")
    assert entry.data["entry"].draft.outcome is Outcome.PASSED
    assert [e.draft.outcome for e in rig.stored()] == [Outcome.PASSED]


def test_garbage_codes_still_de_duplicate_by_their_text(make_rig: lane_rig.RigFactory) -> None:
    rig = make_rig(policy=NO_MEASURE_LONG_WINDOW, open_s=0.2)
    assert len(rig.scan("KK1:not a pass").entries) == 1
    assert rig.scan("KK1:not a pass").entries == ()
    assert len(rig.scan("KK1:another junk code").entries) == 1


# ------------------------------------------------------------------ (b) interoperability


def test_rfc_9285_vectors_for_the_independent_base45() -> None:
    assert b45(b"AB") == "BB8"
    assert b45(b"Hello!!") == "%69 VD92EX0"
    assert b45(b"ietf!") == "QED8WEX0"
    assert unb45("QED8WEX0") == b"ietf!"


def test_a_pass_built_by_another_cose_implementation_verifies() -> None:
    """cbor2 and cryptography as an EU-DCC style tool uses them: zlib at its default level
    (header 78 9C), COSE_Sign1 and Sig_structure per RFC 9052. Before: bad_encoding."""
    cose = cose_sign1(claims(m4=["north"], m5="京A12345", m1=5))
    stream = zlib.compress(cose)
    assert stream[:2] == b"\x78\x9c"

    verdict = check(token_of(stream))

    assert verdict.valid, verdict
    assert verdict.claims is not None
    assert (verdict.claims.kind, verdict.claims.plate) == (PassKind.VEHICLE, "京A12345")
    assert verdict.claims.gates == ("north",)
    assert verdict.token_id == identity_of(cose)


def kakou_token(token_format: passes.TokenFormat) -> str:
    """The pass of ``claims()``, issued by Kakou in ``token_format``."""
    return passes.issue(
        KEY,
        key_id=KID,
        community="hxy",
        pass_id="R-0001234",
        kind=PassKind.RESIDENT,
        holder="张*",
        unit="3-2-501",
        not_before=ISSUED_AT,
        expires=EXPIRES,
        issued_at=ISSUED_AT,
        token_format=token_format,
    )


def test_a_kakou_pass_verifies_with_another_cose_implementation() -> None:
    token = kakou_token(passes.TokenFormat.KK1)
    cose = zlib.decompress(stream_of(token))
    envelope = cbor2.loads(cose)
    assert envelope.tag == 18
    protected, unprotected, payload, signature = envelope.value
    assert cbor2.loads(protected) == {1: -8, 4: KID.encode()}
    assert dict(unprotected) == {}
    KEY.public_key().verify(signature, cbor2.dumps(["Signature1", protected, b"", payload]))
    assert cbor2.loads(payload) == claims()
    assert cose == cose_sign1(claims())  # Ed25519 and deterministic CBOR: the very same bytes
    assert check(token).token_id == identity_of(cose)


def kk2_claims(**changes: object) -> dict[int, object]:
    """KK2's claims of the same pass: no iss, nbf as the one start time, no iat."""
    base = claims(**changes)
    base[5] = base.pop(6)
    del base[1]
    return base


def kk2_sign1(claim_map: dict[int, object], community: str = "hxy") -> bytes:
    """COSE_Sign1 per RFC 9052 with external_aad "KK2:" + community (§4.3, §4.4)."""
    protected = cbor2.dumps({1: -8, 4: KID.encode()}, canonical=True)
    payload = cbor2.dumps(claim_map, canonical=True)
    aad = b"KK2:" + community.encode()
    signature = KEY.sign(cbor2.dumps(["Signature1", protected, aad, payload]))
    return cbor2.dumps(cbor2.CBORTag(18, [protected, {}, payload, signature]))


def test_a_kk2_pass_built_by_another_cose_implementation_verifies() -> None:
    cose = kk2_sign1(kk2_claims(m4=["north"], m5="京A12345", m1=5))
    verdict = check("KK2:" + b45(cose))
    assert verdict.valid, verdict
    assert verdict.claims is not None
    assert (verdict.claims.community, verdict.claims.plate) == ("hxy", "京A12345")
    assert verdict.token_id == identity_of(cose)


def test_a_kakou_kk2_pass_is_the_independent_encoders_bytes() -> None:
    """Ed25519 and deterministic CBOR, no zlib: Kakou's KK2 token is exactly what a COSE tool
    writes, so it has one text and one identity."""
    token = kakou_token(passes.TokenFormat.KK2)
    cose = kk2_sign1(kk2_claims())
    assert token == "KK2:" + b45(cose)
    assert check(token).token_id == identity_of(cose)
    # Every zlib spelling of it, which KK1 would take, is refused behind KK2:.
    found = spellings(cose)
    assert {check("KK2:" + b45(stream)).reason for stream in found.values()} == {
        VerifyReason.BAD_STRUCTURE
    }


def test_kk2_of_another_community_is_another_signature() -> None:
    """The community is signed, not carried: the same claims signed for another community are
    another code, refused here at the signature."""
    here = check("KK2:" + b45(kk2_sign1(kk2_claims())))
    elsewhere = check("KK2:" + b45(kk2_sign1(kk2_claims(), community="hxz")))
    assert here.valid
    assert elsewhere.reason is VerifyReason.BAD_SIGNATURE
    assert elsewhere.token_id not in ("", here.token_id)


# ------------------------------------------------------------------ (c) what stays refused


def _zlib_header(cmf: int, flg_high: int) -> bytes:
    """A header with FCHECK made right (RFC 1950 §2.2), so only the named field is wrong."""
    flg = flg_high & 0xE0
    flg |= (31 - (cmf * 256 + flg) % 31) % 31
    return bytes((cmf, flg))


def _without_final_block(stream: bytes) -> bytes:
    """The one stored block with BFINAL cleared: the stream never ends."""
    assert stream[2] == 0b001  # level 9 stores this pass: BFINAL, BTYPE 00
    return stream[:2] + b"\x00" + stream[3:]


def _bomb(level: int) -> bytes:
    """200 KB of zeros: 217 to 896 bytes, under the token limit at every level."""
    return zlib.compress(b"\x00" * 200_000, level)


REFUSED: list[tuple[Callable[[bytes], bytes], VerifyReason, str, str]] = [
    (
        lambda s: s[:-1] + bytes((s[-1] ^ 1,)),
        VerifyReason.BAD_ENCODING,
        "corrupt",
        "Adler-32 off by a bit",
    ),
    (lambda s: s[:-4], VerifyReason.BAD_ENCODING, "truncated", "Adler-32 missing"),
    (
        lambda s: s + b"\x00",
        VerifyReason.BAD_ENCODING,
        "after the stream",
        "a byte after the stream",
    ),
    (
        lambda s: s + s,
        VerifyReason.BAD_ENCODING,
        "after the stream",
        "a second stream after the first",
    ),
    (
        lambda s: s[:40] + bytes((s[40] ^ 1,)) + s[41:],
        VerifyReason.BAD_ENCODING,
        "corrupt",
        "corrupt data",
    ),
    (
        lambda s: s[:5] + bytes((s[5] ^ 1,)) + s[6:],
        VerifyReason.BAD_ENCODING,
        "corrupt",
        "NLEN is not ~LEN",
    ),
    (lambda s: s[:60], VerifyReason.BAD_ENCODING, "truncated", "truncated"),
    (
        lambda s: _zlib_header(0x78, 0x20) + b"\x00\x00\x00\x01" + s[2:],
        VerifyReason.BAD_ENCODING,
        "preset dictionary",
        "FDICT set",
    ),
    (
        lambda s: _zlib_header(0x7F, 0x80) + s[2:],
        VerifyReason.BAD_ENCODING,
        "not deflate",
        "CM 15, not deflate",
    ),
    (
        lambda s: _zlib_header(0x88, 0x80) + s[2:],
        VerifyReason.BAD_ENCODING,
        "not deflate",
        "CINFO 8, 64 KiB window",
    ),
    (
        lambda s: bytes((s[0], s[1] ^ 1)) + s[2:],
        VerifyReason.BAD_ENCODING,
        "header check bits",
        "FCHECK wrong",
    ),
    (
        lambda s: zlib.compress(zlib.decompress(s), 9, wbits=31),
        VerifyReason.BAD_ENCODING,
        "not deflate",
        "gzip",
    ),
    (
        lambda s: zlib.compress(zlib.decompress(s), 9, wbits=-15),
        VerifyReason.BAD_ENCODING,
        "zlib",
        "raw deflate",
    ),
    (_without_final_block, VerifyReason.BAD_ENCODING, "truncated", "no final block"),
    (
        lambda s: _bomb(1),
        VerifyReason.TOO_LARGE,
        "more than 4096 bytes",
        "bomb at level 1, header 78 01",
    ),
    (
        lambda s: _bomb(6),
        VerifyReason.TOO_LARGE,
        "more than 4096 bytes",
        "bomb at level 6, header 78 9C",
    ),
    (
        lambda s: _bomb(9),
        VerifyReason.TOO_LARGE,
        "more than 4096 bytes",
        "bomb at level 9, header 78 DA",
    ),
    (
        lambda s: compressed(b"\x00" * 200_000, 9, strategy=zlib.Z_RLE),
        VerifyReason.TOO_LARGE,
        "more than 4096 bytes",
        "bomb, run-length strategy",
    ),
    (
        lambda s: zlib.compress(b"\x00" * (passes.MAX_COSE_BYTES + 1), 1),
        VerifyReason.TOO_LARGE,
        "more than 4096 bytes",
        "one byte over the cap",
    ),
]


@pytest.mark.parametrize(("edit", "reason", "detail", "why"), REFUSED, ids=[c[3] for c in REFUSED])
def test_streams_that_are_not_one_complete_rfc_1950_stream_are_refused(
    edit: Callable[[bytes], bytes], reason: VerifyReason, detail: str, why: str
) -> None:
    stream = edit(zlib.compress(GENUINE, 9))
    token = token_of(stream)
    assert len(token) <= passes.MAX_TOKEN_CHARS, why
    verdict = check(token)
    assert verdict.reason is reason, (why, verdict)
    assert detail in verdict.detail, (why, verdict)
    assert verdict.claims is None
    assert verdict.token_id == ""
    assert verdict.detail.isprintable()
