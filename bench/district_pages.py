"""bench/bench_district.py pages: a year of entries for one community's gates, and the office's
queries and pages timed over it.

The fill: every row a valid entry document, made in PostgreSQL itself (INSERT ... SELECT over
generate_series, a day at a time) from 200 template documents that ``entry_to_document`` wrote,
with the per-row values (id, gate, lane, seq, times, pass, household, holder) put in. Outcomes:
93% passed, 4% denied, 2% abandoned, 1% overridden, and one visit in 10,000 a fever (a handful
a day across the community, as the field reports' fever ledgers show); 8% visitors. A day's
visits follow the rush: 40% in 07:00-09:00, 40% in 17:00-19:30, the rest 06:00-23:00 (office
time). Each gate has its own share: from half to one and a half times ``--per-day``. 13,000
residents' passes in 5,000 households (63 buildings, 7 grids, 2 compounds in the roster).
A sample of rows is read back through the receiver's own check (``check_document``) and must
give the same columns.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from drivers.base import Reading
from edge.entry_document import canonical_document, check_document, entry_to_document
from edge.model import (
    ENTRY_SCHEMA_VERSION,
    Direction,
    Entry,
    EntryDraft,
    MeasuredTemperature,
    Outcome,
    PassKind,
)

COMMUNITY = "c000"
ZONE = ZoneInfo("Asia/Shanghai")
TEMPLATES = 200
RESIDENTS = 13_000
HOUSEHOLDS = 5_000
FILL_VERSION = "district-pages-1"
SURNAMES = "张王李赵刘陈杨黄周吴徐孙胡朱高林何郭马罗"

MARK_SEQ = 987_654_321
MARKS = {
    "id": "@ID@",
    "gate": "@GATE@",
    "lane": "@LANE@",
    "direction": "@DIR@",
    "started_at": "@T0@",
    "decided_at": "@T1@",
    "recorded_at": "@T1@",
    "holder": "@WHO@",
    "household": "@HH@",
}


# ---------------------------------------------------------------------------- templates


@dataclass(frozen=True)
class Template:
    k: int
    body: str
    outcome: str
    pass_kind: str | None
    clock_synced: bool
    max_body_c: float | None
    fever: bool


def _draft(rng: random.Random, outcome: Outcome, kind: PassKind, at: datetime) -> EntryDraft:
    measured = outcome in (Outcome.PASSED, Outcome.FEVER, Outcome.OVERRIDDEN) or (
        outcome is Outcome.ABANDONED and rng.random() < 0.5
    )
    readings: tuple[MeasuredTemperature, ...] = ()
    if measured:
        if outcome is Outcome.FEVER:
            values = [round(rng.uniform(37.4, 38.9), 2)] * 2
        elif rng.random() < 0.03:  # a cold morning: an implausible reading, measured again
            values = [round(rng.uniform(32.0, 34.0), 2), round(rng.gauss(36.5, 0.25), 2)]
        else:
            values = [round(rng.gauss(36.5, 0.25), 2)]
        readings = tuple(
            MeasuredTemperature(
                reading=Reading(value_c=v, sensor="gy-mcu90614", object_c=v, ambient_c=None),
                body_c=round(v + 0.4, 2),
                at=at - timedelta(seconds=3),
                plausible=v >= 35.0,
                fever=outcome is Outcome.FEVER,
            )
            for v in values
        )
    reasons: tuple[str, ...] = ()
    if outcome is Outcome.DENIED:
        reasons = (rng.choice(["expired", "revoked", "kind_hours", "not_yet_valid", "gate"]),)
    elif outcome is Outcome.FEVER:
        reasons = ("fever",)
    elif outcome is Outcome.ABANDONED:
        reasons = (rng.choice(["timeout", "superseded", "cancelled"]),)
    return EntryDraft(
        lane="in-1",
        direction=Direction.IN,
        outcome=outcome,
        started_at=at - timedelta(seconds=15),
        decided_at=at,
        reasons=reasons,
        pass_id="@PASS@",
        pass_kind=kind,
        holder="@WHO@",
        household="@HH@",
        key_id="community-2026a",
        answers=(("travel_14d", "否"), ("reason", "探亲")) if kind is PassKind.VISITOR else (),
        temperatures=readings,
        guard_id="guard-3" if outcome is Outcome.OVERRIDDEN else None,
        guard_note="住户忘带通行证，核实身份后放行" if outcome is Outcome.OVERRIDDEN else None,
        clock_synced=rng.random() > 0.01,
    )


def make_templates(seed: int = 7) -> list[Template]:
    """Template 0 is the fever; 1..199 the rest, in the proportions of the module docstring."""
    rng = random.Random(seed)
    at = datetime(2026, 1, 1, 1, 2, 3, 456_789, tzinfo=UTC)
    outcomes = [Outcome.FEVER]
    outcomes += [Outcome.PASSED] * 185 + [Outcome.DENIED] * 8 + [Outcome.ABANDONED] * 4
    outcomes += [Outcome.OVERRIDDEN] * 2
    templates = []
    for k, outcome in enumerate(outcomes):
        kind = PassKind.VISITOR if k % 12 == 5 else PassKind.RESIDENT
        entry = Entry(
            id="@ID@",
            seq=MARK_SEQ,
            schema_version=ENTRY_SCHEMA_VERSION,
            community=COMMUNITY,
            gate="@GATE@",
            boot_id="7b0c3f0e5d8a4a51b5f0d1c2e3f4a5b6",
            recorded_at=at,
            draft=_draft(rng, outcome, kind, at),
        )
        document = entry_to_document(entry)
        document.update({key: mark for key, mark in MARKS.items()})
        for reading in document["temperatures"]:
            reading["at"] = "@TM@"
        plausible = [r["body_c"] for r in document["temperatures"] if r["plausible"]]
        templates.append(
            Template(
                k=k,
                body=canonical_document(document),
                outcome=outcome.value,
                pass_kind=kind.value,
                clock_synced=entry.draft.clock_synced,
                max_body_c=max(plausible) if plausible else None,
                fever=outcome is Outcome.FEVER,
            )
        )
    return templates


# --------------------------------------------------------------------------------- fill


def _unit_sql(h: str) -> str:
    """The unit ``building-entrance-room`` of household number ``h`` (an SQL expression, its
    ``%`` doubled for a statement with parameters)."""
    return (
        f"(({h}) / 80 + 1)::text || '-' || ((({h}) %% 80) / 20 + 1)::text || '-' || "
        f"(((({h}) %% 20) / 2 + 1) * 100 + ({h}) %% 2 + 1)::text"
    )


def _unit_python(h: int) -> str:
    """What ``_unit_sql`` gives for household number ``h``."""
    return f"{h // 80 + 1}-{h % 80 // 20 + 1}-{(h % 20 // 2 + 1) * 100 + h % 2 + 1}"


def _iso(t: str) -> str:
    return f"to_char(({t}) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US') || '+00:00'"


def fill(conn: Any, *, gates: int, days: int, per_day: int, first_day: date) -> int:
    """Fill ``entries`` (and logs, gate_status, office_households); returns the row count."""
    templates = make_templates()
    columns = {
        row[0]
        for row in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'entries'"
        ).fetchall()
    }
    ledger = {"pass_id", "holder", "household", "max_body_c", "fever"} <= columns
    conn.execute(
        "CREATE TABLE bench_templates (k INT PRIMARY KEY, body TEXT, outcome TEXT, "
        "pass_kind TEXT, clock_synced INT, max_body_c DOUBLE PRECISION, fever INT)"
    )
    with conn.cursor().copy("COPY bench_templates FROM STDIN") as copy:
        for t in templates:
            copy.write_row(
                (
                    t.k,
                    t.body,
                    t.outcome,
                    t.pass_kind,
                    int(t.clock_synced),
                    t.max_body_c,
                    int(t.fever),
                )
            )
    # Secondary indexes are built once at the end: faster than keeping them up row by row.
    dropped = conn.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'entries' AND indexname "
        "NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = 'entries'::regclass)"
    ).fetchall()
    for name, _ in dropped:
        conn.execute(f'DROP INDEX "{name}"')
    gmax = max(gates - 1, 1)
    per_gate = [int(per_day * (0.5 + g / gmax)) for g in range(gates)]
    holder = f"(ARRAY[{', '.join(repr(s + '*') for s in SURNAMES)}])[1 + p %% 20]"
    resident_unit = _unit_sql(f"p * {HOUSEHOLDS} / {RESIDENTS}")
    doc = "tp.body"
    for mark, value in [
        ("@ID@", "x.id"),
        ("@GATE@", "x.gate"),
        ("@LANE@", "x.lane"),
        ("@DIR@", "x.direction"),
        ("@T0@", _iso("x.t - interval '15 seconds'")),
        ("@T1@", "x.decided_at"),
        ("@TM@", _iso("x.t - interval '3 seconds'")),
        ("@PASS@", "x.pass_id"),
        ("@WHO@", "x.holder"),
        ("@HH@", "x.household"),
    ]:
        doc = f"replace({doc}, '{mark}', {value})"
    doc = f"replace({doc}, '\"seq\":{MARK_SEQ}', '\"seq\":' || x.seq)"
    extra_cols = ", pass_id, holder, household, max_body_c, fever" if ledger else ""
    extra_vals = ", x.pass_id, x.holder, x.household, tp.max_body_c, tp.fever" if ledger else ""
    statement = f"""
    WITH r AS (
        SELECT g, n,
            %(day)s::timestamptz + make_interval(secs => CASE
                WHEN n %% 10 < 4 THEN 7 * 3600 + random() * 7200
                WHEN n %% 10 < 8 THEN 17 * 3600 + random() * 9000
                ELSE 6 * 3600 + random() * 61200 END) AS t,
            floor(random() * {RESIDENTS})::int AS p,
            CASE WHEN random() < 0.0001 THEN 0 ELSE 1 + floor(random() * 199)::int END AS k
        FROM generate_series(0, {gates - 1}) AS g,
            LATERAL generate_series(1, (%(per)s::int[])[g + 1]) AS n
    ), s AS (
        SELECT r.*, row_number() OVER (PARTITION BY g ORDER BY t) AS rn,
            lpad(to_hex((extract(epoch FROM t) * 1000)::bigint), 12, '0') AS ms,
            md5(g || ':' || %(d)s || ':' || n) AS m
        FROM r
    ), x AS (
        SELECT s.t, tp.k,
            substr(ms, 1, 8) || '-' || substr(ms, 9, 4) || '-7' || substr(m, 1, 3) || '-8'
                || substr(m, 4, 3) || '-' || substr(m, 7, 12) AS id,
            'g' || lpad(g::text, 2, '0') AS gate,
            md5('log' || g) AS log_id,
            (%(per)s::int[])[g + 1]::bigint * %(d)s + rn AS seq,
            CASE WHEN n %% 2 = 0 THEN 'in-1' ELSE 'out-1' END AS lane,
            CASE WHEN n %% 2 = 0 THEN 'in' ELSE 'out' END AS direction,
            {_iso("s.t")} AS decided_at,
            (extract(epoch FROM s.t) * 1000000)::bigint AS decided_at_us,
            CASE WHEN tp.pass_kind = 'visitor' THEN 'V-' || substr(m, 20, 8)
                ELSE 'P-' || lpad(p::text, 5, '0') END AS pass_id,
            {holder} AS holder,
            {resident_unit} AS household
        FROM s JOIN bench_templates AS tp ON tp.k = s.k
    )
    INSERT INTO entries (id, community, gate, log_id, seq, lane, direction, outcome, pass_kind,
        decided_at, decided_at_us, clock_synced, document, received_at, receiver{extra_cols})
    SELECT x.id, '{COMMUNITY}', x.gate, x.log_id, x.seq, x.lane, x.direction, tp.outcome,
        tp.pass_kind, x.decided_at, x.decided_at_us, tp.clock_synced, {doc},
        {_iso("x.t + interval '300 milliseconds'")}, 'receiver-1'{extra_vals}
    FROM x JOIN bench_templates AS tp ON tp.k = x.k
    """
    started = time.monotonic()
    total = 0
    for d in range(days):
        day = datetime.combine(first_day + timedelta(days=d), datetime.min.time(), tzinfo=ZONE)
        cursor = conn.execute(statement, {"day": day, "per": per_gate, "d": d})
        total += cursor.rowcount
        if d % 30 == 29 or d == days - 1:
            elapsed = time.monotonic() - started
            print(
                f"    filled {d + 1} days, {total} rows, {elapsed:.0f} s "
                f"({total / elapsed:.0f} rows/s)",
                flush=True,
            )
    started = time.monotonic()
    for _name, definition in dropped:
        conn.execute(definition)
    print(f"    indexes rebuilt in {time.monotonic() - started:.0f} s", flush=True)
    now = datetime.now(UTC).isoformat()
    for g in range(gates):
        last = per_gate[g] * days
        gate = f"g{g:02d}"
        log_id = conn.execute("SELECT md5(%s)", [f"log{g}"]).fetchone()[0]
        conn.execute(
            "INSERT INTO logs VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
            [COMMUNITY, gate, log_id, last, last, now, now],
        )
        conn.execute(
            "INSERT INTO gate_status (community, gate, log_id, state, last_seq, backlog, "
            "payload, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT DO NOTHING",
            [COMMUNITY, gate, log_id, "online", last, 0, _status(gate, log_id, last), now],
        )
    conn.execute("DROP TABLE bench_templates")
    return total


def _status(gate: str, log_id: str, last_seq: int) -> str:
    from sync.contract import to_json
    from sync.status import RevocationStatus, build_status

    return to_json(
        build_status(
            community=COMMUNITY,
            gate=gate,
            at=datetime.now(UTC),
            log_id=log_id,
            last_seq=last_seq,
            backlog=0,
            oldest_pending_at=None,
            revocations=RevocationStatus(),
            clock_synced=True,
            clock_offset_s=0.1,
            disk_used_fraction=0.3,
            software="kakou bench",
        )
    ).decode()


def fill_households(conn: Any) -> None:
    """The roster's households for the per-building report, if the office has its table."""
    exists = conn.execute("SELECT to_regclass('office_households')").fetchone()[0]
    if exists is None:
        return
    now = datetime.now(UTC).isoformat()
    conn.execute(
        f"""
        INSERT INTO office_households (community, unit, building, grid, compound, created_at,
            updated_at)
        SELECT '{COMMUNITY}', {_unit_sql("h")}, (h / 80 + 1)::text || '号楼',
            '第' || (h / 800 + 1)::text || '网格', CASE WHEN h / 80 %% 2 = 0 THEN '东区' ELSE
            '西区' END, %s, %s
        FROM generate_series(0, {HOUSEHOLDS - 1}) AS h
        ON CONFLICT DO NOTHING
        """,
        [now, now],
    )


