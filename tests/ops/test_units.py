"""The systemd units and the installer: `systemd-analyze verify` accepts the units, shellcheck the
installer, and the units say what the gate relies on (notify + watchdog, restart, relay-off after
every stop, the user and devices it needs)."""

from __future__ import annotations

import shutil
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest

from tests.ops.conftest import REPO

UNITS = REPO / "systemd"
SYSTEM_UNITS = Path("/usr/lib/systemd/system")


def unit_settings(name: str) -> dict[str, list[str]]:
    """``Key=value`` lines of a unit file; a key may repeat (DeviceAllow=, Environment=)."""
    settings: dict[str, list[str]] = defaultdict(list)
    for line in (UNITS / name).read_text(encoding="utf-8").splitlines():
        if line and not line.startswith(("#", "[")) and "=" in line:
            key, _, value = line.partition("=")
            settings[key].append(value)
    return settings


def test_edge_unit_is_a_notify_service_with_a_watchdog_that_always_restarts() -> None:
    unit = unit_settings("kakou-edge.service")
    assert unit["Type"] == ["notify"]
    assert unit["NotifyAccess"] == ["main"]
    assert unit["WatchdogSec"] == ["30s"]
    assert unit["Restart"] == ["always"]
    assert unit["StartLimitIntervalSec"] == ["0"]


def test_edge_unit_forces_the_relay_off_after_every_stop_with_the_same_config() -> None:
    unit = unit_settings("kakou-edge.service")
    (start,) = unit["ExecStart"]
    (stop_post,) = unit["ExecStopPost"]
    assert start == "/opt/kakou/venv/bin/kakou run --config /etc/kakou/kakou.toml"
    assert stop_post == "/opt/kakou/venv/bin/kakou relay-off --config /etc/kakou/kakou.toml"


def test_edge_unit_runs_as_kakou_with_device_access_and_a_sandbox() -> None:
    unit = unit_settings("kakou-edge.service")
    assert unit["User"] == ["kakou"]
    assert unit["SupplementaryGroups"] == ["dialout gpio video audio"]
    # The pin factory is the machine's choice (install.sh writes it there), not the unit's.
    assert unit["EnvironmentFile"] == ["-/etc/kakou/kakou.env"]
    assert not any(value.startswith("GPIOZERO_") for value in unit["Environment"])
    assert unit["RuntimeDirectory"] == ["kakou"]
    assert unit["WorkingDirectory"] == ["/run/kakou"]  # lgpio writes its pipes here
    assert unit["StateDirectory"] == ["kakou"]
    assert unit["ConfigurationDirectory"] == ["kakou"]
    assert unit["LoadCredential"] == ["kakou:/etc/kakou/credentials"]
    for key, value in {
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "NoNewPrivileges": "yes",
        "DevicePolicy": "closed",
    }.items():
        assert unit[key] == [value], key
    allowed = {rule.split()[0] for rule in unit["DeviceAllow"]}
    assert {
        "char-ttyAMA",
        "char-ttyS",
        "char-ttyUSB",
        "char-gpiochip",
        "char-video4linux",
    } <= allowed
    # These would cut the gate off from its hardware.
    assert "PrivateDevices" not in unit
    assert "PrivateUsers" not in unit


def test_server_unit_runs_the_receiver() -> None:
    unit = unit_settings("kakou-server.service")
    assert unit["ExecStart"] == [
        "/opt/kakou/venv/bin/kakou server run --config /etc/kakou/server.toml"
    ]
    assert unit["Restart"] == ["always"]
    assert unit["User"] == ["kakou"]
    assert unit["PrivateDevices"] == ["yes"]


def systemd_analyze_verify(root: Path, units: list[Path]) -> subprocess.CompletedProcess[str]:
    analyze = shutil.which("systemd-analyze")
    assert analyze is not None, "systemd-analyze is missing: apt-get install -y systemd"
    return subprocess.run(
        [analyze, "verify", f"--root={root}", *map(str, units)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def stage_root(root: Path, units: list[Path]) -> list[Path]:
    """A root holding systemd's own units, an executable at ExecStart's path, and ``units``."""
    (root / "usr/lib/systemd").mkdir(parents=True)
    shutil.copytree(SYSTEM_UNITS, root / "usr/lib/systemd/system", symlinks=True)
    kakou = root / "opt/kakou/venv/bin/kakou"
    kakou.parent.mkdir(parents=True)
    kakou.write_text("#!/bin/sh\n")
    kakou.chmod(0o755)
    unit_dir = root / "etc/systemd/system"
    unit_dir.mkdir(parents=True)
    return [Path(shutil.copy(unit, unit_dir)) for unit in units]


def test_systemd_analyze_verify_passes_on_both_units(tmp_path: Path) -> None:
    staged = stage_root(tmp_path, sorted(UNITS.glob("*.service")))
    assert [unit.name for unit in staged] == ["kakou-edge.service", "kakou-server.service"]
    result = systemd_analyze_verify(tmp_path, staged)
    # verify exits 0 on "Unknown key ... ignoring": any output at all is a finding.
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


@pytest.mark.parametrize(
    ("change", "finding"),
    [
        (("WatchdogSec=30s", "WatchdogSec=thirty"), "Failed to parse sec value"),
        (("ProtectSystem=strict", "ProtectSystm=strict"), "Unknown key 'ProtectSystm'"),
        (("/opt/kakou/venv/bin/kakou run", "/opt/kakou/bin/kakou run"), "is not executable"),
    ],
    ids=["bad-value", "misspelt-key", "missing-binary"],
)
def test_systemd_analyze_verify_would_catch_a_broken_unit(
    tmp_path: Path, change: tuple[str, str], finding: str
) -> None:
    broken = tmp_path / "kakou-edge.service"
    text = (UNITS / "kakou-edge.service").read_text(encoding="utf-8")
    assert change[0] in text
    broken.write_text(text.replace(change[0], change[1]), encoding="utf-8")
    (root := tmp_path / "root").mkdir()
    staged = stage_root(root, [broken])
    result = systemd_analyze_verify(root, staged)
    assert finding in result.stdout + result.stderr


def test_install_script_is_shellcheck_clean() -> None:
    shellcheck = shutil.which("shellcheck")
    assert shellcheck is not None, "shellcheck is missing: apt-get install -y shellcheck"
    result = subprocess.run(
        [shellcheck, str(UNITS / "install.sh")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
