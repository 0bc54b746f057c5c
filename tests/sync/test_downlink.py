"""sync/downlink.py and sync/subscriber.py: signed documents are verified, versioned, applied;
anything malformed, unsigned, unknown, tampered, stale or replayed is ignored with a log line."""

from __future__ import annotations

import base64
import json
import logging
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge import passes
from edge.bus import Bus, BusEvent
from edge.keys import GATE_KEY_SOURCE, public_pem_of
from edge.policy import Policy
from edge.store import Store
from sync.contract import DownlinkDocument, DownlinkKind, KeysBody, RevocationsBody
from sync.downlink import (
    SIGNING_CONTEXT,
    Opened,
    Refusal,
    Rejected,
    document_text,
    judge_plausible,
    judge_version,
    open_envelope,
    sign_document,
)
from sync.subscriber import META_POLICY, Downlink, load_applied

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
KEY = Ed25519PrivateKey.generate()
OTHER_KEY = Ed25519PrivateKey.generate()


def document(
    kind: DownlinkKind, version: int, body: dict[str, Any], **changes: Any
) -> DownlinkDocument:
    fields: dict[str, Any] = {
        "type": kind,
        "community": "hxy",
        "version": version,
        "issued_at": NOW,
        "body": body,
    }
    fields.update(changes)
    return DownlinkDocument(**fields)


def revocations(
    version: int, *pass_ids: str, key: Ed25519PrivateKey = KEY, kid: str = "office"
) -> bytes:
    body = RevocationsBody(pass_ids=list(pass_ids)).model_dump()
    return sign_document(document(DownlinkKind.REVOCATIONS, version, body), key=key, kid=kid)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    opened = Store.open(tmp_path / "gate.db", community="hxy", gate="north")
    opened.put_trusted_key("office", public_pem_of(KEY.public_key()), source="test")
    return opened


@pytest.fixture
def bus_events() -> tuple[Bus, list[BusEvent]]:
    bus = Bus()
    events: list[BusEvent] = []
    bus.subscribe(events.append)
    return bus, events


def gate_downlink(store: Store, bus: Bus, signers: tuple[str, ...] = ("office",)) -> Downlink:
    """The gate's handler as the runtime makes it, its clock at NOW."""
    return Downlink(store, community="hxy", bus=bus, signers=signers, wall_now=lambda: NOW)


@pytest.fixture
def downlink(store: Store, bus_events: tuple[Bus, list[BusEvent]]) -> Downlink:
    return gate_downlink(store, bus_events[0])


# ----------------------------------------------------------------------------- pure checks


def keys() -> dict[str, Any]:
    return {"office": KEY.public_key()}


def test_a_signed_document_opens() -> None:
    opened = open_envelope(
        revocations(1, "P-1"), keys=keys(), community="hxy", kind=DownlinkKind.REVOCATIONS
    )
    assert isinstance(opened, Opened)
    assert opened.kid == "office"
    assert opened.document.body == {"pass_ids": ["P-1"]}


def _tamper(message: bytes, **changes: Any) -> bytes:
    envelope = json.loads(message)
    envelope.update(changes)
    return json.dumps(envelope).encode()


def _unsigned() -> bytes:
    return document_text(document(DownlinkKind.REVOCATIONS, 1, {"pass_ids": []})).encode()


def _swapped_payload() -> bytes:
    other = json.loads(revocations(1, "P-2"))["payload"]
    return _tamper(revocations(1, "P-1"), payload=other)


def _signed(kind: DownlinkKind, body: dict[str, Any], **changes: Any) -> bytes:
    return sign_document(document(kind, 1, body, **changes), key=KEY, kid="office")


BAD_MESSAGES = {
    "empty": (b"", Refusal.MALFORMED),
    "binary": (b"\xff\x00garbage", Refusal.MALFORMED),
    "array": (b"[1, 2]", Refusal.MALFORMED),
    "bad-envelope": (
        b'{"v": 1, "type": "signed", "kid": "office", "payload": "{}", "sig": 5}',
        Refusal.MALFORMED,
    ),
    "unsigned": (_unsigned(), Refusal.UNSIGNED),
    "unknown-key": (revocations(1, "P-1", key=OTHER_KEY, kid="stranger"), Refusal.UNKNOWN_KEY),
    "wrong-key": (revocations(1, "P-1", key=OTHER_KEY), Refusal.BAD_SIGNATURE),
    "swapped-payload": (_swapped_payload(), Refusal.BAD_SIGNATURE),
    "zero-sig": (_tamper(revocations(1, "P-1"), sig="A" * 86), Refusal.BAD_SIGNATURE),
    "wrong-type": (_signed(DownlinkKind.KEYS, {"keys": {}}), Refusal.WRONG_TYPE),
    "wrong-community": (
        _signed(DownlinkKind.REVOCATIONS, {"pass_ids": []}, community="xyz"),
        Refusal.WRONG_COMMUNITY,
    ),
}


