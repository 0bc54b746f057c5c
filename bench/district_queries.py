"""The office's reads timed over the year's database (bench/bench_district.py pages).

Each item is what a page does to answer: the receiver's reads (``ReceiverDb``), the office
modules' functions where they exist (sync/office/reports.py, register.py), and the office
console's pages over HTTP when its app serves them. An item whose code is not there (the console
is being built) says so and is skipped, so the bench runs at every stage of it.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import traceback
import warnings
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from time import perf_counter
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
    rng = random.Random(args.seed)
    last_day = first_day + timedelta(days=args.days - 1)
    # Each run a day of the year not read before in this run of the bench (the office looks
    # back at any day), so the p99 includes reading a day from disk, not from the cache.
    days = rng.sample([first_day + timedelta(days=n) for n in range(args.days)], args.days)

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
        from sync.office import gates

        attempt(
            "gates at a glance: gates.at_a_glance",
            lambda run: len(gates.at_a_glance(db, [community], datetime.now(UTC))),
        )
    except ImportError as exc:
        print(f"    gates at a glance: not there yet ({exc})")
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
    try:
        from sync.office import fevers as fever_ledger

        def ledger(run: int) -> int:
            day = a_day(run)
            since = datetime.combine(day, time(0), tzinfo=zone)
            page = fever_ledger.ledger(db, [community], since, since + timedelta(days=1), zone)
            return len(page.cases)

        attempt("fever ledger for a day: fevers.ledger", ledger)
    except ImportError as exc:
        print(f"    fever ledger: not there yet ({exc})")

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
    timings += http_pages(
        db,
        dsn,
        args,
        community=community,
        pick_day=a_day,
        pick_pass=a_pass,
        pick_household=a_household,
    )
    return timings


def http_pages(
    db: Any,
    dsn: str,
    args: argparse.Namespace,
    *,
    community: str,
    pick_day: Callable[[int], date],
    pick_pass: Callable[[int], str],
    pick_household: Callable[[int], str],
) -> list[Timing]:
    """The office console's pages and API reads through its HTTP stack (TestClient: routing,
    the session check, the query, the template), signed in as a district admin; each run
    another day or person. Exports: the time until the first chunk of the streamed body has
    arrived (an XLSX's also its first chunk holding rows)."""
    try:
        with warnings.catch_warnings():  # Starlette's note on httpx: not ours to act on
            warnings.simplefilter("ignore")
            from fastapi.testclient import TestClient

        from sync.office import accounts
        from sync.office.app import create_office_app
        from sync.office.context import OfficeContext
        from sync.office.routes import ROUTERS
        from sync.settings import ServerSettings
    except ImportError as exc:
        print(f"    office pages over HTTP: not there yet ({exc})")
        return []
    settings = ServerSettings.model_validate(
        {"database": {"dsn": dsn}, "office": {"enabled": True, "allowed_hosts": ["testserver"]}}
    )
    app = create_office_app(OfficeContext(db=db, settings=settings))
    name, secret = "bench-admin", "bench-secret-2026-district"
    with contextlib.suppress(accounts.AccountProblem):  # made by an earlier run: kept
        accounts.add(
            db,
            name=name,
            role=accounts.Role.ADMIN,
            communities=None,
            secret=secret,
            by=None,
            now=datetime.now(UTC),
        )

    def month(run: int) -> dict[str, str]:
        end = datetime.combine(pick_day(run) + timedelta(days=1), time(0))
        return {
            "since": (end - timedelta(days=30)).isoformat(timespec="minutes"),
            "until": end.isoformat(timespec="minutes"),
        }

    def day(run: int) -> dict[str, str]:
        return {"day": pick_day(run).isoformat()}

    def one_day(run: int) -> dict[str, str]:
        text = pick_day(run).isoformat()
        return {"since": text, "until": text}

    def day_range(run: int) -> dict[str, str]:
        start = datetime.combine(pick_day(run), time(0))
        return {
            "since": start.isoformat(timespec="minutes"),
            "until": (start + timedelta(days=1)).isoformat(timespec="minutes"),
        }

    def nothing(run: int) -> dict[str, str]:
        return {}

    requests: list[tuple[str, str, Callable[[int], dict[str, str]]]] = [
        ("gates at a glance", "/", nothing),
        ("gates at a glance, API", "/api/v1/gates", nothing),
        ("alerts", "/alerts", nothing),
        ("gaps", "/gaps", nothing),
        ("gaps, API", "/api/v1/gaps", nothing),
        ("households", "/households", nothing),
        ("passes", "/passes", nothing),
        ("downlink", "/downlink", nothing),
        ("audit", "/audit", nothing),
        ("daily report per gate", "/reports", lambda r: {**day(r), "view": "gate"}),
        ("daily report per building", "/reports", lambda r: {**day(r), "view": "building"}),
        ("daily report per grid", "/reports", lambda r: {**day(r), "view": "grid"}),
        ("daily report, API", "/api/v1/reports/daily", lambda r: {**day(r), "view": "building"}),
        ("fever ledger for a day", "/fever", one_day),
        ("daily notice", "/notice", day),
        (
            "register: a pass over a month",
            "/register",
            lambda r: {**month(r), "pass_id": pick_pass(r)},
        ),
        (
            "register: a household over a month",
            "/register",
            lambda r: {**month(r), "household": pick_household(r)},
        ),
        (
            "register API: a pass over a month",
            "/api/v1/register",
            lambda r: {**month(r), "pass_id": pick_pass(r)},
        ),
        ("register: a day, all gates", "/register", day_range),
        ("CSV export, a day's register: first chunk", "/register/export.csv", day_range),
        (
            "CSV export, daily report per building: first chunk",
            "/reports/export.csv",
            lambda r: {**day(r), "view": "building"},
        ),
        ("CSV export, a day's fever ledger: first chunk", "/fever/export.csv", one_day),
        ("XLSX export, a day's register: first chunk", "/register/export.xlsx", day_range),
        (
            "XLSX export, a day's register: first rows",
            "/register/export.xlsx",
            day_range,
        ),
        (
            "XLSX export, daily report per building: first chunk",
            "/reports/export.xlsx",
            lambda r: {**day(r), "view": "building"},
        ),
        ("XLSX export, a day's fever ledger: first chunk", "/fever/export.xlsx", one_day),
    ]
    timings: list[Timing] = []
    with TestClient(app) as client:
        signed = client.post("/api/v1/auth/sign-in", json={"name": name, "secret": secret})
        if signed.status_code != 200:
            print(f"    office pages over HTTP: sign-in answered {signed.status_code}")
            return []
        # The office's own routers: FastAPI keeps an included router as one lazy route.
        served = {
            route.path
            for router in ROUTERS
            for route in router.routes
            if "GET" in getattr(route, "methods", ()) and "{" not in getattr(route, "path", "{")
        }
        timed_paths = {path for _, path, _ in requests}
        untimed = sorted(
            p for p in served - timed_paths if not p.startswith(("/static", "/lang", "/login"))
        )
        print(f"    office app: {len(served)} GET routes; not timed here: {', '.join(untimed)}")
        for label, path, params in requests:
            # An export's first chunk; an XLSX's is its zip head, sent before a row is read,
            # so "first rows" reads on to the first chunk the compressor gives for the rows.
            # Timed when the chunk arrives: leaving the stream early waits for the server to
            # make its next chunk (a thread cannot be cancelled), which is no reader's wait.
            chunks = 2 if label.endswith("first rows") else 1
            arrived_ms: list[float] = []

            def get(
                run: int,
                path: str = path,
                params: Any = params,
                chunks: int = chunks,
                arrived_ms: list[float] = arrived_ms,
            ) -> int:
                started = perf_counter()
                with client.stream(
                    "GET", path, params={"community": community, **params(run)}
                ) as answer:
                    if answer.status_code != 200:
                        said = answer.read()[:200].decode(errors="replace")
                        raise RuntimeError(f"{path} answered {answer.status_code}: {said}")
                    if "export" in path:
                        body = answer.iter_bytes()
                        size = sum(len(next(body)) for _ in range(chunks))
                        arrived_ms.append((perf_counter() - started) * 1000)
                        return size
                    return len(answer.read())

            attempt_http = f"HTTP {label}"
            try:
                timing = timed(attempt_http, args.runs, get)
            except Exception as exc:
                print(f"    {attempt_http}: not timed ({exc})")
                continue
            if arrived_ms:
                timing.ms = arrived_ms[1:]  # the first is the warm-up's
            timing.detail = f"{timing.detail} bytes"
            timings.append(timing)
    return timings
