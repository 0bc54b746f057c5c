"""Benchmark the entry log: durable entries per second, and query latency on a large log.

    .venv/bin/python bench/bench_store.py [--dir DIR] [--runs 5] [--inserts 300] [--rows 100000]

Part 1 records entries one at a time, each ``record_entry`` its own transaction, with
``synchronous=FULL`` (what the gate runs) and ``NORMAL`` (what FULL costs), alternating runs in
one process, and prints the median rate over the runs and the per-insert latency percentiles.
Part 2 fills a log with ``--rows`` entries and times the console's and the lane's queries.

fsync cost is a property of the medium: run it on the Pi's SD card (``--dir`` on that card), not
on a tmpfs, where every sync is free. Prints figures only; nothing here asserts a target.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from drivers.base import Reading
from edge.model import (
    Direction,
    EntryDraft,
    MeasuredTemperature,
    Outcome,
    PassKind,
)
from edge.store import Store
from edge.store.outbox import mark_acked, pending

TARGET_ENTRIES_PER_S = 500
START = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)
PASSES = 5_000
HOUSEHOLDS = 2_000
_OUTCOMES = [Outcome.PASSED] * 90 + [Outcome.DENIED] * 5 + [Outcome.ABANDONED] * 3
_OUTCOMES += [Outcome.FEVER, Outcome.OVERRIDDEN]


def make_draft(rng: random.Random, at: datetime) -> EntryDraft:
    """A realistic visit: a pass, a household, answers in Chinese, one or two readings."""
    pass_number = rng.randrange(PASSES)
    outcome = rng.choice(_OUTCOMES)
    value_c = round(rng.gauss(36.5, 0.3), 2)
    readings = [
        MeasuredTemperature(
            reading=Reading(
                value_c=value_c,
                sensor="gy-mcu90614",
                object_c=value_c,
                ambient_c=18.5,
                raw_hex="5a5a45040e930e6e7b",
            ),
            body_c=value_c + 0.5,
            at=at,
            plausible=True,
            fever=outcome is Outcome.FEVER,
        )
    ]
    return EntryDraft(
        lane="north-1",
        direction=Direction.OUT if pass_number % 2 else Direction.IN,
        outcome=outcome,
        started_at=at - timedelta(seconds=20),
        decided_at=at,
        reasons=("fever",) if outcome is Outcome.FEVER else (),
        pass_id=f"P-{pass_number:06d}",
        pass_kind=PassKind.RESIDENT,
        holder="张*",
        household=f"{pass_number % HOUSEHOLDS // 100}-{pass_number % 100:03d}",
        key_id="community-2026a",
        answers=(("travel_14d", "否"), ("symptoms", "无")),
        temperatures=tuple(readings),
    )


def set_synchronous(store: Store, mode: str) -> None:
    # The benchmark alone lowers durability, to measure what FULL costs; the store never does.
    with store._reading() as conn:
        conn.execute(f"PRAGMA synchronous = {mode}")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def filesystem_of(path: Path) -> str:
    """The mount and filesystem type holding ``path`` (best effort, Linux)."""
    best = ("?", "?")
    try:
        mounts = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return "unknown"
    resolved = str(path.resolve())
    for line in mounts:
        device, mount_point, fs_type, *_ = line.split()
        if resolved.startswith(mount_point) and len(mount_point) >= len(best[0]):
            best = (mount_point, f"{fs_type} on {device}")
    return f"{best[1]} (mounted at {best[0]})"


def bench_inserts(directory: Path, runs: int, inserts: int) -> None:
    print(f"== durable inserts: {runs} runs x {inserts} record_entry calls per mode")
    rng = random.Random(1)
    rates: dict[str, list[float]] = {"FULL": [], "NORMAL": []}
    latencies_ms: dict[str, list[float]] = {"FULL": [], "NORMAL": []}
    for run in range(runs):
        for mode in ("FULL", "NORMAL") if run % 2 == 0 else ("NORMAL", "FULL"):
            path = directory / f"insert-{mode}-{run}.db"
            with Store.open(path, community="bench", gate="north") as store:
                set_synchronous(store, mode)
                for _ in range(10):
                    store.record_entry(make_draft(rng, START), boot_id="b", recorded_at=START)
                started_ns = time.perf_counter_ns()
                for index in range(inserts):
                    at = START + timedelta(seconds=index)
                    draft = make_draft(rng, at)
                    before_ns = time.perf_counter_ns()
                    store.record_entry(draft, boot_id="b", recorded_at=at)
                    latencies_ms[mode].append((time.perf_counter_ns() - before_ns) / 1e6)
                elapsed_s = (time.perf_counter_ns() - started_ns) / 1e9
            rates[mode].append(inserts / elapsed_s)
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
    for mode in ("FULL", "NORMAL"):
        lat = latencies_ms[mode]
        print(
            f"  synchronous={mode:<6} median {statistics.median(rates[mode]):8.0f} entries/s"
            f"  (runs: {', '.join(f'{rate:.0f}' for rate in rates[mode])})"
            f"  latency p50 {percentile(lat, 0.50):6.2f} ms  p99 {percentile(lat, 0.99):6.2f} ms"
            f"  max {max(lat):6.2f} ms"
        )
    full = statistics.median(rates["FULL"])
    verdict = "meets" if full >= TARGET_ENTRIES_PER_S else "is BELOW"
    print(f"  FULL {verdict} the target of {TARGET_ENTRIES_PER_S} durable entries/s")


def timed(label: str, repeat: int, call: Callable[[], object]) -> None:
    call()  # warm the page cache and the statement cache
    samples_ms = []
    for _ in range(repeat):
        before_ns = time.perf_counter_ns()
        call()
        samples_ms.append((time.perf_counter_ns() - before_ns) / 1e6)
    print(
        f"  {label:<48} median {statistics.median(samples_ms):7.3f} ms"
        f"  p99 {percentile(samples_ms, 0.99):7.3f} ms"
    )


def bench_queries(directory: Path, rows: int, repeat: int) -> None:
    print(f"== queries on {rows:,} entries ({repeat} calls each)")
    path = directory / "queries.db"
    rng = random.Random(2)
    step = timedelta(seconds=2)
    with Store.open(path, community="bench", gate="north") as store:
        set_synchronous(store, "OFF")  # filling only; the timed queries do not write
        started = time.perf_counter()
        for index in range(rows):
            at = START + index * step
            store.record_entry(make_draft(rng, at), boot_id="b", recorded_at=at)
        print(f"  filled in {time.perf_counter() - started:.1f} s (synchronous=OFF)")
        end = START + rows * step
        mark_acked(store, "north", up_to_seq=rows * 9 // 10, at=end)
    size_mb = path.stat().st_size / 1e6
    started = time.perf_counter()
    store = Store.open(path, community="bench", gate="north")
    print(f"  open with quick_check: {time.perf_counter() - started:.3f} s, file {size_mb:.1f} MB")
    with store:
        middle = rows // 2

        def some_pass() -> str:
            return f"P-{rng.randrange(PASSES):06d}"

        def some_household() -> str:
            number = rng.randrange(PASSES)
            return f"{number % HOUSEHOLDS // 100}-{number % 100:03d}"

        timed("entries(limit=100)", repeat, lambda: store.entries(limit=100))
        timed(
            "entries(limit=100, newest_first=True)",
            repeat,
            lambda: store.entries(limit=100, newest_first=True),
        )
        timed(
            f"entries(limit=100, after_seq={middle})",
            repeat,
            lambda: store.entries(limit=100, after_seq=middle),
        )
        timed(
            "entries(since=last hour, limit=100)",
            repeat,
            lambda: store.entries(since=end - timedelta(hours=1), limit=100),
        )
        timed(
            "entries(since=first entry, limit=100)",
            repeat,
            lambda: store.entries(since=START, limit=100),
        )
        timed(
            "entries(outcome=fever, limit=100)",
            repeat,
            lambda: store.entries(outcome=Outcome.FEVER, limit=100),
        )
        timed(
            "entries(pass_id=..., limit=100)",
            repeat,
            lambda: store.entries(pass_id=some_pass(), limit=100),
        )
        timed(
            "entries(household=..., limit=100)",
            repeat,
            lambda: store.entries(household=some_household(), limit=100),
        )
        timed(
            "last_passed_direction(pass_id)",
            repeat,
            lambda: store.last_passed_direction(some_pass()),
        )
        timed(
            "household_exits(household, since=2 days ago)",
            repeat,
            lambda: store.household_exits(some_household(), end - timedelta(days=2)),
        )
        timed("outbox.pending(limit=100)", repeat, lambda: pending(store, 100))
        started = time.perf_counter()
        store.integrity_check()
        print(f"  full integrity_check: {time.perf_counter() - started:.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=Path.cwd(), help="Where the test files go.")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--inserts", type=int, default=300)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kakou-bench-", dir=args.dir) as scratch:
        directory = Path(scratch)
        print(f"files in {directory}: {filesystem_of(directory)}; {os.cpu_count()} CPUs")
        bench_inserts(directory, args.runs, args.inserts)
        bench_queries(directory, args.rows, args.repeat)


if __name__ == "__main__":
    main()
