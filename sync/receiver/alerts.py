"""The gates' alerts as the receiver keeps them for the office: ``office_alerts``, one row per
alert id, stored before the alert's message is PUBACKed.

A gate sends each alert with QoS 1 and sends it again, with the same id, after a reconnect
without a PUBACK; the receiver stores it with ``ON CONFLICT (id) DO NOTHING``, so a repeat is
kept once. Receivers of one group share the alerts as they share the batches (a shared
subscription); the office's console reads the table, and its officers acknowledge alerts in it
(the ``acked_*`` columns are theirs).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from edge.entry_document import epoch_us
from sync.contract import (
    TOPIC_ROOT,
    Alert,
    Channel,
    GateTopic,
    Malformed,
    check_id,
    parse_payload,
)
from sync.receiver.db import ReceiverDb

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS office_alerts (
    row_id {serial},
    id TEXT NOT NULL UNIQUE,
    community TEXT NOT NULL,
    gate TEXT NOT NULL,
    lane TEXT,
    kind TEXT NOT NULL,
    source_kind TEXT,
    detail TEXT NOT NULL,
    at TEXT NOT NULL,
    at_us BIGINT NOT NULL,
    clock_synced INTEGER,
    received_at TEXT NOT NULL,
    received_at_us BIGINT NOT NULL,
    receiver TEXT NOT NULL,
    acked_at TEXT,
    acked_at_us BIGINT,
    acked_by TEXT,
    acked_by_name TEXT,
    ack_note TEXT
);
CREATE INDEX IF NOT EXISTS office_alerts_by_community ON office_alerts (community, row_id);
CREATE INDEX IF NOT EXISTS office_alerts_open ON office_alerts (community, gate, acked_at_us)
"""

_INSERT = """
INSERT INTO office_alerts (id, community, gate, lane, kind, source_kind, detail, at, at_us,
    clock_synced, received_at, received_at_us, receiver)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO NOTHING
"""


def ensure_schema(db: ReceiverDb) -> None:
    db.ensure_tables(SCHEMA)


def alerts_share_filter(group: str) -> str:
    """The receivers' shared subscription to every gate's alerts, all kinds."""
    check_id("group", group)
    return f"$share/{group}/{TOPIC_ROOT}/+/+/{Channel.ALERTS}/#"


def parse_alert_message(where: GateTopic, payload: bytes) -> Alert | str:
    """The alert on a gate's alert topic, or why it was refused (never raises)."""
    alert = parse_payload(Alert, payload)
    if isinstance(alert, Malformed):
        return f"alert: {alert.reason}"
    if (alert.community, alert.gate) != (where.community, where.gate):
        return "alert of another gate"
    if alert.kind is not where.alert:
        return f"alert of kind {alert.kind} on the {where.alert} topic"
    return alert


@dataclass(frozen=True, slots=True)
class AlertsStored:
    new: int
    repeated: int


def store_alerts(
    db: ReceiverDb, alerts: Sequence[Alert], *, now: datetime, receiver: str
) -> AlertsStored:
    """Store ``alerts`` in one transaction; one already stored (same id) is left as it is."""
    if not alerts:
        return AlertsStored(0, 0)
    unique = list({alert.id: alert for alert in alerts}.values())
    new = 0
    with db.writing() as q:
        for alert in unique:
            new += q.run(
                _INSERT,
                [
                    alert.id,
                    alert.community,
                    alert.gate,
                    alert.lane,
                    alert.kind.value,
                    alert.source_kind,
                    alert.detail,
                    alert.at.isoformat(),
                    epoch_us(alert.at),
                    None if alert.clock_synced is None else int(alert.clock_synced),
                    now.isoformat(),
                    epoch_us(now),
                    receiver,
                ],
            )
    return AlertsStored(new, len(alerts) - new)
