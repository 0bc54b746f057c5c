"""The office's reads timed over the year's database (bench/bench_district.py pages).

Each item is what a page does to answer: the receiver's reads (``ReceiverDb``), the office
modules' functions where they exist (sync/office/reports.py, register.py), and the office
console's pages over HTTP when its app serves them. An item whose code is not there (the console
is being built) says so and is skipped, so the bench runs at every stage of it.
"""

from __future__ import annotations

import argparse
import random
import traceback
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bench.district_pages import HOUSEHOLDS, RESIDENTS, Timing, _unit_python, timed


def time_everything(
    db: Any,
    dsn: str,
    args: argparse.Namespace,
    *,
    first_day: date,
    zone: ZoneInfo,
    community: str,
) -> list[Timing]:
    rng = random.Random(3)
    last_day = first_day + timedelta(days=args.days - 1)
    days = [last_day - timedelta(days=n) for n in range(min(args.days, 60))]

    def a_day(run: int) -> date:
        return days[run % len(days)] if run >= 0 else last_day

    def a_month(run: int) -> tuple[datetime, datetime]:
        end_day = a_day(run)
        end = datetime.combine(end_day + timedelta(days=1), time(0), tzinfo=zone)
        return end - timedelta(days=30), end

    def a_pass(run: int) -> str:
        return f"P-{rng.randrange(RESIDENTS):05d}"

    def a_household(run: int) -> str:
        return _unit_python(rng.randrange(HOUSEHOLDS))

    timings: list[Timing] = []

    def attempt(name: str, call: Callable[[int], Any]) -> None:
        try:
            timings.append(timed(name, args.runs, call))
        except Exception as exc:  # the office code is moving: say what is missing, go on
            print(f"    {name}: not timed ({type(exc).__name__}: {exc})")
            if args.verbose:
                traceback.print_exc()

    # --- the receiver's own reads
    attempt("gaps: db.gaps()", lambda run: len(db.gaps()))
    attempt(
        "daily report per gate: db.daily_counts(day)",
        lambda run: len(db.daily_counts(a_day(run), zone, [community])),
    )

    # --- gates at a glance: each gate's status and its newest entry
    def glance(run: int) -> int:
        with db.reading() as q:
            rows = q.all(
                "SELECT s.community, s.gate, s.state, s.payload, l.max_seq, "
                "(SELECT e.decided_at FROM entries e WHERE e.community = l.community "
                "AND e.gate = l.gate AND e.log_id = l.log_id AND e.seq = l.max_seq) "
                "FROM gate_status s LEFT JOIN logs l ON l.community = s.community "
                "AND l.gate = s.gate AND l.log_id = s.log_id WHERE s.community = ?",
                [community],
            )
        return len(rows)

    attempt("gates at a glance (status, newest entry per gate)", glance)

    # --- the office's modules
    try:
        from sync.office import register, reports
    except ImportError as exc:
        print(f"    office reports and register: not there yet ({exc})")
        return timings

    for level in ("building", "grid", "compound"):
        attempt(
            f"daily report per {level}: reports.rollup",
            lambda run, level=level: len(reports.rollup(db, [community], a_day(run), zone, level)),
        )

    def fevers(run: int) -> int:
        day = a_day(run)
        filters = register.RegisterFilters(
            since=datetime.combine(day, time(0), tzinfo=zone),
            until=datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone),
        )
        page = register.read_page(db, [community], filters, fevers=True, oldest_first=True)
        return len(page.rows)

    attempt("fever ledger for a day: register.read_page(fevers)", fevers)

    def by_pass(run: int) -> int:
        since, until = a_month(run)
        filters = register.RegisterFilters(pass_id=a_pass(run), since=since, until=until)
        return len(register.read_page(db, [community], filters).rows)

    attempt("register: one pass over a month, first page", by_pass)

    def by_household(run: int) -> int:
        since, until = a_month(run)
        filters = register.RegisterFilters(household=a_household(run), since=since, until=until)
        return len(register.read_page(db, [community], filters).rows)

    attempt("register: one household over a month, first page", by_household)

    def a_gates_hours(run: int) -> int:
        day = a_day(run)
        since = datetime.combine(day, time(7), tzinfo=zone)
        filters = register.RegisterFilters(
            gate=f"g{run % 40:02d}" if run >= 0 else "g00",
            since=since,
            until=since + timedelta(hours=2),
        )
        return len(register.read_page(db, [community], filters).rows)

    attempt("register: one gate's 07:00-09:00, first page", a_gates_hours)

    def export_first(run: int) -> int:
        day = a_day(run)
        filters = register.RegisterFilters(
            since=datetime.combine(day, time(0), tzinfo=zone),
            until=datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone),
        )
        headings, rows = register.export(db, [community], filters, zone, audit=lambda q: None)
        next(iter(rows))
        return len(headings)

    attempt("CSV export of a day's register: first row", export_first)

    def export_month_pass(run: int) -> int:
        since, until = a_month(run)
        filters = register.RegisterFilters(household=a_household(run), since=since, until=until)
        _, rows = register.export(db, [community], filters, zone, audit=lambda q: None)
        return sum(1 for _ in rows)

    attempt("CSV export: one household's month, every row", export_month_pass)
    return timings
