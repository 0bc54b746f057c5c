"""The gate's sync, assembled: one MQTT link, one worker thread, and a handle for boot.

``edge.app.boot`` calls ``start_sync`` once the store and bus exist, and ``SyncHandle.stop()``
on the way out. The worker thread is the only sync code that writes to the store: it takes link
events (PUBACKs, acks, downlink messages) from one queue, pumps the outbox, sends alerts and
refreshes the retained status. A bus listener only enqueues. Deleting acknowledged entries and
watching the disk are ``edge.retention``'s (its ``disk_filling`` alarm reaches the office as an
alert).
"""

from __future__ import annotations

import collections
import logging
import queue
import shutil
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from drivers.threads import Periodic
from edge.bus import AlarmRaised, Bus
from edge.clock import SystemClock
from edge.store import Store
from edge.store.outbox import pending, pending_count
from sync.contract import (
    Ack,
    Alert,
    Channel,
    DownlinkKind,
    Malformed,
    alert_topic,
    check_id,
    downlink_filter,
    gate_topic,
    parse_downlink_topic,
    parse_payload,
    to_json,
)
from sync.mqtt import (
    Connected,
    Disconnected,
    LinkEvent,
    MqttLink,
    Outgoing,
    Published,
    Received,
)
from sync.publisher import Publisher
from sync.settings import SyncSettings
from sync.status import (
    AlertRelay,
    applied_status,
    build_status,
    offline_status,
    revocation_status,
)
from sync.subscriber import Downlink, load_applied

log = logging.getLogger(__name__)

META_LOG_ID = "sync.log_id"
_TICK_S = 0.05
_MAX_EVENTS_PER_TICK = 2_000
_ERROR_PAUSE_S = 1.0


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _disk_used_fraction(path: Path) -> float | None:
    """How full the database's file system is, for the status (edge.retention alarms on it)."""
    try:
        usage = shutil.disk_usage(path)
    except OSError:
        return None
    return (usage.total - usage.free) / usage.total if usage.total else None


def _software() -> str:
    try:
        return f"kakou {metadata.version('kakou')}"
    except metadata.PackageNotFoundError:
        return "kakou"


def ensure_log_id(store: Store) -> str:
    """This database's log id, created on first use: it names the seq series the gate sends."""
    log_id = store.get_meta(META_LOG_ID)
    if log_id is None:
        log_id = uuid.uuid4().hex
        store.set_meta(META_LOG_ID, log_id)
        log.info("this entry log is %s for the receiver", log_id)
    return log_id


class _Stop:
    """Tells the worker to finish."""


_STOP = _Stop()
_Event = LinkEvent | _Stop


