"""Gate settings for tests and benches that build a whole gate in-process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from edge.app.settings import Settings, load_settings


def sim_settings(state_dir: Path, **changes: Any) -> Settings:
    """The embedded default, console off, state in ``state_dir``; validated like a file."""
    data = load_settings(None).model_dump(mode="json")
    data["site"]["state_dir"] = str(state_dir)
    data["console"]["enabled"] = False
    for section, value in changes.items():
        data[section] = {**data[section], **value} if isinstance(value, dict) else value
    return Settings.model_validate(data)
