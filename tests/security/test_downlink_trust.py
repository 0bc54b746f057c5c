"""Attacks on the signed downlink (issue #10, part 1).

The gate's own visitor key lives on its SD card; whoever steals the card has it. It must not sign
revocations, keys or policy. An office signer that leaked, or that misbehaves, must not push the
version counter out of reach or name itself a new signer, and the documented recovery (rotating
to a new signer key on the gate) must work whatever the leaked key published before.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edge import keys, passes
from edge.app import boot
from edge.app.settings import Settings
from edge.bus import Bus, BusEvent
from edge.model import VerifyReason
from edge.policy import Policy
from edge.store import Store
from sync.contract import AlertKind, DownlinkDocument, DownlinkKind, alert_topic, downlink_topic
from sync.downlink import Opened, Rejected, sign_document
from sync.runtime import SyncHandle
from sync.settings import SyncSettings
from sync.subscriber import META_POLICY, Downlink, load_applied
from tests.edge.test_boot import make_settings
from tests.sync.conftest import Watcher, broker  # noqa: F401  (a fixture)
from tests.sync.rig import Mosquitto, sync_settings, wait_until
from tests.tokens import signed_token

COMMUNITY = "demo"
OFFICE = "office-2026"
ATTACKER = Ed25519PrivateKey.generate()


@dataclass
class Site:
    """A gate's state as boot leaves it: the office key and the simulator's in the trusted keys
    folder, the gate's own visitor key in state_dir/issuer, all loaded into the store."""

    settings: Settings
    store: Store
    office: Ed25519PrivateKey
    gate_key: Ed25519PrivateKey
    gate_kid: str
    bus: Bus
    events: list[BusEvent]

    def downlink(self, signers: tuple[str, ...] = (OFFICE,)) -> Downlink:
        return Downlink(self.store, community=COMMUNITY, bus=self.bus, signers=signers)

    def alarms(self) -> list[BusEvent]:
        return [event for event in self.events if event.topic == "alarm"]


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    settings = make_settings(tmp_path / "state")
    office_path, _ = keys.new_keypair(OFFICE, settings.state_path(settings.passes.trusted_keys_dir))
    boot.ensure_sim_issuer(settings)
    store = Store.open(settings.db_path, community=COMMUNITY, gate=settings.site.gate)
    boot.load_trust_into_store(settings, store)
    gate_key = boot.ensure_gate_key(settings, store)
    bus = Bus()
    events: list[BusEvent] = []
    bus.subscribe(events.append)
    try:
        yield Site(
            settings,
            store,
            keys.load_private(office_path)[1],
            gate_key.key,
            gate_key.key_id,
            bus,
            events,
        )
    finally:
        store.close()


def signed(
    kind: DownlinkKind,
    body: dict[str, Any],
    *,
    key: Ed25519PrivateKey,
    kid: str,
    version: int = 1,
    issued_at: datetime | None = None,
) -> bytes:
    document = DownlinkDocument(
        type=kind,
        community=COMMUNITY,
        version=version,
        issued_at=issued_at or datetime.now(UTC),
        body=body,
    )
    return sign_document(document, key=key, kid=kid)


def attacker_keys_body() -> dict[str, Any]:
    pem = keys.public_pem_of(ATTACKER.public_key()).decode("ascii")
    return {"keys": {"attacker": pem}, "revoked": ["sim"]}


def lockdown_policy() -> dict[str, Any]:
    policy = Policy().model_dump(mode="json")
    policy["fever"]["threshold_c"] = 40.0  # a fever would hardly ever be one
    return {"policy": policy}


def ten_year_pass(key: Ed25519PrivateKey, kid: str) -> str:
    return signed_token(
        key, key_id=kid, community=COMMUNITY, pass_id="R-EVIL", valid_days=(-1, 3650)
    )


def verify_at(site: Site, token: str) -> VerifyReason | None:
    verdict = passes.verify(
        token,
        keys=site.store.trusted_keys(),
        revoked=site.store.revoked_ids(),
        community=COMMUNITY,
        gate=site.settings.site.gate,
        now=datetime.now(UTC),
    )
    return verdict.reason


def assert_untouched(site: Site) -> None:
    """Nothing the attack wanted happened: trust, revocations, policy and versions as before."""
    assert set(site.store.trusted_keys()) == {OFFICE, "sim", site.gate_kid}
    assert verify_at(site, ten_year_pass(ATTACKER, "attacker")) is VerifyReason.UNKNOWN_KEY
    assert site.store.revoked_ids() == frozenset()
    assert site.store.get_meta(META_POLICY) is None
    for kind in DownlinkKind:
        assert load_applied(site.store, kind) is None


# ------------------------------------------------------------------- the gate's own key


GATE_KEY_ATTACKS = {
    "keys": (DownlinkKind.KEYS, attacker_keys_body(), 1),
    "revocations": (DownlinkKind.REVOCATIONS, {"pass_ids": ["R-0001"]}, 10**12),
    "policy": (DownlinkKind.POLICY, lockdown_policy(), 1),
}


