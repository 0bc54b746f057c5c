"""The gate's outbox reaches the receiver's database through a real Mosquitto, and nothing is
lost or stored twice whatever breaks on the way: the broker stopped and killed mid-stream, the
receiver killed, the gate killed with SIGKILL mid-publish, the link cut between a PUBLISH and its
PUBACK, a link that stays up but carries nothing, duplicate and out-of-order deliveries, and
garbage on the entries topic. After each: every seq 1..N of the gate is stored exactly once,
the gap report is empty, and the gate holds nothing unacknowledged."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from edge.bus import AlarmRaised, Bus, StepChanged
from edge.entry_document import entry_to_document
from edge.store import Store
from edge.store.outbox import pending_count
from sync.contract import encode_entry_batch
from sync.receiver.db import ReceiverDb, open_db
from sync.receiver.receiver import Receiver
from sync.runtime import SyncHandle, ensure_log_id
from tests.sync.conftest import COMMUNITY, GATE, Recorder, Watcher
from tests.sync.rig import (
    GateProcess,
    Mosquitto,
    ReceiverProcess,
    TcpProxy,
    crowd_draft,
    fill_store,
    sync_settings,
    wait_until,
)

DRAIN_TIMEOUT_S = 60


def assert_complete(db: ReceiverDb, last_seq: int, gate: str = GATE) -> None:
    """Seq 1..last_seq of the gate stored exactly once; no gap; no duplicate slot."""
    keys = [key for key in db.entry_keys() if key[:2] == (COMMUNITY, gate)]
    seqs = [key[3] for key in keys]
    assert len(seqs) == last_seq, f"stored {len(seqs)} of {last_seq}"
    assert seqs == list(range(1, last_seq + 1)), "missing or duplicated seq"
    assert len({key[4] for key in keys}) == last_seq, "an entry id stored twice"
    assert db.counts()["duplicate_slots"] == 0
    problems = [gap for gap in db.gaps() if gap.gate == gate and (gap.missing or gap.unreceived)]
    assert problems == []


def drained(store: Store) -> Callable[[], bool]:
    return lambda: pending_count(store) == 0


class Producer:
    """A thread recording crowd entries into the gate store, like a busy lane."""

    def __init__(self, store: Store, rate_per_s: float, seed: int = 3) -> None:
        self._store = store
        self._rate = rate_per_s
        self._rng = random.Random(seed)
        self._stop = threading.Event()
        self.made = 0
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._rng.expovariate(self._rate)):
            at = datetime.now(UTC)
            self._store.record_entry(crowd_draft(self._rng, at), boot_id="b", recorded_at=at)
            self.made += 1

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.made


@dataclass
class Rig:
    """One test's broker and gate store, and the means to start on them the receiver, the gate's
    sync and plain subscribers (the sync conftest's fixtures, on this broker unless told)."""

    broker: Mosquitto
    store: Store
    record: Recorder
    tmp_path: Path
    _start_receiver: Callable[..., Receiver]
    _start_edge: Callable[..., SyncHandle]
    _watcher: Callable[..., Watcher]
    _dbs: list[ReceiverDb] = field(default_factory=list)

    def receiver_db(self) -> ReceiverDb:
        """The receiver's SQLite database in the test's folder (closed after the test)."""
        db = open_db(path=self.tmp_path / "receiver.db")
        self._dbs.append(db)
        return db

    def start_receiver(self, db: ReceiverDb, **receiver: object) -> Receiver:
        """An in-process receiver on ``db``, subscribed."""
        return self._start_receiver(self.broker.port, db, **receiver)

    def start_edge(self, port: int | None = None, **changes: object) -> SyncHandle:
        """The gate's sync on the store, to the broker or to ``port`` (a proxy in front of it)."""
        return self._start_edge(port or self.broker.port, **changes)

    def watcher(self, *topics: str) -> Watcher:
        return self._watcher(self.broker.port, *topics)

    def close(self) -> None:
        for db in self._dbs:
            db.close()


@pytest.fixture
def rig(
    broker: Mosquitto,
    gate_store: Store,
    record: Recorder,
    tmp_path: Path,
    start_receiver: Callable[..., Receiver],
    start_edge: Callable[..., SyncHandle],
    watcher_factory: Callable[..., Watcher],
) -> Iterator[Rig]:
    made = Rig(broker, gate_store, record, tmp_path, start_receiver, start_edge, watcher_factory)
    yield made
    made.close()


# ----------------------------------------------------------------------------------- happy


def test_a_backlog_drains_with_acks_status_and_clock_offset(
    rig: Rig, receiver_db: ReceiverDb
) -> None:
    rig.record(2_000)
    receiver = rig.start_receiver(receiver_db)
    watcher = rig.watcher("kakou/v1/hxy/north/status")
    handle = rig.start_edge()
    wait_until(drained(rig.store), DRAIN_TIMEOUT_S, "the backlog to be acknowledged")
    assert_complete(receiver_db, 2_000)
    status = handle.status()
    assert status["connected"] is True
    assert (status["backlog"], status["last_ack_seq"], status["last_seq"]) == (0, 2_000, 2_000)
    assert abs(status["clock_offset_s"]) < 5
    assert rig.store.get_meta("sync.clock_offset_s") is not None
    wait_until(lambda: bool(watcher.payloads("status")), 10, "the retained status")
    online = watcher.payloads("status")[-1]
    assert online["state"] == "online"
    assert online["log_id"] == handle.log_id
    assert receiver.stats.conflicts == 0
    handle.stop()
    wait_until(
        lambda: watcher.payloads("status")[-1]["state"] == "offline", 10, "the offline status"
    )


# ------------------------------------------------------------------------------ the broker


def test_broker_stopped_and_killed_mid_stream(rig: Rig) -> None:
    db = rig.receiver_db()
    rig.start_receiver(db)
    handle = rig.start_edge()
    producer = Producer(rig.store, rate_per_s=150)
    time.sleep(1.5)
    rig.broker.stop()  # clean stop: persistence saved; the gate queues meanwhile
    stopped_at = rig.store.last_seq()
    time.sleep(3.0)
    rig.broker.start()
    time.sleep(1.5)
    rig.broker.kill()  # power cut: whatever was queued since the last autosave is gone
    killed_at = rig.store.last_seq()
    time.sleep(2.0)
    rig.broker.start()
    time.sleep(1.0)
    made = producer.stop()
    wait_until(drained(rig.store), DRAIN_TIMEOUT_S, "the outbox to drain after the outage")
    # Entries were made before, during and after each outage (how many depends on the machine).
    assert 0 < stopped_at < killed_at < made
    assert_complete(db, rig.store.last_seq())
    assert handle.status()["connects"] >= 3


# ---------------------------------------------------------------------------- the receiver


def test_receiver_killed_and_restarted_mid_stream(rig: Rig) -> None:
    receiver = ReceiverProcess(
        rig.tmp_path / "rx", port=rig.broker.port, db=rig.tmp_path / "receiver.db"
    )
    receiver.start()
    receiver.wait_subscribed()
    producer = Producer(rig.store, rate_per_s=150)
    rig.start_edge()
    time.sleep(2.0)
    receiver.kill()  # SIGKILL between storing and acknowledging, or anywhere else
    time.sleep(2.0)
    receiver.start()
    time.sleep(1.5)
    receiver.kill()
    receiver.start()
    time.sleep(1.0)
    producer.stop()
    try:
        wait_until(drained(rig.store), DRAIN_TIMEOUT_S, "the outbox to drain")
    finally:
        receiver.stop()
    assert_complete(rig.receiver_db(), rig.store.last_seq())


# -------------------------------------------------------------------------------- the gate


def test_gate_killed_with_sigkill_mid_publish(rig: Rig) -> None:
    db = rig.receiver_db()
    rig.start_receiver(db)
    gate = GateProcess(
        rig.tmp_path / "gate-process",
        port=rig.broker.port,
        rate=100.0,
        settings=sync_settings(rig.broker.port, batch_max_entries=50),
    )
    fill_store(gate.db, COMMUNITY, GATE, 4_000)
    rng = random.Random(11)
    try:
        for _ in range(4):
            gate.start()
            # Kill while batches are in the air: after some acks, before the backlog is gone.
            wait_until(lambda: gate.outbox()["unacked"] < gate.outbox()["last_seq"], 30, "acks")
            time.sleep(rng.uniform(0.05, 0.6))
            gate.kill()
        gate.rate = 0  # the crowd goes home, so the drain can finish
        gate.start()
        wait_until(lambda: gate.outbox()["unacked"] == 0, DRAIN_TIMEOUT_S, "the drain after kills")
    finally:
        gate.stop()
    last_seq = gate.outbox()["last_seq"]
    assert last_seq > 4_000  # the crowd kept coming between kills
    assert_complete(db, last_seq)


# ----------------------------------------------------------------------------------- links


def test_link_cut_after_publish_before_puback(rig: Rig, proxy: TcpProxy) -> None:
    db = rig.receiver_db()
    receiver = rig.start_receiver(db)
    rig.record(300)
    handle = rig.start_edge(proxy.port, batch_max_entries=20)
    for cuts in range(1, 4):
        proxy.cut_at_next_puback()  # the broker has the PUBLISH; the gate never hears so
        wait_until(lambda cuts=cuts: proxy.pubacks_cut >= cuts, 20, "a PUBACK to be cut")
        rig.record(100)
    wait_until(drained(rig.store), DRAIN_TIMEOUT_S, "the drain through the proxy")
    assert proxy.pubacks_cut == 3
    assert handle.status()["connects"] >= 4
    assert_complete(db, 600)
    # An unconfirmed batch may come again (a duplicate) or be acknowledged by the receiver before
    # the gate resends it, whichever wins the race: either way it never conflicts.
    assert receiver.stats.conflicts == 0


def test_a_link_that_is_up_but_carries_nothing_is_dropped(rig: Rig, proxy: TcpProxy) -> None:
    db = rig.receiver_db()
    rig.start_receiver(db)
    handle = rig.start_edge(proxy.port, keepalive_s=60, puback_timeout_s=2.0)
    rig.record(50)
    wait_until(drained(rig.store), 20, "the first entries")
    proxy.freeze()  # TCP stays up, nothing passes: only the PUBACK watchdog can tell
    rig.record(200)
    wait_until(lambda: handle.status()["stalls"] >= 1, 20, "the stall to be noticed")
    proxy.thaw()
    wait_until(drained(rig.store), DRAIN_TIMEOUT_S, "the drain after the stall")
    assert handle.status()["connects"] >= 2
    assert_complete(db, 250)


# ------------------------------------------------------------------------- hostile traffic


def test_duplicate_and_out_of_order_deliveries(rig: Rig) -> None:
    db = rig.receiver_db()
    receiver = rig.start_receiver(db)
    rig.record(400)
    log_id = ensure_log_id(rig.store)
    documents = [entry_to_document(entry) for entry in rig.store.entries(limit=400)]
    rng = random.Random(5)
    cuts = sorted(rng.sample(range(1, 400), 25))
    batches = [documents[a:b] for a, b in zip([0, *cuts], [*cuts, 400], strict=True)]
    overlapping = [documents[a : a + 15] for a in rng.sample(range(385), 5)]
    deliveries = batches + rng.sample(batches, 10) + overlapping  # duplicates of every kind
    rng.shuffle(deliveries)
    sender = rig.watcher()
    for batch in deliveries:
        message = encode_entry_batch(
            community=COMMUNITY,
            gate=GATE,
            log_id=log_id,
            sent_at=datetime.now(UTC),
            documents=batch,
        )
        sender.publish("kakou/v1/hxy/north/entries", message)
    wait_until(lambda: db.counts()["entries"] == 400, 30, "every entry stored")
    assert receiver.stats.duplicates >= 10
    # The gate connects afterwards: the retained ack tells it everything is stored.
    rig.start_edge()
    wait_until(drained(rig.store), 30, "the gate to take the retained ack")
    assert_complete(db, 400)
    assert db.counts()["conflicts"] == 0


def test_garbage_on_the_entries_topic_is_kept_and_does_not_stop_the_receiver(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    db = rig.receiver_db()
    rig.start_receiver(db)
    sender = rig.watcher()
    good = rig.record(1)
    one = entry_to_document(rig.store.get_entry(good[0]))  # type: ignore[arg-type]
    broken = dict(one, seq="seven", id="broken-entry")
    now = datetime.now(UTC)
    garbage = [
        b"\x00\xff not json at all",
        b'{"v": 9, "type": "entries"}',
        # Another gate's batch on this gate's topic.
        encode_entry_batch(
            community=COMMUNITY, gate="south", log_id="x", sent_at=now, documents=[one]
        ),
        # A valid batch holding one invalid entry.
        encode_entry_batch(
            community=COMMUNITY, gate=GATE, log_id="x", sent_at=now, documents=[broken]
        ),
    ]
    for payload in garbage:
        sender.publish("kakou/v1/hxy/north/entries", payload)
    wait_until(lambda: db.counts()["rejects"] == 4, 20, "the garbage to be kept in rejects")
    rig.record(299)
    rig.start_edge()
    wait_until(drained(rig.store), DRAIN_TIMEOUT_S, "the drain after the garbage")
    assert_complete(db, 300)
    assert "rejected" in caplog.text


def test_two_receivers_share_the_load_on_one_postgresql(rig: Rig, pg_dsn: str) -> None:
    dbs = [open_db(dsn=pg_dsn, receiver=f"receiver-{n}") for n in (1, 2)]
    receivers = [
        rig.start_receiver(db, name=f"receiver-{n}") for n, db in zip((1, 2), dbs, strict=True)
    ]
    time.sleep(0.5)
    rig.record(3_000)
    rig.start_edge(batch_max_entries=25)
    wait_until(drained(rig.store), DRAIN_TIMEOUT_S, "the drain into PostgreSQL")
    assert all(receiver.stats.stored > 0 for receiver in receivers), "one receiver did all"
    assert_complete(dbs[0], 3_000)
    for db in dbs:
        db.close()


# ------------------------------------------------------------------------------- alerts


def test_alarms_on_the_bus_become_alerts_and_the_last_will_says_offline(rig: Rig) -> None:
    watcher = rig.watcher("kakou/v1/hxy/north/#")
    gate = GateProcess(rig.tmp_path / "gate-process", port=rig.broker.port, rate=0)
    gate.start()
    wait_until(lambda: bool(watcher.payloads("status")), 10, "the online status")
    assert watcher.payloads("status")[-1]["state"] == "online"
    gate.kill()  # no clean disconnect: the broker publishes the will after 1.5 x keepalive
    wait_until(lambda: watcher.payloads("status")[-1]["state"] == "offline", 20, "the last will")


def test_alarms_are_published_once_each_as_alerts(rig: Rig) -> None:
    watcher = rig.watcher("kakou/v1/hxy/north/alerts/#")
    bus = Bus()
    handle = rig.start_edge(bus=bus)
    wait_until(lambda: handle.status()["connected"], 10, "the connection")
    bus.publish(AlarmRaised(lane="in-1", kind="fever", detail="38.4 °C, confirmed"))
    bus.publish(AlarmRaised(lane="in-1", kind="tamper", detail="cover opened"))
    bus.publish(StepChanged(lane="in-1", step="look"))
    bus.publish(
        AlarmRaised(lane="", kind="disk_filling", detail="92 % full")
    )  # as edge.retention says it
    wait_until(lambda: len(watcher.messages) >= 3, 10, "the alerts")
    time.sleep(0.3)
    topics = sorted(message.topic for message in watcher.messages)
    assert topics == [
        "kakou/v1/hxy/north/alerts/disk_filling",
        "kakou/v1/hxy/north/alerts/fever",
        "kakou/v1/hxy/north/alerts/other",
    ]
    fever = watcher.payloads("alerts/fever")[0]
    assert (fever["lane"], fever["detail"]) == ("in-1", "38.4 °C, confirmed")
    assert watcher.payloads("alerts/other")[0]["source_kind"] == "tamper"


def test_entries_made_offline_reach_the_receiver_in_order_later(rig: Rig) -> None:
    rig.broker.stop()
    handle = rig.start_edge()
    rig.record(500)  # a long outage, compressed: the gate keeps working and queueing
    time.sleep(1.0)
    assert handle.status()["connected"] is False
    assert handle.status()["backlog"] == 500
    rig.broker.start()
    db = rig.receiver_db()
    rig.start_receiver(db)
    wait_until(drained(rig.store), DRAIN_TIMEOUT_S, "the drain after the outage")
    assert_complete(db, 500)
