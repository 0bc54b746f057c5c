"""In Chromium: an officer signs in, a fever at a gate (the gate's own sync runtime on a real
Mosquitto, the receiver storing) appears on the alerts page within seconds with the person
masked and the readings, and is acknowledged with a note; every page fits a 390 px phone and a
1280 px desk without sideways scrolling."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from edge.bus import AlarmRaised, Bus
from sync.office import audit
from sync.office.accounts import Officer
from sync.office.context import OfficeContext
from sync.receiver.db import ReceiverDb
from sync.receiver.receiver import Receiver
from sync.settings import ServerSettings
from tests.office.conftest import (
    ADMIN_NAME,
    ADMIN_SECRET,
    COMMUNITY,
    OFFICER_NAME,
    OFFICER_SECRET,
    OfficeClock,
    no_horizontal_scroll,
    sign_in_page,
)
from tests.office.feeds import fever_detail
from tests.office.gate_rig import SyncedGate
from tests.office.test_alerts import receiver_settings
from tests.sync.rig import Mosquitto, wait_until


@pytest.fixture
def live_gate(
    tmp_path: Path, office_db: ReceiverDb, office_settings: ServerSettings
) -> Iterator[Bus]:
    """Mosquitto, the receiver on the office's database, and gate north's sync runtime; the
    returned bus is the gate's: an alarm raised on it goes to the office as an alert."""
    broker = Mosquitto(tmp_path / "mosquitto")
    broker.start()
    receiver = Receiver(receiver_settings(office_settings, broker.port), office_db)
    receiver.start()
    try:
        wait_until(lambda: receiver.connected, 10, "the receiver to connect")
        with closing(SyncedGate(tmp_path / "north", broker.port)) as gate:
            yield gate.bus
    finally:
        receiver.stop()
        broker.kill()


@pytest.fixture
def real_time(office_clock: OfficeClock) -> None:
    """The office's clock at the real time: the gate's status and alerts carry real times."""
    office_clock.at = datetime.now(UTC)


def test_a_fever_at_a_gate_appears_within_seconds_and_is_acknowledged(
    real_time: None,
    live_gate: Bus,
    office_url: str,
    office_page: Page,
    officer: Officer,
    office_context: OfficeContext,
) -> None:
    page = office_page
    sign_in_page(page, office_url, OFFICER_NAME, OFFICER_SECRET)
    # the gate's retained status has arrived: north is online
    expect(page.locator('tr[data-gate="hxy/north"]')).to_be_visible()
    expect(page.locator('tr[data-gate="hxy/north"]')).to_contain_text("在线")
    page.click('nav a[href="/alerts"]')
    expect(page.locator("#no-alerts")).to_be_visible()

    raised = time.monotonic()
    live_gate.publish(
        AlarmRaised(
            lane="in-1", kind="fever", detail=fever_detail("王小华", "3-2-501", (38.4, 38.6))
        )
    )
    card = page.locator("li.alert.fever")
    expect(card).to_be_visible(timeout=10_000)
    shown_after_s = time.monotonic() - raised
    assert shown_after_s < 10, f"the fever took {shown_after_s:.1f} s to show"
    expect(card).to_contain_text("发热")
    expect(card).to_contain_text("north · in-1")
    expect(card.locator(".holder")).to_have_text("王**")
    expect(card).to_contain_text("3-2-501")
    expect(card.locator(".temps")).to_contain_text("38.4 °C, 38.6 °C")
    assert "王小华" not in page.content()

    card.locator('input[name="note"]').fill("已隔离复测，已上报街道")
    card.locator('button[type="submit"]').click()
    done = page.locator("li.alert.acked")
    expect(done).to_contain_text(f"{OFFICER_NAME} 于")
    expect(done).to_contain_text("已隔离复测，已上报街道")
    expect(page.locator("li.alert.open")).to_have_count(0)
    (line,) = audit.read(office_context.db, communities=[COMMUNITY], action="alert_acknowledged")
    assert line.officer_name == OFFICER_NAME
    assert "已隔离复测，已上报街道" in line.detail


@pytest.mark.parametrize("width", [390, 1280])
def test_pages_fit_a_phone_and_a_desk(
    width: int,
    real_time: None,
    live_gate: Bus,
    office_url: str,
    office_page: Page,
    officer: Officer,
    admin: Officer,
) -> None:
    page = office_page
    page.set_viewport_size({"width": width, "height": 844 if width == 390 else 900})
    page.goto(f"{office_url}/login")
    no_horizontal_scroll(page)
    live_gate.publish(
        AlarmRaised(lane="in-1", kind="fever", detail=fever_detail("李四", "1-1-101", (38.1,)))
    )
    live_gate.publish(
        AlarmRaised(lane="in-1", kind="device_down", detail="cannot open /dev/ttyUSB0: gone")
    )
    sign_in_page(page, office_url, ADMIN_NAME, ADMIN_SECRET)
    expect(page.locator('tr[data-gate="hxy/north"]')).to_be_visible()
    for path in ("/", "/alerts", "/gaps", "/accounts", "/audit"):
        page.goto(f"{office_url}{path}")
        if path == "/alerts":
            expect(page.locator("li.alert")).to_have_count(2, timeout=10_000)
        no_horizontal_scroll(page)
    page.goto(f"{office_url}/lang/en?next=/alerts")
    expect(page.locator("h1")).to_contain_text("Live alerts")
    no_horizontal_scroll(page)
