"""The community receiver: takes the gates' batches off the broker, stores them, acknowledges.

Several receivers can share the load through the MQTT v5 shared subscription
``$share/<group>/kakou/v1/+/+/entries`` against one PostgreSQL database. The gates' alerts come
the same way (``…/alerts/#``) and are stored for the office in ``office_alerts``
(sync/receiver/alerts.py), also before their PUBACK. Each message is stored,
then its gate's ack is published (retained), then the message is PUBACKed by hand (paho manual
ack), in that order: a receiver killed at any point leaves the message with the broker or the
entries with the gate, never only in memory.

Bad input is expected: a message that is not a valid batch is kept in ``rejects`` and PUBACKed
(the broker must not send it forever); an invalid entry inside a valid batch is kept in
``rejects`` and not acknowledged, so the gate keeps it and the gap report shows it. What a reject
keeps is bounded (sync/receiver/limits.py): its first 4 KiB with its size and SHA-256, and per
gate a token bucket of rejects stored; beyond it they are counted, not stored.
"""

from __future__ import annotations

import json
import logging
import queue
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from drivers.threads import Backoff, Periodic
from sync.contract import (
    MAX_ACK_IDS,
    Ack,
    Alert,
    Channel,
    EntryBatch,
    GateTopic,
    Malformed,
    Status,
    entries_share_filter,
    gate_topic,
    parse_gate_topic,
    parse_payload,
    status_filter,
    to_json,
)
from sync.mqtt import Connected, Disconnected, LinkEvent, MqttLink, Received
from sync.receiver import alerts as office_alerts
from sync.receiver.db import (
    GateStatusRow,
    IncomingBatch,
    IncomingEntry,
    ReceiverDb,
    ReceiverDbError,
    RejectedMessage,
    StoreCounts,
    StoreResult,
)
from sync.receiver.entries import check_entry
from sync.receiver.limits import RejectLimit, RejectThrottle
from sync.settings import ServerSettings

log = logging.getLogger(__name__)

_TICK_S = 0.05
BATCH_WAIT_S = 0.005
"""How long the first message of a transaction waits for others to share it."""
_DB_RETRY_MIN_S = 0.5
_DB_RETRY_MAX_S = 30.0


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class Parsed:
    """What one message contributes to a transaction."""

    batch: IncomingBatch | None = None
    rejects: list[RejectedMessage] = field(default_factory=list)
    status: GateStatusRow | None = None
    alert: Alert | None = None


def _rejected(what: str, topic: str, payload: bytes, reason: str) -> Parsed:
    """A whole message refused: logged, and kept as a reject with its reason."""
    log.warning("rejected a %s on %s: %s", what, topic, reason)
    return Parsed(rejects=[RejectedMessage.of(topic, payload, reason)])


def parse_entries_message(where: GateTopic, topic: str, payload: bytes) -> Parsed:
    """A batch from ``topic``, every entry checked strictly; never raises on bad input."""
    batch = parse_payload(EntryBatch, payload)
    if isinstance(batch, Malformed):
        return _rejected("message", topic, payload, f"batch: {batch.reason}")
    if (batch.community, batch.gate) != (where.community, where.gate):
        reason = f"batch names {batch.community}/{batch.gate} on another gate's topic"
        return _rejected("message", topic, payload, reason)
    parsed = Parsed()
    good: list[IncomingEntry] = []
    for index, document in enumerate(batch.entries):
        # The checked document itself, keys sorted, is what is stored: the gate writes every
        # document the same way, so equal entries give equal text.
        checked = check_entry(document)
        if isinstance(checked, str):
            problem = f"entries[{index}]: {checked}"
        elif (checked.community, checked.gate) != (batch.community, batch.gate):
            problem = f"entries[{index}]: entry of {checked.community}/{checked.gate}"
        else:
            good.append(checked)
            continue
        log.warning("rejected an entry on %s: %s", topic, problem)
        raw = json.dumps(document, ensure_ascii=False, default=str).encode("utf-8")
        parsed.rejects.append(RejectedMessage.of(topic, raw, problem))
    parsed.batch = IncomingBatch(batch.community, batch.gate, batch.log_id, good)
    return parsed


