"""Retiring a key retires it (issue #10, part 3).

A leaked office key is pulled by deleting its ``.pub`` from the trusted keys folder and
restarting the gate: from then on its passes fail as ``unknown_key``. Before the fix, keys were
copied into the store at boot and never dropped, so the leaked key kept opening the gate.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edge import keys, passes
from edge.app import boot
from edge.app.boot import Gate, build_gate
from edge.app.settings import Settings
from edge.bus import Bus, BusEvent
from edge.model import Entry, Outcome, VerifyReason
from edge.store import Store
from sync.contract import DownlinkDocument, DownlinkKind
from sync.downlink import Opened, sign_document
from sync.subscriber import Downlink
from tests.drivers.waiting import wait_until
from tests.edge.test_boot import make_settings, pin_factory  # noqa: F401  (a fixture)
from tests.tokens import signed_token

LEAKED = "office-2025"
WAIT_S = 5.0


def present(gate: Gate, token: str) -> Entry:
    events: list[BusEvent] = []
    gate.bus.subscribe(events.append)
    assert gate.simulation is not None
    gate.simulation.temperature("in-1", [36.6], None)
    gate.simulation.present("in-1", token.encode())
    assert wait_until(lambda: any(e.topic == "entry" for e in events), WAIT_S)
    entry: Entry = next(e.data["entry"] for e in events if e.topic == "entry")
    return entry


@pytest.mark.usefixtures("pin_factory")
def test_a_removed_pub_stops_its_passes_after_a_restart(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "state")
    keys_dir = settings.state_path(settings.passes.trusted_keys_dir)
    key_path, pub_path = keys.new_keypair(LEAKED, keys_dir)
    _, leaked_key = keys.load_private(key_path)
    token = signed_token(
        leaked_key, key_id=LEAKED, community="demo", pass_id="R-0100", valid_days=(-1, 3650)
    )

    gate = build_gate(settings)
    try:
        assert present(gate, token).draft.outcome is Outcome.PASSED
    finally:
        gate.stop()

    pub_path.unlink()  # the operator pulls the leaked key
    gate = build_gate(settings)
    try:
        entry = present(gate, token)
        assert entry.draft.outcome is Outcome.DENIED
        assert entry.draft.reasons == (VerifyReason.UNKNOWN_KEY.value,)
        assert LEAKED not in gate.store.trusted_keys()
    finally:
        gate.stop()


def _verify(store: Store, token: str) -> VerifyReason | None:
    return passes.verify(
        token,
        keys=store.trusted_keys(),
        revoked=store.revoked_ids(),
        community="demo",
        gate="north",
        now=datetime.now(UTC),
    ).reason


def _booted(settings: Settings) -> Store:
    """The trust part of a start: the store, then the configured keys loaded into it."""
    store = Store.open(settings.db_path, community="demo", gate=settings.site.gate)
    boot.load_trust_into_store(settings, store)
    if settings.visitors.enabled:
        boot.ensure_gate_key(settings, store)
    return store


def test_trust_follows_the_configuration_and_every_change_is_audited(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "state")
    keys_dir = settings.state_path(settings.passes.trusted_keys_dir)
    _, leaked_pub = keys.new_keypair(LEAKED, keys_dir)
    boot.ensure_sim_issuer(settings)
    with _booted(settings) as store:
        assert set(store.trusted_keys()) == {LEAKED, "sim", "gate-north"}

    leaked_pub.unlink()
    replaced = Ed25519PrivateKey.generate()  # the sim key's file now holds another key
    (keys_dir / "sim.pub").write_bytes(keys.public_pem_of(replaced.public_key()))
    quiet = settings.model_copy(
        update={"visitors": settings.visitors.model_copy(update={"enabled": False})}
    )
    with _booted(quiet) as store:
        assert set(store.trusted_keys()) == {"sim"}
        report = store.trust_report()
        assert {key.kid: key.source for key in report.keys if not key.revoked} == {
            "sim": "config:sim.pub"
        }
        changes = [(change.kid, change.action, change.source) for change in report.changes]
        assert changes[:3] == [  # newest first
            ("gate-north", "retired", "gate-visitor-key"),
            (LEAKED, "retired", f"config:{LEAKED}.pub"),
            ("sim", "replaced", "config:sim.pub"),
        ]
        assert {(kid, action) for kid, action, _ in changes[3:]} == {
            (LEAKED, "added"),
            ("sim", "added"),
            ("gate-north", "added"),
        }
        assert all(change.at for change in report.changes)

    no_sim = quiet.model_copy(update={"sim": quiet.sim.model_copy(update={"enabled": False})})
    with _booted(no_sim) as store:  # the simulator's key follows [sim]
        assert store.trusted_keys() == {}
        assert store.trust_report().changes[0][1:4] == ("sim", "config:sim.pub", "retired")


def test_a_key_the_office_revoked_stays_revoked_while_its_file_remains(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "state")
    keys_dir = settings.state_path(settings.passes.trusted_keys_dir)
    office_path, _ = keys.new_keypair("office-2026", keys_dir)
    _, office = keys.load_private(office_path)
    key_path, _ = keys.new_keypair(LEAKED, keys_dir)
    _, leaked = keys.load_private(key_path)
    token = signed_token(leaked, key_id=LEAKED, community="demo", pass_id="R-0101")
    boot.ensure_sim_issuer(settings)
    with _booted(settings) as store:
        assert _verify(store, token) is None
        document = DownlinkDocument(
            type=DownlinkKind.KEYS,
            community="demo",
            version=1,
            issued_at=datetime.now(UTC),
            body={"keys": {}, "revoked": [LEAKED]},
        )
        message = sign_document(document, key=office, kid="office-2026")
        downlink = Downlink(store, community="demo", bus=Bus(), signers=["office-2026"])
        assert isinstance(downlink.handle(DownlinkKind.KEYS, message), Opened)
        assert _verify(store, token) is VerifyReason.UNKNOWN_KEY
    with _booted(settings) as store:  # the .pub is still there: the revocation holds
        assert _verify(store, token) is VerifyReason.UNKNOWN_KEY
        actions = [(c.kid, c.action, c.source) for c in store.trust_report().changes]
        assert (LEAKED, "revoked", "downlink:v1") in actions