@pytest.mark.parametrize(("message", "reason"), BAD_MESSAGES.values(), ids=BAD_MESSAGES.keys())
def test_bad_messages_are_refused_with_their_reason(message: bytes, reason: Refusal) -> None:
    result = open_envelope(message, keys=keys(), community="hxy", kind=DownlinkKind.REVOCATIONS)
    assert isinstance(result, Rejected)
    assert result.reason is reason, result.detail


def test_a_pass_signature_cannot_pose_as_a_downlink_signature() -> None:
    # The signed bytes differ by the context string, so a signature over a document's bytes
    # made for any other purpose does not verify.
    payload = document_text(document(DownlinkKind.REVOCATIONS, 9, {"pass_ids": []}))
    bare = KEY.sign(payload.encode())
    envelope = {
        "v": 1,
        "type": "signed",
        "kid": "office",
        "payload": payload,
        "sig": base64.urlsafe_b64encode(bare).rstrip(b"=").decode(),
    }
    result = open_envelope(
        json.dumps(envelope).encode(), keys=keys(), community="hxy", kind=DownlinkKind.REVOCATIONS
    )
    assert isinstance(result, Rejected)
    assert result.reason is Refusal.BAD_SIGNATURE
    assert SIGNING_CONTEXT.startswith(b"kakou-downlink-v1")
    assert not passes.PREFIX.encode().startswith(SIGNING_CONTEXT[:4])


@given(st.binary(max_size=600))
@settings(max_examples=300)
def test_open_envelope_never_raises(message: bytes) -> None:
    result = open_envelope(message, keys=keys(), community="hxy", kind=DownlinkKind.POLICY)
    assert isinstance(result, Rejected)


@given(
    st.dictionaries(
        st.sampled_from(["v", "type", "kid", "payload", "sig", "x"]),
        st.none() | st.integers() | st.text(max_size=90),
    )
)
@settings(max_examples=300)
def test_open_envelope_never_raises_on_envelope_shapes(envelope: dict[str, Any]) -> None:
    message = json.dumps(envelope).encode()
    result = open_envelope(message, keys=keys(), community="hxy", kind=DownlinkKind.POLICY)
    assert isinstance(result, Rejected)  # type: ignore[unreachable]


# ------------------------------------------------------------------------- applying to a gate


def test_revocations_apply_in_version_order_and_tell_the_lanes(
    store: Store, downlink: Downlink, bus_events: tuple[Bus, list[BusEvent]]
) -> None:
    store.add_revocations(["LOCAL-1"], source="config:revoked.txt")
    assert isinstance(
        downlink.handle(DownlinkKind.REVOCATIONS, revocations(1, "P-1", "P-2")), Opened
    )
    assert store.revoked_ids() == {"LOCAL-1", "P-1", "P-2"}
    assert isinstance(
        downlink.handle(DownlinkKind.REVOCATIONS, revocations(2, "P-2", "P-3")), Opened
    )
    # The community's list replaces its previous list and leaves the gate's own alone.
    assert store.revoked_ids() == {"LOCAL-1", "P-2", "P-3"}
    applied = load_applied(store, DownlinkKind.REVOCATIONS)
    assert applied is not None
    assert applied.version == 2
    assert [event.topic for event in bus_events[1]] == ["trust", "trust"]


def test_stale_and_replayed_documents_change_nothing(
    store: Store, downlink: Downlink, caplog: pytest.LogCaptureFixture
) -> None:
    downlink.handle(DownlinkKind.REVOCATIONS, revocations(5, "P-5"))
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="sync"):
        replay = downlink.handle(DownlinkKind.REVOCATIONS, revocations(5, "P-5"))
        stale = downlink.handle(DownlinkKind.REVOCATIONS, revocations(4, "P-4"))
        reused = downlink.handle(DownlinkKind.REVOCATIONS, revocations(5, "P-9"))
    assert isinstance(replay, Rejected)
    assert replay.reason is Refusal.REPLAYED
    assert isinstance(stale, Rejected)
    assert stale.reason is Refusal.STALE
    assert isinstance(reused, Rejected)
    assert reused.reason is Refusal.STALE
    assert store.revoked_ids() == {"P-5"}
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2
    assert all("ignored (stale)" in message for message in warnings)
    assert downlink.refused == {Refusal.REPLAYED: 1, Refusal.STALE: 2}


