"""Simulated gates for bench/bench_district.py: many MQTT gates in one process, one thread.

    .venv/bin/python bench/district_gates.py --port P --first 0 --count 100 --work DIR ...

Each gate is a real MQTT v5 client of its own (client id ``kakou-<community>-<gate>``, clean
start off with a session expiry, retained ``offline`` last will) with its own entry log: a log
id, a gap-free seq, and an outbox of entries kept until the receiver acknowledges them. It does
on the wire what the gate's publisher (sync/publisher.py) does: entry documents made by
``edge.entry_document.entry_to_document``, batches of up to ``batch_max_entries`` as one QoS 1
``EntryBatch`` on ``…/<gate>/entries``, at most ``max_inflight_messages`` awaiting PUBACK, the
retained ack applied (``up_to_seq`` and ``ids``), everything unacknowledged sent again after
``ack_timeout_s`` without progress (the wait doubling while none comes) or on a new connection,
and a retained ``Status`` at connect and every ``status_interval_s``, on the same 50 ms tick as
the gate's sync worker; the gate's default settings throughout. Not modelled: the PUBACK
watchdog (nothing here cuts a link) and alerts (the entry log is what is measured).

What it leaves out is the gate's SQLite: a gate's commit (WAL, synchronous=FULL) is its own
cost, measured by bench/bench_store.py, and 400 of them here would take the two cores the
receivers are measured on. The entry's ``recorded_at`` is the moment it joins the outbox.

All gates of the process share one selector loop (paho's external loop calls), so 100 gates
cost one thread, not 200. Lanes: each gate has ``--lanes`` lanes (``in-1``, ``out-1``, ...),
each admitting one person every 3 to 5 s (uniform), the rush-hour pace of a lane.

The parent coordinates through files in ``--work``: this process writes ``ready-<first>`` once
every gate is connected, waits for ``go``, produces for ``--seconds``, then drains (until every
entry is acknowledged, or ``--drain-timeout-s``), writes ``result-<first>.json`` and exits.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import heapq
import json
import random
import selectors
import sys
import time
import uuid
from collections import OrderedDict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from edge.entry_document import entry_to_document
from edge.model import ENTRY_SCHEMA_VERSION, Direction, Entry
from edge.store.ids import uuid7
from sync.contract import (
    Ack,
    Channel,
    Malformed,
    encode_entry_batch,
    gate_topic,
    parse_payload,
    to_json,
)
from sync.settings import SyncSettings
from sync.status import RevocationStatus, build_status, offline_status
from tests.sync.rig import crowd_draft

TICK_S = 0.05  # the gate's sync worker tick (sync/runtime.py)
LANE_GAP_S = (3.0, 5.0)  # one person every 3 to 5 s per lane at rush hour
# The gate's defaults ([mqtt] unset), read from its settings model.
_DEFAULTS = {name: info.default for name, info in SyncSettings.model_fields.items()}
BATCH_MAX: int = _DEFAULTS["batch_max_entries"]
MAX_INFLIGHT: int = _DEFAULTS["max_inflight_messages"]
MAX_UNACKED: int = _DEFAULTS["max_unacked_entries"]
ACK_TIMEOUT_S: float = _DEFAULTS["ack_timeout_s"]
ACK_TIMEOUT_MAX_S: float = _DEFAULTS["ack_timeout_max_s"]
STATUS_INTERVAL_S: float = _DEFAULTS["status_interval_s"]
SESSION_EXPIRY_S: int = _DEFAULTS["session_expiry_s"]
KEEPALIVE_S: int = _DEFAULTS["keepalive_s"]


def gate_names(index: int, per_community: int) -> tuple[str, str]:
    """(community, gate) of the ``index``-th gate of the district: 40 gates a community."""
    return f"c{index // per_community:03d}", f"g{index % per_community:02d}"


@dataclasses.dataclass
class Outgoing:
    seq: int
    entry_id: str
    document: dict[str, Any]
    recorded_s: float  # wall clock, seconds


@dataclasses.dataclass(eq=False)
class SimGate:
    """One gate: its MQTT client, its log and outbox, the publisher's two windows."""

    community: str
    gate: str
    host: str
    port: int
    lane_count: dataclasses.InitVar[int]
    rng: random.Random
    lanes: list[str] = dataclasses.field(init=False)
    log_id: str = dataclasses.field(default_factory=lambda: uuid.uuid4().hex)
    boot_id: str = dataclasses.field(default_factory=lambda: uuid.uuid4().hex)
    seq: int = 0
    outbox: OrderedDict[int, Outgoing] = dataclasses.field(default_factory=OrderedDict)
    sent_upto: int = 0
    """The highest seq published on this connection's pass over the outbox."""
    inflight: dict[int, int] = dataclasses.field(default_factory=dict)
    """mid -> last seq of the batch"""
    acked_upto: int = 0
    last_progress_s: float = 0.0
    ack_timeout_s: float = ACK_TIMEOUT_S
    """Doubles while no ack comes, as the publisher's."""
    connected: bool = False
    connects: int = 0
    resends: int = 0
    next_status_s: float = 0.0
    ack_lat_ms: list[float] = dataclasses.field(default_factory=list)
    """Recorded -> ack back at the gate, live entries only."""
    live_from_seq: int = 1
    client: paho.Client | None = None

    def __post_init__(self, lane_count: int) -> None:
        self.lanes = [("in" if n % 2 == 0 else "out") + f"-{n // 2 + 1}" for n in range(lane_count)]
        self.entries_topic = gate_topic(self.community, self.gate, Channel.ENTRIES)
        self.status_topic = gate_topic(self.community, self.gate, Channel.STATUS)
        self.ack_topic = gate_topic(self.community, self.gate, Channel.ACK)

    # --- log

    def record(self, now: datetime, lane: str) -> None:
        """One visit decided and committed: a real entry document, next in the gate's seq."""
        draft = crowd_draft(self.rng, now, lane)
        draft = dataclasses.replace(
            draft, direction=Direction.OUT if lane.startswith("out") else Direction.IN
        )
        self.seq += 1
        entry = Entry(
            id=str(uuid7(int(now.timestamp() * 1000))),
            seq=self.seq,
            schema_version=ENTRY_SCHEMA_VERSION,
            community=self.community,
            gate=self.gate,
            boot_id=self.boot_id,
            recorded_at=now,
            draft=draft,
        )
        self.outbox[self.seq] = Outgoing(
            self.seq, entry.id, entry_to_document(entry), now.timestamp()
        )

    # --- MQTT

    def connect(self) -> None:
        client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"kakou-{self.community}-{self.gate}",
            protocol=paho.MQTTv5,
        )
        client.will_set(
            self.status_topic,
            to_json(offline_status(self.community, self.gate)),
            qos=1,
            retain=True,
        )
        client.on_connect = self._on_connect
        client.on_publish = self._on_publish
        client.on_message = self._on_message
        client.on_disconnect = self._on_disconnect
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = SESSION_EXPIRY_S
        client.connect(
            self.host, self.port, keepalive=KEEPALIVE_S, clean_start=False, properties=properties
        )
        self.client = client

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if reason.is_failure:
            return
        self.connected = True
        self.connects += 1
        client.subscribe(self.ack_topic, qos=1)
        self.inflight.clear()
        # As the publisher: a lost session may have lost what the broker queued, so everything
        # unacknowledged goes again; a kept one resends only what had no PUBACK (here: the
        # same, since inflight is cleared; duplicates are harmless to the receiver).
        self.sent_upto = self.acked_upto
        self.last_progress_s = time.monotonic()
        self.next_status_s = 0.0

    def _on_disconnect(self, *args: Any) -> None:
        self.connected = False
        self.inflight.clear()

    def _on_publish(self, client: Any, userdata: Any, mid: int, reason: Any, props: Any) -> None:
        self.inflight.pop(mid, None)

    def _on_message(self, client: Any, userdata: Any, message: Any) -> None:
        if message.topic != self.ack_topic:
            return
        ack = parse_payload(Ack, message.payload)
        if isinstance(ack, Malformed) or ack.gate != self.gate:
            return
        now = time.time()
        acked: list[Outgoing] = []
        if ack.log_id == self.log_id:
            while self.outbox:
                seq, item = next(iter(self.outbox.items()))
                if seq > ack.up_to_seq:
                    break
                acked.append(self.outbox.pop(seq))
            self.acked_upto = max(self.acked_upto, ack.up_to_seq)
        if ack.ids:
            wanted = set(ack.ids)
            for seq in [s for s, item in self.outbox.items() if item.entry_id in wanted]:
                acked.append(self.outbox.pop(seq))
        if acked:
            self.last_progress_s = time.monotonic()
            self.ack_timeout_s = ACK_TIMEOUT_S
            for item in acked:
                if item.seq >= self.live_from_seq:
                    self.ack_lat_ms.append((now - item.recorded_s) * 1000)

    def pump(self, now_s: float) -> None:
        """The publisher's pump: resend on ack timeout, then fill both windows."""
        client = self.client
        if client is None or not self.connected:
            return
        # Seqs are gap-free and acks come in order: what is in the air is the span between.
        outstanding = max(0, self.sent_upto - self.acked_upto) if self.outbox else 0
        if outstanding and now_s - self.last_progress_s > self.ack_timeout_s:
            self.resends += 1
            self.sent_upto = self.acked_upto
            self.last_progress_s = now_s
            self.ack_timeout_s = min(self.ack_timeout_s * 2, ACK_TIMEOUT_MAX_S)
            outstanding = 0
        while len(self.inflight) < MAX_INFLIGHT and outstanding < MAX_UNACKED:
            room = min(BATCH_MAX, MAX_UNACKED - outstanding)
            rows = []
            seq = self.sent_upto
            while len(rows) < room and seq < self.seq:
                seq += 1
                item = self.outbox.get(seq)
                if item is not None:
                    rows.append(item)
            if not rows:
                break
            payload = encode_entry_batch(
                community=self.community,
                gate=self.gate,
                log_id=self.log_id,
                sent_at=datetime.now(UTC),
                documents=[item.document for item in rows],
            )
            info = client.publish(self.entries_topic, payload, qos=1)
            if info.rc != paho.MQTT_ERR_SUCCESS:
                break
            if outstanding == 0:
                self.last_progress_s = now_s
            self.inflight[info.mid] = rows[-1].seq
            self.sent_upto = rows[-1].seq
            outstanding += len(rows)
        if now_s >= self.next_status_s:
            oldest = next(iter(self.outbox.values()), None)
            status = build_status(
                community=self.community,
                gate=self.gate,
                at=datetime.now(UTC),
                log_id=self.log_id,
                last_seq=self.seq,
                backlog=len(self.outbox),
                oldest_pending_at=None
                if oldest is None
                else datetime.fromtimestamp(oldest.recorded_s, UTC),
                revocations=RevocationStatus(),
                clock_synced=True,
                clock_offset_s=0.0,
                disk_used_fraction=0.2,
                software="kakou bench",
            )
            client.publish(self.status_topic, to_json(status), qos=1, retain=True)
            self.next_status_s = now_s + STATUS_INTERVAL_S

    def stop(self) -> None:
        """A clean stop: the retained offline status, then DISCONNECT (as SyncHandle.stop)."""
        if self.client is not None and self.connected:
            with contextlib.suppress(Exception):
                self.client.publish(
                    self.status_topic,
                    to_json(offline_status(self.community, self.gate)),
                    qos=1,
                    retain=True,
                )
                self.client.loop_write()
                self.client.disconnect()
                self.client.loop_write()


