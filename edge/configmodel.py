"""The base of every settings model: unknown keys are errors, values are frozen once read.

Each part of the gate owns its settings model beside its code (edge.retention, edge.visitors,
edge.voice, edge.health, the console); the composition root (edge.app.settings) puts them
together under one TOML file.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ConfigModel(BaseModel):
    """A section of the configuration file: extra keys refused (typos caught), immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)
