"""GPIO pin factories by name, the lanes' outputs read straight from the TOML file, and forcing
every output released (``kakou relay-off``).

systemd runs ``kakou relay-off`` (``ExecStopPost=``) after every stop, crash and watchdog kill,
so this module loads as little as it can: tomllib, and gpiozero only when pins are driven. The
settings' models (pydantic, edge.app.outputs) take their defaults and the pin factory names from
here, and are loaded only for a value this reader does not take as it is (``read_outputs``).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Final, Literal, TypeGuard

if TYPE_CHECKING:
    from gpiozero.pins import Factory as PinFactory

    from edge.app.settings import Settings

DEFAULT_CONFIG_NAME = "sim.toml"

PinFactoryName = Literal["mock", "lgpio", "rpigpio", "pigpio", "native"]
# The one table of the pin factories a configuration can name (PinFactoryName lists the same
# names for the settings' type): gpiozero's own, by module and class, imported only when chosen.
PIN_FACTORIES: Final[Mapping[str, tuple[str, str]]] = {
    "mock": ("gpiozero.pins.mock", "MockFactory"),
    "lgpio": ("gpiozero.pins.lgpio", "LGPIOFactory"),
    "rpigpio": ("gpiozero.pins.rpigpio", "RPiGPIOFactory"),
    "pigpio": ("gpiozero.pins.pigpio", "PiGPIOFactory"),
    "native": ("gpiozero.pins.native", "NativeFactory"),
}
DEFAULT_PIN_FACTORY: Final[PinFactoryName] = "lgpio"

# BCM GPIO numbers a Raspberry Pi has, and the pins of a lane that names none (the wiring in
# docs/operations.md).
MAX_BCM_PIN: Final = 53
DEFAULT_RELAY_PIN: Final = 17
DEFAULT_RELAY_ACTIVE_HIGH: Final = True
DEFAULT_GREEN_PIN: Final = 27
DEFAULT_RED_PIN: Final = 22
DEFAULT_BUZZER_PIN: Final = 23


def default_config_text() -> str:
    from importlib import resources  # only without --config: the embedded simulated lane

    return resources.files("edge.defaults").joinpath(DEFAULT_CONFIG_NAME).read_text("utf-8")


@dataclass(frozen=True, slots=True)
class RelayOutput:
    pin: int = DEFAULT_RELAY_PIN
    active_high: bool = DEFAULT_RELAY_ACTIVE_HIGH


@dataclass(frozen=True, slots=True)
class IndicatorOutput:
    green_pin: int = DEFAULT_GREEN_PIN
    red_pin: int = DEFAULT_RED_PIN
    buzzer_pin: int = DEFAULT_BUZZER_PIN


@dataclass(frozen=True, slots=True)
class GpioOutput:
    pin_factory: PinFactoryName = DEFAULT_PIN_FACTORY


@dataclass(frozen=True, slots=True)
class LaneOutputs:
    id: str
    relay: RelayOutput = RelayOutput()
    indicator: IndicatorOutput = IndicatorOutput()


@dataclass(frozen=True, slots=True)
class GateOutputs:
    """Each lane's lock relay and indicator, and the pin factory: all ``relay-off`` reads."""

    lanes: tuple[LaneOutputs, ...]
    gpio: GpioOutput = GpioOutput()


def read_outputs(path: Path | None) -> GateOutputs:
    """The outputs of the configuration at ``path`` (the embedded default when None); raises
    ``ValueError`` naming the file when they cannot be read.

    Only ``[gpio]`` and each lane's ``id``, ``relay`` and ``indicator`` are read: a mistake
    elsewhere in the file must never leave a relay energised. Plain TOML values (an integer pin,
    a boolean) are taken here; anything else (a pin written as a string, an error) goes to the
    settings' own models, so ``relay-off`` accepts exactly what ``kakou run`` does.
    """
    source = f"(embedded default {DEFAULT_CONFIG_NAME})" if path is None else str(path)
    try:
        text = default_config_text() if path is None else path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"{source}: {exc}") from exc
    plain = plain_outputs(data)
    if plain is not None:
        return plain
    from edge.app.outputs import validate_outputs  # pydantic: only for the unusual file

    return validate_outputs(data, source)


