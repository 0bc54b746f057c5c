"""The simulation panel in real headless Chromium: made-up passes and a crowd, no hardware."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.console.conftest import LiveConsole, shot, sign_in


def test_sample_passes_from_the_panel_are_judged_like_scanned_ones(
    live: LiveConsole, page: Page
) -> None:
    sign_in(page, live)
    lane = page.locator("#lane-in-1")
    page.locator(".sim-sample[data-case=forged]").click()
    expect(lane.locator(".outcome.denied")).to_contain_text("拒绝")
    expect(lane.locator(".reasons")).to_contain_text("签名无效")
    page.locator("#sim-temp [name=value]").fill("36.4")
    page.locator("#sim-temp button").click()
    page.locator(".sim-sample[data-case=resident]").click()
    expect(lane.locator(".outcome.passed")).to_contain_text("36.4°C")
    (forged, resident) = live.gate.store.entries()
    assert forged.draft.reasons == ("bad_signature",)
    assert resident.draft.outcome.value == "passed"


def test_a_crowd_started_from_the_browser_runs_to_the_end(live: LiveConsole, page: Page) -> None:
    sign_in(page, live)
    page.locator("#sim-crowd [name=count]").fill("6")
    page.locator("#sim-crowd button").click()
    status = page.locator("#sim-crowd-status")
    expect(status).to_have_attribute("data-state", "done", timeout=120_000)
    expect(status).to_contain_text("6/6")
    expect(status).not_to_contain_text("不符")
    shot(page, "sim-crowd-done")
    assert live.gate.store.entry_count() >= 6