@pytest.mark.parametrize(
    "signers",
    [(), (OFFICE, "gate-north")],
    ids=["no-signers-configured", "gate-key-named-as-signer"],
)
@pytest.mark.parametrize(
    ("kind", "body", "version"), GATE_KEY_ATTACKS.values(), ids=GATE_KEY_ATTACKS.keys()
)
def test_the_gate_key_never_signs_downlink(
    site: Site, signers: tuple[str, ...], kind: DownlinkKind, body: dict[str, Any], version: int
) -> None:
    assert site.gate_kid == "gate-north"
    message = signed(kind, body, key=site.gate_key, kid=site.gate_kid, version=version)

    result = site.downlink(signers).handle(kind, message)

    assert isinstance(result, Rejected), "a document signed by the gate's own key was applied"
    assert_untouched(site)
    # A genuine office document still applies: the attack did not poison the version.
    genuine = signed(
        DownlinkKind.REVOCATIONS, {"pass_ids": ["R-0002"]}, key=site.office, kid=OFFICE
    )
    assert isinstance(site.downlink().handle(DownlinkKind.REVOCATIONS, genuine), Opened)


def test_a_gate_key_signature_raises_an_alarm(site: Site) -> None:
    message = signed(DownlinkKind.KEYS, attacker_keys_body(), key=site.gate_key, kid=site.gate_kid)
    assert isinstance(site.downlink().handle(DownlinkKind.KEYS, message), Rejected)
    (alarm,) = site.alarms()
    assert alarm.data["kind"] == "downlink_refused"
    assert site.gate_kid in alarm.data["detail"]


# ---------------------------------------------------------- implausible office documents


def test_a_version_jump_is_refused_and_alarmed(site: Site) -> None:
    poisoned = signed(
        DownlinkKind.REVOCATIONS,
        {"pass_ids": ["R-0001"]},
        key=site.office,
        kid=OFFICE,
        version=10**12,
    )
    result = site.downlink().handle(DownlinkKind.REVOCATIONS, poisoned)
    assert isinstance(result, Rejected)
    assert result.reason == "implausible"
    assert [alarm.data["kind"] for alarm in site.alarms()] == ["downlink_refused"]
    assert load_applied(site.store, DownlinkKind.REVOCATIONS) is None
    genuine = signed(
        DownlinkKind.REVOCATIONS, {"pass_ids": ["R-0002"]}, key=site.office, kid=OFFICE, version=2
    )
    assert isinstance(site.downlink().handle(DownlinkKind.REVOCATIONS, genuine), Opened)
    assert site.store.revoked_ids() == {"R-0002"}


def test_a_document_from_the_future_is_refused_and_alarmed(site: Site) -> None:
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    message = signed(
        DownlinkKind.POLICY, lockdown_policy(), key=site.office, kid=OFFICE, issued_at=tomorrow
    )
    result = site.downlink().handle(DownlinkKind.POLICY, message)
    assert isinstance(result, Rejected)
    assert result.reason == "implausible"
    assert site.store.get_meta(META_POLICY) is None
    (alarm,) = site.alarms()
    assert alarm.data["kind"] == "downlink_refused"
    assert "future" in alarm.data["detail"]


def test_a_keys_document_cannot_replace_a_signer_or_the_gate_key(site: Site) -> None:
    pem = keys.public_pem_of(ATTACKER.public_key()).decode("ascii")
    bodies: list[dict[str, Any]] = [
        {"keys": {OFFICE: pem}},
        {"keys": {site.gate_kid: pem}},
        {"keys": {}, "revoked": [OFFICE]},
        {"keys": {}, "revoked": [site.gate_kid]},
    ]
    for version, body in enumerate(bodies, start=1):
        message = signed(DownlinkKind.KEYS, body, key=site.office, kid=OFFICE, version=version)
        result = site.downlink().handle(DownlinkKind.KEYS, message)
        assert isinstance(result, Rejected), f"{body} was applied"
    assert_untouched(site)
    assert len(site.alarms()) == len(bodies)


def test_a_key_delivered_by_downlink_never_signs_downlink(site: Site) -> None:
    pem = keys.public_pem_of(ATTACKER.public_key()).decode("ascii")
    add = signed(DownlinkKind.KEYS, {"keys": {"issuer-2027": pem}}, key=site.office, kid=OFFICE)
    assert isinstance(site.downlink().handle(DownlinkKind.KEYS, add), Opened)
    # Even named as a signer, a pass key the network delivered cannot sign downlink.
    message = signed(
        DownlinkKind.REVOCATIONS, {"pass_ids": ["R-0001"]}, key=ATTACKER, kid="issuer-2027"
    )
    result = site.downlink((OFFICE, "issuer-2027")).handle(DownlinkKind.REVOCATIONS, message)
    assert isinstance(result, Rejected)
    assert site.store.revoked_ids() == frozenset()


# ------------------------------------------------------------------------------ recovery


