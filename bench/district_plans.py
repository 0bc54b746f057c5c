"""The office's reads and the receiver's bulk ingest under two layouts of a community's day
indexes, on PostgreSQL and SQLite: does one index serve both the day listing and the day's counts?

    .venv/bin/python bench/district_plans.py [--gates 40] [--days 14] [--per-day 1000]
        [--ingest 20000] [--sqlite-days 2]

- schema 3: ``entries_by_community_day (community, decided_at_us, id)`` for the register's
  order, beside ``entries_day_counts (community, decided_at_us, gate, outcome, pass_kind,
  direction, clock_synced, household)`` for the day's counts.
- schema 4: one ``entries_by_community_day (community, decided_at_us, id, gate, outcome,
  pass_kind, direction, clock_synced, household)``.

The statements are the office's own, captured as its functions run them (``db.daily_counts``,
``reports.rollup``, ``register.read_page`` for a day, a gate's hours, a pass's and a household's
month, ``fevers.ledger``) over ``--days`` of ``--gates`` gates filled as bench_district.py pages
fills a year. Each is explained under both layouts: on PostgreSQL with ANALYZE and BUFFERS (after
one warm run), on SQLite (a copy of ``--sqlite-days`` days) with EXPLAIN QUERY PLAN. Then
``ReceiverDb.store`` of ``--ingest`` entries (messages of 100, 50 a transaction, as bench_sync.py)
into an empty PostgreSQL database of each layout. Prints figures only.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_district import bench_postgres
from bench.bench_sync import backlog_db, sample_messages
from bench.district_pages import COMMUNITY, ZONE, _ensure_office_schema, fill, fill_households
from sync.contract import parse_gate_topic
from sync.receiver.db import IncomingBatch, ReceiverDb, open_db
from sync.receiver.receiver import parse_entries_message

LAYOUTS: dict[str, list[str]] = {
    "schema 3 (two indexes)": [
        "CREATE INDEX entries_by_community_day ON entries (community, decided_at_us, id)",
        "CREATE INDEX entries_day_counts ON entries (community, decided_at_us, gate, outcome, "
        "pass_kind, direction, clock_synced, household)",
    ],
    "schema 4 (one index)": [
        "CREATE INDEX entries_by_community_day ON entries (community, decided_at_us, id, gate, "
        "outcome, pass_kind, direction, clock_synced, household)",
    ],
}

Statement = tuple[str, str, list[Any]]
"""(what, sql in the receiver's ``?`` dialect, parameters)"""


def use_layout(db: ReceiverDb, layout: str) -> None:
    with db.writing() as query:
        query.run("DROP INDEX IF EXISTS entries_day_counts")
        query.run("DROP INDEX IF EXISTS entries_by_community_day")
        for statement in LAYOUTS[layout]:
            query.run(statement)
        query.run("ANALYZE entries")


def office_statements(db: ReceiverDb, day: date) -> Iterator[Statement]:
    """Every statement the office's reads of ``day`` run against ``entries``."""
    from sync.office import fevers, register, reports

    since = datetime.combine(day, clock(0), tzinfo=ZONE)
    until = since + timedelta(days=1)
    month = register.RegisterFilters(since=until - timedelta(days=30), until=until)
    reads: list[tuple[str, Callable[[], object]]] = [
        ("daily report per gate", lambda: db.daily_counts(day, ZONE, [COMMUNITY])),
        (
            "daily report per building",
            lambda: reports.rollup(db, [COMMUNITY], day, ZONE, "building"),
        ),
        (
            "register: a day, first page",
            lambda: register.read_page(
                db, [COMMUNITY], register.RegisterFilters(since=since, until=until)
            ),
        ),
        (
            "register: one gate's 07:00-09:00",
            lambda: register.read_page(
                db,
                [COMMUNITY],
                register.RegisterFilters(
                    gate="g07", since=since + timedelta(hours=7), until=since + timedelta(hours=9)
                ),
            ),
        ),
        (
            "register: a pass over a month",
            lambda: register.read_page(
                db,
                [COMMUNITY],
                register.RegisterFilters(pass_id="P-00042", since=month.since, until=until),
            ),
        ),
        (
            "register: a household over a month",
            lambda: register.read_page(
                db,
                [COMMUNITY],
                register.RegisterFilters(household="1-1-101", since=month.since, until=until),
            ),
        ),
        ("fever ledger for a day", lambda: fevers.ledger(db, [COMMUNITY], since, until, ZONE)),
    ]
    execute = db._execute
    for what, read in reads:
        seen: list[tuple[str, list[Any]]] = []

        def noting(cursor: Any, sql: str, params: Any = (), seen: list[Any] = seen) -> Any:
            seen.append((sql, list(params)))
            return execute(cursor, sql, params)

        db._execute = noting  # type: ignore[method-assign]
        try:
            read()
        finally:
            db._execute = execute  # type: ignore[method-assign]
        for sql, params in seen:
            if re.search(r"\bentries\b", sql):
                yield what, sql, params


def pg_plan(db: ReceiverDb, sql: str, params: list[Any]) -> str:
    """The indexes and scans of the plan, the buffers it touched and its time."""
    with db.reading() as query:
        query.all(sql, params)  # warm
        row = query.one(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}", params)
    assert row is not None
    top = (row[0] if isinstance(row[0], list) else json.loads(row[0]))[0]
    scans: list[str] = []

    def walk(node: dict[str, Any]) -> None:
        if "Index Name" in node:
            scans.append(f"{node['Node Type']} {node['Index Name']}")
        elif node["Node Type"] == "Seq Scan":
            scans.append(f"Seq Scan {node['Relation Name']}")
        for child in node.get("Plans", []):
            walk(child)

    walk(top["Plan"])
    buffers = top["Plan"].get("Shared Hit Blocks", 0) + top["Plan"].get("Shared Read Blocks", 0)
    return f"{', '.join(scans)}; {buffers} buffers, {top['Execution Time']:.1f} ms"


def sqlite_plan(db: ReceiverDb, sql: str, params: list[Any]) -> str:
    with db.reading() as query:
        rows = query.all(f"EXPLAIN QUERY PLAN {sql}", params)
    return "; ".join(str(row[-1]) for row in rows)


def explain_all(db: ReceiverDb, day: date, explain: Callable[..., str]) -> None:
    for layout in LAYOUTS:
        use_layout(db, layout)
        print(f"  -- {layout}")
        if db.backend == "postgresql":
            with db.reading() as query:
                sizes = query.all(
                    "SELECT indexrelname, pg_size_pretty(pg_relation_size(indexrelid)) "
                    "FROM pg_stat_user_indexes WHERE relname = 'entries' ORDER BY indexrelname"
                )
            print("    index sizes: " + ", ".join(f"{name} {size}" for name, size in sizes))
        for what, sql, params in office_statements(db, day):
            print(f"    {what}: {explain(db, sql, params)}")


def copy_to_sqlite(pg_dsn: str, path: Path, first: date, days: int) -> ReceiverDb:
    """A SQLite receiver database holding ``days`` days of the PostgreSQL one's entries and its
    roster's households."""
    import psycopg

    lite = open_db(path=path)
    _ensure_office_schema(lite)
    start = datetime.combine(first, clock(0), tzinfo=ZONE)
    bounds = [int(start.timestamp() * 1e6), int((start + timedelta(days=days)).timestamp() * 1e6)]
    with psycopg.connect(pg_dsn) as conn, lite.writing() as query:
        for table, where, params in [
            ("entries", "WHERE decided_at_us >= %s AND decided_at_us < %s", bounds),
            ("office_households", "", []),
        ]:
            cursor = conn.execute(f"SELECT * FROM {table} {where}", params)
            names = [column.name for column in cursor.description or []]
            marks = ", ".join("?" for _ in names)
            sql = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})"
            while rows := cursor.fetchmany(5000):
                query.many(sql, rows)
        query.run("ANALYZE")
    return lite


