"""The composition root: settings in, a running gate out, and an orderly stop.

This is the one module that knows every layer. Start order: store (integrity checked), trust
material, GPIO (relays released first), devices, lanes, console. Stop order is the reverse, and
every path out — normal exit, SIGTERM, an exception — releases the relays.
"""

from __future__ import annotations

import functools
import logging
import signal
import sqlite3
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from gpiozero.pins import Factory as PinFactory

from drivers.base import DeviceStatus, Health, Thermometer
from drivers.door import DoorAlarm, GpioDoor
from drivers.gpio import GpioIndicator, GpioRelay
from drivers.scanner import ScannerFamily, SerialScanner
from drivers.sim.door import SimDoorContact
from drivers.sim.scanner import SIMULATORS as SCANNER_SIMULATORS
from drivers.sim.scanner import SimScanner
from drivers.sim.thermometer import SIMULATORS as THERMOMETER_SIMULATORS
from drivers.sim.thermometer import TEXT_LINE_PATTERN as SIM_LINE_PATTERN
from drivers.sim.thermometer import SimOptions, SimThermometerModule
from drivers.thermometer import SerialThermometer
from edge import health, keys, passes, timepolicy
from edge.app.pins import make_pin_factory
from edge.app.settings import LaneSettings, Settings
from edge.bus import (
    AlarmRaised,
    Bus,
    ExitRequested,
    PolicyReceived,
    Prompted,
    RelayMoved,
    TrustChanged,
)
from edge.clock import SystemClock, read_boot_id
from edge.console.app import create_app
from edge.console.deps import ClockView, ConsoleContext, SyncView
from edge.console.serving import WebServer, serve_in_thread
from edge.health import BacklogLimits, HealthWatcher, SyncProgress, SyncWatch
from edge.lane import Lane, TrustMaterial
from edge.model import GateMode, Outcome
from edge.policy import Policy
from edge.retention import RetentionWorker
from edge.rule import LaneContext
from edge.simulation import Issuer, SimLane, Simulation
from edge.store import Store, StoreError, private_dir
from edge.store.outbox import pending
from edge.systemd import (
    DEFAULT_CHECK_INTERVAL_S,
    Notifier,
    WorkerCheck,
    credential_path,
    dead_workers,
    secret_file_warnings,
    supervise,
    watchdog_interval_s,
)
from edge.timepolicy import TrustedTime, TrustedTimeKeeper
from edge.visitors import GateKey, VisitorDesk
from edge.voice import Speaker

if TYPE_CHECKING:
    from drivers.camera import CameraScanner  # OpenCV: only a lane with a camera loads it

from sync.runtime import SyncHandle, start_sync
from sync.subscriber import META_POLICY

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
    time_keeper: TrustedTimeKeeper | None = None
    desk: VisitorDesk | None = None
    sync: SyncHandle | None = None
    _stack: ExitStack = field(default_factory=ExitStack)

    def device_status(self) -> list[DeviceStatus]:
        return [source() for source in self.status_sources]

    def console_context(self) -> ConsoleContext:
        return ConsoleContext(
            store=self.store,
            lanes=self.lanes,
            device_status=self.device_status,
            simulation=self.simulation,
            bus=self.bus,
            desk=self.desk,
            sync_status=None if self.sync is None else functools.partial(sync_view, self.sync),
            clock_status=functools.partial(
                clock_view,
                SystemClock(assume_synced=self.settings.clock.assume_synced),
                self.time_keeper,
            ),
        )

    def stop(self) -> None:
        """Stop devices and lanes, release every relay, close the store (reverse start order)."""
        self._stack.close()


def load_trust_into_store(settings: Settings, store: Store) -> None:
    """Make the store's configured keys follow the configuration exactly; load revocations.

    Keys in the trusted keys folder are added or replaced. A configured key whose file is gone
    is retired, so its passes fail as unknown_key from this start on; so is the simulator's key
    while [sim] is off, and the gate's visitor key while [visitors] is off (``ensure_gate_key``
    adds it back). Keys the office sent by signed downlink stay until it revokes them. The
    store audits and logs every change.
    """
    keys_dir = settings.state_path(settings.passes.trusted_keys_dir)
    configured: list[str] = []
    if keys_dir.is_dir():
        for pub in sorted(keys_dir.glob(f"*{keys.PUBLIC_SUFFIX}")):
            if pub.stem == settings.sim.issuer_kid and not settings.sim.enabled:
                log.info("not trusting %s: it is the simulator's key and [sim] is off", pub)
                continue
            source = f"{keys.CONFIG_SOURCE_PREFIX}{pub.name}"
            store.put_trusted_key(pub.stem, pub.read_bytes(), source=source)
            configured.append(pub.stem)
    else:
        log.warning("trusted keys folder %s does not exist: no pass will verify", keys_dir)
    store.retire_trusted_keys(keys.CONFIG_SOURCE_PREFIX, keep=configured)
    gate_kid = [gate_key_id(settings)] if settings.visitors.enabled else []
    store.retire_trusted_keys(keys.GATE_KEY_SOURCE, keep=gate_kid)
    if settings.passes.revocations_file is not None:
        path = settings.state_path(settings.passes.revocations_file)
        revoked = keys.load_revocations(path)
        store.add_revocations(sorted(revoked), source=f"config:{path.name}")


