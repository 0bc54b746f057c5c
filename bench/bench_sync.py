"""Benchmark the MQTT sync: backlog drain, batch size, and the receiver's ingest rate.

    .venv/bin/python bench/bench_sync.py [--backlog 100000] [--sweep 20000] [--ingest 50000]
        [--check 20000] [--only drain|sweep|ingest|check]

1. Drain: a gate process holding a backlog of ``--backlog`` entries starts its sync against a
   real Mosquitto and a ``kakou server run`` receiver (separate processes, as in the field); the
   clock runs until every entry is acknowledged back on the gate, and the receiver's database is
   checked for the exact count. Once with SQLite, once with PostgreSQL behind the receiver.
   Each line also gives the CPU seconds each process spent: on a shared machine the wall time
   moves with the other load, and the CPU split shows which process limits the drain.
2. Batch size: the same drain with ``--sweep`` entries at several ``batch_max_entries``.
3. Ingest: ``ReceiverDb.store`` alone (no MQTT), batches of 100 entries, 50 per transaction, as
   the receiver does, into SQLite (WAL, synchronous=FULL) and PostgreSQL; and the parsing of a
   batch message (JSON, strict entry check, canonical form) on its own.
4. Check: the receiver's check of one entry document (``check_entry``: the contract's checks,
   columns and canonical text) beside ``entry_from_document`` (the same checks, then the whole
   ``Entry`` built), microseconds an entry, best of 5 rounds.

The PostgreSQL server is started here on a free port (fsync off, so its figures are an upper
bound; SQLite's include a real fsync per transaction). Prints figures only, no asserts.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_district import cpu_s
from edge.entry_document import entry_from_document, entry_to_document
from edge.store import Store
from edge.store.outbox import pending
from sync.contract import encode_entry_batch, parse_gate_topic
from sync.receiver.db import IncomingBatch, open_db
from sync.receiver.entries import check_entry
from sync.receiver.receiver import parse_entries_message
from tests.sync.rig import (
    GateProcess,
    Mosquitto,
    PostgresServer,
    ReceiverProcess,
    fill_store,
    postgres_server,
    sync_settings,
    wait_until,
)

TARGET_DRAIN_PER_S = 5_000
COMMUNITY = "bench"
GATE = "north"


def backlog_db(cache: Path, count: int) -> Path:
    """A gate database holding ``count`` unacknowledged entries (made once, then copied)."""
    path = cache / f"backlog-{count}.db"
    if not path.exists():
        started = time.perf_counter()
        fill_store(path, COMMUNITY, GATE, count)
        with Store.open(path, community=COMMUNITY, gate=GATE) as store:  # checkpoint the WAL
            store.integrity_check()
        print(f"  (made a backlog of {count} entries in {time.perf_counter() - started:.0f} s)")
    return path


def drain(
    work: Path,
    source: Path,
    count: int,
    *,
    batch: int = 100,
    postgres: PostgresServer | None = None,
    label: str,
) -> float:
    """Entries per second from the gate's start until all ``count`` are acknowledged back."""
    dsn = None if postgres is None else postgres.create_database(f"drain_{time.monotonic_ns()}")
    run = work / f"drain-{label}-{batch}-{time.monotonic_ns()}"
    run.mkdir()
    broker = Mosquitto(run / "mosquitto")
    broker.start()
    receiver = ReceiverProcess(run, port=broker.port, db=None if dsn else run / "rx.db", dsn=dsn)
    gate = GateProcess(
        run / "gate",
        port=broker.port,
        community=COMMUNITY,
        gate=GATE,
        settings=sync_settings(
            broker.port, batch_max_entries=batch, ack_timeout_s=30.0, ack_timeout_max_s=60.0
        ),
    )
    shutil.copy(source, gate.db)
    try:
        receiver.start()
        receiver.wait_subscribed()
        database_before = cpu_s(postgres.pid if postgres else None, with_children=True)
        started = time.perf_counter()
        gate.start()
        wait_until(lambda: gate.outbox()["unacked"] == 0, 1200, "the drain", every_s=0.1)
        elapsed = time.perf_counter() - started
        cpu = {
            "gate": cpu_s(gate.pid),
            "receiver": cpu_s(receiver.pid),
            "broker": cpu_s(broker.pid),
        }
        if postgres is not None:
            cpu["PostgreSQL"] = cpu_s(postgres.pid, with_children=True) - database_before
    finally:
        gate.stop()
        receiver.stop()
        broker.stop()
    db = open_db(path=run / "rx.db") if dsn is None else open_db(dsn=dsn)
    try:
        counts = db.counts()
        gaps = [g for g in db.gaps() if g.missing or g.unreceived]
    finally:
        db.close()
    ok = counts["entries"] == count and counts["duplicate_slots"] == 0 and not gaps
    print(
        f"  {label:<10} batch {batch:>4}: {count} entries in {elapsed:6.1f} s = "
        f"{count / elapsed:7.0f} entries/s (incl. gate start-up)  receiver holds "
        f"{counts['entries']}, gaps {len(gaps)}{'' if ok else '  <-- MISMATCH'}"
    )
    print("    CPU s: " + ", ".join(f"{name} {seconds:.1f}" for name, seconds in cpu.items()))
    shutil.rmtree(run, ignore_errors=True)
    return count / elapsed


