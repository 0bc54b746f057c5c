"""/reports over HTTP: the day's counts per gate and per building, grid and compound, the XLSX
and CSV exports read back with their Chinese headings, the API, only the officer's
communities, and a bad day answered on the page."""

from __future__ import annotations

import io

import openpyxl
from fastapi.testclient import TestClient

from sync.office.context import OfficeContext
from tests.office.test_reports import a_day_of_two_buildings


def test_the_xlsx_export_of_the_building_roll_up_reads_back(
    office_context: OfficeContext, officer_client: TestClient
) -> None:
    a_day_of_two_buildings(office_context.db)
    answer = officer_client.get(
        "/reports/export.xlsx", params={"day": "2026-11-23", "view": "building"}
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = openpyxl.load_workbook(io.BytesIO(answer.content)).active
    assert sheet is not None
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == [
        "日期", "社区", "楼栋", "合计", "通行", "人工放行", "拒绝", "发热", "未完成", "访客入内",
        "时钟未同步",
    ]  # fmt: skip
    # The officer of hxy: lhy's entries are not theirs to see.
    assert [row[1:5] for row in rows[1:]] == [
        ["hxy", "3号楼", 4, 3],
        ["hxy", "5号楼", 2, 1],
        ["hxy", "未登记", 2, 1],
        ["hxy", "合计", 8, 5],
    ]
    csv_answer = officer_client.get(
        "/reports/export.csv", params={"day": "2026-11-23", "view": "gate"}
    )
    lines = csv_answer.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("日期,社区,卡口,合计")
    assert lines[1:] == [
        "2026-11-23,hxy,north,4,3,0,0,1,0,1,0",
        "2026-11-23,hxy,south,4,2,0,1,0,1,0,0",
        "2026-11-23,hxy,合计,8,5,0,1,1,1,1,0",
    ]


def test_the_page_and_the_api_count_the_same(
    office_context: OfficeContext, officer_client: TestClient, admin_client: TestClient
) -> None:
    a_day_of_two_buildings(office_context.db)
    page = officer_client.get("/reports", params={"day": "2026-11-23", "view": "grid"})
    assert page.status_code == 200
    assert 'data-group="第一网格"' in page.text
    assert "未登记" in page.text
    api = officer_client.get("/api/v1/reports/daily", params={"day": "2026-11-23", "view": "grid"})
    assert [(row["group"], row["total"]) for row in api.json()["rows"]] == [
        ("第一网格", 4),
        ("第二网格", 2),
        (None, 2),
    ]
    everyone = admin_client.get("/api/v1/reports/daily", params={"day": "2026-11-23"})
    assert {row["community"] for row in everyone.json()["rows"]} == {"hxy", "lhy"}
    assert officer_client.get("/reports", params={"community": "lhy"}).status_code == 403


def test_a_bad_day_is_answered_on_the_page(officer_client: TestClient) -> None:
    page = officer_client.get("/reports", params={"day": "23/11/2026"})
    assert page.status_code == 400
    assert 'id="form-error"' in page.text
    export = officer_client.get("/reports/export.csv", params={"day": "tomorrow"})
    assert export.status_code == 400
    assert "text/html" in export.headers["content-type"]