def last_recorded_mode(store: Store, lane_id: str) -> GateMode | None:
    """The gate mode ``lane_id`` was last switched to, from its newest mode-change entry."""
    last = store.entries(outcome=Outcome.MODE_CHANGE, lane=lane_id, newest_first=True, limit=1)
    return last[0].draft.gate_mode if last else None


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


def gate_key_id(settings: Settings) -> str:
    """This gate's visitor key id: configured, or 'gate-' plus the gate id (cut to 32)."""
    return settings.visitors.issuer_kid or f"{passes.GATE_KEY_PREFIX}{settings.site.gate}"[:32]


def ensure_gate_key(settings: Settings, store: Store) -> GateKey:
    """The gate's visitor key, made on first start in state_dir/issuer (0600), its public half
    trusted by this gate's lanes (scoped to short visitor and vehicle passes by its name)."""
    issuer_dir = settings.site.state_dir / "issuer"
    kid = gate_key_id(settings)
    key_path = issuer_dir / f"{kid}.key"
    if not key_path.exists():
        keys.new_keypair(kid, issuer_dir)
        log.info("created this gate's visitor pass key %s", kid)
    loaded_kid, private_key = keys.load_private(key_path)
    store.put_trusted_key(
        loaded_kid, keys.public_pem_of(private_key.public_key()), source=keys.GATE_KEY_SOURCE
    )
    return GateKey(loaded_kid, private_key)


def in_force_policy(settings: Settings, store: Store) -> Policy:
    """The office's last signed policy (kept by the downlink) if there is one, else [policy].

    The office changes policy week by week; a gate restarted after a change must not fall back
    to the file's. An unreadable stored policy is logged and the file's is used.
    """
    stored = store.get_meta(META_POLICY)
    if stored is None:
        return settings.policy
    try:
        policy = Policy.model_validate_json(stored)
    except ValueError as exc:
        log.error("stored office policy is unreadable, using the configured one: %s", exc)
        return settings.policy
    log.info("using the office's policy from the downlink, not [policy] of the configuration")
    return policy


def build_gate(settings: Settings, *, start: bool = True) -> Gate:
    """Build (and by default start) the gate; on any failure, undo what was started."""
    stack = ExitStack()
    try:
        return _build(settings, stack, start=start)
    except BaseException:
        stack.close()
        raise


