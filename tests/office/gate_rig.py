"""A gate as the office's tests need one: its real store and sync runtime, subscribed to the
community's downlink on the test's Mosquitto, trusting the office key as its operator would
configure it, and verifying a pass exactly as its lanes do (the store's keys and revocations);
and the settings that point the office at that broker with its signing key."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from edge import keys, passes
from edge.bus import Bus
from edge.model import Verdict
from edge.store import Store
from sync.runtime import SyncHandle
from sync.settings import ServerSettings, SyncSettings
from tests.office.conftest import COMMUNITY, office_server_settings
from tests.sync.rig import sync_settings, wait_until

OFFICE_KID = "hxy1"


def office_settings_for(
    db_path: Path, *, broker_port: int, key_dir: Path | None = None, signing: bool = True
) -> ServerSettings:
    """Office settings on the test broker, signing with ``key_dir/hxy1.key`` (made if missing)."""
    office: dict[str, object] = {}
    if key_dir is not None and signing:
        key_path = key_dir / f"{OFFICE_KID}.key"
        if not key_path.exists():
            keys.new_keypair(OFFICE_KID, key_dir)
        office = {"signing_key": str(key_path), "signing_kid": OFFICE_KID, "key_dir": str(key_dir)}
    settings = office_server_settings(db_path, **office)
    broker = settings.broker.model_copy(
        update={"port": broker_port, "reconnect_min_s": 0.2, "reconnect_max_s": 1.0}
    )
    return settings.model_copy(update={"broker": broker})


class SyncedGate:
    """A gate's store and sync on ``port``, north of the test community; with ``key_dir`` (the
    office's) it trusts the office's public key as its downlink signer. An alarm published on
    ``bus`` goes to the office as an alert."""

    def __init__(
        self,
        directory: Path,
        port: int,
        *,
        key_dir: Path | None = None,
        community: str = COMMUNITY,
        gate: str = "north",
    ) -> None:
        self.community = community
        self.gate = gate
        self.store = Store.open(directory / "kakou.db", community=community, gate=gate)
        self.bus = Bus()
        changes: dict[str, object] = {}
        if key_dir is not None:
            office_pub = key_dir / f"{OFFICE_KID}.pub"
            self.store.put_trusted_key(
                OFFICE_KID, office_pub.read_bytes(), source=f"config:{OFFICE_KID}.pub"
            )
            changes["downlink_signers"] = [OFFICE_KID]
        settings = SyncSettings.model_validate(sync_settings(port, **changes))
        self.sync = SyncHandle(
            settings, store=self.store, bus=self.bus, community=community, gate=gate
        )
        self.sync.start()
        wait_until(lambda: self.sync.status()["connected"], 10, f"gate {gate} to connect")

    def verdict(self, token: str, now: datetime) -> Verdict:
        """What a lane of this gate decides about ``token`` now (edge.app.boot's trust)."""
        return passes.verify(
            token,
            keys=self.store.trusted_keys(),
            revoked=self.store.revoked_ids(),
            community=self.community,
            gate=self.gate,
            now=now,
        )

    def close(self) -> None:
        self.sync.stop(timeout_s=3)
        self.store.close()
