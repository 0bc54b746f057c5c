"""/register over HTTP: a search and an export are audited (and show on the audit page) before
any entry is read, an officer sees only their communities, the XLSX export reads back with the
paper form's headings and the holder masked, and a bad form field is answered on the page."""

from __future__ import annotations

import io
from datetime import timedelta

import openpyxl
from fastapi.testclient import TestClient

from sync.office import audit
from sync.office.context import OfficeContext
from tests.office.conftest import OFFICER_NAME
from tests.office.ledger_data import DAY_START, Visits, import_roster, store

AT = DAY_START + timedelta(hours=7)


def stored_visits(context: OfficeContext) -> Visits:
    v = Visits()
    v.visit(AT, pass_id="R-1", household="3-2-501", holder="王小明")
    v.visit(AT + timedelta(minutes=5), pass_id="R-2", household="5-1-101", gate="south")
    v.fever(AT + timedelta(minutes=9), pass_id="R-1", household="3-2-501")
    other = Visits("lhy")
    other.visit(AT, pass_id="R-1", household="3-2-501")
    store(context.db, v.made + other.made)
    import_roster(context.db)
    return v


def searches(context: OfficeContext, action: str) -> list[audit.AuditLine]:
    return [line for line in audit.read(context.db, communities=None) if line.action == action]


def test_a_search_by_pass_is_audited_and_shows_on_the_audit_page(
    office_context: OfficeContext, officer_client: TestClient, admin_client: TestClient
) -> None:
    v = stored_visits(office_context)
    page = officer_client.get("/register", params={"pass_id": "R-1"})
    assert page.status_code == 200
    assert page.text.count('data-entry="') == 2
    assert v.made[2].id in page.text
    assert v.made[0].id in page.text
    assert "王小明" not in page.text
    assert "王*" in page.text
    assert "lhy-north" not in page.text  # the other community's entry with the same pass
    (line,) = searches(office_context, "register_searched")
    assert (line.officer_name, line.community, line.detail) == (OFFICER_NAME, "hxy", "pass=R-1")
    audit_page = admin_client.get("/audit")
    assert "register_searched" in audit_page.text
    assert "pass=R-1" in audit_page.text
    # A search by a resident's name is a search of a person's movements too.
    by_name = officer_client.get("/register", params={"name": "张三"})
    assert by_name.text.count('data-entry="') == 1
    assert searches(office_context, "register_searched")[0].detail == "name=张三"


def test_the_empty_form_reads_nothing_and_audits_nothing(
    office_context: OfficeContext, officer_client: TestClient
) -> None:
    stored_visits(office_context)
    page = officer_client.get("/register")
    assert page.status_code == 200
    assert 'data-entry="' not in page.text
    assert searches(office_context, "register_searched") == []


def test_a_bad_field_is_answered_on_the_page(
    office_context: OfficeContext, officer_client: TestClient
) -> None:
    page = officer_client.get("/register", params={"gate": "north"})
    assert page.status_code == 400
    assert 'id="form-error"' in page.text
    assert "请至少填写" in page.text
    page = officer_client.get("/register", params={"since": "not a time"})
    assert page.status_code == 400
    assert 'data-field="since"' in page.text
    page = officer_client.get("/register", params={"pass_id": "R" * 65})
    assert page.status_code == 400
    assert "过长" in page.text
    assert searches(office_context, "register_searched") == []


def test_another_communitys_register_is_refused(
    office_context: OfficeContext, officer_client: TestClient
) -> None:
    stored_visits(office_context)
    page = officer_client.get("/register", params={"pass_id": "R-1", "community": "lhy"})
    assert page.status_code == 403
    answer = officer_client.get("/api/v1/register", params={"pass_id": "R-1", "community": "lhy"})
    assert answer.status_code == 403
    assert searches(office_context, "register_searched") == []


def test_the_xlsx_export_reads_back_with_the_forms_headings(
    office_context: OfficeContext, officer_client: TestClient
) -> None:
    stored_visits(office_context)
    answer = officer_client.get("/register/export.xlsx", params={"household": "3-2-501"})
    assert answer.status_code == 200
    assert "attachment" in answer.headers["content-disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(answer.content)).active
    assert sheet is not None
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0][:6] == ["社区", "卡口", "序号", "时间", "通道", "方向"]
    assert [row[:2] for row in rows[1:]] == [["hxy", "north"], ["hxy", "north"]]
    assert rows[1][3] == "2026-11-23 07:09:00"  # office time, newest first
    assert rows[1][12] == "发热"
    assert rows[2][8] == "王*"
    (line,) = searches(office_context, "register_exported")
    assert line.detail == "household=3-2-501"
    csv_answer = officer_client.get("/register/export.csv", params={"household": "3-2-501"})
    text = csv_answer.content.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("社区,卡口,序号,时间")
    assert len(text.splitlines()) == 3


def test_the_api_pages_with_the_token_it_gives(
    office_context: OfficeContext, officer_client: TestClient
) -> None:
    stored_visits(office_context)
    since = {"since": "2026-11-23T00:00", "until": "2026-11-24T00:00"}
    seen: list[str] = []
    after = ""
    for _ in range(5):
        answer = officer_client.get("/api/v1/register", params={**since, "after": after})
        assert answer.status_code == 200
        body = answer.json()
        seen += [row["id"] for row in body["rows"]]
        if body["next"] is None:
            break
        after = body["next"]
    assert len(seen) == len(set(seen)) == 3
    assert officer_client.get("/api/v1/register", params={"gate": "x"}).status_code == 422