def _build(settings: Settings, stack: ExitStack, *, start: bool) -> Gate:
    private_dir(settings.site.state_dir)  # 0700: the entry log is personal data
    issuer = ensure_sim_issuer(settings) if settings.sim.enabled else None
    store = Store.open(settings.db_path, community=settings.site.community, gate=settings.site.gate)
    stack.callback(store.close)
    if store.integrity != "ok":
        log.critical("database integrity check failed: %s", store.integrity)
    load_trust_into_store(settings, store)
    gate_key = ensure_gate_key(settings, store) if settings.visitors.enabled else None
    gate_key_days = timedelta(days=settings.visitors.max_days)

    def trust() -> TrustMaterial:
        return TrustMaterial(
            keys=store.trusted_keys(),
            revoked=store.revoked_ids(),
            gate_key_max_validity=gate_key_days,
        )

    policy = in_force_policy(settings, store)
    bus = Bus()
    clock = SystemClock(assume_synced=settings.clock.assume_synced)
    boot_id = read_boot_id()
    keeper = TrustedTimeKeeper(boot_id, TrustedTime.from_meta(store.get_meta(timepolicy.META_KEY)))
    pin_factory = make_pin_factory(settings.gpio.pin_factory)
    lanes: dict[str, Lane] = {}
    sim_lanes: dict[str, SimLane] = {}
    status_sources: list[Callable[[], DeviceStatus]] = []
    sim_dir = settings.site.state_dir / "sim"
    if settings.sim.enabled:
        private_dir(sim_dir)

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
        door = _door(lane_settings, relay, bus, pin_factory)
        sim_door = None
        if door is not None:
            stack.callback(door.close)
            status_sources.append(door.status)
            if settings.sim.enabled:  # a mock pin idles open: shut it before anything reads it
                sim_door = SimDoorContact(door)
                sim_door.shut()
        scanner_url, thermometer_url, sims = _sim_devices(lane_settings, sim_dir, stack)
        scanner = _scanner(lane_settings, scanner_url)
        camera = build_camera(lane_settings, settings)
        thermometer = _thermometer(lane_settings, thermometer_url)
        ctx = LaneContext(
            lane=lane_settings.id,
            gate=settings.site.gate,
            direction=lane_settings.direction,
            policy=policy,
            open_s=lane_settings.relay.open_s,
        )
        lane = Lane(
            ctx,
            unsynced_policy=settings.clock.unsynced_policy,
            trusted_time=lambda: keeper.latest,
            community=settings.site.community,
            store=store,
            clock=clock,
            trust=trust,
            relay=relay,
            indicator=indicator,
            bus=bus,
            boot_id=boot_id,
            thermometer=thermometer,
            last_mode=last_recorded_mode(store, lane_settings.id),
        )
        started_in = lane.snapshot()["mode"]
        if started_in != policy.mode.value:
            log.warning(
                "lane %s: resuming %s mode, in force when it stopped (policy says %s)",
                lane_settings.id,
                started_in,
                policy.mode.value,
            )
        lanes[lane_settings.id] = lane
        status_sources.append(scanner.status)
        if camera is not None:
            status_sources.append(camera.status)
        if thermometer is not None:
            status_sources.append(thermometer.status)
        if start:
            lane.start()
            stack.callback(lane.stop)
            scanner.start(_forward_scans(lane))
            stack.callback(scanner.stop)
            if camera is not None:
                camera.start(_forward_scans(lane))
                stack.callback(camera.stop)
            if thermometer is not None:
                stack.callback(thermometer.stop)
        if sims is not None:
            sim_lanes[lane_settings.id] = SimLane(
                scanner=sims[0], thermometer=sims[1], lane=lane, door=sim_door
            )

    simulation = None
    if issuer is not None:

        def revoke(pass_ids: list[str]) -> None:
            store.add_revocations(pass_ids, source="sim")
            for lane in lanes.values():
                lane.reload_trust().result(timeout=5)

        simulation = Simulation(
            sim_lanes, bus=bus, issuer=issuer, revoke=revoke, clock_now=lambda: clock.now().wall
        )

    def on_trust(event: TrustChanged) -> None:
        # Signed revocations and keys from the office reach the running lanes at once.
        for lane in lanes.values():
            lane.reload_trust()

    def on_policy(event: PolicyReceived) -> None:
        log.info("policy version %s received; lanes take it up between visits", event.version)
        for lane in lanes.values():
            lane.set_policy(event.policy)

    bus.on(TrustChanged, on_trust)
    bus.on(PolicyReceived, on_policy)
    if settings.voice.enabled and start:
        speaker = Speaker(
            settings.voice.command, lanes=settings.voice.lanes, english=settings.voice.english
        )
        speaker.start()
        stack.callback(speaker.stop)
        bus.on(Prompted, speaker.on_event)
    sync: SyncHandle | None = None
    if settings.mqtt is not None and start:
        # Registered after the store, so it stops first: the outbox is never written after close.
        sync = start_sync(
            settings.mqtt,
            store=store,
            bus=bus,
            community=settings.site.community,
            gate=settings.site.gate,
        )
        stack.callback(sync.stop)
    if start:
        watcher = health_watcher(settings, store, bus, status_sources, sync)
        watcher.start()
        stack.callback(watcher.stop)
    desk = None
    if gate_key is not None:
        desk = VisitorDesk(
            store,
            gate_key=gate_key,
            settings=settings.visitors,
            now=lambda: clock.now().wall,
        )
    gate = Gate(settings, store, bus, lanes, status_sources, simulation, keeper, desk)
    gate._stack = stack
    gate.sync = sync
    return gate