class SyncHandle:
    """A running sync: ``stop()`` ends it, ``status()`` reports it (for the console and health)."""

    def __init__(
        self,
        settings: SyncSettings,
        *,
        store: Store,
        bus: Bus,
        community: str,
        gate: str,
        wall_now: Callable[[], datetime] = _utc_now,
        clock_synced: Callable[[], bool | None] | None = None,
    ) -> None:
        check_id("community", community)
        check_id("gate", gate)
        if (store.community, store.gate) != (community, gate):
            raise ValueError(
                f"store is {store.community}/{store.gate}, sync asked for {community}/{gate}"
            )
        self._settings = settings
        self._store = store
        self._bus = bus
        self._community = community
        self._gate = gate
        self._wall_now = wall_now
        self._clock_synced = clock_synced or SystemClock().synced
        self.log_id = ensure_log_id(store)
        self._events: queue.SimpleQueue[_Event] = queue.SimpleQueue()
        self._status_topic = gate_topic(community, gate, Channel.STATUS)
        self._ack_topic = gate_topic(community, gate, Channel.ACK)
        self._offline = Outgoing(
            self._status_topic, to_json(offline_status(community, gate)), qos=1, retain=True
        )
        self.client_id = settings.client_id or f"kakou-{community}-{gate}"
        self._link = MqttLink(
            settings,
            client_id=self.client_id,
            on_event=self._events.put,
            subscriptions=[(self._ack_topic, 1), (downlink_filter(community), 1)],
            will=self._offline,
            name=f"mqtt-{gate}",
        )
        self._publisher = Publisher(
            store, settings, link=self._link, log_id=self.log_id, wall_now=wall_now
        )
        self._downlink = Downlink(
            store,
            community=community,
            bus=bus,
            signers=settings.downlink_signers,
            wall_now=wall_now,
            max_future_s=settings.downlink_max_future_s,
        )
        self._relay = AlertRelay(
            community=community,
            gate=gate,
            enqueue=self._queue_alert,
            wall_now=wall_now,
            clock_synced=self._clock_synced,
        )
        self._alerts: collections.deque[Alert] = collections.deque()
        self._alert_mids: dict[int, Alert] = {}
        self.alerts_dropped = 0
        self._unsubscribe: Callable[[], None] | None = None
        # The only sync code that writes to the store; a failing round pauses, the outbox is safe.
        self._worker = Periodic(
            f"sync-{gate}", self._tick, 0.0, after_error_s=_ERROR_PAUSE_S, join_timeout_s=5.0
        )
        self._next_status_s = 0.0
        self.malformed_acks = 0

    # ------------------------------------------------------------------------ life cycle

    def start(self) -> None:
        self._unsubscribe = self._bus.on(AlarmRaised, self._relay)
        self._link.start()
        self._worker.start()
        log.info(
            "sync for %s/%s to %s:%d as %s",
            self._community,
            self._gate,
            self._settings.host,
            self._settings.port,
            self.client_id,
        )

    def stop(self, timeout_s: float = 5.0) -> None:
        """Finish the worker, publish the retained 'offline' status and disconnect cleanly."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._events.put(_STOP)
        self._worker.stop(timeout_s)
        self._link.stop(
            final=[self._offline],
            timeout_s=timeout_s,
        )

    def status(self) -> dict[str, Any]:
        """The sync's state as plain data (JSON-ready) for the console and health checks."""
        stats = self._publisher.stats
        now = self._wall_now()
        revocations = revocation_status(
            load_applied(self._store, DownlinkKind.REVOCATIONS),
            wall_now=now,
            clock_offset_s=stats.clock_offset_s,
        )
        keys = load_applied(self._store, DownlinkKind.KEYS)
        policy = load_applied(self._store, DownlinkKind.POLICY)
        return {
            "connected": self._link.connected,
            "broker": f"{self._settings.host}:{self._settings.port}",
            "client_id": self.client_id,
            "log_id": self.log_id,
            "last_seq": self._store.last_seq(),
            "backlog": pending_count(self._store),
            "in_flight_messages": self._publisher.in_flight,
            "unacked_published": self._publisher.outstanding,
            "published_entries": stats.published_entries,
            "acked_entries": stats.acked_entries,
            "resends": stats.resends,
            "stalls": stats.stalls,
            "connects": self._link.connects,
            "last_error": self._link.last_error,
            "last_ack_seq": stats.last_ack_seq,
            "last_ack_at": None if stats.last_ack_at is None else stats.last_ack_at.isoformat(),
            "clock_offset_s": stats.clock_offset_s,
            "revocations": revocations.model_dump(mode="json"),
            "keys_version": None if keys is None else keys.version,
            "policy_version": None if policy is None else policy.version,
            "downlink_refused": dict(self._downlink.refused),
            "disk_used_fraction": _disk_used_fraction(self._store.path.parent),
            "alerts_queued": len(self._alerts),
            "alerts_dropped": self.alerts_dropped,
        }

    # ---------------------------------------------------------------------------- worker

    def _tick(self) -> None:
        """One round of work; the stop event (set before ``_STOP`` is queued) ends the rounds."""
        events: list[_Event] = []
        try:
            events.append(self._events.get(timeout=_TICK_S))
            while len(events) < _MAX_EVENTS_PER_TICK:
                events.append(self._events.get_nowait())
        except queue.Empty:
            pass
        now_s = time.monotonic()
        for event in events:
            if isinstance(event, _Stop):
                return
            self._handle(event, now_s)
        self._publisher.pump(now_s)
        if self._link.connected:
            self._send_alerts()
            if now_s >= self._next_status_s:
                self._publish_status(now_s)

    def _handle(self, event: LinkEvent, now_s: float) -> None:
        if isinstance(event, Connected):
            self._publisher.on_connected(event, now_s)
            self._requeue_alerts()
            self._next_status_s = 0.0  # announce 'online' at once
        elif isinstance(event, Disconnected):
            self._publisher.on_disconnected()
            self._requeue_alerts()
        elif isinstance(event, Published):
            if not self._publisher.on_published(event):
                self._alert_mids.pop(event.mid, None)
        elif isinstance(event, Received):
            self._received(event, now_s)

    def _received(self, event: Received, now_s: float) -> None:
        if event.topic == self._ack_topic:
            ack = parse_payload(Ack, event.payload)
            if isinstance(ack, Malformed):
                self.malformed_acks += 1
                log.warning("ignoring a malformed ack on %s: %s", event.topic, ack.reason)
                return
            if ack.gate != self._gate:
                log.warning("ignoring an ack for gate %s on %s", ack.gate, event.topic)
                return
            self._publisher.on_ack(ack, now_s)
            return
        downlink = parse_downlink_topic(event.topic)
        if downlink is not None and downlink[0] == self._community:
            self._downlink.handle(downlink[1], event.payload)
            return
        log.debug("ignoring a message on %s", event.topic)

    # ------------------------------------------------------------------------- alerts

    def _queue_alert(self, alert: Alert) -> None:
        """Runs on the lane's thread (bus listener): append only."""
        if len(self._alerts) >= self._settings.max_queued_alerts:
            self._alerts.popleft()
            self.alerts_dropped += 1
        self._alerts.append(alert)

    def _send_alerts(self) -> None:
        while self._alerts:
            alert = self._alerts[0]
            mid = self._link.publish(
                alert_topic(self._community, self._gate, alert.kind), to_json(alert), qos=1
            )
            if mid < 0:
                return
            self._alerts.popleft()
            self._alert_mids[mid] = alert

    def _requeue_alerts(self) -> None:
        """Alerts without a PUBACK go out again on the next connection (their id is unchanged)."""
        for alert in reversed(list(self._alert_mids.values())):
            self._alerts.appendleft(alert)
        self._alert_mids.clear()

    # ------------------------------------------------------------------ status and upkeep

    def _publish_status(self, now_s: float) -> None:
        oldest = pending(self._store, limit=1)
        stats = self._publisher.stats
        now = self._wall_now()
        payload = build_status(
            community=self._community,
            gate=self._gate,
            at=now,
            log_id=self.log_id,
            last_seq=self._store.last_seq(),
            backlog=pending_count(self._store),
            oldest_pending_at=oldest[0].queued_at if oldest else None,
            revocations=revocation_status(
                load_applied(self._store, DownlinkKind.REVOCATIONS),
                wall_now=now,
                clock_offset_s=stats.clock_offset_s,
            ),
            clock_synced=self._clock_synced(),
            clock_offset_s=stats.clock_offset_s,
            disk_used_fraction=_disk_used_fraction(self._store.path.parent),
            software=_software(),
            keys=applied_status(load_applied(self._store, DownlinkKind.KEYS)),
            policy=applied_status(load_applied(self._store, DownlinkKind.POLICY)),
        )
        if self._link.publish(self._status_topic, to_json(payload), qos=1, retain=True) >= 0:
            self._next_status_s = now_s + self._settings.status_interval_s


def start_sync(
    settings: SyncSettings, *, store: Store, bus: Bus, community: str, gate: str
) -> SyncHandle:
    """Start the gate's MQTT sync; call ``stop()`` on the handle before closing the store."""
    handle = SyncHandle(settings, store=store, bus=bus, community=community, gate=gate)
    handle.start()
    return handle
