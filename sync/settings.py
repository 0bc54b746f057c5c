"""Settings of the sync layer: the broker connection, the edge publisher and the receiver.

Validated once at start-up like ``edge.app.settings`` (``extra="forbid"``, a description on every
field). Secrets are never in the TOML: the broker password and a PostgreSQL DSN with a password
are read from files (systemd ``LoadCredential=``), and no ``repr`` or log line shows them.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Self

from pydantic import (
    Field,
    PositiveFloat,
    PositiveInt,
    ValidationError,
    model_validator,
)

from edge.config_errors import describe
from edge.configmodel import (
    ConfigModel,
    TcpPort,
    WebListenerSettings,
    require_at_least,
    require_pair,
)
from edge.passes import GATE_KEY_PREFIX, is_gate_key
from sync.contract import ID_PATTERN


class TlsSettings(ConfigModel):
    """TLS to the broker. With no ``ca_file`` the system's trusted CAs are used."""

    ca_file: Path | None = None
    """CA bundle that signed the broker."""
    cert_file: Path | None = None
    """Client certificate (mutual TLS)."""
    key_file: Path | None = None
    """Client certificate's private key."""

    @model_validator(mode="after")
    def _pair(self) -> Self:
        require_pair(self, "cert_file", "key_file")
        return self


class BrokerSettings(ConfigModel):
    """How to reach the MQTT broker (MQTT v5)."""

    host: str = "127.0.0.1"
    """Broker host name or address."""
    port: TcpPort = 1883
    """1883, or 8883 with TLS."""
    tls: TlsSettings | None = None
    """Use TLS; absent means plain TCP."""
    username: str | None = None
    """Broker user name, if it needs one."""
    password_file: Path | None = None
    """File holding the broker password (first line); never put it in the TOML."""
    client_id: str | None = Field(default=None, max_length=128)
    """MQTT client id; default kakou-<community>-<gate> (receiver: kakou-<name>)."""
    keepalive_s: int = Field(default=30, ge=5, le=600)
    """Ping interval; a dead link is found in 1.5x this."""
    session_expiry_s: int = Field(default=86_400, ge=0, le=2**32 - 1)
    """MQTT v5 Session Expiry Interval: how long the broker keeps our session (subscriptions, queued
    messages) after a disconnect. Sent explicitly: without it a v5 session ends at disconnect.
    """
    connect_timeout_s: float = Field(default=10.0, gt=0, le=120)
    """TCP/TLS connect and CONNACK wait."""
    reconnect_min_s: float = Field(default=1.0, gt=0, le=60)
    """First wait before reconnecting; doubles each try."""
    reconnect_max_s: float = Field(default=60.0, gt=0, le=3600)
    """Longest wait between reconnect attempts."""

    @model_validator(mode="after")
    def _broker_checks(self) -> Self:
        if self.password_file is not None and self.username is None:
            raise ValueError("password_file needs a username")
        require_at_least(self, "reconnect_max_s", "reconnect_min_s")
        return self

    def read_password(self) -> str | None:
        """The password from ``password_file`` (first line), read at each connect for rotation."""
        if self.password_file is None:
            return None
        lines = self.password_file.read_text(encoding="utf-8").splitlines()
        return lines[0] if lines else ""


class SyncSettings(BrokerSettings):
    """The gate's MQTT sync: ``[mqtt]`` in the gate's TOML. Absent means no sync."""

    batch_max_entries: int = Field(default=100, ge=1, le=1000)
    """Entries per MQTT message (bench/bench_sync.py measured 100 as the knee)."""
    max_inflight_messages: int = Field(default=16, ge=1, le=1000)
    """Messages published and awaiting PUBACK at once."""
    max_unacked_entries: PositiveInt = 10_000
    """Entries published but not yet acknowledged by the receiver; publishing waits beyond this, so
    a receiver outage never floods the broker.
    """
    puback_timeout_s: PositiveFloat = 30.0
    """A PUBACK later than this means the connection is up but stuck: reconnect."""
    ack_timeout_s: PositiveFloat = 60.0
    """No receiver ack progress for this long: send the unacknowledged again."""
    ack_timeout_max_s: PositiveFloat = 900.0
    """The resend wait doubles up to this while none comes."""
    status_interval_s: PositiveFloat = 60.0
    """How often the retained status is refreshed."""
    downlink_signers: list[str] = Field(default_factory=list)
    """Key ids of the office keys allowed to sign revocations, keys and policy (their .pub files in
    the trusted keys folder). Required: no other key ever signs downlink, and a gate's own
    'gate-' key never does.
    """
    downlink_max_future_s: float = Field(default=600.0, ge=0, le=86_400)
    """How far ahead of the gate's clock a downlink document's issued_at may be; a later one is
    refused and alarmed (clocks drift; a leaked key's forgeries do not).
    """
    max_queued_alerts: PositiveInt = 1000
    """Alerts kept while offline; the oldest are dropped."""

    @model_validator(mode="after")
    def _publisher_checks(self) -> Self:
        require_at_least(self, "ack_timeout_max_s", "ack_timeout_s")
        if not self.downlink_signers:
            raise ValueError(
                "downlink_signers is empty: name the office key that signs revocations, keys "
                'and policy, e.g. downlink_signers = ["office-2026"], and put office-2026.pub '
                "in the trusted keys folder (docs/mqtt.md, 'Signed downlink')"
            )
        for kid in self.downlink_signers:
            if not ID_PATTERN.fullmatch(kid):
                raise ValueError(f"downlink_signers: {kid!r} is not a key id")
            if is_gate_key(kid):
                raise ValueError(
                    f"downlink_signers: {kid!r} is a gate's visitor key ('{GATE_KEY_PREFIX}'); "
                    "a gate's key never signs downlink, name an office key"
                )
        return self