def health_watcher(
    settings: Settings,
    store: Store,
    bus: Bus,
    devices: list[Callable[[], DeviceStatus]],
    sync: SyncHandle | None,
) -> HealthWatcher:
    """The watcher that turns device and sync health into alarms, console or not."""
    sync_watch = None
    if sync is not None:

        def progress() -> SyncProgress:
            view = sync_view(sync)
            return SyncProgress(backlog=view.backlog, last_ack_at=view.last_ack_at)

        def oldest_pending_at() -> datetime | None:
            oldest = pending(store, limit=1)
            return oldest[0].queued_at if oldest else None

        sync_watch = SyncWatch(
            progress,
            oldest_pending_at,
            BacklogLimits(settings.alarms.sync_backlog_entries, settings.alarms.sync_silent_s),
        )
    return HealthWatcher(
        bus,
        devices=lambda: [source() for source in devices],
        now=lambda: datetime.now(UTC),
        sync=sync_watch,
        interval_s=health.WATCH_INTERVAL_S,
    )


def sync_view(handle: SyncHandle) -> SyncView:
    """The sync's status as the console shows it (edge may not import sync; boot may)."""
    status = handle.status()
    last_ack_at = status["last_ack_at"]
    last_ack_seq = status["last_ack_seq"]
    offset_s = status["clock_offset_s"]
    return SyncView(
        connected=bool(status["connected"]),
        broker=str(status["broker"]),
        backlog=int(status["backlog"]),
        last_ack_seq=None if last_ack_seq is None else int(last_ack_seq),
        last_ack_at=None if last_ack_at is None else datetime.fromisoformat(last_ack_at),
        clock_offset_s=None if offset_s is None else float(offset_s),
        last_error=status["last_error"],
    )


def clock_view(clock: SystemClock, keeper: TrustedTimeKeeper | None) -> ClockView:
    """The clock as the status page shows it: NTP-synced or not, and the last trusted time."""
    latest = None if keeper is None else keeper.latest
    return ClockView(synced=clock.synced(), last_trusted_at=None if latest is None else latest.wall)


def build_camera(
    lane: LaneSettings, settings: Settings, *, save_frames: bool = True
) -> CameraScanner | None:
    """The lane's QR camera as configured (``kakou doctor`` builds it too, saving no frames)."""
    c = lane.camera
    if c.kind == "none":
        return None
    # The camera stack (OpenCV, numpy, zxing-cpp, pyzbar: the "camera" extra) is imported only
    # when a lane has a camera: a serial-scanner gate neither installs nor loads it.
    from drivers.camera import CameraScanner
    from drivers.qr import DecodeOptions, Roi

    return CameraScanner(
        f"{lane.id}/camera",
        c.source,
        decode_options=DecodeOptions(
            roi=Roi(*c.roi) if c.roi is not None else None, budget_ms=c.budget_ms
        ),
        max_decode_fps=c.max_decode_fps,
        source_fps=c.source_fps,
        capture_size=(c.width, c.height),
        reread_window_s=c.re_read_s,
        stale_after_s=c.stale_after_s,
        down_after_s=c.down_after_s,
        loop=c.loop,
        save_dir=settings.state_path(c.save_frames_dir)
        if save_frames and c.save_frames_dir
        else None,
        save_max_files=c.save_max_files,
    )


def _door(
    lane: LaneSettings, relay: GpioRelay, bus: Bus, pin_factory: PinFactory
) -> GpioDoor | None:
    """The door contact: forced or held-open doors become alarms on the bus."""
    d = lane.door
    if d.contact_pin is None:
        return None
    lane_id = lane.id

    def on_alarm(alarm: DoorAlarm) -> None:
        bus.publish(AlarmRaised(lane=lane_id, kind=alarm.kind.value, detail=alarm.detail))

    def on_exit_request() -> None:
        bus.publish(ExitRequested(lane=lane_id))

    return GpioDoor(
        f"{lane_id}/door",
        contact_pin=d.contact_pin,
        exit_pin=d.exit_pin,
        relay_energised=lambda: relay.is_energised,
        on_alarm=on_alarm,
        on_exit_request=on_exit_request,
        held_open_s=d.held_open_s,
        exit_grace_s=d.exit_grace_s,
        bounce_s=d.bounce_s or None,
        pin_factory=pin_factory,
    )


def _forward_scans(lane: Lane) -> Callable[[Any], None]:
    def on_scan(scan: Any) -> None:
        lane.submit_scan(scan)

    return on_scan