class Loop:
    """One selector over every gate's socket: paho's external-loop calls."""

    def __init__(self, gates: list[SimGate]) -> None:
        self.gates = gates
        self.selector = selectors.DefaultSelector()
        self.registered: dict[int, SimGate] = {}
        self.last_misc_s = 0.0

    def _sync_registrations(self) -> None:
        for gate in self.gates:
            sock = gate.client.socket() if gate.client is not None else None
            if sock is None:
                continue
            fd = sock.fileno()
            if fd not in self.registered:
                self.selector.register(sock, selectors.EVENT_READ, gate)
                self.registered[fd] = gate

    def run_for(self, seconds: float, on_tick: Any = None) -> None:
        deadline = time.monotonic() + seconds
        next_tick = time.monotonic()
        while True:
            now_s = time.monotonic()
            if now_s >= deadline:
                return
            self._sync_registrations()
            for gate in self.gates:
                if gate.client is not None and gate.client.want_write():
                    gate.client.loop_write()
            timeout = max(0.0, min(next_tick, deadline) - time.monotonic())
            for key, _ in self.selector.select(timeout):
                gate = key.data
                if gate.client is not None and gate.client.loop_read() != paho.MQTT_ERR_SUCCESS:
                    with contextlib.suppress(KeyError, ValueError):
                        self.selector.unregister(key.fileobj)
                    self.registered.pop(key.fd, None)
                    gate.connected = False
            now_s = time.monotonic()
            if now_s >= next_tick:
                next_tick = now_s + TICK_S
                if on_tick is not None:
                    on_tick(now_s)
                for gate in self.gates:
                    gate.pump(now_s)
            if now_s - self.last_misc_s >= 1.0:
                self.last_misc_s = now_s
                for gate in self.gates:
                    if gate.client is not None:
                        gate.client.loop_misc()


def percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--first", type=int, required=True, help="index of the first gate")
    parser.add_argument("--count", type=int, required=True, help="gates in this process")
    parser.add_argument("--per-community", type=int, default=40)
    parser.add_argument("--lanes", type=int, default=2)
    parser.add_argument("--seconds", type=float, required=True, help="how long to produce")
    parser.add_argument("--backlog", type=int, default=0, help="entries each gate holds at go")
    parser.add_argument("--drain-timeout-s", type=float, default=120.0)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    gates = []
    for index in range(args.first, args.first + args.count):
        community, gate = gate_names(index, args.per_community)
        gates.append(
            SimGate(
                community,
                gate,
                host=args.host,
                port=args.port,
                lane_count=args.lanes,
                rng=random.Random(args.seed * 100_000 + index),
            )
        )
    loop = Loop(gates)
    if args.backlog:
        # What a gate holds after an outage at rush hour: entries of the last minutes, not sent.
        started = datetime.now(UTC)
        span_s = args.backlog * (sum(LANE_GAP_S) / 2) / args.lanes
        for gate in gates:
            for n in range(args.backlog):
                at = started - timedelta(seconds=span_s * (1 - n / args.backlog))
                gate.record(at, gate.lanes[n % len(gate.lanes)])
            gate.live_from_seq = gate.seq + 1
    go = args.work / "go"
    if not args.backlog:
        for gate in gates:
            gate.connect()
        loop.run_for(0.2)
        deadline = time.monotonic() + 60
        while not all(g.connected for g in gates) and time.monotonic() < deadline:
            loop.run_for(0.1)
    (args.work / f"ready-{args.first}").write_text(str(sum(g.connected for g in gates)))
    while not go.exists():  # keep the connections served while the others get ready
        if args.backlog:
            time.sleep(0.02)
        else:
            loop.run_for(0.05)
    go_wall = time.time()
    if args.backlog:  # the storm: every gate (re)connects at once, holding its backlog
        for gate in gates:
            gate.connect()

    # Production: a heap of (next visit time, gate, lane) per lane.
    rng = random.Random(args.seed)
    start_s = time.monotonic()
    end_s = start_s + args.seconds
    visits: list[tuple[float, int, int]] = []
    for g_index, gate in enumerate(gates):
        for l_index in range(len(gate.lanes)):
            heapq.heappush(visits, (start_s + rng.uniform(0, LANE_GAP_S[1]), g_index, l_index))
    produced_live = 0

    def produce(now_s: float) -> None:
        nonlocal produced_live
        while visits and visits[0][0] <= now_s and now_s < end_s:
            _, g_index, l_index = heapq.heappop(visits)
            gate = gates[g_index]
            gate.record(datetime.now(UTC), gate.lanes[l_index])
            produced_live += 1
            heapq.heappush(visits, (now_s + rng.uniform(*LANE_GAP_S), g_index, l_index))

    drained_at: float | None = None
    backlog_drained_at: float | None = None
    loop_until = end_s
    while True:
        loop.run_for(max(0.05, min(1.0, loop_until - time.monotonic())), on_tick=produce)
        now_s = time.monotonic()
        if backlog_drained_at is None and all(
            not g.outbox or next(iter(g.outbox)) >= g.live_from_seq for g in gates
        ):
            backlog_drained_at = time.time()
        if now_s >= end_s and all(not g.outbox for g in gates):
            drained_at = time.time()
            break
        if now_s >= end_s + args.drain_timeout_s:
            break
        loop_until = now_s + 1.0
    ack_lat = [v for g in gates for v in g.ack_lat_ms]
    result = {
        "first": args.first,
        "gates": [
            {
                "community": g.community,
                "gate": g.gate,
                "log_id": g.log_id,
                "last_seq": g.seq,
                "unacked": len(g.outbox),
                "connects": g.connects,
                "resends": g.resends,
            }
            for g in gates
        ],
        "produced_live": produced_live,
        "go_wall": go_wall,
        "drained_wall": drained_at,
        "backlog_drained_wall": backlog_drained_at,
        "ack_lat_ms": {
            "count": len(ack_lat),
            "p50": percentile(ack_lat, 0.5),
            "p99": percentile(ack_lat, 0.99),
            "max": max(ack_lat, default=None),
        },
    }
    for gate in gates:
        gate.stop()
    (args.work / f"result-{args.first}.json").write_text(json.dumps(result))


if __name__ == "__main__":
    main()