def check_sample(conn: Any, count: int = 500) -> str:
    """Rows read back through the receiver's check: every one valid, its columns the same."""
    rows = conn.execute(
        "SELECT id, seq, gate, lane, direction, outcome, pass_kind, decided_at, decided_at_us, "
        "clock_synced, document FROM entries TABLESAMPLE SYSTEM (0.1) LIMIT %s",
        [count],
    ).fetchall()
    bad = 0
    for row in rows:
        checked = check_document(json.loads(row[10]))
        if isinstance(checked, str):
            bad += 1
            print(f"    INVALID {row[0]}: {checked}")
            continue
        expected = (
            checked.id,
            checked.seq,
            checked.gate,
            checked.lane,
            checked.direction,
            checked.outcome,
            checked.pass_kind,
            checked.decided_at,
            checked.decided_at_us,
            int(checked.clock_synced),
            checked.document,
        )
        if tuple(row) != expected:
            bad += 1
            print(f"    MISMATCH {row[0]}: {tuple(row)[:10]} != {expected[:10]}")
    return f"{len(rows) - bad} of {len(rows)} sampled rows pass the receiver's check"


# -------------------------------------------------------------------------------- timing


@dataclass
class Timing:
    name: str
    ms: list[float]
    detail: str = ""

    def line(self, target_ms: float) -> str:
        ordered = sorted(self.ms)
        p50 = ordered[len(ordered) // 2]
        p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
        flag = "" if p99 <= target_ms else "   <-- over target"
        return f"    {self.name:<52} p50 {p50:7.1f} ms  p99 {p99:7.1f} ms  {self.detail}{flag}"


def timed(name: str, runs: int, call: Callable[[int], Any]) -> Timing:
    """``call(run)`` ``runs`` times after one untimed warm-up call; what it returns last is
    kept as a detail (a row count)."""
    call(-1)
    ms = []
    detail: Any = ""
    for run in range(runs):
        started = time.perf_counter()
        detail = call(run)
        ms.append((time.perf_counter() - started) * 1000)
    return Timing(name, ms, "" if detail is None else str(detail))


def run_pages(
    args: argparse.Namespace,
    bench_postgres: Callable[..., AbstractContextManager[Any]],
    meter_type: Callable[..., Any],
    machine_line: Callable[[], str],
    quantile: Callable[[list[float], float], float],
) -> int:
    import psycopg

    from sync.receiver.db import open_db

    settings = {
        "shared_buffers": "1GB",
        "work_mem": "16MB",
        "maintenance_work_mem": "512MB",
        "max_wal_size": "8GB",
        "checkpoint_timeout": "30min",
        "fsync": "off",  # the fill is set-up; reading is what is measured
        "synchronous_commit": "off",
    }
    keep = args.pgdata.resolve() if args.pgdata else None
    print(f"== office pages over a year: {args.gates} gates, ~{args.per_day} entries a gate a day")
    print(f"  {machine_line()}")
    with bench_postgres(settings, keep_in=keep) as postgres:
        name = f"year_{args.gates}_{args.days}_{args.per_day}"
        dsn = postgres.database(name)
        db = open_db(dsn=dsn)
        _ensure_office_schema(db)
        with psycopg.connect(dsn, autocommit=True) as conn:
            done = conn.execute(
                "SELECT value FROM receiver_meta WHERE key = 'bench_fill'"
            ).fetchone()
            first_day = date.today() - timedelta(days=args.days)
            if done is None:
                started = time.monotonic()
                print(f"  filling {args.days} days from {first_day} ...", flush=True)
                rows = fill(
                    conn,
                    gates=args.gates,
                    days=args.days,
                    per_day=args.per_day,
                    first_day=first_day,
                )
                fill_households(conn)
                conn.execute("VACUUM ANALYZE")
                conn.execute(
                    "INSERT INTO receiver_meta VALUES ('bench_fill', %s)",
                    [
                        json.dumps(
                            {"version": FILL_VERSION, "first_day": str(first_day), "rows": rows}
                        )
                    ],
                )
                print(f"  filled {rows} rows in {time.monotonic() - started:.0f} s")
                done = conn.execute(
                    "SELECT value FROM receiver_meta WHERE key = 'bench_fill'"
                ).fetchone()
            meta = json.loads(done[0])
            first_day = date.fromisoformat(meta["first_day"])
            size = conn.execute(
                "SELECT pg_size_pretty(pg_total_relation_size('entries')), "
                "pg_size_pretty(pg_relation_size('entries'))"
            ).fetchone()
            print(
                f"  {meta['rows']} entries from {first_day} ({args.days} days); table and "
                f"indexes {size[0]} (rows {size[1]}); {check_sample(conn)}"
            )
        from bench.district_queries import time_everything

        meter = meter_type({"PostgreSQL": (postgres.pid, True)})
        meter.start()
        timings = time_everything(
            db, dsn, args, first_day=first_day, zone=ZONE, community=COMMUNITY
        )
        meter.stop()
        db.close()
    print(
        f"  {args.runs} runs each after one warm-up, each run another day or person "
        f"(seed {args.seed}), target p99 <= 300 ms:"
    )
    for timing in timings:
        print(timing.line(300.0))
    for line in meter.lines():
        print(line)
    return 0


def _ensure_office_schema(db: Any) -> None:
    """The office modules' tables, where they exist yet (the console makes them at start)."""
    import importlib

    for module in ("roster", "passes", "audit", "accounts", "reports", "alerts"):
        try:
            found = importlib.import_module(f"sync.office.{module}")
        except ImportError:
            continue
        ensure = getattr(found, "ensure_schema", None)
        if ensure is not None:
            ensure(db)


if __name__ == "__main__":
    raise SystemExit("run bench/bench_district.py pages")
