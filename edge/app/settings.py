"""Configuration: one TOML file, validated once at start-up into typed settings.

Every problem is reported with the file, the field path and what is wrong, all at once, so a
volunteer fixing a config sees the whole list. With no file, the embedded default runs a
simulated lane (edge/defaults/sim.toml). Secrets never live here: key files are referenced by path.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Collection
from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import (
    Field,
    PositiveInt,
    ValidationError,
    field_validator,
    model_validator,
)

from drivers.scanner import ScannerFamily
from drivers.sim.thermometer import TEXT_LINE_PATTERN as SIM_LINE_PATTERN
from drivers.thermometer import CODECS as THERMOMETER_CODECS
from drivers.thermometer import CodecOptions, ThermometerMode
from edge.app.outputs import (
    DEFAULT_CONFIG_NAME,
    BcmPin,
    GpioSettings,
    IndicatorSettings,
    RelaySettings,
)
from edge.app.outputs import default_config_text as default_config_text
from edge.config_errors import describe
from edge.configmodel import ConfigModel, require_at_least
from edge.console.settings import ConsoleSettings
from edge.health import AlarmSettings
from edge.model import Direction
from edge.policy import Policy
from edge.retention import RetentionSettings
from edge.timepolicy import UnsyncedPolicy
from edge.visitors import VisitorSettings
from edge.voice import VoiceSettings
from sync.settings import SyncSettings


class ConfigError(Exception):
    """A configuration file that cannot be used; ``problems`` lists each as 'file: field: why'."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__("\n".join(problems))


def _known(what: str, name: str, table: Collection[str]) -> str:
    """``name`` if the driver registry ``table`` has it, else a message listing what it has."""
    if name not in table:
        raise ValueError(f"unknown {what} {name!r}; known: {', '.join(sorted(table))}")
    return name


class _ScannerProtocol(ConfigModel):
    model: str = Field(
        default=ScannerFamily.GM65.value,
        description="Protocol family: " + ", ".join(family.value for family in ScannerFamily),
    )
    re_read_s: float = Field(default=1.0, ge=0, le=10)
    """Same code again = one scan."""

    @field_validator("model")
    @classmethod
    def _known_model(cls, model: str) -> str:
        return _known("scanner model", model, [family.value for family in ScannerFamily])


class SimScannerSettings(_ScannerProtocol):
    """A simulated scanner of ``model`` on a pseudo-terminal; the real serial driver reads it."""

    kind: Literal["sim"] = "sim"


class SerialScannerSettings(_ScannerProtocol):
    """A QR scanner module on a serial port (GM65 family, Honeywell or a line-mode scanner)."""

    kind: Literal["serial"]
    url: str
    """Device path or pyserial URL, e.g. /dev/serial/by-id/usb-..."""
    baud: int = 9600
    """UART speed; GM65 modules ship at 9600."""
    configure: bool = True
    """Send CR tail and UTF-8 settings to a GM65 at start-up."""


class _ThermometerProtocol(ConfigModel):
    """How the gate talks to the module: one of the driver's codecs and its options."""

    model: str = Field(
        default="gy-mcu90614", description="Protocol: " + ", ".join(sorted(THERMOMETER_CODECS))
    )
    mode: ThermometerMode = ThermometerMode.QUERY
    """query: ask for each reading; continuous: the module streams, a request takes the next frame
    (modules that cannot be asked always stream).
    """
    object_first: bool = True
    """Frame order: object then ambient (one public sample swaps them)."""
    line_pattern: str | None = None
    """text-line: a regular expression with a named group 'value' in °C."""
    line_query: str | None = None
    """text-line: what to send to ask for a reading, e.g. 'READ\\r\\n' in TOML; none: the module
    streams.
    """

    @field_validator("model")
    @classmethod
    def _known_model(cls, model: str) -> str:
        return _known("thermometer model", model, THERMOMETER_CODECS)

    def check_codec(self, *, default_pattern: str | None = None) -> Self:
        """Build the driver's codec once, so a missing or broken line_pattern fails here."""
        try:
            THERMOMETER_CODECS[self.model](self.codec_options(default_pattern=default_pattern))
        except re.error as exc:
            raise ValueError(f"line_pattern is not a regular expression: {exc}") from None
        return self

    def codec_options(self, *, default_pattern: str | None = None) -> CodecOptions:
        return CodecOptions(
            object_first=self.object_first,
            line_pattern=self.line_pattern or default_pattern,
            line_query=None if self.line_query is None else self.line_query.encode("latin-1"),
        )


class SimThermometerSettings(_ThermometerProtocol):
    """A simulated IR thermometer module of ``model`` on a pseudo-terminal."""

    kind: Literal["sim"] = "sim"
    ambient_c: float = 20.0
    """What the sensor reads when nobody stands in front of it."""

    @model_validator(mode="after")
    def _codec_builds(self) -> Self:
        return self.check_codec(default_pattern=SIM_LINE_PATTERN)


