"""sync/publisher.py against a real store and a recording link: order, both windows, go-back-N,
reconnects with and without a session, stalls, acks of other logs, the clock offset."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from edge.store import Store
from edge.store.outbox import mark_acked, pending, pending_count, purge_acked
from sync.contract import Ack
from sync.mqtt import Connected, Published
from sync.publisher import META_CLOCK_OFFSET, Publisher
from sync.settings import SyncSettings
from tests.sync.conftest import COMMUNITY, GATE, Recorder

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
LOG = "log-a"


@dataclass
class FakeLink:
    """Records what the publisher hands to MQTT; the test plays the broker."""

    connected: bool = True
    sent: list[tuple[int, str, dict[str, Any]]] = field(default_factory=list)
    reconnects: list[str] = field(default_factory=list)
    _mid: int = 0

    def publish(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False) -> int:
        if not self.connected:
            return -1
        self._mid += 1
        self.sent.append((self._mid, topic, json.loads(payload)))
        return self._mid

    def request_reconnect(self, reason: str) -> None:
        self.reconnects.append(reason)

    def take(self) -> list[tuple[int, list[int]]]:
        """(mid, seqs) of the messages sent since the last take."""
        sent, self.sent = self.sent, []
        return [(mid, [entry["seq"] for entry in body["entries"]]) for mid, _, body in sent]


def make(store: Store, link: FakeLink, **changes: Any) -> Publisher:
    settings = SyncSettings.model_validate(
        {
            "batch_max_entries": 10,
            "max_inflight_messages": 3,
            "max_unacked_entries": 100,
            "puback_timeout_s": 5,
            "ack_timeout_s": 10,
            "ack_timeout_max_s": 40,
            "downlink_signers": ["office"],
            **changes,
        }
    )
    publisher = Publisher(store, settings, link=link, log_id=LOG, wall_now=lambda: NOW)
    publisher.on_connected(Connected(1, session_present=False, receive_maximum=None), 0.0)
    return publisher


def pumped(store: Store, **changes: Any) -> tuple[FakeLink, Publisher]:
    """A connected publisher on a fake link, pumped once at t=0."""
    link = FakeLink()
    publisher = make(store, link, **changes)
    publisher.pump(0.0)
    return link, publisher


def ack(up_to: int, ids: tuple[str, ...] = (), log_id: str = LOG, offset_s: float = 0.0) -> Ack:
    return Ack(
        community=COMMUNITY,
        gate=GATE,
        log_id=log_id,
        up_to_seq=up_to,
        ids=list(ids),
        server_time=NOW + timedelta(seconds=offset_s),
        receiver="r1",
    )


def puback(publisher: Publisher, mids: list[int], generation: int = 1) -> None:
    for mid in mids:
        assert publisher.on_published(Published(generation, mid, ok=True, reason="Success"))


def puback_sent(publisher: Publisher, link: FakeLink) -> None:
    """The broker accepts every message sent since the link's last take."""
    puback(publisher, [mid for mid, _ in link.take()])


def test_sends_in_order_in_batches_and_holds_the_puback_window(
    gate_store: Store, record: Recorder
) -> None:
    record(45)
    link, publisher = pumped(gate_store)
    first = link.take()
    assert [seqs for _, seqs in first] == [
        list(range(1, 11)),
        list(range(11, 21)),
        list(range(21, 31)),
    ]
    assert link.sent == []
    publisher.pump(0.1)
    assert link.take() == []  # three awaiting PUBACK: the window is full
    puback(publisher, [first[0][0]])
    publisher.pump(0.2)
    assert [seqs for _, seqs in link.take()] == [list(range(31, 41))]
    # The PUBACK was recorded, but an accepted entry is still pending until the receiver acks.
    rows = {row.seq: row for row in pending(gate_store, limit=100)}
    assert rows[1].published_at is not None
    assert rows[1].publish_count == 1
    assert rows[11].published_at is None
    assert pending_count(gate_store) == 45


def test_topic_and_batch_envelope(gate_store: Store, record: Recorder) -> None:
    ids = record(3)
    link = FakeLink()
    make(gate_store, link).pump(0.0)
    ((_, topic, body),) = link.sent
    assert topic == "kakou/v1/hxy/north/entries"
    assert body["v"] == 1
    assert body["log_id"] == LOG
    assert (body["community"], body["gate"]) == (COMMUNITY, GATE)
    assert [entry["id"] for entry in body["entries"]] == ids


def test_receiver_window_bounds_what_is_in_the_air(gate_store: Store, record: Recorder) -> None:
    record(100)
    link, publisher = pumped(gate_store, max_unacked_entries=25, max_inflight_messages=10)
    sent = link.take()
    assert sum(len(seqs) for _, seqs in sent) == 25  # the last batch is cut to fit the window
    puback(publisher, [mid for mid, _ in sent])
    publisher.pump(1.0)
    assert link.take() == []
    assert publisher.on_ack(ack(20), 1.5) == 20
    publisher.pump(2.0)
    assert sum(len(seqs) for _, seqs in link.take()) == 20
    assert pending_count(gate_store) == 80


def test_ack_timeout_sends_the_unacknowledged_again_with_backoff(
    gate_store: Store, record: Recorder
) -> None:
    record(12)
    link, publisher = pumped(gate_store)
    puback_sent(publisher, link)
    publisher.pump(9.0)
    assert link.take() == []
    publisher.pump(10.5)  # 10 s without an ack: go back to the oldest unacknowledged row
    assert [seqs for _, seqs in link.take()] == [list(range(1, 11)), [11, 12]]
    assert publisher.stats.resends == 1
    publisher.pump(21.0)  # the wait doubled: nothing yet
    assert link.take() == []
    publisher.pump(31.0)
    assert len(link.take()) == 2
    publisher.on_ack(ack(12), 31.5)  # progress resets the wait
    assert pending_count(gate_store) == 0


