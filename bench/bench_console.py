"""Benchmark the console's log: entries-search latency over a large log, and ledger exports.

    .venv/bin/python bench/bench_console.py [--rows 1000000] [--repeat 200] [--db F] [--only X]

Fills a log with ``--rows`` entries, one every 8 s (about 92 days for a million: a busy gate's
quarter), then times ``GET /api/v1/entries`` through the real app (auth, keyset page, JSON) for
the searches the log page makes, and the export of one month (register CSV and XLSX, fever
ledger CSV). ``--db`` keeps the filled file for later runs. Prints figures only.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastapi.testclient import TestClient

from bench.bench_store import HOUSEHOLDS, PASSES, START, make_draft, percentile, set_synchronous
from edge.console import ledgers
from edge.console.app import create_app
from edge.console.deps import ConsoleContext
from edge.store import Store
from edge.store.guards import GuardBook, Role, SignInFailure

TARGET_P99_MS = 100.0
STEP = timedelta(seconds=8)
FILL_BATCH = 10_000
ZONE = ZoneInfo("Asia/Shanghai")


def fill(path: Path, rows: int) -> None:
    with Store.open(path, community="bench", gate="north") as store:
        have = store.entry_count()
        if have >= rows:
            print(f"  reusing {path} with {have:,} entries")
            return
        set_synchronous(store, "OFF")  # filling only; the timed calls do not write entries
        rng = random.Random(3)
        started = time.perf_counter()
        for batch_start in range(have, rows, FILL_BATCH):
            # One transaction per batch (the gate commits each entry; filling need not).
            with store._writing():
                for index in range(batch_start, min(rows, batch_start + FILL_BATCH)):
                    at = START + index * STEP
                    store.record_entry(make_draft(rng, at), boot_id="b", recorded_at=at)
            if batch_start and batch_start % 100_000 == 0:
                print(f"  {batch_start:,} entries, {time.perf_counter() - started:.0f} s")
        print(f"  filled {rows - have:,} in {time.perf_counter() - started:.1f} s")


def timed(label: str, repeat: int, call: Callable[[], Any]) -> float:
    call()
    samples_ms = []
    for _ in range(repeat):
        before_ns = time.perf_counter_ns()
        call()
        samples_ms.append((time.perf_counter_ns() - before_ns) / 1e6)
    p99 = percentile(samples_ms, 0.99)
    print(f"  {label:<52} median {statistics.median(samples_ms):7.2f} ms  p99 {p99:7.2f} ms")
    return p99


def bench_search(store: Store, rows: int, repeat: int) -> None:
    print(f"== GET /api/v1/entries over {rows:,} entries ({repeat} calls each, through the app)")
    book = GuardBook(store)
    if book.by_name("bench") is None:
        book.add("bench", Role.ADMIN, "bench-pin", now=START)
    signed = book.sign_in("bench", "bench-pin", now=START.now(UTC))
    assert not isinstance(signed, SignInFailure)
    context = ConsoleContext(store=store, lanes={}, device_status=list)
    client = TestClient(create_app(context), headers={"Authorization": f"Bearer {signed[1]}"})
    rng = random.Random(4)
    end = START + rows * STEP

    def get(**params: Any) -> Callable[[], Any]:
        def call() -> Any:
            resolved = {k: v() if callable(v) else v for k, v in params.items()}
            response = client.get("/api/v1/entries", params={"limit": 50, **resolved})
            assert response.status_code == 200, response.text
            return response

        return call

    def household() -> str:
        number = rng.randrange(PASSES)
        return f"{number % HOUSEHOLDS // 100}-{number % 100:03d}"

    def day() -> dict[str, str]:
        start = START + timedelta(days=rng.randrange(max(1, rows * 8 // 86_400)))
        return {"since": start.isoformat(), "until": (start + timedelta(days=1)).isoformat()}

    worst = max(
        timed("newest page", repeat, get(newest_first=True)),
        timed(
            "a deep page (before_seq=middle)", repeat, get(newest_first=True, before_seq=rows // 2)
        ),
        timed(
            "household=random, newest first", repeat, get(household=household, newest_first=True)
        ),
        timed("outcome=fever, newest first", repeat, get(outcome="fever", newest_first=True)),
        timed(
            "one random day, oldest first",
            repeat,
            lambda: client.get("/api/v1/entries", params={"limit": 50, **day()}),
        ),
        timed(
            "one random day + outcome=denied",
            repeat,
            lambda: client.get(
                "/api/v1/entries", params={"limit": 50, "outcome": "denied", **day()}
            ),
        ),
        timed("last hour", repeat, get(since=(end - timedelta(hours=1)).isoformat())),
    )
    verdict = "meets" if worst <= TARGET_P99_MS else "is ABOVE"
    print(f"  worst p99 {worst:.2f} ms {verdict} the target of {TARGET_P99_MS:.0f} ms")


def bench_exports(store: Store, rows: int, directory: Path) -> None:
    end = START + rows * STEP
    month_start = max(START, end - timedelta(days=30))
    print(f"== export one month ({month_start:%Y-%m-%d} to {end:%Y-%m-%d})")
    for name, run in (
        (
            "register CSV",
            lambda: b"".join(
                ledgers.csv_chunks(
                    ledgers.REGISTER_HEADINGS,
                    (
                        ledgers.register_row(e, ZONE)
                        for e in ledgers.walk_entries(store, since=month_start, until=end)
                    ),
                )
            ),
        ),
        (
            "fever ledger CSV",
            lambda: b"".join(
                ledgers.csv_chunks(
                    ledgers.FEVER_HEADINGS,
                    (
                        ledgers.fever_row(e, ZONE)
                        for e in ledgers.walk_entries(store, since=month_start, until=end)
                        if ledgers.is_fever_case(e)
                    ),
                )
            ),
        ),
        (
            "register XLSX",
            lambda: ledgers.xlsx_bytes(
                "出入人员登记表",
                ledgers.REGISTER_HEADINGS,
                (
                    ledgers.register_row(e, ZONE)
                    for e in ledgers.walk_entries(store, since=month_start, until=end)
                ),
            ),
        ),
    ):
        started = time.perf_counter()
        body = run()
        elapsed = time.perf_counter() - started
        lines = body.count(b"\n") if not name.endswith("XLSX") else None
        size = f"{len(body) / 1e6:.1f} MB" + (f", {lines - 1:,} rows" if lines else "")
        print(f"  {name:<20} {elapsed:7.2f} s  ({size})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=Path.cwd())
    parser.add_argument(
        "--db", type=Path, default=None, help="Keep (or reuse) the filled log here."
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--only", choices=("search", "exports"), default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kakou-bench-", dir=args.dir) as scratch:
        path = args.db or Path(scratch) / "console.db"
        print(f"== filling {path} to {args.rows:,} entries")
        fill(path, args.rows)
        with Store.open(path, community="bench", gate="north", check_integrity=False) as store:
            if args.only != "exports":
                bench_search(store, args.rows, args.repeat)
            if args.only != "search":
                bench_exports(store, args.rows, Path(scratch))


if __name__ == "__main__":
    main()
