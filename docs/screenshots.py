"""Regenerate the console screenshots in docs/img/ from a simulated gate, so the docs show the UI
as it is: ``.venv/bin/python docs/screenshots.py`` (Debian's /usr/bin/chromium, through
Playwright, as the browser tests use it; nothing is downloaded).

It builds a simulated gate with its console on a free port, adds a guard and an admin, drives a
few visits through the simulated scanner and thermometer (a resident, a fever confirmed on
re-measure, a forged pass, a pass that has expired, another resident), then saves each page at
1280×800 and at a 390×844 phone, in Chinese, as palette PNGs (docs/console.md shows them).
"""

from __future__ import annotations

import argparse
import socket
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PIL import Image
from playwright.sync_api import Page, sync_playwright

from edge.app.boot import Gate, build_gate
from edge.app.settings import Settings, load_settings
from edge.configmodel import WebListenerSettings
from edge.console.app import create_app
from edge.console.serving import serve_in_thread
from edge.store.guards import GuardBook, Role

CHROMIUM = Path("/usr/bin/chromium")
OUT = Path(__file__).resolve().parent / "img"
SIZES = {"1280": (1280, 800), "390": (390, 844)}
GUARD = ("李卫", "135792")
ADMIN = ("王所长", "8642097531")
PAGES = (  # file stem, path, who signs in
    ("live", "/", GUARD),
    ("log", "/log", GUARD),
    ("report", "/report", GUARD),
    ("status", "/status", GUARD),
    ("visitors", "/visitors", GUARD),
    ("kiosk", "/kiosk?lane=in-1", None),
    ("login", "/login", None),
    ("accounts", "/accounts", ADMIN),
    ("audit", "/audit", ADMIN),
)


def settings(state_dir: Path) -> Settings:
    """The embedded default with its simulated devices, a quick re-measure, state in a temp dir."""
    base = load_settings(None)
    fever = base.policy.fever.model_copy(update={"recheck_after_s": 1.0})
    return base.model_copy(
        update={
            "site": base.site.model_copy(update={"state_dir": state_dir}),
            "console": base.console.model_copy(update={"enabled": False}),
            "policy": base.policy.model_copy(update={"fever": fever}),
        }
    )


def free_port() -> int:
    with closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served(gate: Gate) -> Iterator[str]:
    """The gate's console on a free port, for as long as the block runs."""
    port = free_port()
    app = create_app(replace(gate.console_context(), bus=gate.bus))
    listener = WebListenerSettings(host="127.0.0.1", port=port)
    server = serve_in_thread(app, listener, name="console", timeout_graceful_shutdown=1)
    try:
        yield f"http://{listener.host}:{port}"
    finally:
        server.stop()


def wait_for(done: Callable[[], bool], timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError("the simulated gate did not get there")
        time.sleep(0.05)


def visits(gate: Gate) -> None:
    """A few people at lane in-1, each left to finish before the next comes."""
    sim = gate.simulation
    assert sim is not None, "the default settings simulate every device"
    for case, temperatures_c in (
        ("resident", [36.5]),
        ("resident", [38.3, 38.4]),  # a fever, confirmed on re-measure: an alarm
        ("forged", [36.6]),
        ("expired", [36.6]),
        ("resident", [36.8]),
    ):
        stored = gate.store.last_seq()
        sim.temperature("in-1", temperatures_c, temperatures_c[-1])
        sim.present_sample("in-1", case)
        wait_for(lambda stored=stored: gate.store.last_seq() > stored)
        time.sleep(0.3)


def sign_in(page: Page, url: str, who: tuple[str, str]) -> None:
    page.goto(f"{url}/login?next=/")
    page.fill("#name", who[0])
    page.fill("#secret", who[1])
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")


def save(page: Page, path: Path) -> None:
    """The window's view as a palette PNG: a tenth of the bytes of Chromium's own, text intact."""
    page.screenshot(path=str(path))
    with Image.open(path) as shot:
        small = shot.convert("RGB").quantize(colors=128, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT, help="where the PNGs go")
    parser.add_argument("--lang", choices=("zh", "en"), default="zh", help="the console's language")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as state:
        gate = build_gate(settings(Path(state)))
        try:
            book = GuardBook(gate.store)
            now = datetime.now(UTC)
            for (name, pin), role in ((GUARD, Role.GUARD), (ADMIN, Role.ADMIN)):
                book.add(name, role, pin, now=now)
            with served(gate) as url, sync_playwright() as playwright:
                visits(gate)
                browser = playwright.chromium.launch(
                    executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox"]
                )
                for size, (width, height) in SIZES.items():
                    sessions: dict[str | None, Page] = {}
                    for stem, path, who in PAGES:
                        key = who[0] if who else None
                        if key not in sessions:
                            context = browser.new_context(
                                viewport={"width": width, "height": height}
                            )
                            context.add_cookies(
                                [{"name": "kakou_lang", "value": args.lang, "url": url}]
                            )
                            sessions[key] = context.new_page()
                            if who:
                                sign_in(sessions[key], url, who)
                        page = sessions[key]
                        page.goto(url + path)
                        page.wait_for_load_state(
                            "networkidle"
                        ) if stem != "live" else page.wait_for_timeout(1500)
                        save(page, args.out / f"{stem}-{size}.png")
                        print(args.out / f"{stem}-{size}.png")
                browser.close()
        finally:
            gate.stop()


if __name__ == "__main__":
    main()
