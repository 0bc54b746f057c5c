"""The office console over a real receiver database: SQLite in tmp_path (or the real PostgreSQL
the sync tests start), the app through Starlette's test client, and a live uvicorn server with
Debian's Chromium for the browser tests (never skipped). Fixtures of other suites serve here
as they are: the PostgreSQL server and the process sweep of tests/sync/conftest.py, the live
server of tests/edge/console/conftest.py, and the console's ``page`` as ``office_page``.

Fixtures: ``office_settings``, ``office_db``, ``office_clock``, ``office_context``,
``office_app``, ``office_client`` (nobody signed in), ``officer`` / ``admin`` (accounts:
officer 王芳 of community hxy, district admin 赵主任), ``officer_client`` / ``admin_client``
(signed in), ``office_url`` (a live server), ``office_page`` (a fresh 1280×900 Chromium page
that fails the test on any CSP violation) and ``sign_in_page``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect

from sync.office import accounts
from sync.office.accounts import Officer, Role
from sync.office.app import create_office_app
from sync.office.context import OfficeContext
from sync.receiver.db import ReceiverDb, open_db
from sync.settings import ServerSettings
from tests.console.conftest import csp  # noqa: F401  (a fixture)
from tests.console.conftest import page as office_page  # noqa: F401  (a fixture)
from tests.edge.console.conftest import serving
from tests.sync.conftest import (  # noqa: F401  (fixtures: the session's PostgreSQL, the sweep)
    _no_process_outlives_the_session,
    pg_dsn,
    postgres,
)

COMMUNITY = "hxy"
OTHER_COMMUNITY = "lhy"
OFFICER_NAME = "王芳"
OFFICER_SECRET = "office-secret-1"
ADMIN_NAME = "赵主任"
ADMIN_SECRET = "district-admin-9"
T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
expect.set_options(timeout=15_000)


@dataclass
class OfficeClock:
    """The office's clock, moved by hand; ``now`` is what ``OfficeContext.now`` calls."""

    at: datetime = T0
    live: bool = False
    """True: real time passes from ``at`` on (live servers, browsers, brokers)."""
    _started: float = field(default_factory=time.monotonic)

    def now(self) -> datetime:
        if self.live:
            return self.at + timedelta(seconds=time.monotonic() - self._started)
        return self.at

    def advance(self, seconds: float) -> datetime:
        self.at += timedelta(seconds=seconds)
        return self.now()


def office_server_settings(db_path: Path | None = None, **office: Any) -> ServerSettings:
    return ServerSettings.model_validate(
        {
            "broker": {"port": 1883},
            "database": {"path": str(db_path or "unused.db")},
            "receiver": {"timezone": "Asia/Shanghai"},
            "office": {"enabled": True, **office},
        }
    )


@pytest.fixture
def office_settings(tmp_path: Path) -> ServerSettings:
    return office_server_settings(tmp_path / "receiver.db")


@pytest.fixture(params=["sqlite"])
def office_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ReceiverDb]:
    """The receiver's database, SQLite by default; a test parametrised indirectly with
    ``"postgresql"`` gets a fresh database on the real server instead."""
    if request.param == "postgresql":
        db = open_db(dsn=request.getfixturevalue("pg_dsn"), receiver="receiver-1")
    else:
        db = open_db(path=tmp_path / "receiver.db", receiver="receiver-1")
    yield db
    db.close()


@pytest.fixture
def office_clock() -> OfficeClock:
    return OfficeClock()


@pytest.fixture
def office_context(
    office_db: ReceiverDb, office_settings: ServerSettings, office_clock: OfficeClock
) -> OfficeContext:
    return OfficeContext(db=office_db, settings=office_settings, now=office_clock.now)


@pytest.fixture
def office_app(office_context: OfficeContext) -> FastAPI:
    return create_office_app(office_context)


def client_for(app: FastAPI) -> TestClient:
    # localhost: the host allow-list refuses TestClient's default "testserver".
    return TestClient(app, base_url="http://localhost", follow_redirects=False)


@pytest.fixture
def office_client(office_app: FastAPI) -> Iterator[TestClient]:
    with client_for(office_app) as client:
        yield client


def add_officer(
    context: OfficeContext,
    name: str,
    secret: str,
    *,
    role: Role = Role.OFFICER,
    communities: tuple[str, ...] | None = (COMMUNITY,),
) -> Officer:
    return accounts.add(
        context.db,
        name=name,
        role=role,
        communities=communities,
        secret=secret,
        by=None,
        now=context.now(),
    )


@pytest.fixture
def officer(office_context: OfficeContext, office_app: FastAPI) -> Officer:
    """王芳, an officer of community hxy only (the app is made first: it makes the tables)."""
    return add_officer(office_context, OFFICER_NAME, OFFICER_SECRET)


@pytest.fixture
def admin(office_context: OfficeContext, office_app: FastAPI) -> Officer:
    """赵主任, the district admin: every community."""
    return add_officer(office_context, ADMIN_NAME, ADMIN_SECRET, role=Role.ADMIN, communities=None)


def signed_in(app: FastAPI, name: str, secret: str) -> TestClient:
    client = client_for(app)
    answer = client.post("/api/v1/auth/sign-in", json={"name": name, "secret": secret})
    assert answer.status_code == 200, answer.text
    return client


@pytest.fixture
def officer_client(office_app: FastAPI, officer: Officer) -> Iterator[TestClient]:
    with signed_in(office_app, OFFICER_NAME, OFFICER_SECRET) as client:
        yield client


@pytest.fixture
def admin_client(office_app: FastAPI, admin: Officer) -> Iterator[TestClient]:
    with signed_in(office_app, ADMIN_NAME, ADMIN_SECRET) as client:
        yield client


# ------------------------------------------------------------------------- live and browser


@pytest.fixture
def office_url(office_app: FastAPI, office_clock: OfficeClock) -> Iterator[str]:
    """The office console live on a free port; its clock runs in real time from T0."""
    office_clock.live = True
    with serving(office_app) as url:
        yield url


SignIn = Callable[[Page, str, str, str], None]


def sign_in_page(page: Page, url: str, name: str, secret: str, next_path: str = "/") -> None:
    """Sign in through the form and land on ``next_path``."""
    page.goto(f"{url}/login?next={next_path}")
    page.fill("#name", name)
    page.fill("#secret", secret)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}{next_path}")


def no_horizontal_scroll(page: Page) -> None:
    """The page fits its viewport's width (a phone shows no sideways scroll)."""
    widths = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], f"page is {widths[0]} px wide in a {widths[1]} px viewport"
