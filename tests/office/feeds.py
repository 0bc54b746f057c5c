"""What the gates send, put straight into the receiver's database for the office's page tests:
entries recorded by a real gate store and checked as the receiver checks them, statuses as the
gate builds them, alerts as the gate's relay makes them. (The browser and receiver tests send
them through Mosquitto instead.)"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from drivers.base import Reading
from edge.bus import AlarmRaised
from edge.entry_document import entry_to_document
from edge.model import Direction, EntryDraft, MeasuredTemperature, Outcome, PassKind
from edge.store import Store
from sync.contract import Alert, AlertKind, RevocationStatus, Status, to_json
from sync.receiver.alerts import store_alerts
from sync.receiver.db import IncomingBatch, IncomingEntry, ReceiverDb
from sync.receiver.entries import check_entry
from sync.receiver.receiver import status_row
from sync.runtime import ensure_log_id
from sync.status import AlertRelay, build_status, offline_status


def visit(
    at: datetime,
    *,
    outcome: Outcome = Outcome.PASSED,
    readings_c: tuple[float, ...] = (36.5,),
    holder: str = "王小华",
    household: str = "3-2-501",
    lane: str = "in-1",
    pass_id: str = "R-0001",
) -> EntryDraft:
    return EntryDraft(
        lane=lane,
        direction=Direction.IN,
        outcome=outcome,
        started_at=at - timedelta(seconds=20),
        decided_at=at,
        reasons=("fever",) if outcome is Outcome.FEVER else (),
        pass_id=pass_id,
        pass_kind=PassKind.RESIDENT,
        holder=holder,
        household=household,
        key_id="hxy1",
        temperatures=tuple(
            MeasuredTemperature(
                reading=Reading(value_c=value - 0.4, sensor="gy-mcu90614", object_c=value - 0.4),
                body_c=value,
                at=at - timedelta(seconds=10 - index),
                plausible=True,
                fever=value >= 37.3,
            )
            for index, value in enumerate(readings_c)
        ),
        clock_synced=True,
    )


class GateFeed:
    """One gate's store, whose entries go into the receiver's database as a batch would."""

    def __init__(self, directory: Path, db: ReceiverDb, community: str, gate: str) -> None:
        self.db = db
        self.community = community
        self.gate = gate
        self.store = Store.open(
            directory / f"{community}-{gate}.db", community=community, gate=gate
        )
        self.log_id = ensure_log_id(self.store)

    def close(self) -> None:
        self.store.close()

    def record(self, *drafts: EntryDraft, send: bool = True) -> list[IncomingEntry]:
        """Record visits at the gate; ``send``: and store them at the receiver."""
        checked: list[IncomingEntry] = []
        for draft in drafts:
            entry = self.store.record_entry(draft, boot_id="b", recorded_at=draft.decided_at)
            found = check_entry(entry_to_document(entry))
            assert not isinstance(found, str), found
            checked.append(found)
        if send:
            self.send(checked, at=drafts[-1].decided_at)
        return checked

    def send(self, entries: list[IncomingEntry], *, at: datetime) -> None:
        batch = IncomingBatch(self.community, self.gate, self.log_id, entries)
        self.db.store([batch], now=at)

    def status(
        self,
        at: datetime,
        *,
        backlog: int = 0,
        last_seq: int | None = None,
        clock_offset_s: float | None = 0.2,
        clock_synced: bool | None = True,
        revocations_version: int | None = 3,
        revocations_age_s: float = 3600.0,
        disk: float | None = 0.2,
        online: bool = True,
    ) -> Status:
        """Store a retained status as the gate would send it."""
        if online:
            status = build_status(
                community=self.community,
                gate=self.gate,
                at=at,
                log_id=self.log_id,
                last_seq=self.store.last_seq() if last_seq is None else last_seq,
                backlog=backlog,
                oldest_pending_at=None,
                revocations=RevocationStatus()
                if revocations_version is None
                else RevocationStatus(
                    version=revocations_version,
                    issued_at=at - timedelta(seconds=revocations_age_s),
                    age_s=revocations_age_s,
                ),
                clock_synced=clock_synced,
                clock_offset_s=clock_offset_s,
                disk_used_fraction=disk,
                software="kakou test",
            )
        else:
            status = offline_status(self.community, self.gate)
        self.db.store([], statuses=[status_row(status, to_json(status).decode())], now=at)
        return status

    def alert(
        self, kind: AlertKind, at: datetime, *, detail: str = "", lane: str | None = "in-1"
    ) -> Alert:
        relay = AlertRelay(
            community=self.community, gate=self.gate, enqueue=lambda _: None, wall_now=lambda: at
        )
        alert = relay.alert_for(AlarmRaised(lane=lane or "", kind=kind.value, detail=detail))
        store_alerts(self.db, [alert], now=at, receiver="receiver-1")
        return alert


def fever_detail(holder: str, household: str, readings: tuple[float, ...]) -> str:
    """The detail the gate's rule writes for a fever (edge.rule), as the alert carries it."""
    values = ", ".join(f"{value:.1f}" for value in readings)
    return f"{holder}, household {household}; readings °C: {values}"
