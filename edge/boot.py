"""The composition root: settings in, a running gate out, and an orderly stop.

This is the one module that knows every layer. Start order: store (integrity checked), trust
material, GPIO (relays released first), devices, lanes, console. Stop order is the reverse, and
every path out — normal exit, SIGTERM, an exception — releases the relays.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from gpiozero.pins import Factory as PinFactory

from drivers.base import DeviceStatus, Health, Thermometer
from drivers.gpio import GpioIndicator, GpioRelay
from drivers.scanner import SerialScanner
from drivers.sim.scanner import SimGm65
from drivers.sim.thermometer import SimGyMcu90614
from drivers.thermometer import SerialThermometer
from edge import keys
from edge.bus import Bus
from edge.clock import SystemClock, read_boot_id
from edge.console.app import create_app
from edge.console.deps import ConsoleContext
from edge.lane import Lane, TrustMaterial
from edge.rule import LaneContext
from edge.settings import LaneSettings, Settings
from edge.simulation import Issuer, SimLane, Simulation
from edge.store import Store

log = logging.getLogger(__name__)


@dataclass
class Gate:
    """Everything running at one gate, built from settings."""

    settings: Settings
    store: Store
    bus: Bus
    lanes: dict[str, Lane]
    status_sources: list[Callable[[], DeviceStatus]]
    simulation: Simulation | None
    _stack: ExitStack = field(default_factory=ExitStack)

    def device_status(self) -> list[DeviceStatus]:
        return [source() for source in self.status_sources]

    def console_context(self) -> ConsoleContext:
        return ConsoleContext(
            store=self.store,
            lanes=self.lanes,
            device_status=self.device_status,
            simulation=self.simulation,
        )

    def stop(self) -> None:
        """Stop devices and lanes, release every relay, close the store (reverse start order)."""
        self._stack.close()


def load_trust_into_store(settings: Settings, store: Store) -> None:
    """Copy trusted keys and revocations named by the configuration into the store."""
    keys_dir = settings.state_path(settings.passes.trusted_keys_dir)
    if keys_dir.is_dir():
        for pub in sorted(keys_dir.glob("*.pub")):
            store.put_trusted_key(pub.stem, pub.read_bytes(), source=f"config:{pub.name}")
    else:
        log.warning("trusted keys folder %s does not exist: no pass will verify", keys_dir)
    if settings.passes.revocations_file is not None:
        path = settings.state_path(settings.passes.revocations_file)
        revoked = keys.load_revocations(path)
        store.add_revocations(sorted(revoked), source=f"config:{path.name}")


def ensure_sim_issuer(settings: Settings) -> Issuer:
    """The simulator's pass issuer: a key pair created on first run in the trusted keys folder."""
    keys_dir = settings.state_path(settings.passes.trusted_keys_dir)
    kid = settings.sim.issuer_kid
    key_path = keys_dir / f"{kid}.key"
    if not key_path.exists():
        keys.new_keypair(kid, keys_dir)
        log.info("created simulator pass issuer key %s", kid)
    loaded_kid, private_key = keys.load_private(key_path)
    return Issuer(community=settings.site.community, key_id=loaded_kid, key=private_key)


def build_gate(settings: Settings, *, start: bool = True) -> Gate:
    """Build (and by default start) the gate; on any failure, undo what was started."""
    stack = ExitStack()
    try:
        return _build(settings, stack, start=start)
    except BaseException:
        stack.close()
        raise


def _build(settings: Settings, stack: ExitStack, *, start: bool) -> Gate:
    settings.site.state_dir.mkdir(parents=True, exist_ok=True)
    issuer = ensure_sim_issuer(settings) if settings.sim.enabled else None
    store = Store.open(settings.db_path, community=settings.site.community, gate=settings.site.gate)
    stack.callback(store.close)
    if store.integrity != "ok":
        log.critical("database integrity check failed: %s", store.integrity)
    load_trust_into_store(settings, store)

    def trust() -> TrustMaterial:
        return TrustMaterial(keys=store.trusted_keys(), revoked=store.revoked_ids())

    bus = Bus()
    clock = SystemClock(assume_synced=settings.clock.assume_synced)
    boot_id = read_boot_id()
    pin_factory = make_pin_factory(settings.gpio.pin_factory)
    lanes: dict[str, Lane] = {}
    sim_lanes: dict[str, SimLane] = {}
    status_sources: list[Callable[[], DeviceStatus]] = []
    sim_dir = settings.site.state_dir / "sim"
    if settings.sim.enabled:
        sim_dir.mkdir(parents=True, exist_ok=True)

    for lane_settings in settings.lanes:
        relay = GpioRelay(
            lane_settings.relay.pin,
            active_high=lane_settings.relay.active_high,
            pin_factory=pin_factory,
        )
        stack.callback(relay.close)  # registered first for this lane, so it runs last: released
        ind = lane_settings.indicator
        indicator = GpioIndicator(
            green_pin=ind.green_pin,
            red_pin=ind.red_pin,
            buzzer_pin=ind.buzzer_pin,
            pin_factory=pin_factory,
        )
        stack.callback(indicator.close)
        scanner_url, thermometer_url, sims = _sim_devices(lane_settings, sim_dir, stack)
        scanner = _scanner(lane_settings, scanner_url)
        thermometer = _thermometer(lane_settings, thermometer_url)
        ctx = LaneContext(
            lane=lane_settings.id,
            gate=settings.site.gate,
            direction=lane_settings.direction,
            policy=settings.policy,
            open_s=lane_settings.relay.open_s,
        )
        lane = Lane(
            ctx,
            community=settings.site.community,
            store=store,
            clock=clock,
            trust=trust,
            relay=relay,
            indicator=indicator,
            bus=bus,
            boot_id=boot_id,
            thermometer=thermometer,
        )
        lanes[lane_settings.id] = lane
        status_sources.append(scanner.status)
        if thermometer is not None:
            status_sources.append(thermometer.status)
        if start:
            lane.start()
            stack.callback(lane.stop)
            scanner.start(_forward_scans(lane))
            stack.callback(scanner.stop)
            if thermometer is not None:
                stack.callback(thermometer.stop)
        if sims is not None:
            sim_lanes[lane_settings.id] = SimLane(scanner=sims[0], thermometer=sims[1], lane=lane)

    simulation = None
    if issuer is not None:

        def revoke(pass_ids: list[str]) -> None:
            store.add_revocations(pass_ids, source="sim")
            for lane in lanes.values():
                lane.reload_trust().result(timeout=5)

        simulation = Simulation(
            sim_lanes, bus=bus, issuer=issuer, revoke=revoke, clock_now=lambda: clock.now().wall
        )
    gate = Gate(settings, store, bus, lanes, status_sources, simulation)
    gate._stack = stack
    return gate


