"""sync/settings.py, and docs/mqtt.md: the documented TOML validates, every topic, alert kind
and `kakou server` command is documented, every setting has a description."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import BaseModel, ValidationError

from edge.app.cli import main
from edge.app.cli.server import server
from edge.app.settings import default_config_text
from sync.contract import AlertKind, DownlinkKind
from sync.settings import (
    BrokerSettings,
    ServerSettings,
    SettingsFileError,
    SyncSettings,
    load_server_settings,
    server_settings_from,
)
from tests.sync.rig import ROOT

DOC = (ROOT / "docs" / "mqtt.md").read_text(encoding="utf-8")


def _toml_blocks() -> list[str]:
    return re.findall(r"```toml\n(.+?)```", DOC, flags=re.DOTALL)


def _models(model: type[BaseModel]) -> list[type[BaseModel]]:
    found = [model]
    for field in model.model_fields.values():
        for candidate in getattr(field.annotation, "__args__", (field.annotation,)):
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                found += _models(candidate)
    return found


@pytest.mark.parametrize("root", [SyncSettings, ServerSettings])
def test_every_setting_has_a_description(root: type[BaseModel]) -> None:
    for model in _models(root):
        if model is ServerSettings:
            continue
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name} has no description"


def test_the_documented_gate_and_receiver_settings_validate() -> None:
    gate_toml, server_toml = _toml_blocks()
    gate = SyncSettings.model_validate(tomllib.loads(gate_toml)["mqtt"])
    assert gate.tls is not None
    assert gate.downlink_signers == ["office-2026"]
    receiver = server_settings_from(tomllib.loads(server_toml), source="docs/mqtt.md")
    assert receiver.receiver.timezone == "Asia/Shanghai"
    assert receiver.broker.session_expiry_s == 604_800


def test_unknown_and_inconsistent_settings_are_refused() -> None:
    with pytest.raises(ValidationError, match="extra"):
        SyncSettings.model_validate({"hots": "typo", "downlink_signers": ["office"]})
    with pytest.raises(ValidationError, match="username"):
        BrokerSettings(password_file=Path("/run/pw"))
    with pytest.raises(ValidationError, match="ack_timeout_max_s"):
        SyncSettings(ack_timeout_s=100, ack_timeout_max_s=10, downlink_signers=["office"])
    with pytest.raises(ValidationError, match="cert_file and key_file"):
        BrokerSettings.model_validate({"tls": {"cert_file": "/c.pem"}})


def test_a_gate_with_mqtt_must_name_its_office_signer(tmp_path: Path) -> None:
    config = tmp_path / "kakou.toml"
    embedded = default_config_text()
    config.write_text(embedded + '\n[mqtt]\nhost = "broker.example"\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["config", "check", "--config", str(config)])
    assert result.exit_code == 2
    assert f"{config}: mqtt: " in result.output
    assert 'downlink_signers = ["office-2026"]' in result.output  # says what to add
    config.write_text(
        embedded + '\n[mqtt]\nhost = "broker.example"\ndownlink_signers = ["office-2026"]\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["config", "check", "--config", str(config)])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("kid", ["gate-north", "gate-x"])
def test_a_gate_key_is_never_a_downlink_signer(kid: str) -> None:
    with pytest.raises(ValidationError, match="never signs downlink"):
        SyncSettings(downlink_signers=["office-2026", kid])


def test_the_password_comes_from_its_file_and_is_never_shown(tmp_path: Path) -> None:
    secret = tmp_path / "password"
    secret.write_text("s3cret-line\nignored\n")
    broker = BrokerSettings(username="gate", password_file=secret)
    assert broker.read_password() == "s3cret-line"
    assert "s3cret" not in repr(broker)
    assert "s3cret" not in broker.model_dump_json()


def test_server_settings_from_a_file_with_flags_on_top(tmp_path: Path) -> None:
    config = tmp_path / "server.toml"
    config.write_text('[broker]\nport = 1884\n[database]\npath = "a.db"\n[receiver]\nname = "r2"\n')
    settings = load_server_settings(config, {"broker.port": 1999, "database.dsn": "dbname=k"})
    assert settings.broker.port == 1999
    assert (settings.database.path, settings.database.dsn) == (None, "dbname=k")
    assert settings.receiver.name == "r2"


def test_every_bad_field_is_reported_with_the_file(tmp_path: Path) -> None:
    config = tmp_path / "server.toml"
    config.write_text('[broker]\nport = "x"\n[receiver]\ngroup = "a/b"\n')
    with pytest.raises(SettingsFileError) as caught:
        load_server_settings(config)
    problems = "\n".join(caught.value.problems)
    for where in ("broker.port", "receiver.group", "database"):
        assert f"{config}: {where}" in problems


@pytest.mark.parametrize(
    ("office", "problem"),
    [
        ({"enabled": True, "host": "0.0.0.0"}, "set tls_cert and tls_key"),
        (
            {"enabled": True, "host": "0.0.0.0", "tls_cert": "/o.crt", "tls_key": "/o.key"},
            "set allowed_clients",
        ),
        ({"tls_cert": "/o.crt"}, "tls_cert and tls_key go together"),
        ({"allowed_clients": ["10.20"]}, "is not a network"),
        ({"allowed_hosts": ["https://office.example"]}, "not a host name"),
        ({"signing_kid": "office-2026"}, "signing_key and signing_kid go together"),
        ({"port": 0}, "office.port"),
    ],
)
def test_the_office_console_serves_the_lan_only_over_https_to_named_networks(
    office: dict[str, object], problem: str
) -> None:
    data = {"database": {"path": "a.db"}, "office": office}
    with pytest.raises(SettingsFileError) as caught:
        server_settings_from(data, source="server.toml")
    assert any(problem in line for line in caught.value.problems), caught.value.problems


def test_the_office_console_on_the_lan_as_documented_is_accepted() -> None:
    office = {
        "enabled": True,
        "host": "0.0.0.0",
        "tls_cert": "/etc/kakou/office.crt",
        "tls_key": "/etc/kakou/office.key",
        "allowed_clients": ["10.20.0.0/16"],
        "allowed_hosts": ["Office.Example.ORG."],
    }
    settings = server_settings_from(
        {"database": {"path": "a.db"}, "office": office}, source="server.toml"
    ).office
    assert settings.tls
    assert (settings.port, settings.max_body_bytes) == (8090, 4 * 1024 * 1024)
    assert settings.allowed_hosts == ["office.example.org"]


def test_the_contract_is_documented() -> None:
    for kind in AlertKind:
        assert f"`{kind.value}`" in DOC, kind
    for downlink in DownlinkKind:
        assert f"kakou/v1/<community>/downlink/{downlink.value}" in DOC
    for channel in ("entries", "ack", "status", "alerts/<kind>"):
        assert f"kakou/v1/<community>/<gate>/{channel}" in DOC
    for name in server.commands:
        assert f"kakou server {name}" in DOC, name
    for schema in (ROOT / "sync" / "schemas").glob("*.json"):
        assert schema.name in DOC, schema.name