class SerialThermometerSettings(_ThermometerProtocol):
    """An IR thermometer module on a serial port."""

    kind: Literal["serial"]
    url: str
    """Device path or pyserial URL."""
    baud: int = 9600
    """9600 for GY-MCU90614; some 90615 boards 115200."""
    timeout_s: float = Field(default=1.0, gt=0, le=10)
    """Wait for a reply this long."""

    @model_validator(mode="after")
    def _codec_builds(self) -> Self:
        return self.check_codec()


class NoThermometerSettings(ConfigModel):
    """No thermometer: the guard enters readings from a handheld one."""

    kind: Literal["none"]


ScannerSettings = Annotated[SimScannerSettings | SerialScannerSettings, Field(discriminator="kind")]
ThermometerSettings = Annotated[
    SimThermometerSettings | SerialThermometerSettings | NoThermometerSettings,
    Field(discriminator="kind"),
]


class NoCameraSettings(ConfigModel):
    """No camera: codes come from the serial scanner only."""

    kind: Literal["none"] = "none"


class CameraSettings(ConfigModel):
    """A camera reading QR codes: a V4L2 device, a video file or a folder of images."""

    kind: Literal["camera"]
    source: str
    """V4L2 index ('0'), device path ('/dev/video0'), video file or image folder."""
    width: int = Field(default=1280, ge=160, le=3840)
    """Capture width. 1280x720 reads a pass at arm's length; 640x480 does not (docs/camera.md)."""
    height: int = Field(default=720, ge=120, le=2160)
    """Capture height."""
    source_fps: float | None = Field(default=None, gt=0, le=120)
    """Frame rate asked of a device; the pace of an image folder (default 5)."""
    max_decode_fps: float = Field(default=10.0, gt=0, le=60)
    """Frames decoded per second at most; the rest are skipped, never queued."""
    roi: tuple[float, float, float, float] | None = None
    """Region of interest [x, y, width, height] as fractions of the frame."""
    budget_ms: float = Field(default=30.0, gt=0, le=1000)
    """Time one frame may take before its cascade stops."""
    re_read_s: float = Field(default=1.0, ge=0, le=10)
    """Same code again = one scan."""
    stale_after_s: float = Field(default=2.0, gt=0, le=60)
    """No frame for this long: the camera is degraded."""
    down_after_s: float = Field(default=5.0, gt=0, le=300)
    """No frame for this long: down, and reopened."""
    loop: bool = False
    """Replay a video file or image folder at its end (demos)."""
    save_frames_dir: Path | None = None
    """Keep the frame of each scan here (relative to state_dir). Off by default: frames show
    residents' faces.
    """
    save_max_files: PositiveInt = 200
    """Newest saved frames kept."""

    @model_validator(mode="after")
    def _checks(self) -> CameraSettings:
        require_at_least(self, "down_after_s", "stale_after_s")
        if self.roi is not None:
            x, y, width, height = self.roi
            if not (0 <= x < 1 and 0 <= y < 1 and width > 0 and height > 0):
                raise ValueError(f"roi {self.roi}: x and y in [0, 1), width and height > 0")
            if x + width > 1 or y + height > 1:
                raise ValueError(f"roi {self.roi} reaches outside the frame")
        return self


LaneCameraSettings = Annotated[NoCameraSettings | CameraSettings, Field(discriminator="kind")]


class DoorSettings(ConfigModel):
    """The door contact and the request-to-exit button; both optional."""

    contact_pin: BcmPin | None = None
    """BCM GPIO of the door contact, closing to ground when the door is shut (a cut wire then reads
    as open). None: no contact.
    """
    exit_pin: BcmPin | None = None
    """BCM GPIO of the request-to-exit button (to ground)."""
    held_open_s: float = Field(default=30.0, gt=0, le=3600)
    """Open longer than this: door_held_open alarm."""
    exit_grace_s: float = Field(default=5.0, ge=0, le=60)
    """Opening this soon after an exit request: not forced."""
    bounce_s: float = Field(default=0.05, ge=0, le=1)
    """Contact chatter shorter than this is one opening."""

    def pins(self) -> list[int]:
        return [pin for pin in (self.contact_pin, self.exit_pin) if pin is not None]


class LaneSettings(ConfigModel):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")
    """Lane id, e.g. 'in-1'."""
    direction: Direction = Direction.IN
    """Which way people walk here."""
    scanner: ScannerSettings = Field(default_factory=SimScannerSettings)
    thermometer: ThermometerSettings = Field(default_factory=SimThermometerSettings)
    relay: RelaySettings = Field(default_factory=RelaySettings)
    indicator: IndicatorSettings = Field(default_factory=IndicatorSettings)
    camera: LaneCameraSettings = Field(default_factory=NoCameraSettings)
    """A QR camera beside the scanner."""
    door: DoorSettings = Field(default_factory=DoorSettings)
    """Door contact, exit button."""

    def pins(self) -> list[int]:
        ind = self.indicator
        return [self.relay.pin, ind.green_pin, ind.red_pin, ind.buzzer_pin, *self.door.pins()]


