"""The accounts page (admins only): add, disable, enable, reset a password; an admin of some
communities manages only their accounts; every change audited and shown on the audit page."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient

from sync.office import accounts
from sync.office.accounts import Officer, Role
from sync.office.context import OfficeContext
from tests.office.conftest import (
    ADMIN_NAME,
    COMMUNITY,
    OFFICER_NAME,
    OFFICER_SECRET,
    OTHER_COMMUNITY,
    add_officer,
    client_for,
    signed_in,
)

ORIGIN = {"origin": "http://localhost"}


def _add_account(
    client: TestClient, name: str, role: str, communities: str, secret: str
) -> httpx.Response:
    """The accounts page's add form, sent as the browser sends it."""
    form = {"name": name, "role": role, "communities": communities, "secret": secret}
    sent: httpx.Response = client.post("/accounts/add", data=form, headers=ORIGIN)
    return sent


def test_an_officer_is_refused_the_admin_pages(officer_client: TestClient) -> None:
    for path in ("/accounts", "/audit"):
        answer = officer_client.get(path)
        assert answer.status_code == 403
        assert "无权访问" in answer.text
    assert 'href="/accounts"' not in officer_client.get("/").text
    refused = officer_client.post(
        "/accounts/add", data={"name": "x", "role": "admin", "communities": "*"}, headers=ORIGIN
    )
    assert refused.status_code == 403


def test_an_admin_adds_disables_enables_and_resets(
    admin_client: TestClient, office_app: FastAPI, officer: Officer
) -> None:
    page = admin_client.get("/accounts")
    assert page.status_code == 200
    assert f'data-name="{OFFICER_NAME}"' in page.text
    added = _add_account(admin_client, "李四", "officer", "hxy, lhy", "li-si-secret-1")
    assert added.status_code == 303
    assert "已新增 李四" in admin_client.get(added.headers["location"]).text
    with signed_in(office_app, "李四", "li-si-secret-1") as li:
        assert li.get("/api/v1/auth/me").json()["communities"] == ["hxy", "lhy"]
    short = _add_account(admin_client, "王五", "officer", "hxy", "short")
    assert short.status_code == 422
    assert "密码至少10位" in short.text
    assert 'value="王五"' in short.text  # the name typed stays
    taken = _add_account(admin_client, "李四", "officer", "hxy", "another-one-1")
    assert taken.status_code == 409
    bad = _add_account(admin_client, "赵六", "officer", "h x/y", "another-one-1")
    assert bad.status_code == 422
    assert "社区编号格式不对" in bad.text

    with signed_in(office_app, OFFICER_NAME, OFFICER_SECRET) as victim:
        assert (
            admin_client.post(f"/accounts/{officer.id}/disable", headers=ORIGIN).status_code == 303
        )
        assert victim.get("/api/v1/auth/me").status_code == 401  # signed out at once
    assert "已停用" in admin_client.get("/accounts").text
    assert admin_client.post(f"/accounts/{officer.id}/enable", headers=ORIGIN).status_code == 303
    reset = admin_client.post(
        f"/accounts/{officer.id}/reset", data={"secret": "brand-new-secret"}, headers=ORIGIN
    )
    assert reset.status_code == 303
    assert (
        client_for(office_app)
        .post("/api/v1/auth/sign-in", json={"name": OFFICER_NAME, "secret": OFFICER_SECRET})
        .status_code
        == 401
    )
    signed_in(office_app, OFFICER_NAME, "brand-new-secret").close()

    audit_page = admin_client.get("/audit")
    assert audit_page.status_code == 200
    for words in ("新增账户", "停用账户", "启用账户", "重设密码", "登录失败"):
        assert words in audit_page.text, words
    only_resets = admin_client.get("/audit", params={"action": "secret_reset"}).text
    assert "停用账户</td>" not in only_resets
    assert "重设密码</td>" in only_resets
    assert admin_client.get("/audit", params={"before": "x"}).status_code == 400


def test_the_last_admin_stays(admin_client: TestClient, admin: Officer) -> None:
    answer = admin_client.post(f"/accounts/{admin.id}/disable", headers=ORIGIN)
    assert answer.status_code == 409
    assert "至少保留一个启用的管理员" in answer.text


def test_an_admin_of_one_community_manages_only_its_accounts(
    office_context: OfficeContext, office_app: FastAPI, officer: Officer, admin: Officer
) -> None:
    other = add_officer(
        office_context, "外区人员", "other-secret-1", communities=(OTHER_COMMUNITY,)
    )
    add_officer(
        office_context, "社区管理员", "local-admin-01", role=Role.ADMIN, communities=(COMMUNITY,)
    )
    with signed_in(office_app, "社区管理员", "local-admin-01") as local:
        page = local.get("/accounts").text
        assert f'data-name="{OFFICER_NAME}"' in page
        assert 'data-name="外区人员"' not in page
        assert f'data-name="{ADMIN_NAME}"' not in page  # a district admin is beyond it
        assert local.post(f"/accounts/{other.id}/disable", headers=ORIGIN).status_code == 403
        assert (
            local.post(
                f"/accounts/{admin.id}/reset", data={"secret": "x" * 12}, headers=ORIGIN
            ).status_code
            == 403
        )
        wider = _add_account(local, "越权", "officer", "hxy, lhy", "wider-secret1")
        assert wider.status_code == 403
        assert "只能管理您所辖社区的账户" in wider.text
        everything = _add_account(local, "越权", "admin", "*", "wider-secret1")
        assert everything.status_code == 403
        assert accounts.named(office_context.db, "越权") is None
        audit_page = local.get("/audit").text
        assert "外区人员" not in audit_page  # another community's account and sign-ins
