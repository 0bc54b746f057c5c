"""A guard registering a visitor out of hours is told before the pass is shown (issue #12,
item 6): at 21:22 a 12-hour pass no longer learns only at the lane that it is refused."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Dialog, Page

from edge.app.settings import Settings
from edge.model import PassKind
from tests.console.conftest import LiveConsole, serve_live, sign_in
from tests.console.test_visitors_browser import ID_NUMBER, fill_visitor
from tests.edge.console.conftest import gate_settings


@pytest.fixture
def late_desk(tmp_path: Path) -> Iterator[LiveConsole]:
    """Visitors admitted only in a window that starts two hours from now, gate time."""
    now = datetime.now(ZoneInfo("Asia/Shanghai"))
    opens, closes = now + timedelta(hours=2), now + timedelta(hours=3)
    data = gate_settings(tmp_path / "state").model_dump(mode="json")
    data["policy"]["kinds"]["visitor"]["hours"] = [f"{opens:%H:%M}-{closes:%H:%M}"]
    yield from serve_live(Settings.model_validate(data))


@pytest.mark.parametrize("width", [1280, 390])
def test_the_visitor_form_warns_when_the_pass_is_outside_its_hours(
    late_desk: LiveConsole, page: Page, width: int
) -> None:
    page.set_viewport_size({"width": width, "height": 844})
    said: list[str] = []

    def answer(dialog: Dialog) -> None:
        said.append(dialog.message)
        dialog.accept()

    page.on("dialog", answer)
    sign_in(page, late_desk)
    page.goto(f"{late_desk.url}/visitors")
    fill_visitor(page, ID_NUMBER)
    page.locator("#visitor-form button[type=submit]").click()
    page.wait_for_url("**/visitors/**")
    (window,) = late_desk.gate.settings.policy.rule_for(PassKind.VISITOR).hours
    (warning,) = said
    assert warning.startswith("注意：现在不在此类通行证的通行时段内")
    assert window.split("-")[0] in warning  # when it first works, in gate time
