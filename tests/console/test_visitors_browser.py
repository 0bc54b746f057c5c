"""Visitor and vehicle registration in real headless Chromium: a refused ID number shown at its
field, a pass issued on screen whose QR code, read back from the screenshot, opens the gate
through the simulated scanner, and a vehicle whose occupants are each measured."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from playwright.sync_api import Page, expect

from drivers.qr import decode
from edge.identity import id_check_char
from edge.store.registrations import RegistrationBook
from tests.console.conftest import LiveConsole, serve_live, shot, sign_in
from tests.drivers.waiting import wait_until
from tests.edge.console.visitor_gate import all_day_settings

FIRST17 = "44030519851212003"
ID_NUMBER = FIRST17 + id_check_char(FIRST17)
WRONG_ID = FIRST17 + ("0" if id_check_char(FIRST17) != "0" else "1")


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[LiveConsole]:
    # A wide gap between occupants: the test primes the next reading inside it.
    yield from serve_live(all_day_settings(tmp_path / "state", next_occupant_s=3.0))


def fill_visitor(page: Page, id_number: str) -> None:
    form = page.locator("#visitor-form")
    form.locator("[name=name]").fill("刘德华")
    form.locator("[name=phone]").fill("139 0000 1234")
    form.locator("[name=id_number]").fill(id_number)
    form.locator("[name=host_household]").fill("7-1-1202")
    form.locator("[name=reason]").fill("探亲访友")
    form.locator("[name=hours]").fill("3")
    form.locator("[name=present]").uncheck()  # the visitor will scan the pass like anyone


def fill_vehicle(page: Page, plate: str, people: list[tuple[str, str]], reason: str) -> None:
    """The vehicle form: plate, then each person (name, phone), driver first."""
    form = page.locator("#vehicle-form")
    form.locator("[name=plate]").fill(plate)
    for n, (name, phone) in enumerate(people):
        if n:
            page.locator("#add-occupant").click()
        form.locator(f'[name="occupants.{n}.name"]').fill(name)
        form.locator(f'[name="occupants.{n}.phone"]').fill(phone)
    form.locator("[name=host_household]").fill("2-3-402")
    form.locator("[name=reason]").fill(reason)
    form.locator("[name=hours]").fill("2")


def qr_from_screen(page: Page) -> list[str]:
    """What the gate's own decoder reads off the pass as the browser drew it."""
    png = page.locator("#pass-qr").screenshot()
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)
    return [scan.text for scan in decode(image)]


def test_a_visitor_pass_shown_on_screen_scans_and_opens_the_gate(
    desk: LiveConsole, page: Page
) -> None:
    sign_in(page, desk)
    page.goto(f"{desk.url}/visitors")
    fill_visitor(page, WRONG_ID)
    page.locator("#visitor-form button[type=submit]").click()
    error = page.locator('#visitor-form .field-error[data-for="id_number"]')
    expect(error).to_have_text("身份证号校验位不符，请逐位核对")
    expect(page.locator("#visitor-form [name=id_number]")).to_have_class(re.compile("invalid"))
    assert RegistrationBook(desk.gate.store).count() == 0
    shot(page, "visitor-refused-id")

    page.locator("#visitor-form [name=id_number]").fill(ID_NUMBER)
    page.locator("#visitor-form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/visitors/r-[0-9a-f]+$"))
    expect(page.locator("#pass h1")).to_have_text("访客通行证")
    expect(page.locator("#pass-household")).to_have_text("7-1-1202")
    expect(page.locator("#pass-people")).to_contain_text("139****1234")
    expect(page.locator("#pass-people")).to_contain_text("4403**********" + ID_NUMBER[-4:])
    expect(page.locator("#pass-people")).not_to_contain_text(ID_NUMBER)
    expect(page.locator("#pass-qr")).to_be_visible()
    shot(page, "visitor-pass")

    (registration,) = RegistrationBook(desk.gate.store).recent()
    (token,) = qr_from_screen(page)
    assert token.startswith("KK2:")  # new passes are the compact contract
    assert desk.gate.desk is not None
    assert token == desk.gate.desk.token(registration)

    # The visitor holds the phone to the scanner; the guard watches the live view.
    assert desk.gate.simulation is not None
    page.goto(f"{desk.url}/")
    lane = page.locator("#lane-in-1")
    desk.gate.simulation.temperature("in-1", [36.4], 36.4)
    desk.gate.simulation.present("in-1", token.encode())
    expect(lane.locator(".kind")).to_have_text("访客")
    expect(lane.locator(".question")).to_have_count(2)
    for answer in lane.locator(".question").all():
        answer.locator(".choice", has_text="否").click()
    lane.locator(".send-answers").click()
    expect(lane.locator(".outcome")).to_contain_text("通行")
    shot(page, "visitor-passed")
    entries = desk.gate.store.entries()
    assert [e.draft.pass_id for e in entries] == [registration.pass_id]
    assert entries[0].draft.outcome.value == "passed"
    assert desk.gate.lanes["in-1"] is not None