def plain_outputs(data: Mapping[str, object]) -> GateOutputs | None:
    """The outputs of a parsed TOML document when every value read is of its own type and in
    range; None when the settings' models must decide (coerce it, or say what is wrong)."""
    gpio = data.get("gpio", {})
    lanes = data.get("lanes")
    if not isinstance(gpio, dict) or not isinstance(lanes, list):
        return None
    pin_factory = gpio.get("pin_factory", DEFAULT_PIN_FACTORY)
    if not _is_pin_factory(pin_factory):
        return None
    found: list[LaneOutputs] = []
    for lane in lanes:
        if not isinstance(lane, dict) or not isinstance(lane_id := lane.get("id"), str):
            return None
        relay = lane.get("relay", {})
        indicator = lane.get("indicator", {})
        if not isinstance(relay, dict) or not isinstance(indicator, dict):
            return None
        relay_pin = relay.get("pin", DEFAULT_RELAY_PIN)
        active_high = relay.get("active_high", DEFAULT_RELAY_ACTIVE_HIGH)
        green_pin = indicator.get("green_pin", DEFAULT_GREEN_PIN)
        red_pin = indicator.get("red_pin", DEFAULT_RED_PIN)
        buzzer_pin = indicator.get("buzzer_pin", DEFAULT_BUZZER_PIN)
        if not (
            _is_pin(relay_pin)
            and isinstance(active_high, bool)
            and _is_pin(green_pin)
            and _is_pin(red_pin)
            and _is_pin(buzzer_pin)
        ):
            return None
        found.append(
            LaneOutputs(
                id=lane_id,
                relay=RelayOutput(pin=relay_pin, active_high=active_high),
                indicator=IndicatorOutput(green_pin, red_pin, buzzer_pin),
            )
        )
    return GateOutputs(lanes=tuple(found), gpio=GpioOutput(pin_factory=pin_factory))


def _is_pin(value: object) -> TypeGuard[int]:
    """A TOML integer that is a BCM GPIO number (not a boolean, which Python counts as one)."""
    return type(value) is int and 0 <= value <= MAX_BCM_PIN


def _is_pin_factory(value: object) -> TypeGuard[PinFactoryName]:
    return isinstance(value, str) and value in PIN_FACTORIES


def make_pin_factory(name: str) -> PinFactory:
    """The gpiozero pin factory the configuration names, chosen explicitly: a factory that
    cannot load is an error at start-up, never a silent fallback to another one."""
    if name not in PIN_FACTORIES:
        raise ValueError(f"unknown pin factory {name!r}")
    module, factory_class = PIN_FACTORIES[name]
    factory: PinFactory = getattr(import_module(module), factory_class)()
    return factory


def release_outputs(
    outputs: GateOutputs | Settings, pin_factory: PinFactory | None = None
) -> list[str]:
    """Drive every lane's relay released and its LEDs and buzzer off; backs ``kakou relay-off``
    (with the outputs ``read_outputs`` gives; the full settings serve as well).

    systemd runs it (``ExecStopPost=``) after every stop, crash or watchdog kill: when the process
    driving a line dies the kernel keeps the line's last value (unless ``dtparam=strict_gpiod``),
    so an energised relay would stay energised. Opening the pin with ``initial_value=False``
    drives it released, honouring ``active_high``. Every lane is tried even if one fails.
    Returns a line per lane for the journal; raises ``RuntimeError`` naming the failures.
    """
    from drivers.gpio import GpioIndicator, GpioRelay  # gpiozero: only once pins are driven

    factory = pin_factory if pin_factory is not None else make_pin_factory(outputs.gpio.pin_factory)
    done: list[str] = []
    failed: list[str] = []
    for lane in outputs.lanes:
        relay = lane.relay
        try:
            GpioRelay(relay.pin, active_high=relay.active_high, pin_factory=factory).close()
        except Exception as exc:  # any pin error: report it and still try the other lanes
            failed.append(f"{lane.id}: relay on GPIO {relay.pin} NOT released: {exc!r}")
            continue
        ind = lane.indicator
        try:
            GpioIndicator(
                green_pin=ind.green_pin,
                red_pin=ind.red_pin,
                buzzer_pin=ind.buzzer_pin,
                pin_factory=factory,
            ).close()
        except Exception as exc:  # the lock matters; a stuck buzzer is reported, not fatal
            done.append(f"{lane.id}: indicator pins not reset: {exc!r}")
        state = "energised when low" if not relay.active_high else "energised when high"
        done.append(f"{lane.id}: relay on GPIO {relay.pin} released ({state})")
    if failed:
        raise RuntimeError("; ".join([*failed, *done]))
    return done