def _forward_scans(lane: Lane) -> Callable[[Any], None]:
    def on_scan(scan: Any) -> None:
        lane.submit_scan(scan)

    return on_scan


def _sim_devices(
    lane: LaneSettings, sim_dir: Path, stack: ExitStack
) -> tuple[str | None, str | None, tuple[SimGm65, SimGyMcu90614] | None]:
    """Start the simulated modules a lane's settings ask for; return the ports to open."""
    scanner_sim: SimGm65 | None = None
    thermometer_sim: SimGyMcu90614 | None = None
    scanner_url = thermometer_url = None
    if lane.scanner.kind == "sim":
        scanner_sim = SimGm65(link_path=sim_dir / f"{lane.id}-scanner")
        scanner_sim.start()
        stack.callback(scanner_sim.stop)
        scanner_url = scanner_sim.port
    if lane.thermometer.kind == "sim":
        thermometer_sim = SimGyMcu90614(
            link_path=sim_dir / f"{lane.id}-thermometer", ambient_c=lane.thermometer.ambient_c
        )
        thermometer_sim.start()
        stack.callback(thermometer_sim.stop)
        thermometer_url = thermometer_sim.port
    sims = None
    if scanner_sim is not None and thermometer_sim is not None:
        sims = (scanner_sim, thermometer_sim)
    return scanner_url, thermometer_url, sims


def _scanner(lane: LaneSettings, sim_url: str | None) -> SerialScanner:
    s = lane.scanner
    if s.kind == "sim":
        assert sim_url is not None
        return SerialScanner(
            f"{lane.id}/scanner", sim_url, family="gm65", reread_window_s=s.re_read_s
        )
    return SerialScanner(
        f"{lane.id}/scanner",
        s.url,
        family=s.model,
        baud=s.baud,
        reread_window_s=s.re_read_s,
        configure_gm65=s.configure and s.model == "gm65",
    )


def _thermometer(lane: LaneSettings, sim_url: str | None) -> Thermometer | None:
    t = lane.thermometer
    if t.kind == "none":
        return None
    if t.kind == "sim":
        assert sim_url is not None
        return SerialThermometer(f"{lane.id}/thermometer", sim_url, model="gy-mcu90614")
    return SerialThermometer(
        f"{lane.id}/thermometer",
        t.url,
        model=t.model,
        baud=t.baud,
        object_first=t.object_first,
        query_timeout_s=t.timeout_s,
    )


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


def run(settings: Settings) -> int:
    """Run the gate until SIGTERM or SIGINT; the relays are released on every way out."""
    gate = build_gate(settings)
    try:
        for status in _settled_device_status(gate):
            if status.health is not Health.OK:
                log.warning("device %s is %s: %s", status.name, status.health, status.detail)
        if settings.console.enabled:
            _serve_console(gate)
        else:
            _wait_for_signal()
    finally:
        gate.stop()
    return 0


def _settled_device_status(gate: Gate, settle_s: float = 2.0) -> list[DeviceStatus]:
    """Device status once ports had a moment to open, so start-up does not cry wolf."""
    deadline = time.monotonic() + settle_s
    statuses = gate.device_status()
    while any(s.health is not Health.OK for s in statuses) and time.monotonic() < deadline:
        time.sleep(0.05)
        statuses = gate.device_status()
    return statuses


def _serve_console(gate: Gate) -> None:
    import uvicorn

    app = create_app(gate.console_context())
    config = uvicorn.Config(
        app,
        host=gate.settings.console.host,
        port=gate.settings.console.port,
        log_level="warning",
        access_log=False,
    )
    server = uvicorn.Server(config)
    log.info("console on http://%s:%d/", gate.settings.console.host, gate.settings.console.port)
    server.run()  # uvicorn turns SIGTERM/SIGINT into a graceful shutdown


def _wait_for_signal() -> None:
    stop = threading.Event()

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    stop.wait()