def _sim_devices(
    lane: LaneSettings, sim_dir: Path, stack: ExitStack
) -> tuple[str | None, str | None, tuple[SimScanner, SimThermometerModule] | None]:
    """Start the simulated modules a lane's settings ask for; return the ports to open."""
    scanner_sim: SimScanner | None = None
    thermometer_sim: SimThermometerModule | None = None
    scanner_url = thermometer_url = None
    if lane.scanner.kind == "sim":
        scanner_sim = SCANNER_SIMULATORS[lane.scanner.model](sim_dir / f"{lane.id}-scanner")
        scanner_sim.start()
        stack.callback(scanner_sim.stop)
        scanner_url = scanner_sim.port
    t = lane.thermometer
    if t.kind == "sim":
        options = t.codec_options()
        thermometer_sim = THERMOMETER_SIMULATORS[t.model](
            SimOptions(
                link_path=sim_dir / f"{lane.id}-thermometer",
                ambient_c=t.ambient_c,
                object_first=t.object_first,
                line_query=options.line_query,
            )
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
    name = f"{lane.id}/scanner"
    if s.kind == "sim":
        assert sim_url is not None
        return SerialScanner(name, sim_url, family=s.model, reread_window_s=s.re_read_s)
    return SerialScanner(
        name,
        s.url,
        family=s.model,
        baud=s.baud,
        reread_window_s=s.re_read_s,
        configure_gm65=s.configure and s.model == ScannerFamily.GM65,
    )


def _thermometer(lane: LaneSettings, sim_url: str | None) -> Thermometer | None:
    t = lane.thermometer
    if t.kind == "none":
        return None
    if t.kind == "sim":
        assert sim_url is not None
        options = t.codec_options(default_pattern=SIM_LINE_PATTERN)
        url, baud, timeout_s = sim_url, 9600, 1.0
    else:
        options = t.codec_options()
        url, baud, timeout_s = t.url, t.baud, t.timeout_s
    return SerialThermometer(
        f"{lane.id}/thermometer",
        url,
        model=t.model,
        baud=baud,
        mode=t.mode,
        object_first=options.object_first,
        line_pattern=options.line_pattern,
        line_query=options.line_query,
        query_timeout_s=timeout_s,
    )


LANE_STALL_S = 15.0
"""A lane worker that has not ticked (it ticks every 0.1 s) for this long counts as hung."""


def run(settings: Settings) -> int:
    """Run the gate until SIGTERM or SIGINT; the relays are released on every way out.

    Under systemd (``Type=notify``) READY=1 follows start-up, and WATCHDOG=1 pings follow from
    this, the main thread, only while every worker is alive (``edge.systemd.supervise``).
    SIGTERM is a clean stop with exit status 0; after SIGABRT (the watchdog) or SIGKILL the
    unit's ``ExecStopPost=kakou relay-off`` releases the relays instead.
    """
    stop = _stop_on_signals()  # before anything starts: a SIGTERM during start-up is a clean stop
    notifier = Notifier.from_environment()
    gate = build_gate(settings)
    gate.bus.on(RelayMoved, _journal_relay)
    retention = RetentionWorker(
        gate.store,
        settings.retention,
        bus=gate.bus,
        wall_now=lambda: datetime.now(UTC),
        registrations_days=settings.visitors.keep_days if settings.visitors.enabled else None,
    )
    console: WebServer | None = None
    try:
        for status in _settled_device_status(gate):
            if status.health is not Health.OK:
                log.warning("device %s is %s: %s", status.name, status.health, status.detail)
        for warning in secret_warnings(settings):
            log.warning("%s", warning)
        retention.start()
        if settings.console.enabled:
            console = _serve_console(gate)
            if console is None:
                return 1
        checks = worker_checks(gate, console=console, retention=retention)
        dead = dead_workers(checks)
        if dead:  # never report READY for a gate that is already half down: exit, be restarted
            log.critical("worker(s) down at start: %s", ", ".join(dead))
            return 1
        _journal_relays_at_start(gate)
        site = settings.site
        notifier.ready(f"gate {site.community}/{site.gate}: {len(gate.lanes)} lane(s) running")
        _wait_for_signal(stop, checks, notifier, on_tick=_trusted_time_chore(gate))
        notifier.stopping()
    finally:
        if console is not None:
            console.stop()
        retention.stop()
        _release_relays(gate)
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


def _serve_console(gate: Gate) -> WebServer | None:
    """Start the console; None (logged) if it could not listen, e.g. the port is taken. On a
    thread of its own, so the main thread stays free to feed the watchdog."""
    console = gate.settings.console
    try:
        return serve_in_thread(create_app(gate.console_context(), console), console, name="console")
    except OSError as exc:
        log.critical("%s", exc)
        return None


def _stop_on_signals() -> threading.Event:
    """SIGTERM (systemd's stop) and SIGINT set the returned event: a normal, clean exit."""
    stop = threading.Event()

    def handler(signum: int, frame: FrameType | None) -> None:
        log.info("signal %s: stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    return stop


def _wait_for_signal(
    stop: threading.Event,
    checks: list[WorkerCheck],
    notifier: Notifier,
    *,
    on_tick: Callable[[], None] | None = None,
) -> None:
    """The main loop until ``stop``: watchdog pings while every worker is alive."""
    interval_s = watchdog_interval_s() or DEFAULT_CHECK_INTERVAL_S
    supervise(stop, checks, notifier, interval_s=interval_s, on_tick=on_tick)


def worker_checks(
    gate: Gate,
    *,
    console: WebServer | None = None,
    retention: RetentionWorker | None = None,
    stall_s: float = LANE_STALL_S,
) -> list[WorkerCheck]:
    """Every thread the gate needs, as liveness checks for the watchdog."""
    checks = [
        WorkerCheck(f"lane {lane_id}", functools.partial(_lane_alive, lane, stall_s))
        for lane_id, lane in gate.lanes.items()
    ]
    checks += [
        WorkerCheck(f"device {status.name}", functools.partial(_reader_alive, status.name))
        for status in gate.device_status()
    ]
    if console is not None:
        checks.append(WorkerCheck("console", console.alive))
    if retention is not None:
        checks.append(WorkerCheck("retention", lambda: retention.alive))
    return checks


def _lane_alive(lane: Lane, stall_s: float) -> bool:
    return lane.alive and time.monotonic() - lane.last_tick_mono_s < stall_s


# The thread each driver names after its device: serial readers (drivers.serialport), the
# camera's decoder (drivers.camera; its capture threads come and go with reopening) and the
# door's held-open watch (drivers.door).
DEVICE_THREAD_PREFIXES = ("serial-", "camera-", "door-")


def _reader_alive(device_name: str) -> bool:
    # The drivers expose no liveness of their own, and the thread ending (an internal error) is
    # what must be caught.
    wanted = {prefix + device_name for prefix in DEVICE_THREAD_PREFIXES}
    return any(thread.name in wanted and thread.is_alive() for thread in threading.enumerate())


def _journal_relay(event: RelayMoved) -> None:
    """Log every relay command: after a crash the journal shows whether the gate was open."""
    details = {key: value for key, value in event.data.items() if key != "action"}
    log.info("relay %s: %s %s", event.lane, event.action, details)


def _journal_relays_at_start(gate: Gate) -> None:
    """A relay a lane energised at start (configured emergency mode) is in no bus event: log it."""
    for lane_id, lane in gate.lanes.items():
        snapshot = lane.snapshot()
        if snapshot["relay_energised"]:
            log.info("relay %s energised at start (mode %s)", lane_id, snapshot["mode"])


def _release_relays(gate: Gate) -> None:
    """Stop each lane (it releases its relay), then read the pin back into the journal."""
    for lane_id, lane in gate.lanes.items():
        lane.stop()
        if lane.snapshot()["relay_energised"]:
            log.critical("relay %s still reads energised after release", lane_id)
        else:
            log.info("relay %s released at stop", lane_id)


def _trusted_time_chore(gate: Gate) -> Callable[[], None]:
    """Save the time while NTP vouches for it, for the unsynced-clock pass policy."""
    clock = SystemClock(assume_synced=gate.settings.clock.assume_synced)
    keeper = gate.time_keeper or TrustedTimeKeeper(
        read_boot_id(), TrustedTime.from_meta(gate.store.get_meta(timepolicy.META_KEY))
    )

    def chore() -> None:
        due = keeper.observe(clock.now())
        if due is None:
            return
        try:
            gate.store.set_meta(timepolicy.META_KEY, due.to_meta())
        except (StoreError, sqlite3.Error, OSError) as exc:  # a full disk must not stop the gate
            log.warning("could not save the trusted time: %s", exc)

    return chore


def secret_warnings(settings: Settings) -> list[str]:
    """Configured secret files that are missing or readable by group or others."""
    directory = settings.credentials.directory
    return secret_file_warnings(
        credential_path(name, directory) for name in settings.credentials.names()
    )
