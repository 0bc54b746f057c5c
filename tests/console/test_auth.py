"""Sign-in, roles, sessions, lock-out, hand-over and the audit log, through the real app."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.app.cli import main
from edge.console.app import create_app
from edge.store import Store
from edge.store.guards import (
    LOCK_FOR,
    MAX_FAILURES,
    SESSION_FOR,
    GuardBook,
    Role,
    SignInFailure,
    hash_secret,
    verify_secret,
)
from tests.drivers.waiting import wait_until
from tests.edge.console.conftest import (
    GUARD_PIN,
    HOST,
    WAIT_S,
    Console,
    TokenMaker,
    add_guard,
    console_context,
)

MUTATING = {"POST", "PUT", "PATCH", "DELETE"}
OPEN_ROUTES = {"/api/v1/auth/sign-in", "/api/v1/auth/sign-out"}
ADMIN_ROUTES = {
    ("POST", "/api/v1/guards"),
    ("GET", "/api/v1/guards"),
    ("GET", "/api/v1/audit"),
    ("POST", "/api/v1/guards/g-1/disable"),
    ("POST", "/api/v1/guards/g-1/enable"),
    ("POST", "/api/v1/guards/g-1/secret"),
    ("DELETE", "/api/v1/guards/g-1"),
}
EXAMPLE_PATH = {
    "lane_id": "in-1",
    "alarm_id": "a1",
    "crowd_id": "x",
    "ledger": "entries",
    "registration_id": "r-1",
    "guard_id": "g-1",
}


def _routes(console: Console) -> list[tuple[str, str]]:
    """Every operation the OpenAPI document lists (pages are not in it and change nothing)."""
    paths = console.client.get("/openapi.json").json()["paths"]
    return sorted((method.upper(), path) for path, ops in paths.items() for method in ops)


def _url(path: str) -> str:
    return path.format(**EXAMPLE_PATH, fmt="csv").replace("{fmt}", "csv")


@pytest.fixture
def anonymous(sim_console: Console) -> TestClient:
    """A second client of the same gate, signed in as nobody."""
    client = TestClient(create_app(console_context(sim_console.gate)), base_url=HOST)
    client.__enter__()
    yield client  # type: ignore[misc]
    client.__exit__(None, None, None)


def test_every_mutating_endpoint_answers_401_without_a_session(
    sim_console: Console, anonymous: TestClient
) -> None:
    checked = []
    for method, path in _routes(sim_console):
        if method not in MUTATING or path in OPEN_ROUTES or path.startswith("/api/v1/sim/"):
            continue
        response = anonymous.request(method, _url(path), json={})
        assert response.status_code == 401, (method, path, response.text)
        checked.append(path)
    assert len(checked) >= 8  # lanes ×5, duty, guards, alarm ack


def test_reading_personal_data_needs_a_session(anonymous: TestClient) -> None:
    for path in (
        "/api/v1/entries",
        "/api/v1/exports/entries.csv",
        "/api/v1/report/daily",
        "/api/v1/registrations",
        "/api/v1/registrations/r-1",
        "/api/v1/registrations/r-1/qr.svg",
    ):
        assert anonymous.get(path).status_code == 401, path
    assert anonymous.get("/api/v1/health").status_code == 200  # the status page stays open
    assert anonymous.get("/", follow_redirects=False).status_code == 303


def test_admin_endpoints_answer_403_to_a_guard(sim_console: Console, anonymous: TestClient) -> None:
    add_guard(sim_console.gate, "张三", Role.GUARD, "555555")
    assert (
        anonymous.post(
            "/api/v1/auth/sign-in", json={"name": "张三", "secret": "555555"}
        ).status_code
        == 200
    )
    for method, path in ADMIN_ROUTES:
        body = {"name": "x", "secret": "123456"} if method == "POST" else None
        assert anonymous.request(method, path, json=body).status_code == 403, path
    # …and an admin may use them: the new account signs in.
    created = sim_console.client.post(
        "/api/v1/guards", json={"name": "赵六", "role": "guard", "secret": "991100"}
    )
    assert created.status_code == 201, created.text
    assert (
        sim_console.client.post(
            "/api/v1/guards", json={"name": "赵六", "role": "guard", "secret": "991100"}
        ).status_code
        == 409
    )


def test_sign_in_cookie_is_httponly_strict_and_sign_out_ends_it(anonymous: TestClient) -> None:
    from tests.edge.console.conftest import GUARD_NAME

    response = anonymous.post(
        "/api/v1/auth/sign-in", json={"name": GUARD_NAME, "secret": GUARD_PIN}
    )
    assert response.status_code == 200
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    assert "max-age=43200" in cookie
    token = anonymous.cookies["kakou_session"]
    assert anonymous.get("/api/v1/auth/me").json()["guard"]["name"] == GUARD_NAME
    anonymous.post("/api/v1/auth/sign-out")
    assert anonymous.get("/api/v1/auth/me").status_code == 401
    # The old token is dead on the server too, not only forgotten by this browser.
    bearer = {"Authorization": f"Bearer {token}"}
    assert anonymous.get("/api/v1/auth/me", headers=bearer).status_code == 401


def test_lock_out_after_repeated_failures(tmp_path: Path) -> None:
    with Store.open(tmp_path / "k.db", community="c", gate="g") as store:
        book = GuardBook(store)
        book.add("王五", Role.GUARD, "123456", now=datetime.now(UTC))
        now = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
        for _ in range(MAX_FAILURES - 1):
            assert book.sign_in("王五", "000000", now=now) == SignInFailure("wrong_secret")
        locked = book.sign_in("王五", "000000", now=now)
        assert isinstance(locked, SignInFailure)
        assert locked.code == "locked"
        # Locked: even the right PIN is refused until the lock ends.
        assert isinstance(book.sign_in("王五", "123456", now=now + LOCK_FOR / 2), SignInFailure)
        signed = book.sign_in("王五", "123456", now=now + LOCK_FOR)
        assert not isinstance(signed, SignInFailure)
        guard, token = signed
        assert book.session(token, now=now + LOCK_FOR + SESSION_FOR / 2) == guard
        assert book.session(token, now=now + LOCK_FOR + SESSION_FOR) is None  # expired
        actions = [r.action for r in book.audit_log(limit=20)]
        assert actions.count("sign_in_failed") == MAX_FAILURES + 1
        assert actions[0] == "signed_in"


def test_hand_over_shows_who_is_on_duty_and_is_logged(sim_console: Console) -> None:
    other = add_guard(sim_console.gate, "夜班", Role.GUARD, "222222")
    client = sim_console.client
    first = client.post("/api/v1/duty/take", json={"note": "早班"}).json()
    assert [d["guard"]["name"] for d in first["on_duty"]] == ["值班员七号"]
    night = TestClient(client.app, base_url=HOST)
    night.post("/api/v1/auth/sign-in", json={"name": "夜班", "secret": "222222"})
    handed = night.post("/api/v1/duty/take", json={"note": "门口有一辆待登记车辆"}).json()
    assert [d["guard"]["id"] for d in handed["on_duty"]] == [other.id]
    assert [g["name"] for g in handed["relieved"]] == ["值班员七号"]
    assert client.get("/api/v1/duty").json()[0]["guard"]["name"] == "夜班"
    log = client.get("/api/v1/audit", params={"action": "hand_over"}).json()
    assert log[0]["guard_id"] == other.id
    assert log[0]["detail"]["note"] == "门口有一辆待登记车辆"


def test_every_lane_action_is_audited_with_the_session_guard(sim_console: Console) -> None:
    client = sim_console.client
    response = client.post(
        "/api/v1/lanes/in-1/mode",
        json={"guard_id": "someone-else", "mode": "lockdown", "reason": "区里通知封控"},
    )
    assert response.json()["accepted"] is True
    (record,) = client.get("/api/v1/audit", params={"action": "mode"}).json()
    assert sim_console.guard is not None
    assert record["guard_id"] == sim_console.guard.id  # the body's guard_id is ignored
    assert record["detail"] == {"mode": "lockdown", "reason": "区里通知封控"}


def test_cli_guard_add_creates_an_account_that_signs_in(tmp_path: Path) -> None:
    db = tmp_path / "kakou.db"
    Store.open(db, community="c", gate="g").close()
    runner = CliRunner()
    result = runner.invoke(
        main,
        ["guard", "add", "--name", "刘值班", "--role", "admin", "--pin-stdin", "--db", str(db)],
        input="2468013579\n",
    )
    assert result.exit_code == 0, result.output
    assert "added admin 刘值班" in result.output
    listed = runner.invoke(main, ["guard", "list", "--db", str(db)])
    assert "admin\t刘值班" in listed.output
    short = runner.invoke(
        main, ["guard", "add", "--name", "x", "--pin-stdin", "--db", str(db)], input="12\n"
    )
    assert short.exit_code != 0
    assert "at least 6 characters" in short.output
    admin_pin = runner.invoke(
        main,
        ["guard", "add", "--name", "y", "--role", "admin", "--pin-stdin", "--db", str(db)],
        input="123456789\n",
    )
    assert admin_pin.exit_code != 0
    assert "at least 10 characters" in admin_pin.output
    with Store.open_existing(db) as store:
        assert not isinstance(
            GuardBook(store).sign_in("刘值班", "2468013579", now=datetime.now(UTC)), SignInFailure
        )


def test_the_api_refuses_short_secrets_by_role(sim_console: Console) -> None:
    for role, secret in (("guard", "12345"), ("admin", "123456789")):
        refused = sim_console.client.post(
            "/api/v1/guards", json={"name": f"新{role}", "role": role, "secret": secret}
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["detail"][0]["type"] == "kakou.weak_secret"
    for role, secret in (("guard", "123456"), ("admin", "1234567890")):
        made = sim_console.client.post(
            "/api/v1/guards", json={"name": f"新{role}", "role": role, "secret": secret}
        )
        assert made.status_code == 201, made.text


@settings(max_examples=10, deadline=None)
@given(secret=st.text(min_size=1, max_size=40), other=st.text(min_size=1, max_size=40))
def test_secret_hashes_are_salted_and_verify_only_their_secret(secret: str, other: str) -> None:
    first, second = hash_secret(secret), hash_secret(secret)
    assert first != second  # per-account salt: equal PINs do not look equal in the file
    assert verify_secret(secret, first)
    assert verify_secret(secret, second)
    assert verify_secret(other, first) is (other == secret)
    assert not verify_secret(secret, "scrypt$bad")


def test_session_expiry_boundary() -> None:
    assert timedelta(hours=8) < SESSION_FOR <= timedelta(hours=24)


def test_the_open_live_state_carries_no_personal_data(
    sim_console: Console, anonymous: TestClient, make_token: TokenMaker
) -> None:
    sim_console.visit(make_token("R-9"), 36.5, entries=1)
    assert wait_until(
        lambda: sim_console.client.get("/api/v1/live/state").json()["lanes"][0]["last_entry"],
        WAIT_S,
    )
    guard_view = sim_console.client.get("/api/v1/live/state").json()["lanes"][0]["last_entry"]
    assert (guard_view["holder"], guard_view["household"]) == ("张*", "3-2-501")
    kiosk_view = anonymous.get("/api/v1/live/state").json()
    last = kiosk_view["lanes"][0]["last_entry"]
    assert last["outcome"] == "passed"
    assert not {"holder", "household", "pass", "guard"} & set(last)
    assert kiosk_view["alarms"] == []
    assert kiosk_view["on_duty"] == []
