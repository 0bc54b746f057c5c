"""`kakou doctor`: open every configured device once and print what answers.

A thin shell: edge.app.boot builds the devices (and starts the simulators, as `kakou run` does),
drivers.doctor probes them and formats the table. Run it with the gate stopped: a serial port or
camera the running gate holds cannot be shared.
"""

from __future__ import annotations

import logging
import sys
import tempfile
from collections.abc import Callable
from contextlib import ExitStack
from functools import partial
from pathlib import Path

import click
from gpiozero.pins import Factory as PinFactory

from drivers import doctor
from drivers.door import GpioDoor
from drivers.gpio import GpioIndicator, GpioRelay
from drivers.sim.door import SimDoorContact
from edge.app.boot import _scanner, _sim_devices, _thermometer, build_camera
from edge.app.cli.options import CONFIG_OPTION
from edge.app.cli.run import load_or_exit
from edge.app.pins import make_pin_factory
from edge.app.settings import LaneSettings, Settings


def gpio_probes(
    lane: LaneSettings, pin_factory: Callable[[], PinFactory], *, simulated: bool
) -> list[doctor.Probe]:
    """The lane's relay, indicator and door contact (if wired), each opened on its pins."""
    model = "gpio (mock)" if simulated else "gpio"
    relay = lane.relay
    relay_info = doctor.DeviceInfo(f"{lane.id}/relay", "relay", model, f"GPIO {relay.pin}")

    def open_relay() -> GpioRelay:
        return GpioRelay(relay.pin, active_high=relay.active_high, pin_factory=pin_factory())

    def relay_state(device: GpioRelay) -> str:
        return "energised" if device.is_energised else "released"

    ind = lane.indicator
    pins = f"GPIO {ind.green_pin},{ind.red_pin},{ind.buzzer_pin}"
    ind_info = doctor.DeviceInfo(f"{lane.id}/indicator", "indicator", model, pins)

    def open_indicator() -> GpioIndicator:
        return GpioIndicator(
            green_pin=ind.green_pin,
            red_pin=ind.red_pin,
            buzzer_pin=ind.buzzer_pin,
            pin_factory=pin_factory(),
        )

    probes: list[doctor.Probe] = [
        partial(doctor.probe_pins, open_relay, relay_info, relay_state),
        partial(doctor.probe_pins, open_indicator, ind_info, lambda _: "off (green, red, buzzer)"),
    ]
    d = lane.door
    contact_pin = d.contact_pin
    if contact_pin is not None:
        port = f"GPIO {contact_pin}" + (f", exit {d.exit_pin}" if d.exit_pin is not None else "")
        door_info = doctor.DeviceInfo(f"{lane.id}/door", "door", model, port)

        def open_door() -> GpioDoor:
            door = GpioDoor(
                f"{lane.id}/door",
                contact_pin=contact_pin,
                exit_pin=d.exit_pin,
                relay_energised=lambda: False,
                on_alarm=lambda alarm: None,  # a check raises no alarms
                pin_factory=pin_factory(),
            )
            if simulated:
                SimDoorContact(door).shut()  # as `kakou run` starts a simulated door
            return door

        probes.append(
            partial(doctor.probe_pins, open_door, door_info, lambda door: door.status().detail)
        )
    return probes


def _once(make: Callable[[], PinFactory]) -> Callable[[], PinFactory]:
    """The pin factory, made at the first probe that needs it; its error is that probe's (and
    every other GPIO probe's) reason to be down."""
    made: list[PinFactory] = []

    def get() -> PinFactory:
        if not made:
            made.append(make())
        return made[0]

    return get


def lane_probes(
    settings: Settings, sim_dir: Path, stack: ExitStack, *, listen_s: float
) -> list[doctor.Probe]:
    """One probe per configured device; simulators started here stop with ``stack``."""
    probes: list[doctor.Probe] = []
    pin_factory = _once(partial(make_pin_factory, settings.gpio.pin_factory))
    for lane in settings.lanes:
        scanner_url, thermometer_url, _sims = _sim_devices(lane, sim_dir, stack)
        scanner = _scanner(lane, scanner_url)
        simulated = " (simulated)"
        s = lane.scanner
        model = s.model if s.kind == "serial" else "gm65" + simulated
        info = doctor.DeviceInfo(scanner.name, "scanner", model, scanner.url)
        probes.append(partial(doctor.probe_scanner, scanner, info, listen_s=listen_s))
        thermometer = _thermometer(lane, thermometer_url)
        if thermometer is not None:
            t = lane.thermometer
            model = t.model if t.kind == "serial" else "gy-mcu90614" + simulated
            status = thermometer.status()
            info = doctor.DeviceInfo(status.name, "thermometer", model, status.extra.get("url", ""))
            probes.append(partial(doctor.probe_thermometer, thermometer, info))
        camera = build_camera(lane, settings, save_frames=False)  # a check saves no faces
        if camera is not None:
            info = doctor.DeviceInfo(camera.name, "camera", "opencv", camera.source_description)
            probes.append(partial(doctor.probe_scanner, camera, info, listen_s=listen_s))
        probes.extend(gpio_probes(lane, pin_factory, simulated=settings.sim.enabled))
    return probes


@click.command("doctor")
@CONFIG_OPTION
@click.option(
    "--listen",
    "listen_s",
    type=click.FloatRange(0, 60),
    default=1.0,
    show_default=True,
    help="Seconds to wait for a code at each scanner and camera.",
)
def doctor_command(config_path: Path | None, listen_s: float) -> None:
    """Open every configured device, read each once, print a table; exit 1 if any is down.

    Stop the gate first: a port the running gate holds cannot be shared.
    """
    # Drivers log each failure as a warning; here the table says it once, so only errors show.
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    settings = load_or_exit(config_path)
    # Simulator links go to a private folder, never over those of a gate that may be running.
    with tempfile.TemporaryDirectory(prefix="kakou-doctor-") as sim_dir, ExitStack() as stack:
        probes = lane_probes(settings, Path(sim_dir), stack, listen_s=listen_s)
        results = doctor.run_probes(probes)
    click.echo(doctor.format_table(results))
    sys.exit(doctor.exit_code(results))


COMMANDS: list[click.Command] = [doctor_command]
