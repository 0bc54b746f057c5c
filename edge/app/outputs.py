"""The gate's GPIO outputs as the configuration names them: each lane's lock relay and indicator,
and the pin factory; read on their own for ``kakou relay-off``.

systemd runs ``kakou relay-off`` after every stop and crash of the gate, so it must be quick and
must not depend on the rest of the configuration being valid: a typo in ``[policy]`` must never
leave a relay energised. It reads only ``[gpio]`` and each lane's ``id``, ``relay`` and
``indicator`` from the TOML file, with this module's models (also those of the full settings),
and nothing that imports the store, the console or sync.
"""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from edge.configmodel import ConfigModel

DEFAULT_CONFIG_NAME = "sim.toml"


class RelaySettings(ConfigModel):
    pin: int = Field(default=17, ge=0, le=53, description="BCM GPIO of the gate lock relay.")
    active_high: bool = Field(
        default=True, description="False for relay boards that energise on a low input."
    )
    open_s: float = Field(default=3.0, gt=0, le=30, description="How long one pass opens the gate.")


class IndicatorSettings(ConfigModel):
    green_pin: int = Field(default=27, ge=0, le=53, description="BCM GPIO of the green LED.")
    red_pin: int = Field(default=22, ge=0, le=53, description="BCM GPIO of the red LED.")
    buzzer_pin: int = Field(default=23, ge=0, le=53, description="BCM GPIO of the buzzer.")


class GpioSettings(ConfigModel):
    pin_factory: Literal["mock", "lgpio", "rpigpio", "pigpio", "native"] = Field(
        default="lgpio", description="gpiozero pin factory; 'mock' only for simulation."
    )


class _Tolerant(BaseModel):
    """Other keys belong to the full settings, which check them; they are not read here."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class LaneOutputs(_Tolerant):
    id: str
    relay: RelaySettings = Field(default_factory=RelaySettings)
    indicator: IndicatorSettings = Field(default_factory=IndicatorSettings)


class GateOutputs(_Tolerant):
    lanes: list[LaneOutputs]
    gpio: GpioSettings = Field(default_factory=GpioSettings)


def default_config_text() -> str:
    return resources.files("edge.defaults").joinpath(DEFAULT_CONFIG_NAME).read_text("utf-8")


def read_outputs(path: Path | None) -> GateOutputs:
    """The outputs of the configuration at ``path`` (the embedded default when None); raises
    ``ValueError`` naming the file when they cannot be read."""
    source = f"(embedded default {DEFAULT_CONFIG_NAME})" if path is None else str(path)
    try:
        text = default_config_text() if path is None else path.read_text(encoding="utf-8")
        return GateOutputs.model_validate(tomllib.loads(text))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"{source}: {exc}") from exc
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, error['loc']))}: {error['msg']}" for error in exc.errors()
        )
        raise ValueError(f"{source}: {problems}") from exc
