"""GPIO pin factories by name, and forcing every output released (``kakou relay-off``).

Apart from boot so that systemd's ``ExecStopPost=`` loads gpiozero and the settings only, not
the console, sync or the camera stack: it runs after every stop and crash, and should be quick.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from gpiozero.pins import Factory as PinFactory

from drivers.gpio import GpioIndicator, GpioRelay
from edge.app.outputs import GpioSettings, IndicatorSettings, RelaySettings


def make_pin_factory(name: str) -> PinFactory:
    """The gpiozero pin factory the configuration names, chosen explicitly: a factory that
    cannot load is an error at start-up, never a silent fallback to another one."""
    if name == "mock":
        from gpiozero.pins.mock import MockFactory

        return MockFactory()
    if name == "lgpio":
        from gpiozero.pins.lgpio import LGPIOFactory

        return LGPIOFactory()
    if name == "rpigpio":
        from gpiozero.pins.rpigpio import RPiGPIOFactory

        return RPiGPIOFactory()
    if name == "pigpio":
        from gpiozero.pins.pigpio import PiGPIOFactory

        return PiGPIOFactory()
    if name == "native":
        from gpiozero.pins.native import NativeFactory

        return NativeFactory()
    raise ValueError(f"unknown pin factory {name!r}")


class _Lane(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def relay(self) -> RelaySettings: ...
    @property
    def indicator(self) -> IndicatorSettings: ...


class Outputs(Protocol):
    """The full settings and ``GateOutputs`` alike: the lanes' outputs and the pin factory."""

    @property
    def lanes(self) -> Sequence[_Lane]: ...
    @property
    def gpio(self) -> GpioSettings: ...


def release_outputs(settings: Outputs, pin_factory: PinFactory | None = None) -> list[str]:
    """Drive every lane's relay released and its LEDs and buzzer off; backs ``kakou relay-off``.

    systemd runs it (``ExecStopPost=``) after every stop, crash or watchdog kill: when the process
    driving a line dies the kernel keeps the line's last value (unless ``dtparam=strict_gpiod``),
    so an energised relay would stay energised. Opening the pin with ``initial_value=False``
    drives it released, honouring ``active_high``. Every lane is tried even if one fails.
    Returns a line per lane for the journal; raises ``RuntimeError`` naming the failures.
    """
    factory = (
        pin_factory if pin_factory is not None else make_pin_factory(settings.gpio.pin_factory)
    )
    done: list[str] = []
    failed: list[str] = []
    for lane in settings.lanes:
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