class DatabaseSettings(ConfigModel):
    """Where the receiver stores entries: a SQLite file, or PostgreSQL for larger sites."""

    path: Path | None = None
    """SQLite database file (the default backend)."""
    dsn: str | None = None
    """PostgreSQL connection string without a password, e.g. 'host=/run/postgresql dbname=kakou'.
    Use dsn_file when it holds one.
    """
    dsn_file: Path | None = None
    """File holding a PostgreSQL connection string (with password)."""

    @model_validator(mode="after")
    def _one_backend(self) -> Self:
        given = [name for name in ("path", "dsn", "dsn_file") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of path, dsn, dsn_file (got {given or 'none'})")
        return self

    def read_dsn(self) -> str | None:
        """The PostgreSQL DSN, or None for SQLite."""
        if self.dsn_file is not None:
            return self.dsn_file.read_text(encoding="utf-8").strip()
        return self.dsn


class ReceiverSettings(ConfigModel):
    """The community receiver's own behaviour."""

    name: str = Field(default="receiver-1", pattern=r"^[A-Za-z0-9_-]{1,32}$")
    """This receiver's name (client id and the 'receiver' field of its acks)."""
    group: str = Field(default="kakou-receivers", pattern=r"^[A-Za-z0-9_-]{1,32}$")
    """Shared subscription group: receivers in one group split the gates' batches."""
    timezone: str = "Asia/Shanghai"
    """Time zone of the office's days in the daily report."""
    max_batch_messages: int = Field(default=50, ge=1, le=1000)
    """MQTT messages stored per database transaction."""


class OfficeSettings(WebListenerSettings):
    """The office console served beside the receiver: ``[office]`` in server.toml.

    A web listener like the gate console's (off by default, port 8090, room for a roster
    upload). The signing key is a path, read when a document is signed, never kept in settings
    or logged.
    """

    enabled: bool = False
    """Serve the office console from `kakou server run`."""
    port: TcpPort = 8090
    """Listen port."""
    max_body_bytes: int = Field(default=4 * 1024 * 1024, ge=1024, le=64 * 1024 * 1024)
    """Largest request body (bytes), a roster upload included; a larger one is refused with 413
    unread.
    """
    signing_key: Path | None = None
    """The office's Ed25519 private key (PEM) that signs passes and downlink documents; read when
    used, never logged. Its key id is signing_kid.
    """
    signing_kid: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,32}$")
    """Key id of signing_key, as the gates' downlink_signers name it."""
    key_dir: Path | None = None
    """Folder of public keys (*.pub) the keys downlink publishes."""
    retention_days: int | None = Field(default=None, ge=1, le=36_500)
    """Days the office keeps entries and its own records of people; none: keep everything."""
    session_hours: float = Field(default=12.0, gt=0, le=72)
    """How long an officer's sign-in lasts."""

    @model_validator(mode="after")
    def _signing_checks(self) -> Self:
        require_pair(self, "signing_key", "signing_kid")
        if self.signing_kid is not None and is_gate_key(self.signing_kid):
            raise ValueError(f"signing_kid {self.signing_kid!r} is a gate's key id")
        return self


class ServerSettings(ConfigModel):
    """``server.toml``: the receiver's broker, database and behaviour, and the office console."""

    broker: BrokerSettings = Field(
        default_factory=lambda: BrokerSettings(session_expiry_s=7 * 86_400)
    )
    """The broker; the receiver's session is kept a week by default so batches published while it is
    down wait for it.
    """
    database: DatabaseSettings
    """Where entries are stored."""
    receiver: ReceiverSettings = Field(default_factory=ReceiverSettings)
    office: OfficeSettings = Field(default_factory=OfficeSettings)
    """The office console (off by default)."""


_BACKEND_KEYS = ("path", "dsn", "dsn_file")


class SettingsFileError(Exception):
    """A settings file that cannot be used; ``problems`` lists 'file: field: why'."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


def load_server_settings(
    path: Path, overrides: Mapping[str, object] | None = None
) -> ServerSettings:
    """Read ``server.toml``, then apply command-line ``overrides`` (dotted: 'broker.port')."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsFileError([f"{path}: cannot read: {exc}"]) from exc
    except tomllib.TOMLDecodeError as exc:
        raise SettingsFileError([f"{path}: not valid TOML: {exc}"]) from exc
    return server_settings_from(data, overrides, source=str(path))


def server_settings_from(
    data: Mapping[str, Any], overrides: Mapping[str, object] | None = None, *, source: str
) -> ServerSettings:
    """Validate a settings mapping, with dotted-key overrides (``"broker.port"``) on top.

    A database backend given as an override replaces the file's backend rather than adding a
    second one.
    """
    overrides = overrides or {}
    merged: dict[str, Any] = {
        section: dict(table) if isinstance(table, Mapping) else table
        for section, table in data.items()
    }
    if any(f"database.{key}" in overrides for key in _BACKEND_KEYS):
        database = merged.get("database")
        if isinstance(database, dict):
            for key in _BACKEND_KEYS:
                database.pop(key, None)
    for dotted, value in overrides.items():
        section, _, key = dotted.partition(".")
        table = merged.get(section)
        if not isinstance(table, dict):
            table = merged[section] = {}
        table[key] = value
    try:
        return ServerSettings.model_validate(merged)
    except ValidationError as exc:
        problems = [
            f"{source}: {line}"
            for error in exc.errors(include_url=False)
            for line in describe(error, ServerSettings).split("\n")
        ]
        raise SettingsFileError(problems) from exc
