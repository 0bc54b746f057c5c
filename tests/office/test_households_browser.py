"""The households page in Chromium: an officer imports the roster (GBK CSV as Chinese Excel saves
it), finds a household and sees its residents masked; importing again changes nothing; a sheet
with bad rows is refused line by line and imports nothing; a 50 MB file is refused before it is
sent; the page fits a phone. And over HTTP: another community's import is 403, and the API lists
residents masked."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect

from sync.office.accounts import Officer
from sync.receiver.db import ReceiverDb
from tests.office.conftest import (
    COMMUNITY,
    OFFICER_NAME,
    OFFICER_SECRET,
    no_horizontal_scroll,
    sign_in_page,
)

ZHANG_ID = "11010519491231002X"
ROSTER = f"""房号,楼栋,网格,小区,姓名,手机,身份证号
3-2-501,3号楼,第一网格,东苑,张三,13812345678,{ZHANG_ID}
3-2-501,,,,李四,13912345678,
3-2-502,3号楼,第一网格,东苑,王五,,
"""
BAD_ROSTER = """unit,name,phone
3-2-501,张三,13812345678
3-2-502,"=cmd|' /C calc'!A0",
3-2-503,王五,12345
"""


def residents(db: ReceiverDb) -> int:
    with db.reading() as q:
        return int(q.scalar("SELECT count(*) FROM office_residents"))


def upload(page: Page, path: Path) -> None:
    page.set_input_files("#roster-file", str(path))
    page.click("#roster-upload")


def test_import_find_and_see_a_household_masked(
    office_page: Page, office_url: str, officer: Officer, office_db: ReceiverDb, tmp_path: Path
) -> None:
    sheet = tmp_path / "住户名册.csv"
    sheet.write_bytes(ROSTER.encode("gb18030"))
    sign_in_page(office_page, office_url, OFFICER_NAME, OFFICER_SECRET, "/households")
    upload(office_page, sheet)
    expect(office_page.locator(".notice.good")).to_contain_text("新增 2 户")
    expect(office_page.locator("#household-count")).to_contain_text("2 户，3 位居民")
    assert residents(office_db) == 3

    upload(office_page, sheet)  # the same sheet again: nothing new, nothing doubled
    expect(office_page.locator(".notice.good")).to_contain_text("5 项无变化")
    assert residents(office_db) == 3

    office_page.fill("#household-search", "李四")
    office_page.press("#household-search", "Enter")
    rows = office_page.locator("#households tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("李*")
    office_page.click("#households a")
    expect(office_page.locator("h1")).to_contain_text("3-2-501")
    table = office_page.locator("#residents")
    expect(table).to_contain_text("138****5678")
    expect(table).to_contain_text("1101**********002X")
    content = office_page.content()
    for secret in ("13812345678", ZHANG_ID, "张三", "李四"):
        assert secret not in content, f"{secret} shown unmasked"

    office_page.set_viewport_size({"width": 390, "height": 800})
    office_page.goto(f"{office_url}/households")
    no_horizontal_scroll(office_page)


def test_a_bad_sheet_is_refused_line_by_line_and_nothing_imports(
    office_page: Page, office_url: str, officer: Officer, office_db: ReceiverDb, tmp_path: Path
) -> None:
    sheet = tmp_path / "bad.csv"
    sheet.write_text(BAD_ROSTER, encoding="utf-8")
    sign_in_page(office_page, office_url, OFFICER_NAME, OFFICER_SECRET, "/households")
    upload(office_page, sheet)
    expect(office_page.locator(".notice.bad")).to_contain_text("2 处问题，未导入任何内容")
    problems = office_page.locator("#roster-problems li")
    expect(problems).to_have_count(2)
    expect(problems.nth(0)).to_contain_text("第 3 行")
    expect(problems.nth(0)).to_contain_text("公式")
    expect(problems.nth(1)).to_contain_text("第 4 行")
    expect(problems.nth(1)).to_contain_text("手机号")
    assert residents(office_db) == 0

    big = tmp_path / "big.csv"
    with big.open("wb") as out:
        out.write(b"unit,name\n")
        out.truncate(50 * 1024 * 1024)
    requests: list[str] = []
    office_page.on("request", lambda request: requests.append(request.url))
    upload(office_page, big)
    expect(office_page.locator("#roster-too-big")).to_be_visible()
    expect(office_page.locator("#roster-too-big")).to_contain_text("MB")
    assert not [url for url in requests if url.endswith("/households/import")]
    assert residents(office_db) == 0


def test_another_communitys_roster_is_403_and_the_api_masks(
    officer_client: TestClient, office_db: ReceiverDb
) -> None:
    files = {"roster": ("r.csv", ROSTER.encode(), "text/csv")}
    refused = officer_client.post("/households/import", data={"community": "lhy"}, files=files)
    assert refused.status_code == 403
    assert residents(office_db) == 0
    done = officer_client.post("/households/import", data={"community": COMMUNITY}, files=files)
    assert done.status_code == 200
    listed = officer_client.get("/api/v1/households", params={"q": "501"}).json()
    assert [item["unit"] for item in listed] == ["3-2-501"]
    assert listed[0]["residents"][0] == {
        "name": "张*",
        "phone": "138****5678",
        "id_number": "1101**********002X",
    }
    assert officer_client.get("/api/v1/households", params={"community": "lhy"}).status_code == 403
    too_big = officer_client.post(
        "/households/import",
        data={"community": COMMUNITY},
        files={"roster": ("big.csv", b"x" * (50 * 1024 * 1024), "text/csv")},
    )
    assert too_big.status_code == 413
    assert residents(office_db) == 3
