"""Managing accounts: disable, enable, remove, PIN reset and change, each audited; the audit
page's filters and paging; the library (GuardBook) and the API the console calls."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from edge.console.app import create_app
from edge.store import Store
from edge.store.guards import (
    MAX_FAILURES,
    AccountRefused,
    AccountState,
    GuardBook,
    Role,
    SignInFailure,
    WeakSecret,
)
from tests.edge.console.conftest import HOST, Console, add_guard, console_context

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


@pytest.fixture
def book(tmp_path: Path) -> GuardBook:
    store = Store.open(tmp_path / "k.db", community="c", gate="g")
    return GuardBook(store)


def _signs_in(book: GuardBook, name: str, secret: str, at: datetime = T0) -> bool:
    return not isinstance(book.sign_in(name, secret, now=at), SignInFailure)


def test_disable_stops_sign_in_and_ends_sessions_enable_restores(book: GuardBook) -> None:
    admin = book.add("所长", Role.ADMIN, "0123456789", now=T0)
    guard = book.add("王五", Role.GUARD, "123456", now=T0)
    signed = book.sign_in("王五", "123456", now=T0)
    assert not isinstance(signed, SignInFailure)
    book.take_duty(guard, now=T0)

    disabled = book.disable(guard.id, by=admin, now=T0)
    assert disabled.state is AccountState.DISABLED
    assert book.session(signed[1], now=T0) is None  # signed out everywhere
    assert book.on_duty() == []
    assert book.sign_in("王五", "123456", now=T0) == SignInFailure("unknown")

    assert book.enable(guard.id, by=admin, now=T0).state is AccountState.ACTIVE
    assert _signs_in(book, "王五", "123456")
    actions = [(r.action, r.guard_id, r.detail) for r in book.audit_log(guard_id=guard.id)]
    assert ("guard_disabled", admin.id, {"guard": guard.id}) in actions
    assert ("guard_enabled", admin.id, {"guard": guard.id}) in actions


def test_removed_account_keeps_its_name_and_audit_but_never_comes_back(book: GuardBook) -> None:
    admin = book.add("所长", Role.ADMIN, "0123456789", now=T0)
    guard = book.add("王五", Role.GUARD, "123456", now=T0)
    book.take_duty(guard, now=T0)
    removed = book.remove(guard.id, by=admin, now=T0 + timedelta(minutes=1))
    assert removed.state is AccountState.REMOVED
    assert not _signs_in(book, "王五", "123456")
    # The ledgers and the audit page name the account from all(): it is still there.
    assert {g.id: g.name for g in book.all()}[guard.id] == "王五"
    assert [g.id for g in book.active()] == [admin.id]
    assert book.audit_log(guard_id=guard.id, action="hand_over")  # the old rows stay
    for change in (book.enable, book.disable, book.remove):
        with pytest.raises(AccountRefused) as refused:
            change(guard.id, by=admin, now=T0)
        assert refused.value.code == "removed"
    with pytest.raises(AccountRefused):
        book.reset_secret(guard.id, "654321", by=admin, now=T0)
    with pytest.raises(ValueError, match="already a guard named"):
        book.add("王五", Role.GUARD, "123456", now=T0)  # the name stays taken
    (record,) = book.audit_log(action="guard_removed")
    assert record.detail == {"guard": guard.id, "name": "王五"}


def test_the_last_active_admin_cannot_be_taken_away(book: GuardBook) -> None:
    admin = book.add("所长", Role.ADMIN, "0123456789", now=T0)
    for change in (book.disable, book.remove):
        with pytest.raises(AccountRefused) as refused:
            change(admin.id, by=None, now=T0)
        assert refused.value.code == "last_admin"
    second = book.add("副所长", Role.ADMIN, "9876543210", now=T0)
    book.disable(admin.id, by=second, now=T0)  # another admin is left
    with pytest.raises(AccountRefused):
        book.remove(second.id, by=None, now=T0)
    with pytest.raises(AccountRefused) as unknown:
        book.disable("g-none", by=None, now=T0)
    assert unknown.value.code == "unknown"


def test_reset_pin_follows_the_rules_ends_sessions_and_lifts_a_lock(book: GuardBook) -> None:
    admin = book.add("所长", Role.ADMIN, "0123456789", now=T0)
    guard = book.add("王五", Role.GUARD, "123456", now=T0)
    signed = book.sign_in("王五", "123456", now=T0)
    assert not isinstance(signed, SignInFailure)
    for _ in range(MAX_FAILURES):
        book.sign_in("王五", "000000", now=T0)
    assert book.sign_in("王五", "123456", now=T0).code == "locked"  # type: ignore[union-attr]
    with pytest.raises(WeakSecret):
        book.reset_secret(guard.id, "12345", by=admin, now=T0)
    with pytest.raises(WeakSecret):  # an admin's needs 10
        book.reset_secret(admin.id, "123456789", by=admin, now=T0)
    book.reset_secret(guard.id, "246802", by=admin, now=T0)
    assert book.session(signed[1], now=T0) is None
    assert not _signs_in(book, "王五", "123456")
    assert _signs_in(book, "王五", "246802")
    (record,) = book.audit_log(action="secret_reset")
    assert (record.guard_id, record.detail) == (admin.id, {"guard": guard.id})


def test_change_own_pin_needs_the_old_one_and_counts_wrong_ones(book: GuardBook) -> None:
    guard = book.add("王五", Role.GUARD, "123456", now=T0)
    here = book.sign_in("王五", "123456", now=T0)
    there = book.sign_in("王五", "123456", now=T0)
    assert not isinstance(here, SignInFailure)
    assert not isinstance(there, SignInFailure)
    with pytest.raises(WeakSecret):
        book.change_own_secret(guard, "123456", "1234", now=T0)
    for _ in range(MAX_FAILURES - 1):
        with pytest.raises(AccountRefused) as wrong:
            book.change_own_secret(guard, "999999", "777777", now=T0)
        assert wrong.value.code == "wrong_secret"
    book.change_own_secret(guard, "123456", "777777", now=T0, keep_token=here[1])
    assert book.session(here[1], now=T0) == guard  # the one asking stays signed in
    assert book.session(there[1], now=T0) is None
    assert _signs_in(book, "王五", "777777")
    # The fifth wrong old PIN locks the account, as five wrong sign-ins do.
    for _ in range(MAX_FAILURES):
        with pytest.raises(AccountRefused):
            book.change_own_secret(guard, "000000", "888888", now=T0)
    assert book.sign_in("王五", "777777", now=T0).code == "locked"  # type: ignore[union-attr]
    (changed,) = book.audit_log(action="secret_changed")
    assert changed.guard_id == guard.id


def test_audit_log_filters_by_guard_action_and_time_and_pages_by_id(book: GuardBook) -> None:
    admin = book.add("所长", Role.ADMIN, "0123456789", now=T0)
    guard = book.add("王五", Role.GUARD, "123456", now=T0)
    for minute in range(7):
        book.audit(T0 + timedelta(minutes=minute), guard.id, "cancel", "in-1", {})
    book.disable(guard.id, by=admin, now=T0 + timedelta(days=1))
    # by the account: what it did and what was done to it (detail.guard)
    assert {r.action for r in book.audit_log(guard_id=guard.id)} == {
        "guard_added",
        "cancel",
        "guard_disabled",
    }
    assert len(book.audit_log(action="cancel")) == 7
    day = book.audit_log(since=T0 + timedelta(minutes=2), until=T0 + timedelta(minutes=5))
    assert [r.at.minute for r in day] == [4, 3, 2]
    first = book.audit_log(action="cancel", limit=3)
    second = book.audit_log(action="cancel", limit=3, before_id=first[-1].id)
    assert [r.id for r in first + second] == sorted((r.id for r in first + second), reverse=True)
    assert len({r.id for r in first + second}) == 6


# ------------------------------------------------------------------------------ through the API


def test_admin_manages_an_account_through_the_api(sim_console: Console) -> None:
    client = sim_console.client  # an admin
    other = add_guard(sim_console.gate, "夜班", Role.GUARD, "222222")
    night = TestClient(create_app(console_context(sim_console.gate)), base_url=HOST)
    assert night.post("/api/v1/auth/sign-in", json={"name": "夜班", "secret": "222222"}).is_success

    assert client.post(f"/api/v1/guards/{other.id}/disable").json()["state"] == "disabled"
    assert night.get("/api/v1/auth/me").status_code == 401
    assert client.post(f"/api/v1/guards/{other.id}/enable").json()["state"] == "active"
    weak = client.post(f"/api/v1/guards/{other.id}/secret", json={"secret": "1"})
    assert weak.status_code == 422
    assert weak.json()["detail"][0]["type"] == "kakou.weak_secret"
    assert client.post(f"/api/v1/guards/{other.id}/secret", json={"secret": "333333"}).is_success
    assert night.post("/api/v1/auth/sign-in", json={"name": "夜班", "secret": "333333"}).is_success
    assert client.delete(f"/api/v1/guards/{other.id}").json()["state"] == "removed"
    assert client.post(f"/api/v1/guards/{other.id}/enable").status_code == 409
    assert client.post("/api/v1/guards/g-nobody/disable").status_code == 404
    states = {g["name"]: g["state"] for g in client.get("/api/v1/guards").json()}
    assert states["夜班"] == "removed"
    actions = [
        r["action"] for r in client.get("/api/v1/audit", params={"guard_id": other.id}).json()
    ]
    assert actions[:4] == ["guard_removed", "signed_in", "secret_reset", "guard_enabled"]


def test_a_guard_changes_their_own_pin(sim_console: Console) -> None:
    add_guard(sim_console.gate, "夜班", Role.GUARD, "222222")
    night = TestClient(create_app(console_context(sim_console.gate)), base_url=HOST)
    night.post("/api/v1/auth/sign-in", json={"name": "夜班", "secret": "222222"})
    wrong = night.post("/api/v1/auth/secret", json={"old": "000000", "new": "444444"})
    assert wrong.status_code == 403
    short = night.post("/api/v1/auth/secret", json={"old": "222222", "new": "44"})
    assert short.status_code == 422
    assert night.post("/api/v1/auth/secret", json={"old": "222222", "new": "444444"}).is_success
    assert night.get("/api/v1/auth/me").is_success  # still signed in here
    assert night.get("/accounts").is_success
    assert night.get("/audit").status_code == 403  # the audit page is an admin's


def test_audit_page_shows_names_and_words_and_pages(sim_console: Console) -> None:
    client = sim_console.client
    other = add_guard(sim_console.gate, "夜班", Role.GUARD, "222222")
    client.delete(f"/api/v1/guards/{other.id}")
    table = _table(client.get("/audit", params={"guard_id": other.id}).text)
    assert "删除账户" in table
    assert "guard_removed" not in table
    assert "夜班" in table
    assert other.id not in table
    client.cookies.set("kakou_lang", "en")
    english = _table(client.get("/audit", params={"action": "guard_removed"}).text)
    assert "Account removed" in english
    assert "删除账户" not in english
    book = GuardBook(sim_console.gate.store)
    for n in range(60):
        book.audit(datetime.now(UTC), None, "cancel", "in-1", {"n": n})
    first = client.get("/audit", params={"action": "cancel"}).text
    assert 'id="older"' in first


def _table(page: str) -> str:
    """The audit table alone (the filters' options carry the codes as their values)."""
    return page[page.index('<table id="audit"') :]
