"""The console in real headless Chromium: sign-in, a visit seen live, fever with its alarm,
an override with a written reason, exports opened, the language switch and a phone screen;
device-down, store-failed and forced-door banners, an alarm outliving a restart, the status
page, and no page breaking the Content-Security-Policy (every test checks that)."""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Browser, Locator, Page, expect

from drivers.base import Health
from drivers.sim.thermometer import SimGyMcu90614
from edge.bus import AlarmRaised
from edge.console.app import CONTENT_SECURITY_POLICY
from edge.model import PassKind
from edge.store.alarms import AlarmBook
from edge.store.guards import GuardBook
from tests.console.conftest import (
    ADMIN_PIN,
    CspWatch,
    DoorContact,
    LiveConsole,
    door_lane,
    gate_settings,
    serve_live,
    shot,
    sign_in,
)


def test_sign_in_is_required_and_a_wrong_pin_is_refused(live: LiveConsole, page: Page) -> None:
    page.goto(f"{live.url}/")
    expect(page).to_have_url(re.compile(r"/login\?next=%2F$"))
    expect(page.locator("h1")).to_have_text("值守人员登录")
    page.fill("#name", "李卫")
    page.fill("#secret", "0000")
    page.click("button[type=submit]")
    expect(page.locator("#sign-in-error")).to_have_text("姓名或密码错误")
    shot(page, "login")
    sign_in(page, live)
    expect(page.locator("#who")).to_contain_text("李卫")
    cookie = next(c for c in page.context.cookies() if c["name"] == "kakou_session")
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"


def test_a_resident_visit_is_seen_live_step_by_step(live: LiveConsole, page: Page) -> None:
    sign_in(page, live)
    lane = page.locator("#lane-in-1")
    expect(lane.locator(".steps li.on")).to_have_attribute("data-step", "stop")
    page.locator("#take-duty").click()
    expect(page.locator("#duty-list")).to_contain_text("李卫")
    assert live.gate.simulation is not None
    # The pass first, no reading yet: the lane waits at measure with the holder shown.
    live.gate.simulation.present("in-1", live.token("R-100").encode())
    expect(lane.locator(".steps li.on")).to_have_attribute("data-step", "measure")
    expect(lane.locator(".steps li.done")).to_have_count(3)  # stop, look, ask behind it
    expect(lane.locator(".holder")).to_have_text("王*明")
    expect(lane.locator(".kind")).to_have_text("居民")
    expect(lane.locator(".household")).to_have_text("3-2-501")
    shot(page, "live-measure")
    live.gate.simulation.temperature("in-1", [36.6], 36.6)
    expect(lane.locator(".outcome")).to_contain_text("通行")
    expect(lane.locator(".outcome")).to_contain_text("36.6°C")
    expect(lane.locator(".steps li.on")).to_have_attribute("data-step", "stop")
    shot(page, "live-passed")


@pytest.mark.parametrize("width", [1280, 390])
def test_a_reading_that_is_no_body_temperature_is_marked_as_such(
    live: LiveConsole, page: Page, width: int
) -> None:
    """A cold morning: the sensor reads 20 °C (the sky), then the person. The first number is
    shown as measured but marked, never as if it were the resident's temperature."""
    page.set_viewport_size({"width": width, "height": 844})
    sign_in(page, live)
    lane = page.locator("#lane-in-1")
    assert live.gate.simulation is not None
    live.gate.simulation.temperature("in-1", [20.0], 36.6)
    live.gate.simulation.present("in-1", live.token("R-101").encode())
    expect(lane.locator(".outcome")).to_contain_text("36.6°C")
    marked = lane.locator(".outcome .temp.implausible")
    expect(marked).to_have_count(1)
    expect(marked).to_contain_text("20.0°C")
    expect(marked.locator("abbr")).to_have_attribute("title", re.compile("不是体温"))
    page.goto(f"{live.url}/log")
    expect(page.locator("table")).to_contain_text("20.0(非体温) 36.6")


