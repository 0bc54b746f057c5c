"""Benchmark the console's log: entries-search latency over a large log, and ledger exports.

    .venv/bin/python bench/bench_console.py [--rows 1000000] [--repeat 200] [--db F] [--only X]
                                            [--no-old]

Fills a log with ``--rows`` entries, one every 8 s (about 92 days for a million: a busy gate's
quarter), then times ``GET /api/v1/entries`` through the real app (auth, keyset page, JSON) for
the searches the log page makes, and the export of one month (register and fever ledger, CSV
and XLSX) by the new path and the old one in the same process, with peak memory and how late
another thread runs meanwhile. ``--db`` keeps the filled file for later runs. Prints figures
only.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import random
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psutil
from fastapi.testclient import TestClient

from bench.bench_store import HOUSEHOLDS, PASSES, START, make_draft, percentile, set_synchronous
from edge.console import ledgers
from edge.console.app import create_app
from edge.console.deps import ConsoleContext
from edge.console.routes.ledgers import TITLES
from edge.policy import Policy
from edge.store import Store
from edge.store.exports import ledger_rows
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
        book.add("bench", Role.ADMIN, "bench-secret", now=START)
    signed = book.sign_in("bench", "bench-secret", now=START.now(UTC))
    assert not isinstance(signed, SignInFailure)
    context = ConsoleContext(store=store, lanes={}, device_status=list)
    bearer = {"Authorization": f"Bearer {signed[1]}"}
    client = TestClient(create_app(context), base_url="http://localhost", headers=bearer)
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


class PeakRss:
    """The process's resident memory, sampled every 10 ms on a thread, as growth over the start."""

    def __init__(self) -> None:
        self._process = psutil.Process()
        self._stop = threading.Event()
        self._start = self._peak = self._process.memory_info().rss
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.01):
            self._peak = max(self._peak, self._process.memory_info().rss)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def growth_mb(self) -> float:
        return (self._peak - self._start) / 1e6


Export = Callable[[], Iterable[bytes]]


def run_export(export: Export) -> tuple[float, float, int, str]:
    """Seconds, peak memory growth (MB), bytes and SHA-256 of one export, read chunk by chunk
    as a download would be (gc first, so one run's garbage does not count against the next)."""
    gc.collect()
    digest = hashlib.sha256()
    size = 0
    with PeakRss() as memory:
        started = time.perf_counter()
        for chunk in export():
            digest.update(chunk)
            size += len(chunk)
        elapsed = time.perf_counter() - started
    return elapsed, memory.growth_mb, size, digest.hexdigest()


def tick_lateness(export: Export | None) -> str:
    """How late a 10 ms tick on this thread runs while ``export`` runs on another (the GIL is
    shared: this is what a lane thread or the console's event loop sees), or for 3 s idle."""
    done = threading.Event()

    def work() -> None:
        if export is None:
            time.sleep(3.0)
        else:
            run_export(export)
        done.set()

    worker = threading.Thread(target=work)
    late_ms: list[float] = []
    worker.start()
    while not done.is_set():
        before = time.perf_counter()
        time.sleep(0.01)
        late_ms.append((time.perf_counter() - before - 0.01) * 1000)
    worker.join()
    return (
        f"p50 {percentile(late_ms, 0.5):6.2f} ms  p99 {percentile(late_ms, 0.99):6.2f} ms  "
        f"max {max(late_ms):6.2f} ms"
    )


def bench_exports(store: Store, rows: int, *, old: bool) -> None:
    """A month's exports, the new path (raw rows) and the old one (every entry decoded, XLSX
    through openpyxl) in this process, with the ratio; peak memory is RSS growth per export."""
    # The old path is the test suite's oracle: the code the exports ran before.
    from tests.console.test_ledgers import old_rows, old_xlsx

    end = START + rows * STEP
    month_start = max(START, end - timedelta(days=30))
    count = sum(1 for _ in ledger_rows(store, since=month_start, until=end))
    print(f"== export one month ({month_start:%Y-%m-%d} to {end:%Y-%m-%d}, {count:,} entries)")

    # As the console exports: the policy's question texts and guard names in place of ids.
    policy = Policy()
    names = ledgers.LedgerNames(
        questions={qid: question.text_zh for qid, question in policy.questions.items()},
        answer_words=ledgers.ANSWER_WORDS_ZH,
        guards={f"guard-{n:02d}": f"值班员{n}" for n in range(20)},
    )

    def new(ledger: str, fmt: str) -> Export:
        def export() -> Iterable[bytes]:
            headings, cells = ledgers.export_rows(
                store, ledger, ZONE, names, since=month_start, until=end
            )
            if fmt == "csv":
                return ledgers.csv_chunks(headings, cells)
            return ledgers.xlsx_chunks(TITLES[ledger], headings, cells)

        return export

    def previous(ledger: str, fmt: str) -> Export:
        def export() -> Iterable[bytes]:
            headings, cells = old_rows(store, ledger, ZONE, since=month_start, until=end)
            if fmt == "csv":  # the CSV writer is the same as before; the rows were the cost
                return ledgers.csv_chunks(headings, cells)
            return [old_xlsx(TITLES[ledger], headings, cells)]

        return export

    columns = f"  {'':<20} {'new (raw rows)':>26}"
    print(columns + (f"   {'old (decoded entries)':>26}   {'speed-up':>8}" if old else ""))
    for ledger, fmt, label in (
        ("entries", "csv", "register CSV"),
        ("fever", "csv", "fever ledger CSV"),
        ("entries", "xlsx", "register XLSX"),
        ("fever", "xlsx", "fever ledger XLSX"),
    ):
        new_s, new_mb, size, new_hash = run_export(new(ledger, fmt))
        line = f"  {label:<20} {new_s:7.2f} s {new_mb:+6.1f} MB peak"
        if old:
            old_s, old_mb, _, old_hash = run_export(previous(ledger, fmt))
            line += f"   {old_s:7.2f} s {old_mb:+6.1f} MB peak   {old_s / new_s:7.1f}x"
            if fmt == "csv":
                line += "  same bytes" if new_hash == old_hash else "  BYTES DIFFER"
        print(f"{line}  ({size / 1e6:.1f} MB)")
    print("  a 10 ms tick on another thread (a lane, the live view) is late by:")
    print(f"    {'with no export':<24} {tick_lateness(None)}")
    print(f"    {'during the register CSV':<24} {tick_lateness(new('entries', 'csv'))}")
    print(f"    {'during the register XLSX':<24} {tick_lateness(new('entries', 'xlsx'))}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=Path.cwd())
    parser.add_argument(
        "--db", type=Path, default=None, help="Keep (or reuse) the filled log here."
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--only", choices=("search", "exports"), default=None)
    parser.add_argument(
        "--no-old", action="store_true", help="Skip the old export path (minutes for a month)."
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kakou-bench-", dir=args.dir) as scratch:
        path = args.db or Path(scratch) / "console.db"
        print(f"== filling {path} to {args.rows:,} entries")
        fill(path, args.rows)
        with Store.open(path, community="bench", gate="north", check_integrity=False) as store:
            if args.only != "exports":
                bench_search(store, args.rows, args.repeat)
            if args.only != "search":
                bench_exports(store, args.rows, old=not args.no_old)


if __name__ == "__main__":
    main()