def test_unsigned_malformed_and_forged_documents_are_logged_and_ignored(
    store: Store, downlink: Downlink, caplog: pytest.LogCaptureFixture
) -> None:
    unsigned = document_text(document(DownlinkKind.REVOCATIONS, 7, {"pass_ids": ["X"]})).encode()
    for message in (b"{not json", unsigned, revocations(8, "X", key=OTHER_KEY)):
        assert isinstance(downlink.handle(DownlinkKind.REVOCATIONS, message), Rejected)
    assert store.revoked_ids() == frozenset()
    assert load_applied(store, DownlinkKind.REVOCATIONS) is None
    reasons = " ".join(r.getMessage() for r in caplog.records)
    for reason in ("malformed", "unsigned", "bad_signature"):
        assert reason in reasons


def test_only_named_signers_may_sign(
    store: Store, downlink: Downlink, bus_events: tuple[Bus, list[BusEvent]]
) -> None:
    store.put_trusted_key("issuer", public_pem_of(OTHER_KEY.public_key()), source="test")
    result = downlink.handle(
        DownlinkKind.REVOCATIONS, revocations(1, "P-1", key=OTHER_KEY, kid="issuer")
    )
    assert isinstance(result, Rejected)
    assert result.reason is Refusal.NOT_A_SIGNER
    assert [event.data["kind"] for event in bus_events[1]] == ["downlink_refused"]
    stranger = revocations(1, "P-1", key=OTHER_KEY, kid="stranger")
    unknown = downlink.handle(DownlinkKind.REVOCATIONS, stranger)
    assert isinstance(unknown, Rejected)
    assert unknown.reason is Refusal.UNKNOWN_KEY
    assert isinstance(downlink.handle(DownlinkKind.REVOCATIONS, revocations(1, "P-1")), Opened)


def test_with_no_signer_configured_nothing_applies(
    store: Store, bus_events: tuple[Bus, list[BusEvent]]
) -> None:
    result = gate_downlink(store, bus_events[0], signers=()).handle(
        DownlinkKind.REVOCATIONS, revocations(1, "P-1")
    )
    assert isinstance(result, Rejected)
    assert result.reason is Refusal.NOT_A_SIGNER
    assert store.revoked_ids() == frozenset()


PLAUSIBILITY = {
    "at-the-skew": (NOW + timedelta(minutes=10), 1, None),
    "beyond-the-skew": (NOW + timedelta(minutes=10, seconds=1), 1, Refusal.IMPLAUSIBLE),
    "version-is-issue-time": (NOW, int(NOW.timestamp()), None),
    "version-beyond-issue-time": (NOW, int(NOW.timestamp()) + 1, Refusal.IMPLAUSIBLE),
    "old-and-small": (NOW - timedelta(days=400), 3, None),
}


@pytest.mark.parametrize(
    ("issued_at", "version", "refusal"), PLAUSIBILITY.values(), ids=PLAUSIBILITY.keys()
)
def test_issue_time_and_version_must_be_plausible(
    issued_at: datetime, version: int, refusal: Refusal | None
) -> None:
    message = sign_document(
        document(DownlinkKind.POLICY, version, {}, issued_at=issued_at), key=KEY, kid="office"
    )
    opened = open_envelope(message, keys=keys(), community="hxy", kind=DownlinkKind.POLICY)
    assert isinstance(opened, Opened)
    result = judge_plausible(opened, now=NOW, max_future_s=600)
    assert (None if result is None else result.reason) is refusal


def test_a_version_from_a_retired_signer_binds_nothing(store: Store, downlink: Downlink) -> None:
    downlink.handle(DownlinkKind.REVOCATIONS, revocations(50, "P-50"))
    applied = load_applied(store, DownlinkKind.REVOCATIONS)
    assert applied is not None
    small = revocations(2, "P-2")
    opened = open_envelope(small, keys=keys(), community="hxy", kind=DownlinkKind.REVOCATIONS)
    assert isinstance(opened, Opened)
    refused = judge_version(applied, opened, signers={"office"})
    assert refused is not None
    assert refused.reason is Refusal.STALE
    assert judge_version(applied, opened, signers={"office-2027"}) is None