def sample_messages(source: Path, count: int, batch: int = 100) -> list[bytes]:
    """``count`` entries as batch messages, built the way the publisher builds them."""
    messages: list[bytes] = []
    with Store.open(source, community=COMMUNITY, gate=GATE) as store:
        cursor = 0
        while len(messages) * batch < count:
            rows = pending(store, limit=batch, after_position=cursor)
            if not rows:
                break
            cursor = rows[-1].position
            messages.append(
                encode_entry_batch(
                    community=COMMUNITY,
                    gate=GATE,
                    log_id="bench-log",
                    sent_at=datetime.now(UTC),
                    documents=[entry_to_document(row.entry) for row in rows],
                )
            )
    return messages


def ingest(source: Path, count: int, work: Path, dsn: str | None) -> None:
    topic = f"kakou/v1/{COMMUNITY}/{GATE}/entries"
    where = parse_gate_topic(topic)
    assert where is not None
    messages = sample_messages(source, count)
    started = time.perf_counter()
    batches = []
    for message in messages:
        parsed = parse_entries_message(where, topic, message)
        assert parsed.batch is not None
        batches.append(parsed.batch)
    parse_s = time.perf_counter() - started
    entries = sum(len(batch.entries) for batch in batches)
    if dsn is None:
        print(f"  parse (JSON, strict check, canonical): {entries / parse_s:8.0f} entries/s")
    db = open_db(path=work / "ingest.db") if dsn is None else open_db(dsn=dsn)
    per_transaction = 50
    try:
        started = time.perf_counter()
        for index in range(0, len(batches), per_transaction):
            chunk: list[IncomingBatch] = batches[index : index + per_transaction]
            db.store(chunk, now=datetime.now(UTC))
        store_s = time.perf_counter() - started
        stored = db.counts()["entries"]
    finally:
        db.close()
    label = "PostgreSQL" if dsn else "SQLite"
    print(
        f"  store into {label:<10}: {stored} entries, {stored / store_s:8.0f} entries/s "
        f"({per_transaction} messages of 100 per transaction); with parsing "
        f"{stored / (store_s + parse_s):7.0f} entries/s"
    )


def check(source: Path, count: int, rounds: int = 5) -> None:
    """The cost of reading one document as the receiver does, and into a whole ``Entry``."""
    documents = [
        document
        for message in sample_messages(source, count)
        for document in json.loads(message)["entries"]
    ][:count]
    readers: list[tuple[str, Callable[[object], object]]] = [
        ("check_entry", check_entry),
        ("entry_from_document", entry_from_document),
    ]
    for label, reader in readers:
        best_s = float("inf")
        for _ in range(rounds):
            started = time.perf_counter()
            for document in documents:
                reader(document)
            best_s = min(best_s, time.perf_counter() - started)
        print(
            f"  {label:<25}: {best_s / len(documents) * 1e6:6.2f} µs an entry, "
            f"{len(documents) / best_s:8.0f} entries/s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backlog", type=int, default=100_000)
    parser.add_argument("--sweep", type=int, default=20_000)
    parser.add_argument("--ingest", type=int, default=50_000)
    parser.add_argument("--check", type=int, default=20_000)
    parser.add_argument(
        "--only", choices=("drain", "sweep", "ingest", "check"), help="run one section"
    )
    parser.add_argument("--dir", type=Path, default=None, help="work folder (default: a temp dir)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kakou-bench-sync-", dir=args.dir))
    print(f"== sync benchmark ({os.cpu_count()} cores), work in {work}")
    sections = {args.only} if args.only else {"drain", "sweep", "ingest", "check"}
    try:
        if "check" in sections:
            print(f"== receiver entry check: {args.check} documents")
            check(backlog_db(work, args.check), args.check)
        if sections == {"check"}:
            return
        with postgres_server() as postgres:
            if "drain" in sections:
                big = backlog_db(work, args.backlog)
                print(f"== drain: {args.backlog} entries backlog -> receiver database, acks back")
                print(f"  target >= {TARGET_DRAIN_PER_S} entries/s")
                drain(work, big, args.backlog, label="SQLite")
                drain(work, big, args.backlog, postgres=postgres, label="PostgreSQL")
            if "sweep" in sections:
                print(f"== batch size: {args.sweep} entries, SQLite receiver")
                small = backlog_db(work, args.sweep)
                for batch in (1, 10, 50, 100, 250, 500):
                    drain(work, small, args.sweep, batch=batch, label="SQLite")
            if "ingest" in sections:
                print(f"== receiver ingest: {args.ingest} entries, no MQTT")
                source = backlog_db(work, args.ingest)
                ingest(source, args.ingest, work, None)
                ingest(source, args.ingest, work, postgres.create_database("ingest"))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
