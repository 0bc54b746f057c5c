"""A real gate behind the console served by uvicorn on a free port, and real headless Chromium.

The browser is Debian's /usr/bin/chromium driven by Playwright; if it is missing the tests fail
(they never skip): the console is only proven by a browser that runs it.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, sync_playwright

from edge import passes
from edge.boot import Gate, build_gate, ensure_sim_issuer
from edge.console.app import create_app
from edge.model import PassKind
from edge.store.guards import Guard, Role
from tests.edge.console.conftest import (  # noqa: F401  fixtures shared with the API tests
    add_guard,
    console_context,
    gate_settings,
    make_token,
    sim_console,
)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
]
SCREENSHOTS = Path(__file__).parent / "screenshots"
GUARD_PIN = "1357"
ADMIN_PIN = "8642"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@dataclass
class LiveConsole:
    gate: Gate
    url: str
    guard: Guard
    admin: Guard

    def token(self, pass_id: str, kind: PassKind = PassKind.RESIDENT) -> str:
        issuer = ensure_sim_issuer(self.gate.settings)
        now = datetime.now(UTC)
        return passes.issue(
            issuer.key,
            key_id=issuer.key_id,
            community=issuer.community,
            pass_id=pass_id,
            kind=kind,
            holder="王*明",
            unit="3-2-501",
            not_before=now - timedelta(days=1),
            expires=now + timedelta(days=30),
            issued_at=now - timedelta(days=1),
        )

    def present(self, pass_id: str, temperatures_c: list[float], **kind: Any) -> None:
        """A person at the gate: the thermometer is primed, then the pass is scanned."""
        assert self.gate.simulation is not None
        self.gate.simulation.temperature("in-1", temperatures_c, temperatures_c[-1])
        self.gate.simulation.present("in-1", self.token(pass_id, **kind).encode())


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveConsole]:
    gate = build_gate(gate_settings(tmp_path / "state"))
    guard = add_guard(gate, "李卫", Role.GUARD, GUARD_PIN)
    admin = add_guard(gate, "admin", Role.ADMIN, ADMIN_PIN)
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


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    assert CHROMIUM.exists(), "install Debian's chromium (apt-get install chromium)"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    context.set_default_timeout(10_000)
    opened = context.new_page()
    yield opened
    context.close()


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
