"""Fixtures every test folder may use."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from gpiozero.pins.mock import MockFactory


@pytest.fixture
def mock_factory() -> Iterator[MockFactory]:
    """A fresh MockFactory per test, reset and closed afterwards (gpiozero's own pattern)."""
    factory = MockFactory()
    yield factory
    factory.reset()
    factory.close()
