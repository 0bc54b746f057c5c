"""A real gate behind the console served by uvicorn on a free port, and real headless Chromium.

The browser is Debian's /usr/bin/chromium driven by Playwright; if it is missing the tests fail
(they never skip): the console is only proven by a browser that runs it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from edge.app.boot import Gate, build_gate
from edge.app.settings import Settings
from edge.console.app import create_app
from edge.model import PassKind
from edge.store.guards import Guard, GuardBook, Role
from tests.edge.console.conftest import (  # noqa: F401  fixtures shared with the API tests
    DoorContact,
    add_guard,
    console_context,
    door_lane,
    free_port,
    gate_settings,
    make_token,
    sim_console,
)
from tests.tokens import sim_token

SCREENSHOTS = Path(__file__).parent / "screenshots"
# Assertions poll until they hold; on a loaded 2-core CI machine a page reload under a live
# gate has taken over Playwright's default 5 s, so they may wait up to 15 s (a pass is no slower).
expect.set_options(timeout=15_000)
GUARD_PIN = "135792"
ADMIN_PIN = "8642097531"


@dataclass
class LiveConsole:
    gate: Gate
    url: str
    guard: Guard
    admin: Guard

    def token(self, pass_id: str, kind: PassKind = PassKind.RESIDENT) -> str:
        return sim_token(self.gate.settings, pass_id, kind)

    def present(self, pass_id: str, temperatures_c: list[float], **kind: Any) -> None:
        """A person at the gate: the thermometer is primed, then the pass is scanned."""
        assert self.gate.simulation is not None
        self.gate.simulation.temperature("in-1", temperatures_c, temperatures_c[-1])
        self.gate.simulation.present("in-1", self.token(pass_id, **kind).encode())


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveConsole]:
    yield from serve_live(gate_settings(tmp_path / "state"))


def _guard(gate: Gate, name: str, role: Role, pin: str) -> Guard:
    """The account, made unless the store has it (a gate restarted on the same state)."""
    return GuardBook(gate.store).by_name(name) or add_guard(gate, name, role, pin)


def serve_live(settings: Settings) -> Iterator[LiveConsole]:
    """A gate built from ``settings`` with its console on a free port, a guard and an admin."""
    gate = build_gate(settings)
    guard = _guard(gate, "李卫", Role.GUARD, GUARD_PIN)
    admin = _guard(gate, "admin", Role.ADMIN, ADMIN_PIN)
    port = free_port()
    config = uvicorn.Config(
        create_app(console_context(gate)),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        timeout_graceful_shutdown=1,  # live streams end with the server, not after a long wait
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "console did not start"
        time.sleep(0.02)
    try:
        yield LiveConsole(gate, f"http://127.0.0.1:{port}", guard, admin)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        gate.stop()


@pytest.fixture
def door_live(tmp_path: Path) -> Iterator[LiveConsole]:
    """The live console of a gate whose lane has a door contact (a MockFactory pin), shut."""
    served = serve_live(gate_settings(tmp_path / "state", lanes=[door_lane()]))
    live = next(served)
    DoorContact(live.gate).shut()
    yield live
    served.close()


# Reports every Content-Security-Policy violation in the page as a console error, which the
# `csp` fixture collects across navigations (Chromium also logs its own "Refused to ..." line).
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || "inline"}`
    + ` at ${e.sourceFile || location.pathname}:${e.lineNumber}`);
}, true);
"""


class CspWatch:
    """Content-Security-Policy violations a page reported, as console messages."""

    def __init__(self) -> None:
        self.violations: list[str] = []

    def on_console(self, message: ConsoleMessage) -> None:
        text = message.text
        if "CSP violation" in text or "Content Security Policy" in text:
            self.violations.append(text)


@pytest.fixture
def csp() -> CspWatch:
    return CspWatch()


@pytest.fixture
def page(browser: Browser, csp: CspWatch) -> Iterator[Page]:
    """A fresh browser context and page; the test fails if any page it opened broke the CSP."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    context.set_default_timeout(10_000)
    context.add_init_script(CSP_LISTENER)
    opened = context.new_page()
    opened.on("console", csp.on_console)
    yield opened
    context.close()
    assert csp.violations == [], "the Content-Security-Policy blocked something"


def shot(page: Page, name: str) -> Path:
    """Save a full-page screenshot for review (the folder is git-ignored)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page: Page, live: LiveConsole, name: str = "李卫", pin: str = GUARD_PIN) -> None:
    page.goto(f"{live.url}/login?next=/")
    page.fill("#name", name)
    page.fill("#secret", pin)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live.url}/")
