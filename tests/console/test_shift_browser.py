"""A guard's shift in real headless Chromium, at a desk's 1280 px and a phone's 390 px: the log
searched by any of its fields, a crowd's fever alarms on a board that keeps the lane in view and
is handled with one note (the fever ledger then says what was done), and the gate modes set from
the live view with a reason, shown on every page while in force."""

from __future__ import annotations

import csv
import io

import pytest
from playwright.sync_api import Page, expect

from edge.bus import AlarmRaised
from edge.console import ledgers
from edge.model import GateMode
from edge.store.alarms import AlarmBook
from edge.store.guards import GuardBook
from tests.console.conftest import ADMIN_PIN, LiveConsole, shot, sign_in
from tests.drivers.waiting import wait_until

WIDTHS = [1280, 390]


def _at_width(page: Page, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900 if width > 600 else 844})


def _no_sideways_scroll(page: Page, width: int) -> None:
    scrolled = page.evaluate("document.documentElement.scrollWidth")
    assert scrolled <= width, f"the page scrolls sideways ({scrolled}px at {width}px)"


@pytest.mark.parametrize("width", WIDTHS)
def test_the_log_searches_with_fields_left_empty(live: LiveConsole, page: Page, width: int) -> None:
    _at_width(page, width)
    sign_in(page, live)
    live.present("R-401", [36.5])
    assert wait_until(lambda: live.gate.store.entries(limit=1), 10)
    page.goto(f"{live.url}/log")
    expect(page.locator("#entries tbody tr")).to_have_count(1)
    page.fill("input[name=pass_id]", "R-401")  # day and decision left empty
    page.get_by_role("button", name="查询").click()
    expect(page).to_have_url(f"{live.url}/log?day=&outcome=&household=&pass_id=R-401&lane=")
    expect(page.locator("#entries tbody tr")).to_have_count(1)
    page.fill("input[name=pass_id]", "")
    page.fill("input[name=household]", "9-9-909")
    page.get_by_role("button", name="查询").click()
    expect(page.locator("#entries tbody tr")).to_have_count(0)
    page.goto(f"{live.url}/log?day=2024-02-30&outcome=&pass_id=R-401")  # a hand-edited link
    expect(page.locator("#problem-day")).to_have_text("不是有效日期：请选择日期或留空")
    expect(page.locator("input[name=pass_id]")).to_have_value("R-401")  # the search is kept
    _no_sideways_scroll(page, width)
    shot(page, f"shift-log-bad-day-{width}")
    page.goto(f"{live.url}/report?day=")
    expect(page.locator("#totals")).to_contain_text("1")
    page.goto(f"{live.url}/lang/fr")
    expect(page.locator("#bad-request")).to_be_visible()


