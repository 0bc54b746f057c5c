"""Attacks on the console's sign-in, performed for real: many threads against uvicorn on a free
port, each guess a real HTTP request, the guesses counted from the audit log the gate keeps.

Figures before the fix (issue #10): 400 guesses from 40 threads checked 77 wrong PINs; the right
admin PIN at position 50 of 61 parallel guesses signed in; a stranger re-locked a guard every
5 minutes; the roster of guards on duty was open; 40 parallel sign-ins hashed at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psutil
import pytest

from edge.app.boot import Gate
from edge.console.app import create_app
from edge.store.guards import Guard, GuardBook, Role
from tests.edge.console.conftest import console_context, running_gate, serving

THREADS = 40
GUARD_PIN = "246813"
ADMIN_SECRET = "correct-horse-7"
SIGN_IN = "/api/v1/auth/sign-in"


class Clock:
    """The console's clock, moved by the test (the lock-out and the windows read it)."""

    def __init__(self) -> None:
        self.at = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def gate(tmp_path: Path) -> Iterator[Gate]:
    yield from running_gate(tmp_path / "state")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def url(gate: Gate, clock: Clock) -> Iterator[str]:
    with serving(create_app(replace(console_context(gate), now=clock))) as base:
        yield base


def _account(gate: Gate, name: str, role: Role, secret: str) -> Guard:
    return GuardBook(gate.store).add(name, role, secret, now=datetime.now(UTC))


def client(url: str, source: str = "127.0.0.1") -> httpx.Client:
    """A client whose connections come from ``source`` (any 127.0.0.0/8 address is local)."""
    transport = httpx.HTTPTransport(local_address=source)
    limits = httpx.Limits(max_connections=THREADS)
    return httpx.Client(base_url=url, transport=transport, limits=limits, timeout=120)


def in_parallel(url: str, name: str, secrets: list[str]) -> list[httpx.Response]:
    """``secrets`` tried at ``name`` from ``THREADS`` threads at once, in order of submission."""
    with client(url) as http, ThreadPoolExecutor(THREADS) as pool:
        return list(
            pool.map(lambda s: http.post(SIGN_IN, json={"name": name, "secret": s}), secrets)
        )


def wrong_pins_checked(gate: Gate, guard: Guard) -> int:
    """Wrong secrets the gate actually hashed and compared for ``guard`` (from the audit)."""
    failures = GuardBook(gate.store).audit_log(limit=100_000, action="sign_in_failed")
    return sum(
        1 for r in failures if r.guard_id == guard.id and r.detail.get("code") == "wrong_secret"
    )


def test_parallel_guesses_check_at_most_five_wrong_pins(gate: Gate, url: str) -> None:
    guard = _account(gate, "李卫", Role.GUARD, GUARD_PIN)
    guesses = [f"{n:06d}" for n in range(400)]  # none is 246813
    answers = in_parallel(url, "李卫", guesses)
    checked = wrong_pins_checked(gate, guard)
    print(f"400 guesses from {THREADS} threads: {checked} wrong PINs checked")
    assert checked <= 5
    assert {a.status_code for a in answers} <= {401, 429}
    assert sum(a.status_code == 401 for a in answers) < checked  # the fifth answers 429
    refused = [a for a in answers if a.status_code == 429]
    assert refused
    assert all(int(a.headers["Retry-After"]) > 0 for a in refused)


def test_the_right_admin_secret_at_position_50_never_signs_in(gate: Gate, url: str) -> None:
    admin = _account(gate, "站长", Role.ADMIN, ADMIN_SECRET)
    guesses = [f"wrong-guess-{n:03d}" for n in range(61)]
    guesses[50] = ADMIN_SECRET
    answers = in_parallel(url, "站长", guesses)
    codes = [a.status_code for a in answers]
    print(f"61 parallel guesses, right one at 50: answered {codes[50]}")
    assert 200 not in codes
    assert wrong_pins_checked(gate, admin) <= 5
    # Locked, and this client refused: the right secret still does not get in.
    with client(url) as http:
        again = http.post(SIGN_IN, json={"name": "站长", "secret": ADMIN_SECRET})
    assert again.status_code == 429


def test_a_stranger_cannot_keep_a_guard_locked_out(gate: Gate, url: str, clock: Clock) -> None:
    guard = _account(gate, "李卫", Role.GUARD, GUARD_PIN)
    with client(url, "127.0.0.9") as stranger:
        for n in range(30):
            stranger.post(SIGN_IN, json={"name": "李卫", "secret": f"{n:06d}"})
        clock.at += timedelta(minutes=6)  # the account's lock is over
        later = [
            stranger.post(SIGN_IN, json={"name": "李卫", "secret": f"{n:06d}"}).status_code
            for n in range(30)
        ]
    assert set(later) == {429}, later  # the stranger is still refused, the account untouched
    assert wrong_pins_checked(gate, guard) <= 5
    with client(url, "127.0.0.2") as owner:
        mine = owner.post(SIGN_IN, json={"name": "李卫", "secret": GUARD_PIN})
    assert mine.status_code == 200, mine.text


def test_one_client_spraying_names_is_refused_with_retry_after(gate: Gate, url: str) -> None:
    with client(url, "127.0.0.3") as sprayer:
        codes = [
            sprayer.post(SIGN_IN, json={"name": f"guard{n}", "secret": "000000"}) for n in range(40)
        ]
    statuses = [c.status_code for c in codes]
    print(f"40 names from one client: {statuses.count(401)} checked, {statuses.count(429)} refused")
    assert statuses.count(401) <= 10
    assert int(codes[-1].headers["Retry-After"]) > 0


def test_the_duty_roster_needs_a_session(gate: Gate, url: str) -> None:
    guard = _account(gate, "李卫", Role.GUARD, GUARD_PIN)
    GuardBook(gate.store).take_duty(guard, now=datetime.now(UTC))
    with client(url) as anonymous:
        roster = anonymous.get("/api/v1/duty")
    assert roster.status_code == 401
    assert "李卫" not in roster.text


def _peak_rss_growth(work: Callable[[], object]) -> int:
    """How far this process's resident memory rose above its start while ``work`` ran."""
    process = psutil.Process()
    start = peak = process.memory_info().rss
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, process.memory_info().rss)
            time.sleep(0.002)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        work()
    finally:
        done.set()
        sampler.join()
    return peak - start


def test_forty_parallel_sign_ins_hash_two_at_a_time(gate: Gate, url: str) -> None:
    """Each scrypt takes 16 MiB; 40 clients at once must not take 40 of them."""

    def forty_clients() -> None:
        def one(n: int) -> int:
            with client(url, f"127.0.1.{n + 1}") as http:
                return http.post(SIGN_IN, json={"name": f"x{n}", "secret": "000000"}).status_code

        with ThreadPoolExecutor(THREADS) as pool:
            codes = list(pool.map(one, range(THREADS)))
        assert set(codes) <= {401, 503}, codes

    growth = _peak_rss_growth(forty_clients)
    print(f"40 parallel sign-ins: resident memory grew {growth / 2**20:.0f} MiB at the peak")
    assert growth < 80 * 2**20
