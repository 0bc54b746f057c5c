"""The settings' sections for the gate's GPIO outputs: each lane's lock relay and indicator, and
the pin factory, with their defaults and names from edge.app.pins.

``kakou relay-off`` (systemd's ``ExecStopPost=``, after every stop and crash) reads the outputs
with edge.app.pins alone, without pydantic; it comes here (``validate_outputs``) only for a value
that is not plain (a pin written as a string, say) or wrong, so that it takes exactly what the
full settings take and reports a mistake the same way. Other keys are not read: a typo in
``[policy]`` must never leave a relay energised.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from edge.app import pins
from edge.app.pins import DEFAULT_CONFIG_NAME as DEFAULT_CONFIG_NAME
from edge.app.pins import PinFactoryName
from edge.app.pins import default_config_text as default_config_text
from edge.configmodel import ConfigModel

BcmPin = Annotated[int, Field(ge=0, le=pins.MAX_BCM_PIN)]
"""A Raspberry Pi GPIO by its BCM number, as gpiozero names pins."""


class RelaySettings(ConfigModel):
    pin: BcmPin = pins.DEFAULT_RELAY_PIN
    """BCM GPIO of the gate lock relay."""
    active_high: bool = pins.DEFAULT_RELAY_ACTIVE_HIGH
    """False for relay boards that energise on a low input."""
    open_s: float = Field(default=3.0, gt=0, le=30)
    """How long one pass opens the gate."""


class IndicatorSettings(ConfigModel):
    green_pin: BcmPin = pins.DEFAULT_GREEN_PIN
    """BCM GPIO of the green LED."""
    red_pin: BcmPin = pins.DEFAULT_RED_PIN
    """BCM GPIO of the red LED."""
    buzzer_pin: BcmPin = pins.DEFAULT_BUZZER_PIN
    """BCM GPIO of the buzzer."""


class GpioSettings(ConfigModel):
    pin_factory: PinFactoryName = pins.DEFAULT_PIN_FACTORY
    """gpiozero pin factory; 'mock' only for simulation."""


class _Tolerant(BaseModel):
    """Other keys belong to the full settings, which check them; they are not read here."""

    model_config = ConfigDict(extra="ignore", frozen=True, use_attribute_docstrings=True)


class _LaneOutputs(_Tolerant):
    id: str
    relay: RelaySettings = Field(default_factory=RelaySettings)
    indicator: IndicatorSettings = Field(default_factory=IndicatorSettings)


class _GateOutputs(_Tolerant):
    lanes: list[_LaneOutputs]
    gpio: GpioSettings = Field(default_factory=GpioSettings)


def validate_outputs(data: Mapping[str, object], source: str) -> pins.GateOutputs:
    """The outputs of a parsed configuration, through the settings' models; raises
    ``ValueError`` naming ``source`` and each field that is wrong."""
    try:
        outputs = _GateOutputs.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, error['loc']))}: {error['msg']}" for error in exc.errors()
        )
        raise ValueError(f"{source}: {problems}") from exc
    return pins.GateOutputs(
        lanes=tuple(
            pins.LaneOutputs(
                id=lane.id,
                relay=pins.RelayOutput(pin=lane.relay.pin, active_high=lane.relay.active_high),
                indicator=pins.IndicatorOutput(
                    green_pin=lane.indicator.green_pin,
                    red_pin=lane.indicator.red_pin,
                    buzzer_pin=lane.indicator.buzzer_pin,
                ),
            )
            for lane in outputs.lanes
        ),
        gpio=pins.GpioOutput(pin_factory=outputs.gpio.pin_factory),
    )