@pytest.mark.parametrize("width", WIDTHS)
def test_a_crowds_fevers_keep_the_lane_in_view_and_are_handled_together(
    live: LiveConsole, page: Page, width: int
) -> None:
    _at_width(page, width)
    sign_in(page, live)
    live.present("R-402", [38.4, 38.6])  # one real fever, for the ledger
    expect(page.locator(".alarm.fever")).to_have_count(1)
    for number in range(12):
        live.gate.bus.publish(AlarmRaised(lane="in-1", kind="fever", detail=f"第{number + 2}位"))
    board = page.locator("#alarm-board")
    expect(board.locator(".alarm-count")).to_have_text("发热警报 13 条")
    group = board.locator(".alarm-group.fever")
    expect(group.locator(".group-ack")).to_have_text("全部处置（13）")
    expect(group.locator(".alarm").first).to_be_hidden()  # folded: the count says it
    board_box = board.bounding_box()
    lane_box = page.locator("#lane-in-1").bounding_box()
    assert board_box is not None
    assert lane_box is not None
    assert board_box["height"] < 0.7 * page.viewport_size["height"]  # type: ignore[index]
    assert lane_box["y"] < page.viewport_size["height"]  # type: ignore[index]  # lane in view
    group.locator(".group-toggle").click()
    expect(group.locator(".alarm")).to_have_count(13)
    expect(group.locator(".alarm").first).to_be_visible()
    _no_sideways_scroll(page, width)
    shot(page, f"shift-alarm-board-{width}")
    group.locator(".group-ack").click()
    form = group.locator(".group-ack-form")
    form.locator(".ack-send").click()  # a fever needs its note, for all of them too
    expect(form.locator(".ack-error")).to_contain_text("发热警报须写明处置情况")
    form.get_by_role("button", name="已复测").click()
    form.get_by_role("button", name="已劝返").click()
    form.locator(".ack-send").click()
    expect(page.locator(".alarm")).to_have_count(0)
    expect(board).to_be_hidden()
    assert AlarmBook(live.gate.store).open_alarms() == []
    assert len(GuardBook(live.gate.store).audit_log(action="alarm_ack")) == 13
    page.goto(f"{live.url}/log")
    with page.expect_download() as download:
        page.click("#export-fever-csv")
    path = download.value.path()
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    assert rows[0] == list(ledgers.FEVER_HEADINGS)
    (fever,) = rows[1:]
    assert (fever[4], fever[6], fever[7]) == ("R-402", "已复测；已劝返", "李卫")


@pytest.mark.parametrize("width", WIDTHS)
def test_gate_modes_are_set_with_a_reason_and_shown_on_every_page(
    live: LiveConsole, page: Page, width: int
) -> None:
    _at_width(page, width)
    sign_in(page, live, "admin", ADMIN_PIN)
    control = page.locator("#lane-in-1 .gate-mode")
    expect(page.locator("#mode-banner")).to_be_hidden()
    control.locator(".to-lockdown").click()
    form = control.locator(".mode-form")
    expect(form.locator(".mode-warning[data-for=lockdown]")).to_be_visible()
    expect(form.locator(".mode-warning[data-for=emergency]")).to_be_hidden()
    form.locator(".mode-send").click()  # no reason: refused in the page
    expect(form.locator(".mode-error")).to_have_text("请写明原因")
    assert live.gate.lanes["in-1"].snapshot()["mode"] == "normal"
    form.locator("input[name=reason]").fill("区里通知封控")
    form.locator(".mode-send").click()
    banner = page.locator("#mode-banner")
    expect(banner).to_contain_text("通道 in-1：封控")
    expect(banner).to_contain_text("区里通知封控")
    expect(control.locator(".mode-now b")).to_have_text("封控")
    expect(control.locator(".to-lockdown")).to_be_hidden()
    _no_sideways_scroll(page, width)
    shot(page, f"shift-mode-lockdown-{width}")
    page.goto(f"{live.url}/log")
    expect(page.locator("#mode-banner")).to_contain_text("仅工作人员可通行")
    # A guard cannot end a lockdown, but may open the gate in an emergency once it is over.
    page.click("#sign-out")
    page.wait_for_url(f"{live.url}/login")
    sign_in(page, live)
    expect(control.locator(".admin-only")).to_be_visible()
    expect(control.locator(".to-normal")).to_be_hidden()
    live.gate.lanes["in-1"].set_mode(GateMode.NORMAL, live.admin.id, "解封").result(5)  # elsewhere
    expect(page.locator("#mode-banner")).to_be_hidden(timeout=15_000)  # refreshed in place
    expect(control.locator(".to-emergency")).to_be_visible()
    control.locator(".to-emergency").click()
    expect(control.locator(".mode-warning[data-for=emergency]")).to_contain_text("闸门保持常开")
    control.locator("input[name=reason]").fill("消防演练")
    control.locator(".mode-send").click()
    expect(page.locator("#mode-banner")).to_contain_text("紧急放行")
    expect(page.locator("#mode-banner")).to_contain_text("李卫")
    shot(page, f"shift-mode-emergency-{width}")
