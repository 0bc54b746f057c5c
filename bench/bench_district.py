"""District scale: 400 gates publishing at rush hour into Mosquitto, receivers and PostgreSQL,
and the office's queries and pages over a year of entries for 40 gates.

    .venv/bin/python bench/bench_district.py ingest [--gates 400] [--receivers 1 2]
        [--seconds 90] [--storm 300]
    .venv/bin/python bench/bench_district.py pages [--gates 40] [--days 365] [--per-day 1000]
        [--runs 30] [--pgdata DIR]

ingest: a Mosquitto (configured as config/mosquitto.example.conf: persistence with a 60 s
autosave, 100,000 queued messages), a PostgreSQL (fsync on, synchronous commit: an ack means
stored), and one or more ``kakou server run`` receivers in one shared subscription group, all
started here on free ports. The gates are bench/district_gates.py processes: every gate a real
MQTT client with its own log, publishing as the gate's publisher does (see that file), two lanes
each (``in-1``, ``out-1``) admitting one person every 3-5 s: 0.5 entries/s a gate, 200/s for 400
gates. A poller reads the entries table as an office view would, every 100 ms (the rows decided
since the last it saw, with 5 s of overlap), and notes when each entry first shows: the latency
from the gate's commit (``recorded_at``) to the office. The storm: every gate comes back at once
holding ``--storm`` entries (an outage at rush hour) while the crowd goes on.

pages: a PostgreSQL database filled with a year of entries for ``--gates`` gates of one
community (``--per-day`` entries a gate a day on average, each a valid entry document: the
receiver's own check is run on a sample), then the office's queries timed, ``--runs`` times
each, p50 and p99: the ReceiverDb reads, the office's SQL where its pages exist, and the office
console's pages through its HTTP app when it is there. ``--pgdata DIR`` keeps the filled cluster
in DIR for the next run (the fill takes minutes).

Every section prints how loaded the machine was: load averages, and the share of both cores
our processes and all others used while it ran. Prints figures; exits 1 if entries went missing.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.sync.rig import (
    PYTHON,
    ROOT,
    Mosquitto,
    PostgresServer,
    ReceiverProcess,
    ensure_postgres_binaries,
    spawn,
    stop_process,
    wait_until,
)

HERE = Path(__file__).resolve().parent


# ------------------------------------------------------------------------- machine and CPU


def cpu_s(pid: int | None, *, with_children: bool = False) -> float:
    """CPU seconds (user + system) a process and its reaped children used so far, and its
    live children's (PostgreSQL's backends come and go: the postmaster reaps them)."""
    if pid is None:
        return 0.0
    total = 0.0
    with contextlib.suppress(psutil.Error):
        process = psutil.Process(pid)
        for each in [process, *(process.children(recursive=True) if with_children else [])]:
            with contextlib.suppress(psutil.Error):
                times = each.cpu_times()
                total += times.user + times.system + times.children_user + times.children_system
    return total


class Meter:
    """CPU of named processes, and of the whole machine, between ``start`` and ``stop``."""

    def __init__(self, processes: dict[str, tuple[int | None, bool]]) -> None:
        self.processes = processes
        self.before: dict[str, float] = {}
        self.spent: dict[str, float] = {}
        self.wall_s = 0.0
        self.machine_busy_s = 0.0
        self.load_before = os.getloadavg()
        self.load_after = self.load_before

    def _machine_busy(self) -> float:
        times = psutil.cpu_times()
        return sum(times) - times.idle - getattr(times, "iowait", 0.0)

    def start(self) -> None:
        self.load_before = os.getloadavg()
        self.before = {
            name: cpu_s(pid, with_children=tree) for name, (pid, tree) in self.processes.items()
        }
        self.before["bench (this process)"] = cpu_s(os.getpid())
        self._machine = self._machine_busy()
        self._wall = time.monotonic()

    def stop(self) -> None:
        self.wall_s = time.monotonic() - self._wall
        self.machine_busy_s = self._machine_busy() - self._machine
        self.spent = {
            name: cpu_s(pid, with_children=tree) - self.before[name]
            for name, (pid, tree) in self.processes.items()
        }
        self.spent["bench (this process)"] = (
            cpu_s(os.getpid()) - self.before["bench (this process)"]
        )
        self.load_after = os.getloadavg()

    def lines(self) -> list[str]:
        cores = os.cpu_count() or 1
        ours = sum(self.spent.values())
        others = max(0.0, self.machine_busy_s - ours)
        wall = max(self.wall_s, 1e-9)
        return [
            "    CPU, % of one core: "
            + ", ".join(f"{name} {100 * s / wall:.0f}" for name, s in self.spent.items()),
            f"    machine: {cores} cores busy {100 * self.machine_busy_s / wall / cores:.0f}% "
            f"over {self.wall_s:.0f} s (ours {100 * ours / wall / cores:.0f}%, other users "
            f"{100 * others / wall / cores:.0f}%); load average before "
            f"{self.load_before[0]:.2f} {self.load_before[1]:.2f}, after "
            f"{self.load_after[0]:.2f} {self.load_after[1]:.2f}",
        ]


def machine_line() -> str:
    """How loaded the machine is right now (one second's sample)."""
    load = os.getloadavg()
    busy = psutil.cpu_percent(interval=1.0)
    return (
        f"machine: {os.cpu_count()} cores, {busy:.0f}% busy now, load average "
        f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )


def quantile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


# ------------------------------------------------------------------------------ PostgreSQL


@dataclass
class BenchPostgres(PostgresServer):
    """The rig's throwaway PostgreSQL with settings of our own, optionally kept in a folder
    (``keep``) so a filled database survives to the next run. Same start-up as the tests."""

    settings: dict[str, str] = field(default_factory=dict)
    keep: bool = False

    def start(self) -> None:
        self.base.mkdir(parents=True, exist_ok=True)
        self.base.chmod(0o755)
        as_root = os.geteuid() == 0
        if as_root:
            self._as_user = ["runuser", "-u", "postgres", "--"]
        if not (self.data / "PG_VERSION").exists():
            self.data.mkdir(exist_ok=True)
            if as_root:
                shutil.chown(self.data, "postgres", "postgres")
            self._run(
                str(self.bindir / "initdb"),
                *("-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync"),
                *("-E", "UTF8"),
            )
        options = {"listen_addresses": "127.0.0.1", **self.settings}
        with (self.base / "server.log").open("ab") as log:
            self._process = spawn(
                [
                    str(self.bindir / "postgres"),
                    *("-D", str(self.data), "-p", str(self.port), "-k", str(self.data)),
                    *(arg for key, value in options.items() for arg in ("-c", f"{key}={value}")),
                ],
                as_user="postgres" if as_root else None,
                session=True,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_until(self._ready, 120, "PostgreSQL to accept connections")
        if self._process.poll() is not None:
            raise RuntimeError(f"postgres exited: {self.log_tail()}")

    def stop(self) -> None:
        import signal

        process, self._process = self._process, None
        # SIGINT: a fast shutdown that checkpoints, so a kept cluster starts again at once.
        stop_process(process, signal.SIGINT if self.keep else signal.SIGQUIT, timeout_s=120)
        if not self.keep:
            shutil.rmtree(self.base, ignore_errors=True)

    def database(self, name: str) -> str:
        """The DSN of database ``name``, created if missing."""
        import psycopg

        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                return self.dsn(name)
        return self.create_database(name)


@contextlib.contextmanager
def bench_postgres(
    settings: dict[str, str], *, keep_in: Path | None = None
) -> Iterator[BenchPostgres]:
    base = keep_in or Path(tempfile.mkdtemp(prefix="kakou-pg-district-"))
    server = BenchPostgres(
        base=base, bindir=ensure_postgres_binaries(), settings=settings, keep=keep_in is not None
    )
    try:
        server.start()
        yield server
    finally:
        server.stop()


# ---------------------------------------------------------------------------------- ingest

MOSQUITTO_SITE = """\
listener {port} 127.0.0.1
allow_anonymous true
persistence true
persistence_location {directory}/
autosave_interval 60
max_packet_size 4259840
max_queued_messages 100000
user root
log_dest stderr
log_type error
log_type warning
log_type notice
log_type information
"""


class Poller(threading.Thread):
    """The office's view of new entries: every ``every_s``, the rows decided since the newest
    seen (less ``overlap_s``, for rows that commit late); the first time each id shows."""

    def __init__(self, dsn: str, *, since_us: int, every_s: float = 0.1, overlap_s: float = 5):
        super().__init__(daemon=True, name="office-poller")
        self.dsn = dsn
        self.since_us = since_us
        self.every_s = every_s
        self.overlap_us = int(overlap_s * 1e6)
        self.seen: dict[str, float] = {}  # id -> latency ms
        self.query_ms: list[float] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        import psycopg

        newest = self.since_us
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            while not self.stopping.is_set():
                started = time.perf_counter()
                rows = conn.execute(
                    "SELECT id, decided_at_us FROM entries WHERE decided_at_us >= %s",
                    [max(self.since_us, newest - self.overlap_us)],
                ).fetchall()
                now_us = time.time() * 1e6
                self.query_ms.append((time.perf_counter() - started) * 1000)
                for entry_id, decided_us in rows:
                    if entry_id not in self.seen:
                        self.seen[entry_id] = (now_us - decided_us) / 1000
                        newest = max(newest, decided_us)
                self.stopping.wait(max(0.0, self.every_s - (time.perf_counter() - started)))


def scalar(conn: Any, sql: str, params: list[Any]) -> Any:
    """The one value ``sql`` returns."""
    row = conn.execute(sql, params).fetchone()
    assert row is not None, sql
    return row[0]


def run_ingest(
    args: argparse.Namespace, work: Path, postgres: BenchPostgres, receivers: int, storm: int
) -> bool:
    """One run: ``receivers`` receivers, 400 gates, ``args.seconds`` of rush hour (and each
    gate holding ``storm`` entries when it connects, if not 0). True if nothing went missing."""
    import psycopg

    from sync.receiver.db import open_db

    label = f"{receivers} receiver{'s' if receivers > 1 else ''}" + (
        f", storm of {storm} entries a gate" if storm else ""
    )
    run = work / f"ingest-{receivers}-{storm}"
    run.mkdir()
    dsn = postgres.create_database(f"district_{receivers}_{storm}")
    broker = Mosquitto(run / "mosquitto")
    config = run / "mosquitto" / "site.conf"
    config.write_text(MOSQUITTO_SITE.format(port=broker.port, directory=run / "mosquitto"))
    broker.start_with(config)
    rx = [
        ReceiverProcess(run / f"rx{n}", port=broker.port, dsn=dsn, name=f"receiver-{n}")
        for n in range(1, receivers + 1)
    ]
    sims: list[subprocess.Popen[bytes]] = []
    per_process = -(-args.gates // args.processes)
    ok = False
    try:
        for receiver in rx:
            receiver.start()
            receiver.wait_subscribed()
        for first in range(0, args.gates, per_process):
            log = (run / f"gates-{first}.log").open("wb")
            sims.append(
                spawn(
                    [
                        PYTHON,
                        str(HERE / "district_gates.py"),
                        *("--port", str(broker.port), "--first", str(first)),
                        *("--count", str(min(per_process, args.gates - first))),
                        *("--seconds", str(args.seconds), "--backlog", str(storm)),
                        *("--lanes", str(args.lanes), "--work", str(run)),
                        *("--drain-timeout-s", str(args.drain_timeout_s)),
                    ],
                    cwd=ROOT,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
            log.close()
        wait_until(
            lambda: (
                all((run / f"ready-{f}").exists() for f in range(0, args.gates, per_process))
                or any(s.poll() is not None for s in sims)
            ),
            180,
            "the gates to connect",
            every_s=0.2,
        )
        if any(s.poll() is not None for s in sims):
            raise RuntimeError(f"a gate process exited: see {run}/gates-*.log")
        connected = sum(
            int((run / f"ready-{f}").read_text()) for f in range(0, args.gates, per_process)
        )
        meter = Meter(
            {
                **{f"receiver-{n + 1}": (r.pid, False) for n, r in enumerate(rx)},
                "PostgreSQL": (postgres.pid, True),
                "Mosquitto": (broker.pid, False),
                "gates": (None, False),
            }
        )
        gate_cpu_before = sum(cpu_s(s.pid) for s in sims)
        warmup_s = 10.0
        go_us = int(time.time() * 1e6)
        # Live entries seen after the warm-up; in a storm from the go, since the drain is what
        # the live entries wait behind.
        live_from_us = go_us + (0 if storm else int(warmup_s * 1e6))
        poller = Poller(dsn, since_us=live_from_us)
        poller.start()
        meter.start()
        (run / "go").write_text("go")
        time.sleep(args.seconds)
        meter.stop()
        gate_cpu = sum(cpu_s(s.pid) for s in sims) - gate_cpu_before
        meter.spent["gates"] = gate_cpu
        for sim in sims:
            try:
                sim.wait(args.drain_timeout_s + 60)
            except subprocess.TimeoutExpired:
                stop_process(sim)
        time.sleep(1.0)  # the poller's last look
        poller.stopping.set()
        poller.join(10)
        results = []
        for f in range(0, args.gates, per_process):
            path = run / f"result-{f}.json"
            if path.exists():
                results.append(json.loads(path.read_text()))
        db = open_db(dsn=dsn)
        try:
            counts = db.counts()
            gaps = [g for g in db.gaps() if g.missing or g.unreceived]
        finally:
            db.close()
        produced = sum(g["last_seq"] for r in results for g in r["gates"])
        unacked = sum(g["unacked"] for r in results for g in r["gates"])
        resends = sum(g["resends"] for r in results for g in r["gates"])
        live = sum(r["produced_live"] for r in results)
        with psycopg.connect(dsn, autocommit=True) as conn:
            # The receiver's own lag: from the gate's commit to the start of the transaction
            # that stored the entry (received_at), for the live entries the poller watched.
            lag = conn.execute(
                "SELECT percentile_cont(ARRAY[0.5, 0.99]) WITHIN GROUP (ORDER BY lag), max(lag), "
                "count(*) FROM (SELECT extract(epoch FROM received_at::timestamptz) * 1000 "
                "- decided_at_us / 1000.0 AS lag FROM entries WHERE decided_at_us >= %s) AS l",
                [live_from_us],
            ).fetchone()
            # Each storing transaction stamps its entries with one received_at.
            entries_per_transaction = scalar(
                conn,
                "SELECT count(*)::float / greatest(count(DISTINCT received_at), 1) "
                "FROM entries WHERE decided_at_us >= %s",
                [live_from_us],
            )
            # Every entry stored while the CPU was metered, held ones too (the CPU per entry).
            stored_while_metered = scalar(
                conn,
                "SELECT count(*) FROM entries WHERE received_at::timestamptz >= "
                "to_timestamp(%s) AND received_at::timestamptz < to_timestamp(%s)",
                [go_us / 1e6, go_us / 1e6 + meter.wall_s],
            )
            per_second = scalar(
                conn,
                "SELECT count(*) FROM entries WHERE received_at::timestamptz >= "
                "to_timestamp(%s) AND received_at::timestamptz < to_timestamp(%s)",
                [go_us / 1e6 + warmup_s, go_us / 1e6 + args.seconds],
            )
        missing = produced - counts["entries"]
        ok = missing == 0 and counts["duplicate_slots"] == 0 and not gaps and unacked == 0
        window_s = args.seconds - warmup_s
        print(
            f"  == {label}: {args.gates} gates ({connected} connected before the start), "
            f"{args.lanes} lanes each, {args.seconds:g} s"
        )
        print(
            f"    produced {produced} entries ({live} live, {produced - live} held at start), "
            f"stored {counts['entries']}, missing {missing}, gaps {len(gaps)}, "
            f"still unacknowledged at the gates {unacked}, resends after ack timeout {resends}"
        )
        print(
            f"    stored {per_second / window_s:.0f} entries/s sustained over the "
            f"{window_s:.0f} s after a {warmup_s:.0f} s warm-up (offered "
            f"{live / args.seconds:.0f}/s live)"
        )
        if storm:
            go_wall = min(r["go_wall"] for r in results)
            ends = [r["backlog_drained_wall"] for r in results]
            if all(ends):
                drain_s = max(ends) - go_wall
                print(
                    f"    storm: {produced - live} held entries all acknowledged "
                    f"{drain_s:.1f} s after every gate connected at once = "
                    f"{(produced - live) / drain_s:.0f} entries/s (with the live crowd on top)"
                )
            else:
                print("    storm: the held entries were not all acknowledged in time")
        latencies = list(poller.seen.values())
        print(
            f"    gate commit -> office view (poll every 100 ms): median "
            f"{quantile(latencies, 0.5):.0f} ms, p99 {quantile(latencies, 0.99):.0f} ms, max "
            f"{max(latencies, default=float('nan')):.0f} ms over {len(latencies)} live entries; "
            f"the poll itself p50 {quantile(poller.query_ms, 0.5):.1f} ms, p99 "
            f"{quantile(poller.query_ms, 0.99):.1f} ms"
        )
        if lag is not None and lag[2]:
            print(
                f"    gate commit -> receiver's storing transaction: median {lag[0][0]:.0f} ms, "
                f"p99 {lag[0][1]:.0f} ms, max {lag[1]:.0f} ms ({lag[2]} entries)"
            )
        acks = [r["ack_lat_ms"] for r in results if r["ack_lat_ms"]["count"]]
        if acks:
            print(
                "    gate commit -> ack back at the gate, per gate process: "
                + "; ".join(f"p50 {a['p50']:.0f} ms p99 {a['p99']:.0f} ms" for a in acks)
            )
        print(
            f"    {entries_per_transaction:.1f} live entries a storing transaction; CPU per entry "
            "stored: "
            + ", ".join(
                f"{name} {1000 * meter.spent[name] / max(stored_while_metered, 1):.2f} ms"
                for name in [*(f"receiver-{n + 1}" for n in range(len(rx))), "PostgreSQL"]
            )
        )
        for line in meter.lines():
            print(line)
        if not ok:
            print("    <-- MISMATCH: entries missing, duplicated or unacknowledged")
    finally:
        for sim in sims:
            stop_process(sim)
        for receiver in rx:
            receiver.stop()
        broker.stop()
    return ok


def ingest(args: argparse.Namespace) -> int:
    work = Path(tempfile.mkdtemp(prefix="kakou-district-"))
    print(f"== district ingest: {args.gates} gates into Mosquitto, receivers, PostgreSQL")
    print(f"  {machine_line()}")
    ok = True
    try:
        with bench_postgres({"fsync": "on", "synchronous_commit": "on"}) as postgres:
            for receivers in args.receivers:
                ok &= run_ingest(args, work, postgres, receivers, args.storm)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


# ----------------------------------------------------------------------------------- pages


def pages(args: argparse.Namespace) -> int:
    from bench.district_pages import run_pages

    return run_pages(args, bench_postgres, Meter, machine_line, quantile)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sections = parser.add_subparsers(dest="section", required=True)
    ingest_parser = sections.add_parser("ingest", help="400 gates at rush hour")
    ingest_parser.add_argument("--gates", type=int, default=400)
    ingest_parser.add_argument("--processes", type=int, default=4, help="gate processes")
    ingest_parser.add_argument("--lanes", type=int, default=2)
    ingest_parser.add_argument("--receivers", type=int, nargs="+", default=[1, 2])
    ingest_parser.add_argument("--seconds", type=float, default=90.0)
    ingest_parser.add_argument(
        "--storm",
        type=int,
        default=0,
        help="instead of a steady run: every gate connects at once holding this many entries",
    )
    ingest_parser.add_argument("--drain-timeout-s", type=float, default=120.0)
    pages_parser = sections.add_parser("pages", help="a year of entries, the office's pages")
    pages_parser.add_argument("--gates", type=int, default=40)
    pages_parser.add_argument("--days", type=int, default=365)
    pages_parser.add_argument("--per-day", type=int, default=1000)
    pages_parser.add_argument("--runs", type=int, default=30)
    pages_parser.add_argument(
        "--pgdata", type=Path, default=None, help="keep the filled cluster here"
    )
    pages_parser.add_argument(
        "--seed", type=int, default=None, help="which days and people (default: a new pick)"
    )
    pages_parser.add_argument("--verbose", action="store_true", help="tracebacks of skips")
    args = parser.parse_args()
    if args.section == "pages" and args.seed is None:
        args.seed = int(time.time()) % 100_000
    started = time.monotonic()
    status = ingest(args) if args.section == "ingest" else pages(args)
    print(f"== done in {time.monotonic() - started:.0f} s")
    sys.exit(status)


if __name__ == "__main__":
    main()