def ingest(postgres: Any, work: Path, count: int, rounds: int) -> None:
    topic = "kakou/v1/bench/north/entries"
    where = parse_gate_topic(topic)
    assert where is not None
    batches: list[IncomingBatch] = []
    for message in sample_messages(backlog_db(work, count), count):
        parsed = parse_entries_message(where, topic, message)
        assert parsed.batch is not None
        batches.append(parsed.batch)
    for layout in [layout for _ in range(rounds) for layout in LAYOUTS]:  # alternately
        db = open_db(dsn=postgres.create_database(f"ingest_{len(layout)}_{time.monotonic_ns()}"))
        try:
            use_layout(db, layout)
            started = time.perf_counter()
            for index in range(0, len(batches), 50):
                db.store(batches[index : index + 50], now=datetime.now(UTC))
            elapsed = time.perf_counter() - started
            stored = db.counts()["entries"]
        finally:
            db.close()
        print(f"  {layout}: {stored} entries in {elapsed:.1f} s = {stored / elapsed:.0f}/s")


def explain_office_reads(postgres: Any, work: Path, args: argparse.Namespace) -> None:
    """``--days`` of entries filled in PostgreSQL, some copied to SQLite, each explained."""
    dsn = postgres.database("plans")
    db = open_db(dsn=dsn)
    _ensure_office_schema(db)
    import psycopg

    first = date.today() - timedelta(days=args.days)
    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = fill(conn, gates=args.gates, days=args.days, per_day=args.per_day, first_day=first)
        fill_households(conn)
        conn.execute("VACUUM ANALYZE")
    day = first + timedelta(days=args.days // 2)
    print(f"== PostgreSQL: {rows} entries of {args.gates} gates over {args.days} days; {day}")
    explain_all(db, day, pg_plan)
    lite = copy_to_sqlite(dsn, work / "plans.db", day, args.sqlite_days)
    print(f"== SQLite: {lite.counts()['entries']} entries from {day}")
    explain_all(lite, day, sqlite_plan)
    lite.close()
    db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gates", type=int, default=40, help="gates of the community")
    parser.add_argument("--days", type=int, default=14, help="days of entries for PostgreSQL")
    parser.add_argument("--per-day", type=int, default=1000, help="entries a gate a day")
    parser.add_argument("--sqlite-days", type=int, default=2, help="of those copied to SQLite")
    parser.add_argument("--ingest", type=int, default=20_000, help="entries stored per layout")
    parser.add_argument("--rounds", type=int, default=3, help="ingests of each layout")
    parser.add_argument("--only", choices=("plans", "ingest"), help="run one section")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kakou-district-plans-"))
    settings = {"shared_buffers": "512MB", "fsync": "off", "synchronous_commit": "off"}
    try:
        with bench_postgres(settings) as postgres:
            if args.only != "ingest":
                explain_office_reads(postgres, work, args)
            if args.only != "plans":
                print(f"== bulk ingest into PostgreSQL (fsync off): {args.ingest} entries")
                ingest(postgres, work, args.ingest, args.rounds)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