def test_a_fever_raises_an_alarm_with_sound_that_a_guard_acknowledges(
    live: LiveConsole, page: Page
) -> None:
    sign_in(page, live)
    lane = page.locator("#lane-in-1")
    live.present("R-200", [38.4, 38.6])
    expect(lane.locator(".temp.hot").first).to_be_visible()
    alarm = page.locator(".alarm.fever")
    expect(alarm).to_be_visible(timeout=15_000)
    expect(alarm).to_contain_text("发热警报")
    expect(lane.locator(".outcome.fever")).to_contain_text("发热")
    expect(lane.locator(".reasons")).to_contain_text("复测仍发热")
    assert page.evaluate("window.kakouBeeps") >= 1  # the WebAudio beep was played
    shot(page, "live-fever-alarm")
    alarm.locator(".ack").click()  # opens the note form: a fever needs a note
    alarm.get_by_role("button", name="已复测").click()
    alarm.locator(".ack-send").click()
    expect(page.locator(".alarm")).to_have_count(0)
    acks = GuardBook(live.gate.store).audit_log(action="alarm_ack")
    assert acks
    assert acks[0].guard_id == live.guard.id
    assert acks[0].detail["kind"] == "fever"


def test_ask_step_answers_are_tapped_and_an_override_needs_a_reason(
    live: LiveConsole, page: Page
) -> None:
    sign_in(page, live)
    lane = page.locator("#lane-in-1")
    assert live.gate.simulation is not None
    live.gate.simulation.present("in-1", live.token("T-300", PassKind.TEMPORARY).encode())
    expect(lane.locator(".steps li.on")).to_have_attribute("data-step", "ask")
    expect(lane.locator(".question")).to_have_count(2)
    expect(lane.locator(".question").first).to_contain_text("14天内是否去过中高风险地区")
    shot(page, "live-ask")
    # An override with no reason is refused in the page (and by the API).
    lane.locator(".override button").click()
    expect(page.locator("#toast")).to_have_text("人工放行必须填写原因")
    lane.locator(".override input[name=reason]").fill("本楼住户，手机没电，已电话核实")
    lane.locator(".override button").click()
    expect(lane.locator(".outcome.overridden")).to_contain_text("人工放行")
    entry = live.gate.store.entries(newest_first=True, limit=1)[0]
    assert entry.draft.guard_id == live.guard.id
    assert entry.draft.guard_note == "本楼住户，手机没电，已电话核实"


def test_exports_download_and_open_with_chinese_headings(live: LiveConsole, page: Page) -> None:
    live.present("R-400", [36.5])
    assert _wait(lambda: live.gate.store.entry_count() >= 1, 10)
    live.present("R-401", [38.5, 38.5])
    assert _wait(lambda: live.gate.store.entry_count() >= 2, 20)
    sign_in(page, live, "admin", ADMIN_PIN)
    page.goto(f"{live.url}/log")
    expect(page.locator("#entries tbody tr")).to_have_count(2)
    shot(page, "log")
    with page.expect_download() as csv_download:
        page.click("#export-entries-csv")
    text = csv_download.value.path().read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["序号", "时间", "通道"]
    assert {row[10] for row in rows[1:]} == {"通行", "发热"}
    with page.expect_download() as xlsx_download:
        page.click("#export-fever-xlsx")
    sheet = load_workbook(
        io.BytesIO(xlsx_download.value.path().read_bytes()), read_only=True
    ).active
    assert sheet is not None
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert values[0][:3] == ["序号", "时间", "姓名"]
    assert [row[4] for row in values[1:]] == ["R-401"]
    page.goto(f"{live.url}/report")
    expect(page.locator("svg.chart rect").first).to_be_visible()
    shot(page, "report")


def test_language_switch_and_a_phone_sized_screen(live: LiveConsole, page: Page) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live)
    expect(page.locator("nav a.on")).to_have_text("实时")
    page.click("#lang-switch")
    expect(page.locator("nav a.on")).to_have_text("Live")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#lane-in-1 .steps li").first).to_contain_text("Stop")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone ({width}px)"
    box = page.locator("#lane-in-1 .cancel").bounding_box()
    assert box is not None
    assert box["height"] >= 44
    shot(page, "phone-en")
    page.click("#lang-switch")
    expect(page.locator("nav a.on")).to_have_text("实时")