class SiteSettings(ConfigModel):
    community: str = Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")
    """Community id; passes name it as issuer."""
    gate: str = Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")
    """This gate's id."""
    state_dir: Path = Path("kakou-data")
    """Database and keys; relative to the working dir."""


class PassesSettings(ConfigModel):
    trusted_keys_dir: Path = Path("keys")
    """Folder of trusted issuer public keys (*.pub); relative to state_dir."""
    revocations_file: Path | None = None
    """Revoked pass ids, one per line; relative to state_dir."""


class ClockSettings(ConfigModel):
    assume_synced: bool = False
    """Treat the clock as synchronised (machines with an RTC)."""
    unsynced_policy: UnsyncedPolicy = UnsyncedPolicy.NOT_BEFORE_LAST_TRUSTED
    """How passes are judged before NTP syncs: not_before_last_trusted (device time, never earlier
    than the last synchronised time seen), trust_device, or deny_until_synced. See
    docs/operations.md.
    """


class SimSettings(ConfigModel):
    enabled: bool = False
    """Simulation endpoints for `kakou sim` (never on a real gate)."""
    issuer_kid: str = "sim"
    """Key id of the simulator's pass issuer."""


class CredentialsSettings(ConfigModel):
    """Secrets kept in files of their own, never in this TOML (systemd LoadCredential=)."""

    directory: Path = Path("/etc/kakou/credentials")
    """Folder of secret files (root only, mode 0600). The unit loads it with LoadCredential=; the
    service reads the copies in $CREDENTIALS_DIRECTORY, a manual run reads this folder.
    """
    mqtt_password: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    """File name (in the credentials folder) of the MQTT broker password."""
    mqtt_client_key: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    """File name (in the credentials folder) of the MQTT TLS client private key."""

    def names(self) -> list[str]:
        """The configured credential names."""
        return [name for name in (self.mqtt_password, self.mqtt_client_key) if name is not None]


class Settings(ConfigModel):
    site: SiteSettings
    passes: PassesSettings = Field(default_factory=PassesSettings)
    policy: Policy = Field(default_factory=Policy)
    lanes: list[LaneSettings] = Field(min_length=1)
    """At least one lane."""
    gpio: GpioSettings = Field(default_factory=GpioSettings)
    console: ConsoleSettings = Field(default_factory=ConsoleSettings)
    clock: ClockSettings = Field(default_factory=ClockSettings)
    sim: SimSettings = Field(default_factory=SimSettings)
    mqtt: SyncSettings | None = None
    """Sync entries to the community server; absent: none."""
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    credentials: CredentialsSettings = Field(default_factory=CredentialsSettings)
    visitors: VisitorSettings = Field(default_factory=VisitorSettings)
    alarms: AlarmSettings = Field(default_factory=AlarmSettings)
    voice: VoiceSettings = Field(default_factory=VoiceSettings)

    @model_validator(mode="after")
    def _cross_checks(self) -> Settings:
        """Checks across sections, all reported at once (one line each)."""
        problems: list[str] = []
        ids = [lane.id for lane in self.lanes]
        twice = sorted({lane_id for lane_id in ids if ids.count(lane_id) > 1})
        if twice:
            problems.append(f"lanes: lane id {', '.join(twice)} used more than once")
        seen: dict[int, str] = {}
        for index, lane in enumerate(self.lanes):
            for pin in lane.pins():
                if pin in seen:
                    problems.append(
                        f"lanes[{index}]: GPIO {pin} is used twice ({seen[pin]} and {lane.id})"
                    )
                seen.setdefault(pin, lane.id)
        uses_sim = any(
            lane.scanner.kind == "sim" or lane.thermometer.kind == "sim" for lane in self.lanes
        )
        if uses_sim and not self.sim.enabled:
            problems.append("sim.enabled: simulated devices need [sim] enabled = true")
        if self.sim.enabled and self.gpio.pin_factory != "mock":
            problems.append(
                "gpio.pin_factory: [sim] enabled needs pin_factory = 'mock' (never real pins)"
            )
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def state_path(self, path: Path) -> Path:
        return path if path.is_absolute() else self.site.state_dir / path

    @property
    def db_path(self) -> Path:
        return self.site.state_dir / "kakou.db"


def parse_settings(text: str, source: str) -> Settings:
    """Validate TOML text; raise ConfigError naming the source, each field and its problem."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(source, [f"{source}: not valid TOML: {exc}"]) from exc
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        problems = [
            f"{source}: {line}"
            for err in exc.errors()
            for line in describe(err, Settings).split("\n")
        ]
        raise ConfigError(source, problems) from exc


def load_settings(path: Path | None) -> Settings:
    """Load the file at ``path``, or the embedded simulated default when ``path`` is None."""
    if path is None:
        return parse_settings(default_config_text(), f"(embedded default {DEFAULT_CONFIG_NAME})")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), [f"{path}: cannot read: {exc}"]) from exc
    return parse_settings(text, str(path))
