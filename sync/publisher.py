"""The edge publisher: drains the SQLite outbox over MQTT, in order, and applies receiver acks.

The outbox is the record (hardware.md: paho keeps unacknowledged QoS 1 messages in memory only).
This class holds nothing that a restart needs: after a crash it starts from the oldest
unacknowledged row and the receiver drops what it already has.

Two windows bound what is in the air:

- PUBACK window: at most ``max_inflight_messages`` batches published and not yet accepted by the
  broker (capped by the broker's Receive Maximum). A PUBACK older than ``puback_timeout_s`` means
  the connection is up but stuck, and the link is told to reconnect.
- Receiver window: at most ``max_unacked_entries`` entries published and not yet acknowledged by
  the receiver, so a receiver outage of days never floods the broker. With no ack progress for
  ``ack_timeout_s`` the publisher goes back to the oldest unacknowledged row and sends again
  (go-back-N); the wait doubles up to ``ack_timeout_max_s`` while nothing comes back.

Time is an argument (``now_s``, monotonic seconds) so the window logic is tested without waiting.
All calls come from one thread, the sync worker.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from edge.store import Store
from edge.store.outbox import PendingDocument, mark_acked, mark_published, pending_documents
from sync.contract import Ack, Channel, encode_entry_batch, gate_topic
from sync.mqtt import Connected, Published
from sync.settings import SyncSettings

log = logging.getLogger(__name__)

META_CLOCK_OFFSET = "sync.clock_offset_s"
_OFFSET_WRITE_DELTA_S = 0.5
_OFFSET_WRITE_EVERY_S = 600.0


class Link(Protocol):
    """What the publisher needs of the MQTT link (``sync.mqtt.MqttLink``)."""

    @property
    def connected(self) -> bool: ...

    def publish(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False) -> int: ...

    def request_reconnect(self, reason: str) -> None: ...


@dataclass(slots=True)
class SentBatch:
    """One published message: its outbox rows and which of its entries await the receiver."""

    gate: str
    first_position: int
    last_position: int
    last_seq: int
    unacked_ids: set[str]
    sent_at_s: float
    pubacked: bool = False


@dataclass(slots=True)
class PublisherStats:
    published_entries: int = 0
    pubacked_entries: int = 0
    acked_entries: int = 0
    resends: int = 0
    stalls: int = 0
    last_ack_seq: int | None = None
    last_ack_at: datetime | None = None
    clock_offset_s: float | None = None
    refused_pubacks: int = 0
    other_log_acks: int = 0


class Publisher:
    """Outbox → MQTT for one gate's database, with the two windows described above."""

    def __init__(
        self,
        store: Store,
        settings: SyncSettings,
        *,
        link: Link,
        log_id: str,
        wall_now: Callable[[], datetime],
    ) -> None:
        self._store = store
        self._settings = settings
        self._link = link
        self.log_id = log_id
        self._wall_now = wall_now
        self._cursor = 0
        self._batches: list[SentBatch] = []
        self._by_mid: dict[int, SentBatch] = {}
        self._generation = -1
        self._max_inflight = settings.max_inflight_messages
        self._last_progress_s = 0.0
        self._ack_timeout_s = settings.ack_timeout_s
        self._to_mark_published: list[str] = []
        self._acked_floor: dict[str, int] = {}  # per gate: cumulative acks applied in this run
        self._offset_written: tuple[float, float] | None = None  # (offset, when, monotonic)
        self.stats = PublisherStats()
        stored_offset = store.get_meta(META_CLOCK_OFFSET)
        if stored_offset is not None:
            try:
                self.stats.clock_offset_s = float(stored_offset)
            except ValueError:
                log.warning("ignoring unreadable %s in the store", META_CLOCK_OFFSET)

    # ----------------------------------------------------------------------------- state

    @property
    def outstanding(self) -> int:
        """Entries published in this run and not yet acknowledged by the receiver."""
        return sum(len(batch.unacked_ids) for batch in self._batches)

    @property
    def in_flight(self) -> int:
        """Messages published and awaiting the broker's PUBACK."""
        return len(self._by_mid)

    # ---------------------------------------------------------------------------- events

    def on_connected(self, event: Connected, now_s: float) -> None:
        """A new connection: decide what must be sent again."""
        self._generation = event.generation
        self._by_mid.clear()
        self._max_inflight = self._settings.max_inflight_messages
        if event.receive_maximum is not None:
            self._max_inflight = max(1, min(self._max_inflight, event.receive_maximum))
        if not event.session_present:
            # The broker lost our session (restarted without persistence, or it expired), so it
            # may have lost what it had queued for the receiver too: send everything again.
            if self._batches:
                log.info("broker kept no session: resending %d entries", self.outstanding)
            self._go_back(now_s)
            return
        # Session resumed: batches the broker accepted are queued there; send the rest again.
        unaccepted = [batch for batch in self._batches if not batch.pubacked]
        if unaccepted:
            self._cursor = unaccepted[0].first_position - 1
            self._batches = [batch for batch in self._batches if batch.pubacked]
        self._last_progress_s = now_s

    def on_disconnected(self) -> None:
        self._by_mid.clear()

    def on_published(self, event: Published) -> bool:
        """A PUBACK; True if it was for one of our batches."""
        if event.generation != self._generation:
            return False
        batch = self._by_mid.pop(event.mid, None)
        if batch is None:
            return False
        batch.pubacked = True
        if not event.ok:
            # Refused (not authorised, quota): leave it unacknowledged; the ack timeout sends
            # it again later rather than hammering the broker now.
            self.stats.refused_pubacks += 1
            log.error(
                "broker refused a batch of %d entries: %s", len(batch.unacked_ids), event.reason
            )
            return True
        self._to_mark_published.extend(batch.unacked_ids)
        self.stats.pubacked_entries += len(batch.unacked_ids)
        return True

    def on_ack(self, ack: Ack, now_s: float) -> int:
        """Apply the receiver's acknowledgement; returns how many rows it newly acknowledged."""
        if ack.community != self._store.community:
            log.warning("ignoring an ack for community %s", ack.community)
            return 0
        at = self._wall_now()
        own_log = ack.log_id == self.log_id
        newly = 0
        if own_log:
            # Everything up to the last cumulative ack applied in this run is acknowledged
            # already: only the new range is visited (acks can arrive out of order).
            floor = min(self._acked_floor.get(ack.gate, 0), ack.up_to_seq)
            newly += mark_acked(
                self._store, ack.gate, at=at, up_to_seq=ack.up_to_seq, after_seq=floor
            )
            self._acked_floor[ack.gate] = max(self._acked_floor.get(ack.gate, 0), ack.up_to_seq)
        else:
            # Another database of this gate id (a replaced SD card, or two devices set up with
            # the same gate): its seq numbers are not ours, but entry ids are unique anywhere.
            self.stats.other_log_acks += 1
        if ack.ids:
            newly += mark_acked(self._store, ack.gate, at=at, entry_ids=ack.ids)
        acked_ids = set(ack.ids)
        kept: list[SentBatch] = []
        for batch in self._batches:
            if batch.gate == ack.gate:
                if own_log and batch.last_seq <= ack.up_to_seq:
                    continue
                batch.unacked_ids -= acked_ids
                if not batch.unacked_ids:
                    continue
            kept.append(batch)
        self._batches = kept
        if newly:
            self.stats.acked_entries += newly
            self._last_progress_s = now_s
            self._ack_timeout_s = self._settings.ack_timeout_s
        if own_log:
            self.stats.last_ack_seq = ack.up_to_seq
            self.stats.last_ack_at = at
        self._note_clock_offset((ack.server_time - at).total_seconds(), now_s)
        return newly

    # ------------------------------------------------------------------------------ work

    def pump(self, now_s: float) -> None:
        """Record PUBACKs, watch for stalls, and publish while both windows allow."""
        if self._to_mark_published:
            mark_published(self._store, self._to_mark_published, self._wall_now())
            self._to_mark_published = []
        if not self._link.connected:
            return
        if self._puback_overdue(now_s):
            return
        if self.outstanding and now_s - self._last_progress_s > self._ack_timeout_s:
            self.stats.resends += 1
            log.warning(
                "no receiver ack for %.0f s: sending %d unacknowledged entries again",
                now_s - self._last_progress_s,
                self.outstanding,
            )
            self._go_back(now_s)
            self._ack_timeout_s = min(self._ack_timeout_s * 2, self._settings.ack_timeout_max_s)
        self._fill(now_s)

    def _puback_overdue(self, now_s: float) -> bool:
        oldest = min((batch.sent_at_s for batch in self._by_mid.values()), default=None)
        if oldest is None or now_s - oldest <= self._settings.puback_timeout_s:
            return False
        self.stats.stalls += 1
        self._link.request_reconnect(f"no PUBACK for {now_s - oldest:.0f} s")
        self._by_mid.clear()
        return True

    def _go_back(self, now_s: float) -> None:
        # Batches still awaiting PUBACK stay in _by_mid: they count against the broker's
        # Receive Maximum until their PUBACK comes, even though they are no longer tracked.
        self._batches = []
        self._cursor = 0
        self._last_progress_s = now_s

    def _fill(self, now_s: float) -> None:
        settings = self._settings
        while len(self._by_mid) < self._max_inflight:
            outstanding = self.outstanding
            if outstanding >= settings.max_unacked_entries:
                return
            room = min(settings.batch_max_entries, settings.max_unacked_entries - outstanding)
            rows = pending_documents(self._store, limit=room, after_position=self._cursor)
            if not rows:
                if not self._batches:
                    # Nothing awaits an ack: start over from the head next time, since a purge
                    # of the newest rows lets SQLite hand out lower positions again.
                    self._cursor = 0
                return
            rows = _same_gate_prefix(rows)
            if not self._send(rows, now_s, was_idle=outstanding == 0):
                return

    def _send(self, rows: list[PendingDocument], now_s: float, *, was_idle: bool) -> bool:
        first = rows[0]
        payload = encode_entry_batch(
            community=first.community,
            gate=first.gate,
            log_id=self.log_id,
            sent_at=self._wall_now(),
            documents=[row.document for row in rows],
        )
        mid = self._link.publish(
            gate_topic(first.community, first.gate, Channel.ENTRIES), payload, qos=1
        )
        if mid < 0:
            return False
        batch = SentBatch(
            gate=first.gate,
            first_position=rows[0].position,
            last_position=rows[-1].position,
            last_seq=max(row.seq for row in rows),
            unacked_ids={row.entry_id for row in rows},
            sent_at_s=now_s,
        )
        if was_idle:
            self._last_progress_s = now_s  # the ack clock starts with the first entry in the air
        self._batches.append(batch)
        self._by_mid[mid] = batch
        self._cursor = batch.last_position
        self.stats.published_entries += len(rows)
        return True

    def _note_clock_offset(self, offset_s: float, now_s: float) -> None:
        """Keep the receiver-minus-gate clock offset; written to the store when it moves."""
        self.stats.clock_offset_s = offset_s
        written = self._offset_written
        if (
            written is None
            or abs(written[0] - offset_s) > _OFFSET_WRITE_DELTA_S
            or now_s - written[1] > _OFFSET_WRITE_EVERY_S
        ):
            self._store.set_meta(META_CLOCK_OFFSET, f"{offset_s:.3f}")
            self._offset_written = (offset_s, now_s)


def _same_gate_prefix(rows: list[PendingDocument]) -> list[PendingDocument]:
    """The leading rows of one community and gate: a batch goes to one gate's topic."""
    key = (rows[0].community, rows[0].gate)
    for index, row in enumerate(rows):
        if (row.community, row.gate) != key:
            return rows[:index]
    return rows
