"""What the gate tells the office besides entries: alerts from the bus, and its status.

``AlertRelay`` listens on the bus (the lane never knows it is there) and turns alarms into
``Alert`` payloads — the lanes' fevers and faults, and ``edge.retention``'s ``disk_filling`` while
the outbox grows through a long broker outage; it only enqueues, because a bus listener runs on
the lane's thread. ``build_status`` makes the retained status payload. No I/O here: the sync
worker sends what these produce.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from edge.bus import AlarmRaised
from sync.contract import (
    Alert,
    AlertKind,
    AppliedStatus,
    ClockStatus,
    GateState,
    RevocationStatus,
    Status,
)
from sync.downlink import Applied

log = logging.getLogger(__name__)

_KNOWN_KINDS = {kind.value for kind in AlertKind} - {AlertKind.OTHER.value}


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertRelay:
    """Bus listener: ``alarm`` events become alerts (edge.health raises ``device_down`` and
    ``sync_backlog`` there, the lanes their fevers and faults)."""

    community: str
    gate: str
    enqueue: Callable[[Alert], None]
    wall_now: Callable[[], datetime]
    clock_synced: Callable[[], bool | None] = lambda: None
    """Whether the gate's clock was synchronised when the alarm rose (None: not known), so the
    office knows how far to trust the alert's time, as an entry's."""

    def __call__(self, event: AlarmRaised) -> None:
        self.enqueue(self.alert_for(event))

    def alert_for(self, event: AlarmRaised) -> Alert:
        """The alert for an alarm; a kind the contract does not name goes as ``other``."""
        source_kind = event.kind
        detail = event.detail
        known = source_kind in _KNOWN_KINDS
        return Alert(
            id=uuid.uuid4().hex,
            community=self.community,
            gate=self.gate,
            lane=event.lane or None,
            kind=AlertKind(source_kind) if known else AlertKind.OTHER,
            source_kind=None if known else source_kind[:500],
            detail=detail[:500],
            at=self.wall_now(),
            clock_synced=self.clock_synced(),
        )


def revocation_status(
    applied: Applied | None, *, wall_now: datetime, clock_offset_s: float | None
) -> RevocationStatus:
    """The applied list's version and age. The age is judged by the receiver's clock when the
    gate knows the offset, since the gate's own clock may not be synchronised."""
    if applied is None:
        return RevocationStatus()
    issued_at = datetime.fromisoformat(applied.issued_at)
    now = wall_now + timedelta(seconds=clock_offset_s or 0.0)
    return RevocationStatus(
        version=applied.version,
        issued_at=issued_at,
        age_s=round((now - issued_at).total_seconds(), 3),
    )


def applied_status(applied: Applied | None) -> AppliedStatus:
    """The applied version of a keys or policy document, as the status reports it, so the
    office sees which gates have taken up what it published."""
    if applied is None:
        return AppliedStatus()
    return AppliedStatus(
        version=applied.version, issued_at=datetime.fromisoformat(applied.issued_at)
    )


def offline_status(community: str, gate: str) -> Status:
    """The last will and the clean-stop status: the gate's sync is not running."""
    return Status(community=community, gate=gate, state=GateState.OFFLINE)


def build_status(
    *,
    community: str,
    gate: str,
    at: datetime,
    log_id: str,
    last_seq: int,
    backlog: int,
    oldest_pending_at: datetime | None,
    revocations: RevocationStatus,
    clock_synced: bool | None,
    clock_offset_s: float | None,
    disk_used_fraction: float | None,
    software: str,
    keys: AppliedStatus | None = None,
    policy: AppliedStatus | None = None,
) -> Status:
    return Status(
        community=community,
        gate=gate,
        state=GateState.ONLINE,
        at=at,
        log_id=log_id,
        last_seq=last_seq,
        backlog=backlog,
        oldest_pending_at=oldest_pending_at,
        revocations=revocations,
        keys=keys or AppliedStatus(),
        policy=policy or AppliedStatus(),
        clock=ClockStatus(synced=clock_synced, offset_s=clock_offset_s),
        disk_used_fraction=None if disk_used_fraction is None else min(1.0, disk_used_fraction),
        software=software,
    )
