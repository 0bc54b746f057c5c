"""The daily report per building in Debian's Chromium: entries of two buildings stored through
the receiver's own path, the roster imported, an officer picks the day and the roll-up and reads
the right counts; the printable notice says 今日无新增 on a day without a fever; the layouts at
1280 and 390 px."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from sync.office.accounts import Officer
from sync.office.context import OfficeContext
from tests.office.conftest import OFFICER_NAME, OFFICER_SECRET, no_horizontal_scroll, sign_in_page
from tests.office.test_reports import a_day_of_two_buildings


def count(page: Page, table: str, group: str, column: str) -> str:
    cell = page.locator(f'{table} tr[data-group="{group}"] [data-count="{column}"]')
    return cell.inner_text().strip()


def test_the_daily_report_per_building_and_the_notice(
    office_context: OfficeContext, officer: Officer, office_url: str, office_page: Page
) -> None:
    a_day_of_two_buildings(office_context.db)
    page = office_page
    sign_in_page(page, office_url, OFFICER_NAME, OFFICER_SECRET, "/reports")
    page.fill('input[name="day"]', "2026-11-23")
    page.select_option('select[name="view"]', "building")
    page.click("#report-form button[type=submit]")
    table = "#report-hxy"
    expect(page.locator(table)).to_be_visible()
    assert count(page, table, "3号楼", "total") == "4"
    assert count(page, table, "3号楼", "fevers") == "1"
    assert count(page, table, "3号楼", "visitors") == "1"
    assert count(page, table, "5号楼", "total") == "2"
    assert count(page, table, "5号楼", "denied") == "1"
    assert count(page, table, "", "total") == "2"  # unregistered: 9-9-999 and no pass
    assert count(page, table, "*", "total") == "8"
    expect(page.locator(f'{table} tr[data-group=""] th')).to_have_text("未登记")
    expect(page.locator("#report-lhy")).to_have_count(0)  # not this officer's community
    page.select_option('select[name="view"]', "grid")
    page.click("#report-form button[type=submit]")
    assert count(page, table, "第一网格", "total") == "4"
    with page.expect_download() as download:
        page.click("#export-xlsx")
    assert download.value.suggested_filename.endswith(".xlsx")

    # The notice of a day with entries and no fever says so; the fever day says otherwise.
    page.goto(f"{office_url}/notice?day=2026-11-24")
    expect(page.locator("#nothing-new")).to_contain_text("今日无新增")
    page.goto(f"{office_url}/notice")
    page.fill('input[name="day"]', "2026-11-23")
    page.click("#notice-form button[type=submit]")
    expect(page.locator("#fevers-line")).to_contain_text("1")
    # The table counts the people a fever kept out, not every reading over the line.
    expect(page.locator("#notice-buildings th").nth(2)).to_have_text("发热未放行")
    expect(page.locator("#nothing-new")).to_have_count(0)
    expect(page.locator("#print")).to_be_visible()
    page.emulate_media(media="print")
    expect(page.locator("header")).to_be_hidden()
    expect(page.locator("#daily-notice")).to_be_visible()
    page.emulate_media(media="screen")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{office_url}/reports?day=2026-11-23&view=building")
    expect(page.locator(table)).to_be_visible()
    no_horizontal_scroll(page)
    page.goto(f"{office_url}/register?household=3-2-501")
    expect(page.locator("#register tr[data-entry]")).to_have_count(4)  # the day, and either side
    no_horizontal_scroll(page)
