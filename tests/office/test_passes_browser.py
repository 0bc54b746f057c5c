"""Passes in Chromium, end to end through a real Mosquitto: an officer issues a household's
passes (asked to confirm), downloads the printable sheet, and a real gate (its store and sync
runtime, subscribed to the downlink) lets the pass in; the officer revokes it (confirmed), the
list goes out as version 1, and the same gate now refuses the pass as revoked. The downlink page
shows which gate applied which version, a gate behind marked stale. Over HTTP: another
community is 403, keys rotation is for admins and refuses to revoke the signer."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect

from edge.model import VerifyReason
from sync.office import roster
from sync.office.accounts import Officer
from sync.receiver.db import GateStatusRow, ReceiverDb
from sync.receiver.receiver import Receiver
from sync.settings import ServerSettings
from tests.office.conftest import (
    COMMUNITY,
    OFFICER_NAME,
    OFFICER_SECRET,
    T0,
    no_horizontal_scroll,
    sign_in_page,
)
from tests.office.gate_rig import OFFICE_KID, SyncedGate, office_settings_for
from tests.sync.rig import Mosquitto, serving, wait_until

ROSTER = "unit,building,name,phone\n3-2-501,3号楼,张三,13812345678\n3-2-501,3号楼,李四,\n"


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    yield from serving(Mosquitto(tmp_path / "mosquitto"))


@pytest.fixture
def office_settings(tmp_path: Path, broker: Mosquitto) -> ServerSettings:
    """The office on this test's broker, signing with keys/hxy1.key."""
    return office_settings_for(
        tmp_path / "receiver.db", broker_port=broker.port, key_dir=tmp_path / "keys"
    )


@pytest.fixture
def household(office_db: ReceiverDb, office_app: object) -> None:
    parsed = roster.parse_roster(ROSTER.encode())
    with office_db.writing() as q:
        roster.import_roster(q, community=COMMUNITY, rows=parsed.rows, now=T0)


def token_of(db: ReceiverDb, pass_id: str) -> str:
    with db.reading() as q:
        return str(q.scalar("SELECT token FROM office_passes WHERE pass_id = ?", [pass_id]))


def test_issue_print_revoke_and_a_gate_refuses_the_pass(
    office_page: Page,
    office_url: str,
    officer: Officer,
    household: None,
    office_db: ReceiverDb,
    office_settings: ServerSettings,
    broker: Mosquitto,
    tmp_path: Path,
) -> None:
    receiver = Receiver(office_settings, office_db)
    receiver.start()
    gate = SyncedGate(tmp_path / "gate", broker.port, key_dir=tmp_path / "keys")
    try:
        sign_in_page(office_page, office_url, OFFICER_NAME, OFFICER_SECRET, "/households")
        office_page.click("#households a")
        office_page.click("#issue-button")
        expect(office_page.locator("#question")).to_contain_text("3-2-501")
        expect(office_page.locator("#question")).to_contain_text("2")
        office_page.click("#confirm-button")
        expect(office_page.locator(".notice.good")).to_contain_text("已签发 2 张")
        rows = office_page.locator("#pass-list tbody tr")
        expect(rows).to_have_count(2)
        expect(office_page.locator("#pass-list")).to_contain_text("张*")
        assert "张三" not in office_page.locator("#pass-list").inner_text()

        with office_page.expect_download() as download_info:
            office_page.click("#sheet-link")
        pdf = Path(download_info.value.path())
        assert pdf.read_bytes().startswith(b"%PDF")

        pass_id = "R-000001"
        token = token_of(office_db, pass_id)
        now = datetime.now(UTC)
        assert gate.verdict(token, now).valid

        office_page.click(f"tr[data-pass='{pass_id}'] button.revoke")
        expect(office_page.locator("#question")).to_contain_text(pass_id)
        office_page.click("#confirm-button")
        expect(office_page.locator(".notice.good").first).to_contain_text("已吊销 1 张")
        expect(office_page.locator(".notice.good").nth(1)).to_contain_text("第 1 版")
        expect(office_page.locator(f"tr[data-pass='{pass_id}'] .state")).to_have_text("已吊销")

        wait_until(lambda: gate.store.revoked_ids() == {pass_id}, 10, "the list at the gate")
        refused = gate.verdict(token, datetime.now(UTC))
        assert refused.reason is VerifyReason.REVOKED
        assert gate.verdict(token_of(office_db, "R-000002"), datetime.now(UTC)).valid

        # A second gate of the release before, that has applied no list: behind, marked.
        stale = {
            "v": 1,
            "type": "status",
            "community": COMMUNITY,
            "gate": "south",
            "state": "online",
            "at": datetime.now(UTC).isoformat(),
        }
        office_db.store(
            [],
            statuses=[
                GateStatusRow(COMMUNITY, "south", None, "online", None, None, json.dumps(stale))
            ],
            now=datetime.now(UTC),
        )

        def north_reports_v1() -> bool:
            office_page.goto(f"{office_url}/downlink")
            cell = office_page.locator("tr[data-gate='north'] td[data-kind='revocations']")
            return cell.inner_text().strip() == "v1"

        wait_until(north_reports_v1, 15, "north's status to name version 1")
        expect(office_page.locator("tr[data-gate='north']")).not_to_have_class("problem")
        expect(office_page.locator("tr[data-gate='south']")).to_have_class("problem")
        expect(office_page.locator("tr[data-gate='south'] td[data-kind='keys']")).to_contain_text(
            "未上报"
        )
        expect(office_page.locator("li[data-kind='revocations']")).to_contain_text("1 个卡口未更新")
        office_page.set_viewport_size({"width": 390, "height": 800})
        office_page.reload()
        no_horizontal_scroll(office_page)
    finally:
        gate.close()
        receiver.stop()


def test_passes_are_scoped_and_keys_are_for_admins(
    officer_client: TestClient, admin_client: TestClient, household: None
) -> None:
    other = officer_client.post(
        "/passes/issue", data={"community": "lhy", "kind": "resident", "days": "30"}
    )
    assert other.status_code == 403
    assert officer_client.get("/passes/lhy/sheet.pdf?ids=R-000001").status_code == 403
    assert officer_client.post("/downlink/keys", data={"community": COMMUNITY}).status_code == 403
    refused = admin_client.post(
        "/downlink/keys", data={"community": COMMUNITY, "revoke": OFFICE_KID, "confirm": "yes"}
    )
    assert refused.status_code == 400
    assert "signs the downlink" in refused.text
    asked = officer_client.post(
        "/passes/issue", data={"community": COMMUNITY, "kind": "resident", "days": "0"}
    )
    assert asked.status_code == 400
    assert "1–3660" in asked.text
    confirm = officer_client.post(
        "/passes/issue", data={"community": COMMUNITY, "kind": "resident", "days": "30"}
    )
    assert confirm.status_code == 200
    assert 'name="confirm" value="yes"' in confirm.text  # asked first, nothing issued yet
    assert officer_client.get("/api/v1/downlink").json()[0]["community"] == COMMUNITY