def test_rotating_the_signer_recovers_from_a_poisoned_version(site: Site) -> None:
    """docs/mqtt.md, 'When a signer key leaks': the leaked key pushed every version as far as
    the contract lets it; the operator names a new signer and removes the old .pub; the new
    signer's first documents apply at once, and the leaked key signs nothing any more."""
    ahead = datetime.now(UTC) + timedelta(minutes=9)
    bodies: dict[DownlinkKind, dict[str, Any]] = {
        DownlinkKind.REVOCATIONS: {"pass_ids": ["R-0001"]},
        DownlinkKind.KEYS: {"keys": {}},
        DownlinkKind.POLICY: lockdown_policy(),
    }
    for version, (kind, body) in enumerate(bodies.items(), start=1):
        poisoned = signed(
            kind, body, key=site.office, kid=OFFICE, version=int(ahead.timestamp()), issued_at=ahead
        )
        assert isinstance(site.downlink().handle(kind, poisoned), Opened), version

    keys_dir = site.settings.state_path(site.settings.passes.trusted_keys_dir)
    new_path, _ = keys.new_keypair("office-2027", keys_dir)
    (keys_dir / f"{OFFICE}.pub").unlink()
    (keys_dir / f"{OFFICE}.key").unlink()
    boot.load_trust_into_store(site.settings, site.store)  # the restart
    rotated = site.downlink(("office-2027",))
    new_key = keys.load_private(new_path)[1]

    fresh = signed(
        DownlinkKind.REVOCATIONS, {"pass_ids": ["R-0009"]}, key=new_key, kid="office-2027"
    )
    assert isinstance(rotated.handle(DownlinkKind.REVOCATIONS, fresh), Opened)
    assert site.store.revoked_ids() == {"R-0009"}
    policy = signed(
        DownlinkKind.POLICY,
        {"policy": Policy().model_dump(mode="json")},
        key=new_key,
        kid="office-2027",
    )
    assert isinstance(rotated.handle(DownlinkKind.POLICY, policy), Opened)
    assert Policy.model_validate_json(site.store.get_meta(META_POLICY) or "") == Policy()

    later = signed(
        DownlinkKind.REVOCATIONS, {"pass_ids": []}, key=site.office, kid=OFFICE, version=10**9
    )
    assert isinstance(rotated.handle(DownlinkKind.REVOCATIONS, later), Rejected)
    assert OFFICE not in site.store.trusted_keys()
    assert site.store.revoked_ids() == {"R-0009"}


# --------------------------------------------------------------- through a real broker


def test_attacks_over_mqtt_are_refused_alarmed_and_do_not_block_the_office(
    site: Site,
    broker: Mosquitto,  # noqa: F811  (the fixture imported above)
) -> None:
    settings = SyncSettings.model_validate(sync_settings(broker.port, downlink_signers=[OFFICE]))
    handle = SyncHandle(
        settings, store=site.store, bus=site.bus, community=COMMUNITY, gate=site.settings.site.gate
    )
    watcher = Watcher(broker.port, "kakou/v1/#")
    handle.start()
    try:
        wait_until(lambda: handle.status()["connected"], 10, "the gate to connect")
        revocations = downlink_topic(COMMUNITY, DownlinkKind.REVOCATIONS)
        attacks = [
            (
                downlink_topic(COMMUNITY, DownlinkKind.KEYS),
                signed(
                    DownlinkKind.KEYS, attacker_keys_body(), key=site.gate_key, kid=site.gate_kid
                ),
            ),
            (
                revocations,
                signed(
                    DownlinkKind.REVOCATIONS,
                    {"pass_ids": ["R-0001"]},
                    key=site.office,
                    kid=OFFICE,
                    version=10**12,
                ),
            ),
            (
                downlink_topic(COMMUNITY, DownlinkKind.POLICY),
                signed(
                    DownlinkKind.POLICY,
                    lockdown_policy(),
                    key=site.office,
                    kid=OFFICE,
                    issued_at=datetime.now(UTC) + timedelta(hours=2),
                ),
            ),
        ]
        for topic, message in attacks:
            watcher.publish(topic, message, retain=True)
        genuine = signed(
            DownlinkKind.REVOCATIONS,
            {"pass_ids": ["R-0002"]},
            key=site.office,
            kid=OFFICE,
            version=3,
        )
        watcher.publish(revocations, genuine, retain=True)

        wait_until(lambda: site.store.revoked_ids() == {"R-0002"}, 10, "the genuine list applied")
        assert set(site.store.trusted_keys()) == {OFFICE, "sim", site.gate_kid}
        assert site.store.get_meta(META_POLICY) is None
        assert sum(handle.status()["downlink_refused"].values()) == 3
        alert_at = alert_topic(COMMUNITY, site.settings.site.gate, AlertKind.OTHER)
        wait_until(lambda: len(watcher.payloads(alert_at)) >= 3, 10, "three alerts to the office")
        assert {alert["source_kind"] for alert in watcher.payloads(alert_at)} == {
            "downlink_refused"
        }
    finally:
        handle.stop()
        watcher.close()
