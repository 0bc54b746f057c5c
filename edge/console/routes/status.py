"""The gate's status in one document: devices, lanes, sync, clock, storage and open alarms.

``gate_status`` is what both ``GET /api/v1/status`` (served with health, in ``health.py``) and
the ``/status`` page show. Both are open like health (the page is read at the gate without
signing in), so it carries no alarm details: a fever alarm's detail names the person.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import asdict
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from drivers.base import DeviceStatus
from edge.console import messages
from edge.console.deps import ConsoleContext
from edge.console.hub import STORE_ERRORS, LiveHub
from edge.console.routes.live import refresh_alarms
from edge.console.schemas import LaneView
from edge.model import Entry
from edge.retention import db_usage, disk_space
from edge.store.outbox import pending_count

log = logging.getLogger(__name__)

READINGS_LOOKBACK = 50
"""Entries searched (newest first) for each thermometer's last reading."""


class DeviceState(BaseModel):
    name: str
    health: Literal["ok", "degraded", "down"]
    detail: str = Field(description="What the device says now.")
    last_error: str | None = Field(description="The last error, kept after recovery.")
    last_frame_age_s: float | None = Field(description="Seconds since the device last sent.")
    last_reading_c: float | None = Field(
        description="The module's last temperature in a stored entry (thermometers)."
    )
    last_reading_at: datetime | None = Field(description="When that reading was taken.")


class SyncState(BaseModel):
    enabled: bool = Field(description="False when [mqtt] is off: entries wait in the outbox.")
    connected: bool | None = None
    broker: str | None = None
    backlog: int = Field(description="Entries the community receiver has not acknowledged.")
    last_ack_seq: int | None = None
    last_ack_at: datetime | None = None
    last_error: str | None = None


class ClockState(BaseModel):
    synced: bool | None = Field(description="NTP vouches for the clock; None when unknown.")
    offset_s: float | None = Field(
        description="The receiver's clock minus the gate's, from sync acknowledgements."
    )
    last_trusted_at: datetime | None = Field(
        description="The latest time read while synced: passes are never judged earlier."
    )


class StorageState(BaseModel):
    integrity: str
    entries_stored: int
    last_seq: int
    db_bytes: int | None = Field(description="The database file with its WAL.")
    disk_free_bytes: int | None
    disk_total_bytes: int | None
    disk_free_percent: float | None


class OpenAlarm(BaseModel):
    id: str
    lane: str
    kind: str
    raised_at: datetime
    text_zh: str
    text_en: str


class GateStatus(BaseModel):
    at: datetime
    lanes: list[LaneView]
    devices: list[DeviceState]
    sync: SyncState
    clock: ClockState
    storage: StorageState
    alarms: list[OpenAlarm]


class TrustedKeyState(BaseModel):
    kid: str
    source: str = Field(description="config:FILE.pub, downlink:vN, gate-visitor-key or sim.")
    added_at: str
    revoked: bool
    fingerprint: str = Field(description="To compare with the office's copy of the key.")


class TrustChangeState(BaseModel):
    at: str
    kid: str
    source: str
    action: str = Field(description="added, replaced, moved, retired or revoked.")
    detail: str


class TrustState(BaseModel):
    """Which keys this gate trusts and the latest changes of trust (the audit), newest first."""

    keys: list[TrustedKeyState]
    changes: list[TrustChangeState]


def trust_state(context: ConsoleContext, limit: int = 50) -> TrustState:
    report = context.store.trust_report(limit)
    return TrustState(
        keys=[TrustedKeyState(**key._asdict()) for key in report.keys],
        changes=[TrustChangeState(**change._asdict()) for change in report.changes],
    )


def _last_readings(context: ConsoleContext) -> dict[str, tuple[float, datetime]]:
    """Each sensor's latest reading in the recent entries (manual readings are the guard's)."""
    try:
        entries: list[Entry] = context.store.entries(newest_first=True, limit=READINGS_LOOKBACK)
    except STORE_ERRORS as exc:
        log.warning("could not read recent entries for the status: %s", exc)
        return {}
    found: dict[str, tuple[float, datetime]] = {}
    for entry in entries:
        for measured in reversed(entry.draft.temperatures):
            reading = measured.reading
            if not reading.manual and reading.sensor not in found:
                found[reading.sensor] = (reading.value_c, measured.at)
    return found


def _age_s(device: DeviceStatus) -> float | None:
    try:
        return float(device.extra["last_frame_age_s"])
    except (KeyError, ValueError):
        return None


def _devices(context: ConsoleContext) -> list[DeviceState]:
    readings = _last_readings(context)
    devices = []
    for device in context.device_status():
        reading = readings.get(device.name)
        devices.append(
            DeviceState(
                name=device.name,
                health=device.health.value,
                detail=device.detail,
                last_error=device.extra.get("last_error") or None,
                last_frame_age_s=_age_s(device),
                last_reading_c=None if reading is None else reading[0],
                last_reading_at=None if reading is None else reading[1],
            )
        )
    return devices


def _sync(context: ConsoleContext) -> tuple[SyncState, float | None]:
    """The sync state, and the clock offset it measured."""
    backlog = pending_count(context.store)
    if context.sync_status is None:
        return SyncState(enabled=False, backlog=backlog), None
    try:
        view = context.sync_status()
    except STORE_ERRORS as exc:
        log.warning("could not read the sync status: %s", exc)
        view = None
    if view is None:
        return SyncState(enabled=True, backlog=backlog), None
    # The view's fields are the state's, but for the clock offset (the clock section shows it).
    fields = asdict(view)
    clock_offset_s = fields.pop("clock_offset_s")
    return SyncState(enabled=True, **fields), clock_offset_s


def _storage(context: ConsoleContext) -> StorageState:
    store = context.store
    db_bytes = free = total = None
    percent = None
    try:
        db_bytes = db_usage(store.path).file_bytes
    except (sqlite3.Error, OSError) as exc:
        log.warning("could not measure the database: %s", exc)
    try:
        space = disk_space(store.path.parent)
        free, total, percent = space.free_bytes, space.total_bytes, round(space.free_percent, 1)
    except OSError as exc:
        log.warning("could not measure the disk: %s", exc)
    return StorageState(
        integrity=store.integrity,
        entries_stored=store.entry_count(),
        last_seq=store.last_seq(),
        db_bytes=db_bytes,
        disk_free_bytes=free,
        disk_total_bytes=total,
        disk_free_percent=percent,
    )


def gate_status(context: ConsoleContext, hub: LiveHub) -> GateStatus:
    """Everything the status page shows, read now (alarm checks run first)."""
    refresh_alarms(context, hub)
    sync, offset_s = _sync(context)
    clock = context.clock_status() if context.clock_status is not None else None
    return GateStatus(
        at=context.now(),
        lanes=[LaneView(**lane.snapshot()) for lane in context.lanes.values()],
        devices=_devices(context),
        sync=sync,
        clock=ClockState(
            synced=None if clock is None else clock.synced,
            offset_s=offset_s,
            last_trusted_at=None if clock is None else clock.last_trusted_at,
        ),
        storage=_storage(context),
        alarms=[
            OpenAlarm(
                id=a.id,
                lane=a.lane,
                kind=a.kind,
                raised_at=a.raised_at,
                text_zh=messages.term("alarm", a.kind, "zh"),
                text_en=messages.term("alarm", a.kind, "en"),
            )
            for a in hub.alarms()
        ],
    )
