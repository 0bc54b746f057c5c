"""Acknowledging an alarm with a note in real headless Chromium: the banner opens a form with
the kind's quick picks, a fever needs a note, and the note is listed once the banner clears."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from edge.store.alarms import AlarmBook
from tests.console.conftest import DoorContact, LiveConsole, shot, sign_in


def test_a_fever_is_acknowledged_with_a_quick_pick_note(live: LiveConsole, page: Page) -> None:
    sign_in(page, live)
    live.present("R-210", [38.4, 38.6])
    banner = page.locator(".alarm.fever")
    expect(banner).to_be_visible(timeout=15_000)
    form = banner.locator(".ack-form")
    expect(form).to_be_hidden()
    banner.locator(".ack").click()
    expect(form).to_be_visible()
    expect(form.locator(".quick-note")).to_have_text(["已复测", "已上报社区", "已劝返"])
    # A fever needs a note: refused in the page, the banner stays and the alarm stays open.
    form.locator(".ack-send").click()
    expect(form.locator(".ack-error")).to_contain_text("发热警报须写明处置情况")
    expect(banner).to_be_visible()
    (open_alarm,) = AlarmBook(live.gate.store).open_alarms()
    assert open_alarm.kind == "fever"
    # The form survives the stream's refreshes (a new state every second) while it is filled.
    note = form.locator("input[name=note]")
    form.get_by_role("button", name="已复测").click()
    expect(form.locator(".ack-error")).to_be_empty()  # the refusal goes once a note is there
    page.wait_for_timeout(2500)
    expect(note).to_have_value("已复测")
    form.get_by_role("button", name="已上报社区").click()
    expect(note).to_have_value("已复测；已上报社区")
    expect(form.locator(".quick-note.chosen")).to_have_count(2)
    box = form.locator(".quick-note").first.bounding_box()
    assert box is not None
    assert box["height"] >= 48  # a thumb's target
    shot(page, "alarm-ack-note-form")
    form.locator(".ack-send").click()
    expect(page.locator(".alarm")).to_have_count(0)
    handled = page.locator("#handled-alarms")
    expect(handled).to_be_visible()
    expect(handled.locator("li").first).to_contain_text("发热警报")
    expect(handled.locator("li .ack-note").first).to_have_text("已复测；已上报社区")
    expect(handled.locator("li").first).to_contain_text("李卫")
    shot(page, "alarm-ack-note-handled")
    stored = AlarmBook(live.gate.store).get(open_alarm.id)
    assert stored is not None
    assert (stored.acked_by, stored.ack_note) == (live.guard.id, "已复测；已上报社区")
    page.reload()  # listed from the store, not only from what this page did
    expect(page.locator("#handled-alarms .ack-note").first).to_have_text("已复测；已上报社区")


def test_a_door_alarm_on_a_phone_in_english_needs_no_note(
    door_live: LiveConsole, page: Page
) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, door_live)
    page.click("#lang-switch")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("body")).to_have_attribute("data-updated", re.compile(r"\d+"))
    DoorContact(door_live.gate).open()
    banner = page.locator(".alarm.door_forced")
    expect(banner).to_be_visible()
    banner.locator(".ack").click()
    picks = banner.locator(".quick-note")
    expect(picks).to_have_count(2)
    expect(picks.first).to_contain_text("已查看现场")  # the note's words, in the ledger's language
    expect(picks.first.locator("small")).to_have_text("Checked on site")
    expect(banner.locator("label")).to_contain_text("What was done (optional)")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the form scrolls sideways on a phone ({width}px)"
    shot(page, "alarm-ack-note-phone-en")
    banner.locator(".ack-send").click()  # no note: fine for a door
    expect(page.locator(".alarm")).to_have_count(0)
    expect(page.locator("#handled-alarms .ack-note")).to_have_text("(no note)")
    (stored,) = AlarmBook(door_live.gate.store).recent()
    assert (stored.kind, stored.ack_note) == ("door_forced", "")
