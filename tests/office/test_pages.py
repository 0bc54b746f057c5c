"""What every office page shares: the words for everything the office writes in its audit log,
and the page (not JSON) a person gets for a form over ``[office] max_body_bytes``."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from sync.contract import DownlinkKind
from sync.office import audit, messages
from sync.office.accounts import Officer
from sync.office.templating import LANG_COOKIE
from tests.edge.console.conftest import assert_too_large_page
from tests.office.conftest import COMMUNITY

OFFICE = Path(__file__).parents[2] / "sync" / "office"
AUDIT_CALLS = {"record", "audit_line"}


def _codes(node: ast.expr) -> set[str]:
    """The action codes an expression can be: a string, either side of ``a if c else b``, or
    an f-string over a downlink kind (``f"downlink.{kind.value}"``)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return _codes(node.body) | _codes(node.orelse)
    if isinstance(node, ast.JoinedStr):
        pattern = "".join(
            str(part.value) if isinstance(part, ast.Constant) else "{}" for part in node.values
        )
        assert pattern.count("{}") == 1, ast.unparse(node)
        return {pattern.format(kind.value) for kind in DownlinkKind}
    return set()


def written_actions() -> set[str]:
    """Every action code the office's code hands the audit log: ``action=`` of a call to
    ``record`` or ``audit_line``, a code given to ``audit_line`` by position, and what a local
    ``action`` is set to before it is passed on."""
    found: set[str] = set()
    for source in OFFICE.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "attr", getattr(node.func, "id", ""))
                if name not in AUDIT_CALLS:
                    continue
                for keyword in node.keywords:
                    if keyword.arg == "action":
                        found |= _codes(keyword.value)
                if name == "audit_line":
                    for arg in node.args:
                        found |= _codes(arg)
            elif isinstance(node, ast.Assign) and any(
                isinstance(target, ast.Name) and target.id == "action" for target in node.targets
            ):
                found |= _codes(node.value)
    return found


def test_every_action_the_office_audits_has_words_in_both_languages() -> None:
    written = written_actions()
    # The walk sees the ways the code names an action: keyword, f-string, position, a choice.
    assert {"signed_in", "downlink.keys.failed", "register_searched", "officer_enabled"} <= written
    assert sorted(written - set(audit.ACTIONS)) == []
    for code in audit.ACTIONS:
        zh, en = messages.CATALOGUE[f"action.{code}"]
        assert zh not in ("", code), code
        assert en not in ("", code), code


def test_the_audit_page_says_a_register_search_in_words(admin_client: TestClient) -> None:
    searched = admin_client.get("/register", params={"pass_id": "R-1"})
    assert searched.status_code == 200
    page = admin_client.get("/audit")
    assert "查询出入登记" in page.text
    assert "register_searched" not in re.sub(r'value="[^"]*"', "", page.text)
    admin_client.cookies.set(LANG_COOKIE, "en")
    assert "entry register searched" in admin_client.get("/audit").text


def test_a_roster_over_the_body_limit_gets_a_page_in_the_officers_language(
    officer_client: TestClient, officer: Officer
) -> None:
    roster = {"roster": ("big.csv", b"x" * (5 * 1024 * 1024), "text/csv")}
    page = officer_client.post("/households/import", data={"community": COMMUNITY}, files=roster)
    assert_too_large_page(page, "4.0 MiB", back="/households")
    assert officer.name in page.text  # signed in: the page keeps the navigation
    officer_client.cookies.set(LANG_COOKIE, "en")
    english = officer_client.post("/households/import", data={"community": COMMUNITY}, files=roster)
    assert "Too large to send" in english.text
    api = officer_client.post(
        "/api/v1/auth/sign-in",
        content=b"x" * (5 * 1024 * 1024),
        headers={"content-type": "application/json"},
    )
    assert api.status_code == 413
    assert api.json()["detail"].startswith("request body too large")


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/alerts",
        "/gaps",
        "/households",
        "/passes",
        "/reports",
        "/fever",
        "/register",
        "/notice",
        "/downlink",
    ],
)
def test_a_page_naming_another_community_is_refused_before_any_search(
    officer_client: TestClient, path: str
) -> None:
    """Naming a community not the officer's is 403 on every page, with or without a search."""
    assert officer_client.get(path, params={"community": "lhy"}).status_code == 403
