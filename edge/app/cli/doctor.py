"""`kakou doctor`: open every configured device once and print what answers.

A thin shell: edge.app.boot builds the devices (and starts the simulators, as `kakou run` does),
drivers.doctor probes them and formats the table. Run it with the gate stopped: a serial port or
camera the running gate holds cannot be shared.
"""

from __future__ import annotations

import logging
import sys
import tempfile
from contextlib import ExitStack
from functools import partial
from pathlib import Path

import click

from drivers import doctor
from edge.app.boot import _scanner, _sim_devices, _thermometer, build_camera
from edge.app.cli.run import CONFIG_OPTION, load_or_exit
from edge.app.settings import Settings


def lane_probes(
    settings: Settings, sim_dir: Path, stack: ExitStack, *, listen_s: float
) -> list[doctor.Probe]:
    """One probe per configured device; simulators started here stop with ``stack``."""
    probes: list[doctor.Probe] = []
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