def test_the_log_reads_as_cards_on_a_phone(live: LiveConsole, page: Page) -> None:
    """14 columns do not fit 390 px: each entry becomes labelled lines, empty fields left out."""
    simulation = live.gate.simulation
    assert simulation is not None
    simulation.temperature("in-1", [36.6], 36.6)
    simulation.present("in-1", live.token("R-700").encode())
    assert _wait(lambda: live.gate.store.entry_count() == 1, 10)
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live)
    page.goto(f"{live.url}/log?lane=in-1")
    expect(page.locator("#entries thead")).to_be_hidden()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the log scrolls sideways on a phone ({width}px)"
    card = page.locator("#entries tbody tr").first
    pass_cell = card.locator('td[data-label="通行证号"]')
    expect(pass_cell).to_have_text("R-700")
    label = pass_cell.evaluate("td => getComputedStyle(td, '::before').content")
    assert label == '"通行证号"'
    expect(card.locator('td[data-label="备注"]')).to_be_hidden()  # no note: no empty line
    shot(page, "log-phone")
    page.click("#lang-switch")  # back to the same search, in English
    expect(page.locator("h1")).to_have_text("Entry log")
    assert page.url.endswith("/log?lane=in-1")
    expect(card.locator('td[data-label="Pass"]')).to_have_text("R-700")


def test_kiosk_and_status_pages(live: LiveConsole, page: Page) -> None:
    page.goto(f"{live.url}/kiosk")
    expect(page.locator("#kiosk-zh")).to_have_text("请出示通行证")
    expect(page.locator("#kiosk-en")).to_have_text("Please show your pass")
    shot(page, "kiosk-idle")
    live.present("R-500", [36.4])
    expect(page.locator("#kiosk-zh")).to_have_text("体温正常，请通行")
    shot(page, "kiosk-passed")
    page.goto(f"{live.url}/status")
    expect(page.locator("#integrity")).to_have_text("ok")
    shot(page, "status")


@pytest.mark.parametrize("width", [1280, 390])
def test_the_exit_kiosk_says_only_what_the_exit_checked(
    tmp_path: Path, page: Page, width: int
) -> None:
    """No temperature is taken on the way out: the kiosk must not say it was normal."""
    page.set_viewport_size({"width": width, "height": 844})
    exit_lane = {"id": "out-1", "direction": "out"}
    served = serve_live(gate_settings(tmp_path / "state", lanes=[exit_lane]))
    live = next(served)
    try:
        page.goto(f"{live.url}/kiosk?lane=out-1")
        expect(page.locator("#kiosk-zh")).to_have_text("请出示通行证")
        assert live.gate.simulation is not None
        live.gate.simulation.present("out-1", live.token("R-501").encode())
        expect(page.locator("#kiosk-zh")).to_have_text("请通行")
        expect(page.locator("#kiosk-en")).to_have_text("Please pass")
    finally:
        served.close()


def test_no_page_breaks_the_content_security_policy(
    live: LiveConsole, page: Page, csp: CspWatch
) -> None:
    sign_in(page, live, "admin", ADMIN_PIN)
    live.gate.bus.publish(
        AlarmRaised(lane="in-1", kind="fever", detail="王*明")
    )  # the board renders
    for path in ("/", "/log", "/report", "/status", "/kiosk", "/login"):
        response = page.goto(f"{live.url}{path}")
        assert response is not None
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert response.headers["x-frame-options"] == "DENY"
        page.wait_for_load_state("load")
        if path in ("/", "/kiosk"):  # the live stream has rendered into the page
            expect(page.locator("body")).to_have_attribute("data-updated", re.compile(r"\d+"))
        assert csp.violations == [], path
    # The watch does see a violation: markup with an inline style is refused and reported.
    page.evaluate(
        """document.body.insertAdjacentHTML("beforeend",
        '<p id="injected" style="color: rgb(255, 0, 0)">x</p>')"""
    )
    assert _wait(lambda: bool(csp.violations), 5)
    assert "style-src" in csp.violations[0]
    color = page.eval_on_selector("#injected", "e => getComputedStyle(e).color")
    assert color != "rgb(255, 0, 0)"
    csp.violations.clear()


def _thermometer(live: LiveConsole) -> SimGyMcu90614:
    assert live.gate.simulation is not None
    thermometer = live.gate.simulation.lanes["in-1"].thermometer
    assert isinstance(thermometer, SimGyMcu90614)
    return thermometer