def test_ids_acknowledged_beyond_a_gap_are_not_sent_again(
    gate_store: Store, record: Recorder
) -> None:
    ids = record(10)
    link = FakeLink(connected=True)
    publisher = make(gate_store, link, batch_max_entries=5)
    publisher.pump(0.0)
    puback_sent(publisher, link)
    # The broker lost seq 3; the receiver stored 1-2 and 4-10.
    assert publisher.on_ack(ack(2, tuple(ids[3:])), 1.0) == 9
    publisher.pump(12.0)
    assert [seqs for _, seqs in link.take()] == [[3]]


def test_an_ack_from_another_log_of_the_gate_only_counts_by_id(
    gate_store: Store, record: Recorder
) -> None:
    ids = record(10)
    _, publisher = pumped(gate_store)
    # A replaced SD card's old log reached seq 5000: that number says nothing about this log.
    assert publisher.on_ack(ack(5000, log_id="old-card"), 1.0) == 0
    assert pending_count(gate_store) == 10
    assert publisher.on_ack(ack(5000, ids[:2], log_id="old-card"), 1.0) == 2
    assert publisher.stats.other_log_acks == 2


def test_a_stuck_connection_is_dropped(gate_store: Store, record: Recorder) -> None:
    record(5)
    link, publisher = pumped(gate_store)
    publisher.pump(4.0)
    assert link.reconnects == []
    publisher.pump(6.0)
    assert len(link.reconnects) == 1
    assert "no PUBACK" in link.reconnects[0]
    assert publisher.stats.stalls == 1


def test_reconnect_without_session_resends_everything_unacknowledged(
    gate_store: Store, record: Recorder
) -> None:
    record(30)
    link, publisher = pumped(gate_store)
    puback_sent(publisher, link)
    publisher.on_disconnected()
    publisher.on_connected(Connected(2, session_present=False, receive_maximum=None), 1.0)
    publisher.pump(1.0)
    assert [seqs[0] for _, seqs in link.take()] == [1, 11, 21]


def test_reconnect_with_session_resends_only_what_the_broker_did_not_accept(
    gate_store: Store, record: Recorder
) -> None:
    record(30)
    link, publisher = pumped(gate_store)
    mids = [mid for mid, _ in link.take()]
    puback(publisher, mids[:1])  # the PUBACKs of batches 2 and 3 were lost with the link
    publisher.on_disconnected()
    publisher.on_connected(Connected(2, session_present=True, receive_maximum=2), 1.0)
    publisher.pump(1.0)
    assert [seqs[0] for _, seqs in link.take()] == [11, 21]  # and the broker's limit of 2
    # A PUBACK from the old connection is not mistaken for one of the new.
    assert not publisher.on_published(Published(1, mids[1], ok=True, reason="Success"))


def test_a_refused_publish_is_kept_for_later(gate_store: Store, record: Recorder) -> None:
    record(3)
    link, publisher = pumped(gate_store)
    ((mid, _),) = link.take()
    assert publisher.on_published(Published(1, mid, ok=False, reason="Not authorized"))
    assert publisher.stats.refused_pubacks == 1
    assert pending(gate_store, limit=1)[0].published_at is None
    publisher.pump(11.0)
    assert [seqs for _, seqs in link.take()] == [[1, 2, 3]]


def test_nothing_is_sent_while_disconnected(gate_store: Store, record: Recorder) -> None:
    record(3)
    link = FakeLink(connected=False)
    publisher = make(gate_store, link)
    publisher.pump(0.0)
    assert link.sent == []
    link.connected = True
    publisher.pump(0.1)
    assert len(link.take()) == 1


def test_the_clock_offset_is_kept_in_the_store(gate_store: Store, record: Recorder) -> None:
    record(1)
    _, publisher = pumped(gate_store)
    publisher.on_ack(ack(1, offset_s=42.5), 1.0)
    assert publisher.stats.clock_offset_s == pytest.approx(42.5)
    assert gate_store.get_meta(META_CLOCK_OFFSET) == "42.500"
    again = Publisher(
        gate_store,
        SyncSettings(downlink_signers=["office"]),
        link=FakeLink(),
        log_id=LOG,
        wall_now=lambda: NOW,
    )
    assert again.stats.clock_offset_s == pytest.approx(42.5)


def test_positions_reused_after_a_purge_are_still_sent(gate_store: Store, record: Recorder) -> None:
    record(3)
    link, publisher = pumped(gate_store)
    publisher.on_ack(ack(3), 0.5)
    # Everything acknowledged and purged: SQLite may now hand out position 1 again.
    assert purge_acked(gate_store, NOW + timedelta(days=3650)) == 3
    publisher.pump(1.0)
    link.take()
    record(2)
    publisher.pump(2.0)
    assert [seqs for _, seqs in link.take()] == [[4, 5]]


def test_acks_only_ever_acknowledge_what_the_receiver_named(
    gate_store: Store, record: Recorder
) -> None:
    record(4)
    mark_acked(gate_store, GATE, at=NOW, up_to_seq=1)
    link, publisher = pumped(gate_store)
    assert [seqs for _, seqs in link.take()] == [[2, 3, 4]]
    assert publisher.on_ack(ack(3), 1.0) == 2
    assert [row.seq for row in pending(gate_store)] == [4]
