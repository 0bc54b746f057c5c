"""Officers sign in to the office console: the form and the API, cookies, lock-out counted by the
database (40 parallel guesses check at most five), limits, headers, the language switch."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from datetime import timedelta

import pytest
from fastapi import FastAPI, HTTPException
from fastapi.testclient import TestClient

from sync.office import accounts, audit
from sync.office.accounts import MAX_FAILURES, Officer, Role, SignInFailure
from sync.office.auth import SESSION_COOKIE
from sync.office.context import OfficeContext
from sync.office.templating import LANG_COOKIE
from tests.office.conftest import (
    COMMUNITY,
    OFFICER_NAME,
    OFFICER_SECRET,
    OTHER_COMMUNITY,
    OfficeClock,
    add_officer,
    client_for,
)


def _set_cookie(answer_headers: list[str], name: str) -> str:
    found = [header for header in answer_headers if header.startswith(f"{name}=")]
    assert found, f"no {name} cookie set"
    return found[0]


def test_the_form_signs_in_with_a_strict_http_only_cookie_and_goes_to_next(
    office_client: TestClient, officer: Officer
) -> None:
    answer = office_client.post(
        "/login",
        data={"name": OFFICER_NAME, "secret": OFFICER_SECRET, "next": "/gaps"},
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/gaps"
    cookie = _set_cookie(answer.headers.get_list("set-cookie"), SESSION_COOKIE)
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Secure" not in cookie  # plain HTTP on loopback: a Secure cookie would never return
    me = office_client.get("/api/v1/auth/me")
    assert me.status_code == 200
    assert me.json() == {
        "id": officer.id,
        "name": OFFICER_NAME,
        "role": "officer",
        "communities": [COMMUNITY],
    }


def test_over_https_the_session_cookie_is_secure(office_app: FastAPI, officer: Officer) -> None:
    with TestClient(office_app, base_url="https://localhost", follow_redirects=False) as client:
        answer = client.post(
            "/api/v1/auth/sign-in", json={"name": OFFICER_NAME, "secret": OFFICER_SECRET}
        )
        assert answer.status_code == 200
        assert "Secure" in _set_cookie(answer.headers.get_list("set-cookie"), SESSION_COOKIE)


def test_a_page_needs_a_session_and_sends_a_stranger_to_sign_in(
    office_client: TestClient, officer_client: TestClient
) -> None:
    assert office_client.get("/api/v1/auth/me").status_code == 401
    answer = office_client.get("/lang/en?next=/gaps")  # a page anyone may use
    assert answer.status_code == 303
    assert officer_client.get("/api/v1/auth/me").status_code == 200


def test_a_wrong_secret_says_so_on_the_page_and_never_names_which_was_wrong(
    office_client: TestClient, officer: Officer
) -> None:
    wrong = office_client.post("/login", data={"name": OFFICER_NAME, "secret": "not-the-one-1"})
    nobody = office_client.post("/login", data={"name": "无此人", "secret": "not-the-one-1"})
    for answer in (wrong, nobody):
        assert answer.status_code == 401
        assert "姓名或密码错误" in answer.text
        assert SESSION_COOKIE not in answer.headers.get("set-cookie", "")
    empty = office_client.post("/login", data={"name": OFFICER_NAME, "secret": ""})
    assert empty.status_code == 422
    assert "请填写姓名和密码" in empty.text


def test_five_wrong_secrets_lock_the_account_even_against_the_right_one(
    office_context: OfficeContext, officer: Officer, office_clock: OfficeClock
) -> None:
    def attempt(secret: str) -> object:
        return accounts.sign_in(
            office_context.db,
            OFFICER_NAME,
            secret,
            now=office_clock.now(),
            session_for=timedelta(hours=1),
        )

    for _ in range(MAX_FAILURES - 1):
        assert attempt("wrong-secret-00") == SignInFailure("wrong_secret")
    last = attempt("wrong-secret-00")
    assert isinstance(last, SignInFailure)
    assert last.code == "wrong_secret"
    locked = attempt(OFFICER_SECRET)
    assert isinstance(locked, SignInFailure)
    assert locked.code == "locked"
    assert locked.locked_until == office_clock.now() + accounts.LOCK_FOR
    office_clock.advance(accounts.LOCK_FOR.total_seconds() + 1)
    signed = attempt(OFFICER_SECRET)
    assert isinstance(signed, tuple)
    assert signed[0].id == officer.id
    # the count starts again after a success: four more wrong ones do not lock
    for _ in range(MAX_FAILURES - 1):
        assert attempt("wrong-secret-00") == SignInFailure("wrong_secret")
    assert isinstance(attempt(OFFICER_SECRET), tuple)


@pytest.mark.parametrize("office_db", ["sqlite", "postgresql"], indirect=True)
def test_forty_parallel_guesses_check_at_most_the_limit(
    office_context: OfficeContext, officer: Officer, office_clock: OfficeClock
) -> None:
    """The gate console once checked every one of 40 parallel guesses: each read the count
    before any wrote it. Here each guess claims its try in the database first."""
    results: list[object] = []
    start = threading.Barrier(40)

    def guess(n: int) -> None:
        start.wait()
        results.append(
            accounts.sign_in(
                office_context.db,
                OFFICER_NAME,
                f"wrong-guess-{n:04d}",
                now=office_clock.now(),
                session_for=timedelta(hours=1),
            )
        )

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    codes = Counter(result.code for result in results if isinstance(result, SignInFailure))
    assert sum(codes.values()) == 40
    assert codes["wrong_secret"] == MAX_FAILURES
    assert codes["locked"] == 40 - MAX_FAILURES
    lines = audit.read(office_context.db, communities=None, action="sign_in_failed", limit=100)
    assert Counter(line.detail for line in lines) == {
        "wrong secret": MAX_FAILURES,
        "locked": 40 - MAX_FAILURES,
    }
    # and the right secret is refused too until the lock runs out
    again = accounts.sign_in(
        office_context.db,
        OFFICER_NAME,
        OFFICER_SECRET,
        now=office_clock.now(),
        session_for=timedelta(hours=1),
    )
    assert isinstance(again, SignInFailure)
    assert again.code == "locked"


def test_the_api_answers_429_with_retry_after_when_locked(
    office_app: FastAPI, officer: Officer
) -> None:
    client = client_for(office_app)
    for _ in range(MAX_FAILURES):
        answer = client.post(
            "/api/v1/auth/sign-in", json={"name": OFFICER_NAME, "secret": "wrong-secret-00"}
        )
        assert answer.status_code == 401
    locked = client.post(
        "/api/v1/auth/sign-in", json={"name": OFFICER_NAME, "secret": OFFICER_SECRET}
    )
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) >= 1
    page = client.post("/login", data={"name": OFFICER_NAME, "secret": OFFICER_SECRET})
    assert page.status_code == 429
    assert "尝试次数过多" in page.text


def test_signing_out_ends_the_session_on_the_server(
    office_app: FastAPI, officer_client: TestClient
) -> None:
    token = officer_client.cookies[SESSION_COOKIE]
    answer = officer_client.post("/logout", headers={"origin": "http://localhost"})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login"
    replay = client_for(office_app)
    replay.headers["authorization"] = f"Bearer {token}"
    assert replay.get("/api/v1/auth/me").status_code == 401  # the old token is dead


def test_a_form_posted_from_another_site_is_refused(
    office_client: TestClient, officer: Officer
) -> None:
    answer = office_client.post(
        "/login",
        data={"name": OFFICER_NAME, "secret": OFFICER_SECRET},
        headers={"origin": "http://evil.example"},
    )
    assert answer.status_code == 403
    assert SESSION_COOKIE not in answer.headers.get("set-cookie", "")


def test_a_disabled_officer_is_signed_out_and_cannot_sign_in(
    office_app: FastAPI, office_context: OfficeContext, officer_client: TestClient, officer: Officer
) -> None:
    accounts.set_active(
        office_context.db, officer.id, active=False, by=None, now=office_context.now()
    )
    assert officer_client.get("/api/v1/auth/me").status_code == 401
    answer = client_for(office_app).post(
        "/api/v1/auth/sign-in", json={"name": OFFICER_NAME, "secret": OFFICER_SECRET}
    )
    assert answer.status_code == 401


def test_sessions_expire(
    office_context: OfficeContext, officer_client: TestClient, office_clock: OfficeClock
) -> None:
    office_clock.advance(office_context.office.session_hours * 3600 + 1)
    assert officer_client.get("/api/v1/auth/me").status_code == 401


def test_secrets_are_neither_logged_nor_stored(
    office_client: TestClient,
    office_context: OfficeContext,
    officer: Officer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    office_client.post("/login", data={"name": OFFICER_NAME, "secret": "typed-by-mistake"})
    office_client.post("/login", data={"name": OFFICER_NAME, "secret": OFFICER_SECRET})
    assert "typed-by-mistake" not in caplog.text
    assert OFFICER_SECRET not in caplog.text
    with office_context.db.reading() as q:
        stored = " ".join(
            str(value)
            for table in ("office_officers", "office_sessions", "office_audit")
            for row in q.all(f"SELECT * FROM {table}")
            for value in row
        )
    assert "typed-by-mistake" not in stored
    assert OFFICER_SECRET not in stored
    assert office_client.cookies[SESSION_COOKIE] not in stored  # only its hash is kept


def test_the_body_limit_host_list_and_security_headers(
    office_client: TestClient, office_app: FastAPI
) -> None:
    big = office_client.post(
        "/api/v1/auth/sign-in",
        content=b"x" * (5 * 1024 * 1024),
        headers={"content-type": "application/json"},
    )
    assert big.status_code == 413
    stranger = TestClient(office_app, base_url="http://evil.example")
    assert stranger.get("/login").status_code == 400
    page = office_client.get("/login")
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"
    assert office_client.get("/static/office.css").status_code == 200


def test_the_language_switch_remembers_english_and_only_goes_to_paths_here(
    office_client: TestClient,
) -> None:
    answer = office_client.get("/lang/en", params={"next": "/login?next=/gaps"})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=/gaps"
    assert _set_cookie(answer.headers.get_list("set-cookie"), LANG_COOKIE).startswith(
        f"{LANG_COOKIE}=en"
    )
    page = office_client.get("/login")
    assert "Office sign-in" in page.text
    assert 'lang="en"' in page.text
    for elsewhere in ("//evil.example/x", "https://evil.example", "/\\evil.example", "/\t/evil"):
        assert office_client.get("/lang/zh", params={"next": elsewhere}).headers["location"] == "/"
    assert "办公室登录" in office_client.get("/login").text
    assert office_client.get("/lang/fr").status_code == 400  # a page, not FastAPI's JSON
    assert "无法打开此页" in office_client.get("/lang/fr").text


def test_an_officer_sees_only_their_communities(
    office_context: OfficeContext, officer: Officer
) -> None:
    assert officer.sees(COMMUNITY)
    assert not officer.sees(OTHER_COMMUNITY)
    assert officer.scope(None) == [COMMUNITY]
    assert officer.scope(COMMUNITY) == [COMMUNITY]
    with pytest.raises(HTTPException) as refused:
        officer.scope(OTHER_COMMUNITY)
    assert refused.value.status_code == 403
    district = add_officer(
        office_context, "区管理员", "district-secret", role=Role.ADMIN, communities=None
    )
    assert district.sees(OTHER_COMMUNITY)
    assert district.covers(officer)
    assert not officer.covers(district)