def parse_status_message(where: GateTopic, topic: str, payload: bytes) -> Parsed:
    status = parse_payload(Status, payload)
    if isinstance(status, Malformed):
        return _rejected("status", topic, payload, f"status: {status.reason}")
    if (status.community, status.gate) != (where.community, where.gate):
        return _rejected("status", topic, payload, "status of another gate")
    return Parsed(status=status_row(status, payload.decode("utf-8")))


def status_row(status: Status, payload: str) -> GateStatusRow:
    """What is stored of a gate's status: the fields the gaps read, beside its ``payload``."""
    return GateStatusRow(
        community=status.community,
        gate=status.gate,
        log_id=status.log_id,
        state=status.state.value,
        last_seq=status.last_seq,
        backlog=status.backlog,
        payload=payload,
    )


def parse_alert_message(where: GateTopic, topic: str, payload: bytes) -> Parsed:
    alert = office_alerts.parse_alert_message(where, payload)
    if isinstance(alert, str):
        return _rejected("alert", topic, payload, alert)
    return Parsed(alert=alert)


@dataclass(slots=True)
class ReceiverStats(StoreCounts):
    """Since the receiver started: what its transactions stored, and what else it did."""

    messages: int = 0
    rejects_dropped: int = 0
    """Rejects over their gate's limit: counted, not stored."""
    acks_published: int = 0
    database_errors: int = 0
    alerts: int = 0
    """Alerts stored (a repeat of one already stored is not counted)."""