def test_the_keys_document_stays_within_pass_keys(store: Store, downlink: Downlink) -> None:
    same = public_pem_of(KEY.public_key()).decode()
    other = public_pem_of(OTHER_KEY.public_key()).decode()
    store.put_trusted_key("config-key", other.encode(), source="config:config-key.pub")
    store.put_trusted_key("gate-north", other.encode(), source=GATE_KEY_SOURCE)
    cases: list[tuple[dict[str, Any], Refusal | None]] = [
        ({"keys": {"office": same}}, None),  # the signer's own key, unchanged: a no-op
        ({"keys": {"office": other}}, Refusal.FORBIDDEN_KEY),
        ({"keys": {"gate-north": same}}, Refusal.FORBIDDEN_KEY),  # this gate's own key
        ({"keys": {}, "revoked": ["office"]}, Refusal.FORBIDDEN_KEY),
        ({"keys": {}, "revoked": ["gate-north"]}, Refusal.FORBIDDEN_KEY),
        ({"keys": {"config-key": same}}, Refusal.FORBIDDEN_KEY),
        ({"keys": {"gate-south": same}}, None),  # another gate's visitor key, scoped by name
        ({"keys": {}, "revoked": ["gate-south", "config-key"]}, None),  # pulled by the office
    ]
    for version, (body, refusal) in enumerate(cases, start=1):
        message = sign_document(document(DownlinkKind.KEYS, version, body), key=KEY, kid="office")
        result = downlink.handle(DownlinkKind.KEYS, message)
        got = result.reason if isinstance(result, Rejected) else None
        assert got is refusal, (body, result)
    assert set(store.trusted_keys()) == {"office", "gate-north"}
    changes = [(c.kid, c.action, c.source) for c in store.trust_changes()]
    assert changes[:3] == [
        ("config-key", "revoked", "downlink:v8"),
        ("gate-south", "revoked", "downlink:v8"),
        ("gate-south", "added", "downlink:v7"),
    ]


def test_keys_are_trusted_and_revoked(store: Store, downlink: Downlink) -> None:
    new_key = Ed25519PrivateKey.generate()
    body = KeysBody(
        keys={"issuer-2027": public_pem_of(new_key.public_key()).decode()}, revoked=["old"]
    )
    store.put_trusted_key("old", public_pem_of(OTHER_KEY.public_key()), source="test")
    message = sign_document(
        document(DownlinkKind.KEYS, 1, body.model_dump()), key=KEY, kid="office"
    )
    assert isinstance(downlink.handle(DownlinkKind.KEYS, message), Opened)
    assert set(store.trusted_keys()) == {"office", "issuer-2027"}


def test_a_signed_document_with_a_bad_body_is_refused_whole(
    store: Store, downlink: Downlink
) -> None:
    body = {"keys": {"good": public_pem_of(OTHER_KEY.public_key()).decode(), "bad": "not a key"}}
    message = sign_document(document(DownlinkKind.KEYS, 1, body), key=KEY, kid="office")
    result = downlink.handle(DownlinkKind.KEYS, message)
    assert isinstance(result, Rejected)
    assert result.reason is Refusal.BAD_BODY
    assert set(store.trusted_keys()) == {"office"}  # not even the good key
    assert load_applied(store, DownlinkKind.KEYS) is None


def test_policy_is_validated_stored_and_announced(
    store: Store, downlink: Downlink, bus_events: tuple[Bus, list[BusEvent]]
) -> None:
    policy = Policy().model_dump(mode="json")
    policy["fever"]["threshold_c"] = 37.5
    message = sign_document(
        document(DownlinkKind.POLICY, 3, {"policy": policy}), key=KEY, kid="office"
    )
    assert isinstance(downlink.handle(DownlinkKind.POLICY, message), Opened)
    stored = Policy.model_validate_json(store.get_meta(META_POLICY) or "")
    assert stored.fever.threshold_c == 37.5
    (event,) = bus_events[1]
    assert event.topic == "policy"
    assert event.data["policy"] == stored
    bad = dict(policy, unknown_setting=1)
    message = sign_document(
        document(DownlinkKind.POLICY, 4, {"policy": bad}), key=KEY, kid="office"
    )
    result = downlink.handle(DownlinkKind.POLICY, message)
    assert isinstance(result, Rejected)
    assert result.reason is Refusal.BAD_BODY


@given(st.lists(st.integers(min_value=1, max_value=20), min_size=1, max_size=12))
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_applied_version_only_grows(tmp_path: Path, versions: list[int]) -> None:
    with Store.open(tmp_path / f"{uuid.uuid4().hex}.db", community="hxy", gate="n") as gate:
        gate.put_trusted_key("office", public_pem_of(KEY.public_key()), source="test")
        handler = gate_downlink(gate, Bus())
        for version in versions:
            handler.handle(DownlinkKind.REVOCATIONS, revocations(version, f"P-{version}"))
            applied = load_applied(gate, DownlinkKind.REVOCATIONS)
            assert applied is not None
        assert applied.version == max(versions)
        assert gate.revoked_ids() == {f"P-{max(versions)}"}
