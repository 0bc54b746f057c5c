"""Fixtures every test folder may use, and the order the suite runs in."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory
from playwright.sync_api import Browser, sync_playwright

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


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto`` (pyproject.toml, addopts): three workers for every two cores. The suite waits
    far more than it computes (brokers, browsers, child processes: about 6 of its 14 minutes
    in one process are CPU), so a worker more than the cores overlaps those waits; two per core
    starved the tests that time a thread (a camera's frame pacing) on a loaded 2-core machine."""
    return max(2, len(os.sched_getaffinity(0)) * 3 // 2)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests marked slow first, in their own order: the default run spreads the suite over
    the machine's cores (pyproject.toml, addopts), and a minute-long test handed out last would
    keep one core busy after the others have finished."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture
def mock_factory() -> Iterator[MockFactory]:
    """A fresh MockFactory per test, reset and closed afterwards (gpiozero's own pattern)."""
    factory = MockFactory()
    yield factory
    factory.reset()
    factory.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's headless Chromium driven by Playwright, one for the session: the console's and
    the office's browser tests share it, as Playwright's sync API refuses a second instance in
    a process that has one running. Missing, the tests fail (they never skip)."""
    assert CHROMIUM.exists(), "install Debian's chromium (apt-get install chromium)"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
        )
        yield launched
        launched.close()
