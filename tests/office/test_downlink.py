"""sync/office/downlink.py: which gate applied which version of each downlink kind, read from
the statuses a real receiver stores off a real Mosquitto; a gate behind, offline, or of a
release that does not report keys and policy is told apart."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from edge import keys
from sync.contract import (
    AppliedStatus,
    ClockStatus,
    DownlinkKind,
    GateState,
    RevocationStatus,
    Status,
    to_json,
)
from sync.office import alerts, audit, downlink, gates, passes
from sync.office.accounts import Officer, Role
from sync.office.context import OfficeContext
from sync.receiver.db import GateStatusRow, ReceiverDb
from sync.receiver.receiver import Receiver
from sync.status import offline_status
from tests.office.conftest import COMMUNITY
from tests.office.gate_rig import OFFICE_KID, SyncedGate, office_settings_for
from tests.sync.rig import Mosquitto, serving, wait_until

ADMIN = Officer(id="a-1", name="赵主任", role=Role.ADMIN, communities=None)
REVOCATIONS, KEYS, POLICY = DownlinkKind.REVOCATIONS, DownlinkKind.KEYS, DownlinkKind.POLICY


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    yield from serving(Mosquitto(tmp_path / "mosquitto"))


@pytest.fixture
def db(office_db: ReceiverDb) -> ReceiverDb:
    audit.ensure_schema(office_db)
    passes.ensure_schema(office_db)
    return office_db


def versions(db: ReceiverDb, gate: str) -> downlink.GateVersions:
    (community,) = downlink.gate_versions(db, [COMMUNITY])
    return next(found for found in community.gates if found.gate == gate)


def older_gate_status(db: ReceiverDb, gate: str, revocations: int | None) -> None:
    """A status as a gate of the release before sends it: no keys, no policy."""
    payload = {
        "v": 1,
        "type": "status",
        "community": COMMUNITY,
        "gate": gate,
        "state": "online",
        "at": datetime.now(UTC).isoformat(),
        "revocations": {"version": revocations, "issued_at": None, "age_s": None},
    }
    row = GateStatusRow(COMMUNITY, gate, "log-s", "online", 0, 0, json.dumps(payload))
    db.store([], statuses=[row], now=datetime.now(UTC))


def status_row(payload: Status) -> GateStatusRow:
    return GateStatusRow(
        payload.community,
        payload.gate,
        payload.log_id,
        payload.state.value,
        payload.last_seq,
        payload.backlog,
        to_json(payload).decode(),
    )


@pytest.mark.parametrize("office_db", ["sqlite", "postgresql"], indirect=True)
def test_a_last_will_keeps_what_the_gate_last_reported(db: ReceiverDb) -> None:
    alerts.ensure_schema(db)  # the gates' view counts their open alarms
    at = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    online = Status(
        community=COMMUNITY,
        gate="north",
        state=GateState.ONLINE,
        at=at,
        log_id="log-n",
        last_seq=41,
        backlog=7,
        revocations=RevocationStatus(version=3, issued_at=at, age_s=60),
        keys=AppliedStatus(version=2, issued_at=at),
        policy=AppliedStatus(version=1, issued_at=at),
        clock=ClockStatus(synced=True, offset_s=1.5),
        disk_used_fraction=0.5,
    )
    db.store([], statuses=[status_row(online)], now=at)
    will = offline_status(COMMUNITY, "north")
    db.store([], statuses=[status_row(will)], now=at + timedelta(minutes=3))
    north = versions(db, "north")
    assert not north.online
    assert north.at == at  # when it last reported
    assert north.applied[REVOCATIONS].version == 3
    assert north.applied[KEYS].version == 2
    assert north.applied[POLICY].version == 1
    (view,) = gates.at_a_glance(db, [COMMUNITY], at + timedelta(minutes=3))
    assert view.state == "offline"
    assert view.backlog == 7
    assert view.last_seq == 41
    assert view.clock_offset_s == 1.5
    assert view.clock_synced is True
    assert view.disk_used_fraction == 0.5
    # Back online: its new status replaces the kept one whole.
    back = online.model_copy(update={"backlog": 0, "keys": AppliedStatus(version=None)})
    db.store([], statuses=[status_row(back)], now=at + timedelta(minutes=4))
    assert versions(db, "north").applied[KEYS].version is None
    (view,) = gates.at_a_glance(db, [COMMUNITY], at + timedelta(minutes=4))
    assert view.backlog == 0


def test_a_last_will_of_a_gate_never_heard_from_is_stored_as_it_is(db: ReceiverDb) -> None:
    will = offline_status(COMMUNITY, "east")
    db.store([], statuses=[status_row(will)], now=datetime.now(UTC))
    east = versions(db, "east")
    assert not east.online
    assert east.applied[KEYS] == downlink.Applied(None, reported=True, stale=False)


def test_each_gate_shows_what_it_applied_and_what_it_lags(
    db: ReceiverDb, broker: Mosquitto, tmp_path: Path
) -> None:
    key_dir = tmp_path / "keys"
    settings = office_settings_for(
        tmp_path / "receiver.db", broker_port=broker.port, key_dir=key_dir
    )
    keys.new_keypair("hxy2", key_dir)  # the next pass key, published to the gates
    publish = OfficeContext(db=db, settings=settings).downlink()
    receiver = Receiver(settings, db)
    receiver.start()
    try:
        with closing(SyncedGate(tmp_path / "north", broker.port, key_dir=key_dir)) as gate:
            now = datetime.now(UTC)
            first = passes.publish_revocations(
                db, publish, community=COMMUNITY, officer=ADMIN, now=now
            )
            rotated = passes.publish_keys(
                db,
                publish,
                community=COMMUNITY,
                key_dir=key_dir,
                revoke=["hxy0"],
                signing_kid=OFFICE_KID,
                officer=ADMIN,
                now=now,
            )
            assert first.error is None
            assert rotated.error is None
            wait_until(lambda: "hxy2" in gate.store.trusted_keys(), 10, "the keys applied")

            def north_current() -> bool:
                found = versions(db, "north")
                return found.applied[KEYS].version == 1 and found.applied[REVOCATIONS].version == 1

            wait_until(north_current, 15, "north's status to report both versions")
            north = versions(db, "north")
            assert north.online
            assert not north.stale
            assert north.applied[POLICY] == downlink.Applied(None, reported=True, stale=False)

            older_gate_status(db, "south", revocations=None)
            south = versions(db, "south")
            assert south.applied[REVOCATIONS].stale  # published 1, applied none
            assert south.applied[KEYS] == downlink.Applied(None, reported=False, stale=False)
            (community,) = downlink.gate_versions(db, [COMMUNITY])
            assert community.published[REVOCATIONS][0] == 1
            assert POLICY not in community.published
            assert community.stale_count(REVOCATIONS) == 1
        # The gate stopped cleanly: its last status says offline, with no versions; the office
        # keeps the versions it last reported, and an offline gate cannot be shown current.
        wait_until(lambda: not versions(db, "north").online, 10, "north's offline status")
        assert versions(db, "north").applied[KEYS] == downlink.Applied(1, reported=True, stale=True)
        assert versions(db, "north").applied[REVOCATIONS].version == 1
    finally:
        receiver.stop()
    assert downlink.gate_versions(db, []) == []
    assert [line.action for line in audit.read(db, communities=None)][:2] == [
        "downlink.keys",
        "downlink.revocations",
    ]
