"""The accounts and audit pages in Chromium: an admin resets a PIN and removes an account, a
guard changes their own PIN, and the audit page shows it all, at 1280 px and on a 390 px phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from edge.store.guards import AccountState, GuardBook
from tests.console.conftest import ADMIN_PIN, GUARD_PIN, LiveConsole, shot, sign_in
from tests.drivers.waiting import wait_until


def _fits(page: Page) -> None:
    """Nothing is cut off sideways: the page is no wider than the window."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"] if page.viewport_size else False, width


@pytest.mark.parametrize("width", [1280, 390])
def test_admin_resets_a_pin_and_removes_an_account(
    live: LiveConsole, page: Page, width: int
) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, live, "admin", ADMIN_PIN)
    page.click("#who")  # the name in the header leads to the accounts
    page.wait_for_url(f"{live.url}/accounts")
    row = page.locator(f'tr[data-guard="{live.guard.id}"]')
    expect(row.locator(".state")).to_have_text("启用")

    row.locator('button[data-do="reset"]').click()
    expect(page.locator("#reset-label")).to_contain_text("李卫")
    page.fill("#reset-form input[name=secret]", "123")
    page.click("#reset-form button[type=submit]")
    expect(page.locator("#accounts-error")).to_contain_text("至少6位")
    page.fill("#reset-form input[name=secret]", "975310")
    page.click("#reset-form button[type=submit]")
    expect(page.locator("#accounts-error")).to_have_text("已保存")

    page.once("dialog", lambda dialog: dialog.accept())
    row.locator('button[data-do="remove"]').click()
    expect(row.locator(".state")).to_have_text("已删除")
    assert GuardBook(live.gate.store).account(live.guard.id).state is AccountState.REMOVED  # type: ignore[union-attr]
    _fits(page)
    shot(page, f"accounts-{width}")

    row.locator("a", has_text="审计记录").click()
    table = page.locator("#audit")
    expect(table).to_contain_text("删除账户")
    expect(table).to_contain_text("重置密码")
    expect(table).to_contain_text("李卫")  # by name, removed or not
    page.select_option("select[name=action]", "secret_reset")
    page.click(".filters button")
    expect(table.locator("tbody tr")).to_have_count(1)
    _fits(page)
    shot(page, f"audit-{width}")


def test_a_guard_changes_their_own_pin_in_english(live: LiveConsole, page: Page) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live)
    page.goto(f"{live.url}/lang/en?next=/accounts")
    expect(page.locator("#accounts")).to_have_count(0)  # a guard sees only their own PIN
    expect(page.locator("nav a[href='/audit']")).to_have_count(0)
    form = page.locator("#own-secret-form")
    form.locator("input[name=old]").fill(GUARD_PIN)
    form.locator("input[name=new]").fill("864200")
    form.locator("input[name=again]").fill("864201")
    form.locator("button[type=submit]").click()
    expect(page.locator("#own-secret-error")).to_have_text("The new PIN differs the second time")
    form.locator("input[name=old]").fill("000000")
    form.locator("input[name=again]").fill("864200")
    form.locator("button[type=submit]").click()
    expect(page.locator("#own-secret-error")).to_have_text("The current PIN is wrong")
    form.locator("input[name=old]").fill(GUARD_PIN)
    form.locator("button[type=submit]").click()
    expect(page.locator("#own-secret-error")).to_contain_text("Changed")
    _fits(page)
    shot(page, "own-pin-390-en")
    page.click("#sign-out")
    page.wait_for_url("**/login")  # the script goes there once signed out
    sign_in(page, live, "李卫", "864200")


@pytest.mark.parametrize("width", [1280, 390])
def test_header_log_and_chart_fit_the_window(live: LiveConsole, page: Page, width: int) -> None:
    """The header stays slim on a phone, the log's decision and reasons are on screen at a
    desk, the report's hour labels are legible, and the console has an icon."""
    live.present("S-LONG-1", [38.6, 38.7])  # a fever: a long reason in the log
    page.set_viewport_size({"width": width, "height": 800})
    sign_in(page, live)
    header = page.locator("header").bounding_box()
    assert header is not None
    assert header["height"] <= (120 if width == 390 else 90), header
    assert wait_until(lambda: live.gate.store.last_seq() >= 1, timeout_s=30)
    page.goto(f"{live.url}/log")
    expect(page.locator("#entries tbody tr")).not_to_have_count(0)
    _fits(page)
    if width == 1280:  # every column, the decision and its reasons too, inside the window
        for heading in ("结果", "原因", "备注"):
            box = page.locator("#entries th", has_text=heading).bounding_box()
            assert box is not None
            assert box["x"] + box["width"] <= width, heading
    page.goto(f"{live.url}/report")
    label = page.locator(".chart text[text-anchor=middle]").first.bounding_box()
    assert label is not None
    assert label["height"] >= 11, label  # pixels on screen, not SVG units
    _fits(page)
    assert page.request.get(f"{live.url}/favicon.ico").status == 200
    assert page.request.get(f"{live.url}/static/favicon.svg").status == 200