def _announced(page: Page, kind: str, *texts: str) -> Locator:
    """The banner of an alarm of ``kind``: shown, saying ``texts``, and heard (a beep)."""
    banner = page.locator(f".alarm.{kind}")
    expect(banner).to_be_visible(timeout=15_000)
    for text in texts:
        expect(banner).to_contain_text(text)
    assert page.evaluate("window.kakouBeeps") >= 1
    return banner


def _acknowledge(page: Page, banner: Locator) -> None:
    """A guard acknowledges the alarm with no note: no banner is left."""
    banner.locator(".ack").click()
    banner.locator(".ack-send").click()
    expect(page.locator(".alarm")).to_have_count(0)


def _device_health(live: LiveConsole, name: str) -> Health:
    return next(s.health for s in live.gate.device_status() if s.name == name)


def test_a_thermometer_that_goes_down_shows_the_device_banner(
    live: LiveConsole, page: Page
) -> None:
    assert _wait(lambda: _device_health(live, "in-1/thermometer") is Health.OK, 10)
    sign_in(page, live)
    expect(page.locator("body")).to_have_attribute("data-updated", re.compile(r"\d+"))
    thermometer = _thermometer(live)
    thermometer.unplug()  # the module's cable is pulled: the serial port goes away
    banner = _announced(page, "device_down", "设备离线", "in-1/thermometer")
    shot(page, "alarm-device-down")
    _acknowledge(page, banner)
    page.wait_for_timeout(2500)  # two refreshes while it is still down: no second banner
    expect(page.locator(".alarm")).to_have_count(0)
    thermometer.replug()
    assert _wait(lambda: _device_health(live, "in-1/thermometer") is Health.OK, 10)


def _fail_writes(live: LiveConsole, failing: bool) -> None:
    """Every write to the gate's SQLite connection fails (SQLITE_READONLY), or works again."""
    with live.gate.store._reading() as conn:
        conn.execute(f"PRAGMA query_only = {'ON' if failing else 'OFF'}")


def test_a_store_that_cannot_write_shows_the_store_failed_banner(
    live: LiveConsole, page: Page
) -> None:
    sign_in(page, live)
    lane = page.locator("#lane-in-1")
    expect(lane.locator(".steps li.on")).to_have_attribute("data-step", "stop")
    _fail_writes(live, True)
    try:
        live.present("R-700", [36.5])
        banner = page.locator(".alarm.store_failed")
        expect(banner).to_be_visible(timeout=15_000)
        expect(banner).to_contain_text("记录保存失败：闸门保持关闭")
        assert not live.gate.lanes["in-1"].snapshot()["relay_energised"]
        shot(page, "alarm-store-failed")
        # The acknowledgement cannot be logged while the store fails: refused, banner stays.
        banner.locator(".ack").click()
        banner.locator(".ack-send").click()
        expect(page.locator("#toast")).to_contain_text("存储故障")
        expect(banner).to_be_visible()
    finally:
        _fail_writes(live, False)
    assert _wait(lambda: live.gate.store.entry_count() == 1, 10)  # stored late, gate stayed shut
    banner.locator(".ack-send").click()  # the form is still open
    expect(page.locator(".alarm")).to_have_count(0)
    (stored,) = AlarmBook(live.gate.store).recent()
    assert (stored.kind, stored.acked_by) == ("store_failed", live.guard.id)


def test_a_forced_door_raises_its_alarm(door_live: LiveConsole, page: Page) -> None:
    sign_in(page, door_live)
    expect(page.locator("body")).to_have_attribute("data-updated", re.compile(r"\d+"))
    DoorContact(door_live.gate).open()  # the contact opens while the lock relay is released
    banner = _announced(page, "door_forced", "门被强行打开", "通道 in-1")
    shot(page, "alarm-door-forced")
    _acknowledge(page, banner)
    (ack,) = GuardBook(door_live.gate.store).audit_log(action="alarm_ack")
    assert ack.detail["kind"] == "door_forced"


