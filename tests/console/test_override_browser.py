"""A guard lets in the resident whose pass just expired (issue #12, item 5), on a phone and at
the post: the log's overridden entry names the person and the refusal it overrode."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from edge.model import Outcome
from tests.console.conftest import LiveConsole, sign_in
from tests.tokens import sim_token


@pytest.mark.parametrize("width", [1280, 390])
def test_an_override_after_an_expired_pass_lets_that_person_in_as_themselves(
    live: LiveConsole, page: Page, width: int
) -> None:
    page.set_viewport_size({"width": width, "height": 844})
    sign_in(page, live)
    lane = page.locator("#lane-in-1")
    assert live.gate.simulation is not None
    expired = sim_token(live.gate.settings, "R-900", valid_days=(-60, -1))
    live.gate.simulation.present("in-1", expired.encode())
    expect(lane.locator(".outcome")).to_contain_text("拒绝")
    lane.locator("form.override input[name=reason]").fill("本人认识，通行证待续期")
    lane.locator("form.override button").click()
    expect(lane.locator(".outcome")).to_contain_text("人工放行")
    denied, overridden = live.gate.store.entries(limit=10)
    assert (denied.draft.outcome, overridden.draft.outcome) == (Outcome.DENIED, Outcome.OVERRIDDEN)
    assert overridden.draft.pass_id == "R-900"
    assert overridden.extra["overrides"] == denied.id
    # The log shows both, newest first: the override names the holder and what it overrode.
    page.goto(f"{live.url}/log?pass_id=R-900")
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("人工放行")
    expect(rows.first).to_contain_text("王*明")
    expect(rows.first).to_contain_text("通行证已过期")