class Receiver:
    """One receiver process's MQTT link and storing worker."""

    def __init__(
        self,
        settings: ServerSettings,
        db: ReceiverDb,
        *,
        wall_now: Callable[[], datetime] = _utc_now,
        reject_limit: RejectLimit | None = None,
        batch_wait_s: float = BATCH_WAIT_S,
    ) -> None:
        self._settings = settings
        self._batch_wait_s = batch_wait_s
        self._throttle = RejectThrottle(reject_limit or RejectLimit())
        self._db = db
        self._wall_now = wall_now
        self._name = settings.receiver.name
        office_alerts.ensure_schema(db)
        self._events: queue.SimpleQueue[LinkEvent | None] = queue.SimpleQueue()
        self._link = MqttLink(
            settings.broker,
            client_id=settings.broker.client_id or f"kakou-{self._name}",
            on_event=self._events.put,
            subscriptions=[
                (entries_share_filter(settings.receiver.group), 1),
                (status_filter(), 1),
                (office_alerts.alerts_share_filter(settings.receiver.group), 1),
            ],
            manual_ack=True,
            name=f"receiver-{self._name}",
        )
        # A failing round (the database) is logged, and the next waits a little: keep receiving.
        self._worker = Periodic(
            f"receiver-{self._name}",
            self._round,
            0.0,
            after_error_s=_DB_RETRY_MIN_S,
            join_timeout_s=10.0,
        )
        self.stats = ReceiverStats()

    @property
    def connected(self) -> bool:
        return self._link.connected

    def start(self) -> None:
        self._link.start()
        self._worker.start()
        log.info(
            "receiver %s: %s database, group %s, broker %s:%d",
            self._name,
            self._db.backend,
            self._settings.receiver.group,
            self._settings.broker.host,
            self._settings.broker.port,
        )

    def stop(self, timeout_s: float = 10.0) -> None:
        self._events.put(None)
        self._worker.stop(timeout_s)
        self._link.stop(timeout_s=timeout_s)

    def _round(self) -> None:
        """One transaction's messages: those that arrive within ``batch_wait_s`` of the first,
        up to ``max_batch_messages``. At rush hour each gate's message holds one entry, so one
        transaction for many gates' messages is what keeps the cost per message down; a lone
        message waits only those few ms."""
        messages: list[Received] = []
        limit = self._settings.receiver.max_batch_messages
        deadline: float | None = None
        try:
            event = self._events.get(timeout=_TICK_S)
            while event is not None:
                if isinstance(event, Received):
                    messages.append(event)
                    if deadline is None:
                        deadline = time.monotonic() + self._batch_wait_s
                elif isinstance(event, Connected | Disconnected):
                    log.debug("receiver %s: %s", self._name, event)
                if len(messages) >= limit:
                    break
                wait_s = 0.0 if deadline is None else deadline - time.monotonic()
                event = (
                    self._events.get(timeout=wait_s) if wait_s > 0 else self._events.get_nowait()
                )
        except queue.Empty:
            pass
        if messages:
            self._handle(messages)

    def _handle(self, messages: list[Received]) -> None:
        batches: list[IncomingBatch] = []
        rejects: list[RejectedMessage] = []
        statuses: list[GateStatusRow] = []
        alerts: list[Alert] = []
        for message in messages:
            parsed = self._parse(message)
            if parsed.batch is not None:
                batches.append(parsed.batch)
            rejects.extend(r for r in parsed.rejects if self._throttle.admit(r.topic))
            if parsed.status is not None:
                statuses.append(parsed.status)
            if parsed.alert is not None:
                alerts.append(parsed.alert)
        result = self._store_until_done(batches, rejects, statuses, alerts)
        if result is None:
            return  # stopping: nothing acknowledged, the broker sends these again
        self._publish_acks(result)
        for message in messages:
            if message.qos > 0:
                self._link.ack(message.generation, message.mid, message.qos)
        self.stats.messages += len(messages)
        self.stats.add(result)
        self.stats.rejects_dropped = self._throttle.dropped

    def _parse(self, message: Received) -> Parsed:
        where = parse_gate_topic(message.topic)
        if where is None or where.channel is Channel.ACK:
            log.warning("rejected a message on an unexpected topic %r", message.topic[:200])
            return Parsed(rejects=[RejectedMessage.of(message.topic, message.payload, "topic")])
        if where.channel is Channel.STATUS:
            return parse_status_message(where, message.topic, message.payload)
        if where.channel is Channel.ALERTS:
            return parse_alert_message(where, message.topic, message.payload)
        return parse_entries_message(where, message.topic, message.payload)

    def _store_until_done(
        self,
        batches: list[IncomingBatch],
        rejects: list[RejectedMessage],
        statuses: list[GateStatusRow],
        alerts: list[Alert],
    ) -> StoreResult | None:
        """Store, retrying while the database is down; None if told to stop meanwhile.

        The alerts go in a transaction right after the entries' (both idempotent, so a retry
        after either failed stores nothing twice); the messages are acknowledged only after
        both have committed."""
        backoff = Backoff(_DB_RETRY_MIN_S, _DB_RETRY_MAX_S)
        while True:
            try:
                now = self._wall_now()
                result = self._db.store(batches, rejects=rejects, statuses=statuses, now=now)
                stored = office_alerts.store_alerts(self._db, alerts, now=now, receiver=self._name)
                self.stats.alerts += stored.new
                return result
            except ReceiverDbError as exc:  # keep the messages unacknowledged and retry
                self.stats.database_errors += 1
                delay_s = backoff.next_s()
                log.error(
                    "receiver %s: cannot store (%s: %s); retrying in %.1f s",
                    self._name,
                    type(exc).__name__,
                    str(exc)[:200],
                    delay_s,
                )
            if self._worker.wait(delay_s):
                return None

    def _publish_acks(self, result: StoreResult) -> None:
        now = self._wall_now()
        for (community, gate, log_id), state in result.acks.items():
            ack = Ack(
                community=community,
                gate=gate,
                log_id=log_id,
                up_to_seq=state.up_to_seq,
                ids=state.ids[:MAX_ACK_IDS],
                server_time=now,
                receiver=self._name,
            )
            topic = gate_topic(community, gate, Channel.ACK)
            if self._link.publish(topic, to_json(ack), qos=1, retain=True) >= 0:
                self.stats.acks_published += 1