def test_a_vehicle_is_registered_and_each_occupant_measured(desk: LiveConsole, page: Page) -> None:
    assert desk.gate.simulation is not None
    sign_in(page, desk)
    page.goto(f"{desk.url}/visitors")
    fill_vehicle(page, "粤b d12345", [("黄师傅", "13700001111"), ("小黄", "")], "维修施工")
    form = page.locator("#vehicle-form")
    shot(page, "vehicle-form")
    desk.gate.simulation.temperature("in-1", [36.5], 36.5)  # the driver at the window
    form.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r"/visitors/r-[0-9a-f]+$"))
    expect(page.locator("#pass-plate")).to_have_text("粤BD12345")
    shot(page, "vehicle-pass")

    page.goto(f"{desk.url}/")
    lane = page.locator("#lane-in-1")
    expect(lane.locator(".vehicle")).to_contain_text("粤BD12345")
    expect(lane.locator(".occupants")).to_contain_text("1/2")
    shot(page, "vehicle-measuring")
    desk.gate.simulation.temperature("in-1", [36.7], 36.7)  # the passenger
    expect(lane.locator(".outcome")).to_contain_text("通行")
    (entry,) = desk.gate.store.entries()
    assert entry.extra["plate"] == "粤BD12345"
    assert [t.body_c for t in entry.draft.temperatures] == [36.5, 36.7]


def test_the_guard_adds_an_occupant_from_the_live_view(desk: LiveConsole, page: Page) -> None:
    assert desk.gate.simulation is not None
    sign_in(page, desk)
    page.goto(f"{desk.url}/visitors")
    fill_vehicle(page, "京A12345", [("司机", "13700001111")], "快递外卖")
    page.locator("#vehicle-form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/visitors/r-[0-9a-f]+$"))
    page.goto(f"{desk.url}/")
    lane = page.locator("#lane-in-1")
    expect(lane.locator(".occupants")).to_contain_text("0/1")
    lane.locator(".occupants-more").click()  # a passenger the form missed
    expect(lane.locator(".occupants")).to_contain_text("0/2")
    desk.gate.simulation.temperature("in-1", [36.5], 36.5)
    expect(lane.locator(".occupants")).to_contain_text("1/2")
    desk.gate.simulation.temperature("in-1", [36.6], 36.6)
    assert wait_until(lambda: len(desk.gate.store.entries()) == 1, 10)
    assert desk.gate.store.entries()[0].extra["occupants"] == "2"


def test_registration_on_a_phone_screen(desk: LiveConsole, page: Page) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, desk)
    page.goto(f"{desk.url}/visitors")
    form = page.locator("#visitor-form")
    expect(form).to_be_visible()
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1] + 1, widths  # nothing wider than the phone
    box = form.locator("button[type=submit]").bounding_box()
    assert box is not None
    assert box["height"] >= 48  # a thumb-sized target
    shot(page, "visitors-phone")


def test_sunlight_mode_is_black_on_white_and_remembered(desk: LiveConsole, page: Page) -> None:
    sign_in(page, desk)
    background = "getComputedStyle(document.body).backgroundColor"
    assert page.evaluate(background) != "rgb(255, 255, 255)"
    page.locator("#theme-switch").click()
    assert page.evaluate(background) == "rgb(255, 255, 255)"
    assert page.evaluate("getComputedStyle(document.body).color") == "rgb(0, 0, 0)"
    page.goto(f"{desk.url}/visitors")  # another page, the same device: still sunlight
    assert page.evaluate(background) == "rgb(255, 255, 255)"
    shot(page, "visitors-sunlight")
