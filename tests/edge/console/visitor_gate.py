"""The simulated gate set up for visitors: admitted at any hour, a short gap between occupants."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from edge.app.settings import Settings
from tests.edge.console.conftest import gate_settings


def all_day_settings(state_dir: Path, *, next_occupant_s: float = 1.0, **visitors: Any) -> Settings:
    """Visitors are admitted 07:00-21:00 by default; the tests run at any hour."""
    data = gate_settings(state_dir).model_dump(mode="json")
    data["policy"]["kinds"]["visitor"]["hours"] = []
    data["policy"]["timeouts"]["next_occupant_s"] = next_occupant_s
    data["visitors"].update(visitors)
    return Settings.model_validate(data)
