"""How fast a gate verifies passes, and how long tokens are: ``python bench/bench_passes.py``.

Prints the median of several timed runs on one core, in CPU time so a busy machine skews less:
verifications per second (of a KK2 pass, and of KK1 passes that zlib stores and Huffman-codes,
the two paths through the inflater), issues per second, the share of a verification spent on the
Ed25519 check versus decoding, and the token length and QR version of a typical pass of each
kind in each contract, with a short and a long key id. Figures only; nothing is asserted.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edge import passes
from edge.base45 import b45decode
from edge.model import PassKind, Verdict
from edge.passes import TokenFormat
from edge.passes_pdf import CardSigner, HouseholdRow, qr_version

# RFC 8032's first test key: public, used so token sizes match docs/passes.md run after run
# (the signature bytes, and so how well zlib does, depend on the key).
EXAMPLE_KEY = Ed25519PrivateKey.from_private_bytes(
    bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
)
RUNS = 7
CALLS_PER_RUN = 2_000
CHINA_TZ = timezone(timedelta(hours=8))
ISSUED_AT = datetime(2026, 3, 1, 9, 30, tzinfo=CHINA_TZ)
KEY_ID = "hxy1"
LONG_KEY_ID = "office-2026"  # longer than docs/passes.md recommends, as offices name keys
COMMUNITY = "hxy"


# A typical pass of each kind, as a line of the office's household sheet (edge.passes_pdf),
# the holder already masked as the QR carries it.
TYPICAL: dict[PassKind, HouseholdRow] = {
    row.kind: row
    for row in (
        HouseholdRow(2, "R-0001234", "张*", "3-2-501", PassKind.RESIDENT, 365),
        HouseholdRow(3, "T-0000417", "李*", "5-1-1202", PassKind.TEMPORARY, 30),
        HouseholdRow(4, "V-0031337", "王*", "3-2-501", PassKind.VISITOR, 1, gates=("north",)),
        HouseholdRow(5, "S-0000012", "赵*", "物业中心", PassKind.STAFF, 365, ("north", "east")),
        HouseholdRow(6, "C-0000088", "陈*", "7-3-302", PassKind.VEHICLE, 365, plate="京A12345"),
    )
}
# A longer pass in Latin script: it compresses, so zlib codes it in a Huffman block.
HUFFMAN_CODED = HouseholdRow(
    7,
    "V-0031338",
    "Zhang San Feng",
    "Building 3 Unit 2 Room 501",
    PassKind.VISITOR,
    1,
    gates=("north", "north-2"),
)


def typical_token(
    private_key: Ed25519PrivateKey,
    row: HouseholdRow,
    *,
    token_format: TokenFormat = passes.DEFAULT_FORMAT,
    key_id: str = KEY_ID,
) -> str:
    """``row``'s pass signed as the office signs a card, issued at ISSUED_AT, with the holder's
    name as the row has it; only the token, so that timing it times the signing alone."""
    signer = CardSigner(
        private_key,
        key_id=key_id,
        community=COMMUNITY,
        now=ISSUED_AT,
        full_holder=True,
        token_format=token_format,
    )
    return signer.token(row)


def median_seconds_per_call(calls: dict[str, Callable[[], object]]) -> dict[str, float]:
    """Median over RUNS of the mean CPU time of one call, for each of ``calls``.

    CPU time of this thread, not wall time, so other work on a shared machine counts less; and
    the runs of the different calls take turns, so a slow spell of the machine touches them all
    alike and their ratios hold.
    """
    for call in calls.values():  # warm caches and the allocator
        for _ in range(CALLS_PER_RUN // 10):
            call()
    per_call_s: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(RUNS):
        for name, call in calls.items():
            start_s = time.thread_time()
            for _ in range(CALLS_PER_RUN):
                call()
            per_call_s[name].append((time.thread_time() - start_s) / CALLS_PER_RUN)
    return {name: statistics.median(times_s) for name, times_s in per_call_s.items()}


def main() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, no migrations
    private_key = Ed25519PrivateKey.generate()
    public_key = private_key.public_key()
    keys = {KEY_ID: public_key}
    revoked = frozenset(f"R-{n:07d}" for n in range(1_000))
    token = typical_token(private_key, TYPICAL[PassKind.RESIDENT])  # KK2
    kk1_token = typical_token(private_key, TYPICAL[PassKind.RESIDENT], token_format=TokenFormat.KK1)
    huffman_token = typical_token(private_key, HUFFMAN_CODED, token_format=TokenFormat.KK1)
    at_gate = ISSUED_AT + timedelta(hours=1)

    def verify(token: str = token) -> Verdict:
        return passes.verify(
            token, keys=keys, revoked=revoked, community=COMMUNITY, gate="north", now=at_gate
        )

    assert token.startswith(passes.PREFIX_KK2)
    assert verify(token).valid, verify(token)
    for shown, huffman in ((kk1_token, False), (huffman_token, True)):
        # A benchmark of a failing path, or of the other kind of DEFLATE block, would mislead.
        assert verify(shown).valid, verify(shown)
        block_type = b45decode(shown.removeprefix(passes.PREFIX))[2] >> 1 & 0b11
        assert (block_type != 0b00) is huffman, block_type  # 00: stored (RFC 1951 §3.2.3)
    message = b"x" * 73  # the size of the KK2 pass's Sig_structure
    signature = private_key.sign(message)
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    fast_key = passes._fast_key(raw)  # the libsodium key verify() uses

    seconds = median_seconds_per_call(
        {
            "verify": verify,
            "verify_kk1": lambda: verify(kk1_token),
            "verify_huffman": lambda: verify(huffman_token),
            "decode": lambda: passes.decode_unverified(token),
            "decode_kk1": lambda: passes.decode_unverified(kk1_token),
            "signature": lambda: fast_key.verify(message, signature),
            "signature_openssl": lambda: public_key.verify(signature, message),
            "issue": lambda: typical_token(private_key, TYPICAL[PassKind.RESIDENT]),
            "issue_kk1": lambda: typical_token(
                private_key, TYPICAL[PassKind.RESIDENT], token_format=TokenFormat.KK1
            ),
        }
    )
    rows = [
        ("verify, KK2 resident pass", seconds["verify"]),
        ("verify, KK1 resident pass", seconds["verify_kk1"]),
        ("verify, KK1 Huffman-coded", seconds["verify_huffman"]),
        ("issue, KK2", seconds["issue"]),
        ("issue, KK1", seconds["issue_kk1"]),
        ("Ed25519 check alone (libsodium)", seconds["signature"]),
        ("Ed25519 check, OpenSSL instead", seconds["signature_openssl"]),
        ("decode alone, KK2", seconds["decode"]),
        ("decode alone, KK1", seconds["decode_kk1"]),
    ]
    print(f"Kakou pass tokens, one core, CPU time, median of {RUNS} runs")
    for label, call_s in rows:
        print(f"  {label:<32} {1 / call_s:8,.0f} /s  {call_s * 1e6:7.1f} µs")
    signature_share = seconds["signature"] / seconds["verify"]
    print(
        f"  a verification's time: Ed25519 check {signature_share:.0%}, "
        f"decoding and the other checks {1 - signature_share:.0%}"
    )
    print()
    print("Typical token per kind: characters, QR version (EC level M, alphanumeric mode;")
    print("the docs' example key)")
    columns = [(f, kid) for kid in (KEY_ID, LONG_KEY_ID) for f in TokenFormat]
    print(f"  {'kind':<10}" + "".join(f"{f'{f.value.upper()} {kid}':>18}" for f, kid in columns))
    for kind in PassKind:
        cells = ""
        for token_format, key_id in columns:
            kind_token = typical_token(
                EXAMPLE_KEY, TYPICAL[kind], token_format=token_format, key_id=key_id
            )
            cells += f"{f'{len(kind_token)}, v{qr_version(kind_token)}':>18}"
        print(f"  {kind.value:<10}{cells}")


if __name__ == "__main__":
    main()