def test_an_open_alarm_is_still_shown_after_a_restart(tmp_path: Path, page: Page) -> None:
    settings = gate_settings(tmp_path / "state", lanes=[door_lane()])
    first = serve_live(settings)
    before = next(first)
    try:
        DoorContact(before.gate).shut()
        sign_in(page, before)
        DoorContact(before.gate).open()
        banner = page.locator(".alarm.door_forced")
        expect(banner).to_be_visible()
        alarm_id = banner.get_attribute("data-alarm")
        shot(page, "restart-before")
    finally:
        first.close()  # console, lanes and store stop: the process is gone
    second = serve_live(settings)
    after = next(second)
    try:
        DoorContact(after.gate).shut()
        page.goto(f"{after.url}/")  # the session is in the store too: still signed in
        banner = page.locator(".alarm.door_forced")
        expect(banner).to_be_visible()
        assert banner.get_attribute("data-alarm") == alarm_id
        expect(banner).to_contain_text("门被强行打开")
        shot(page, "restart-after")
        _acknowledge(page, banner)
    finally:
        second.close()


def test_the_status_page_shows_devices_sync_clock_and_storage(
    door_live: LiveConsole, page: Page
) -> None:
    door_live.present("R-800", [36.6])
    assert _wait(lambda: door_live.gate.store.entry_count() == 1, 15)
    lane = door_live.gate.lanes["in-1"]
    # Opening while the pass holds the lock released is the resident walking through: wait.
    assert _wait(lambda: not lane.snapshot()["relay_energised"], 10)
    DoorContact(door_live.gate).open()
    sign_in(page, door_live)
    expect(page.locator(".alarm.door_forced")).to_be_visible()
    page.goto(f"{door_live.url}/status")
    expect(page.locator("#integrity")).to_have_text("ok")
    expect(page.locator("#status-alarms")).to_contain_text("门被强行打开")
    thermometer = page.locator('#devices tr[data-device="in-1/thermometer"]')
    expect(thermometer.locator(".health")).to_have_text("正常")
    expect(thermometer.locator(".reading")).to_contain_text("36.6 °C")
    expect(page.locator('#devices tr[data-device="in-1/door"] .health')).to_have_text("正常")
    expect(page.locator("#sync-state")).to_contain_text("同步未启用")
    expect(page.locator("#sync-backlog")).to_have_text("1")
    expect(page.locator("#entries-stored")).to_have_text("1")
    expect(page.locator("#db-size")).to_have_text(re.compile(r"^\d+\.\d (KiB|MiB)$"))
    expect(page.locator("#disk-free")).to_have_text(re.compile(r"^\d+\.\d [GMK]iB \(\d+\.\d %\)$"))
    expect(page.locator("#clock-synced")).to_have_text(re.compile("^(已同步|未同步)$"))
    shot(page, "status-full")
    page.click("#lang-switch")
    expect(page.locator("#sync-state")).to_contain_text("sync off")
    expect(thermometer.locator(".health")).to_have_text("ok")
    shot(page, "status-en")
    page.click("#lang-switch")


def _wait(check: Callable[[], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("width", [1280, 390])
def test_alarms_and_the_log_speak_the_readers_language_in_gate_time(
    live: LiveConsole, browser: Browser, width: int
) -> None:
    """A phone set to New York time and Chinese: the fever's detail in Chinese words and its time
    as the gate's clock shows it; in English, the log's kind and direction columns too."""
    context = browser.new_context(
        viewport={"width": width, "height": 900}, timezone_id="America/New_York"
    )
    page = context.new_page()
    try:
        sign_in(page, live)
        before = datetime.now(ZoneInfo("Asia/Shanghai"))
        live.gate.bus.publish(
            AlarmRaised(
                lane="in-1", kind="fever", detail="张*, household 1-1-101; readings °C: 38.2, 38.4"
            )
        )
        alarm = page.locator(".alarm").first
        expect(alarm).to_contain_text("38.2")
        text = alarm.inner_text()
        assert "household" not in text
        assert "readings" not in text
        shown = alarm.locator(".alarm-at").inner_text()
        after = datetime.now(ZoneInfo("Asia/Shanghai"))
        # The gate's clock (Asia/Shanghai), not the phone's New York time.
        assert shown[:11] in {before.strftime("%m-%d %H:%M"), after.strftime("%m-%d %H:%M")}
        live.present("R-601", [36.5])
        assert _wait(lambda: live.gate.store.entry_count() >= 1, 20)  # logged, then listed
        page.goto(f"{live.url}/lang/en?next=/log")
        row = page.locator("table tbody tr").first
        expect(row).to_contain_text("Resident")
        expect(row.locator("td").nth(3)).to_have_text("In")
    finally:
        context.close()
