"""systemd/install.sh into a throw-away root on this machine, twice: the first run installs, the
second upgrades in place and keeps an edited configuration, secrets and the data, migrating a
database written by the previous schema version.

The installer runs for real (it needs root): account files written with useradd --prefix, a
virtual environment built from this tree, units enabled with systemctl --root. Only the system
packages (apt) are skipped, as they are in every --root install.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from edge.store import Store
from edge.store.migrations import LATEST_VERSION
from tests.ops.conftest import REPO, write_version_1_database

pytestmark = pytest.mark.slow  # tens of seconds: run by default and in CI; -m 'not slow' skips

INSTALLER = REPO / "systemd" / "install.sh"
INSTALL_TIMEOUT_S = 600


@dataclass
class Root:
    path: Path

    def __truediv__(self, relative: str) -> Path:
        return self.path / relative.lstrip("/")

    def account(self, table: str, name: str) -> list[str]:
        for line in (self / f"etc/{table}").read_text().splitlines():
            fields = line.split(":")
            if fields[0] == name:
                return fields
        raise AssertionError(f"no {name} in {table}")

    @property
    def uid(self) -> int:
        return int(self.account("passwd", "kakou")[2])

    @property
    def gid(self) -> int:
        return int(self.account("group", "kakou")[2])

    def kakou(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self / "opt/kakou/venv/bin/kakou"), *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )


def mode_owner(path: Path) -> tuple[str, int, int]:
    info = path.stat()
    return f"{stat.S_IMODE(info.st_mode):04o}", info.st_uid, info.st_gid


def install(root: Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        ["bash", str(INSTALLER), "--root", str(root)],
        capture_output=True,
        text=True,
        check=False,
        timeout=INSTALL_TIMEOUT_S,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Root]:
    assert os.geteuid() == 0, "the installer creates accounts and sets owners: run as root"
    path = tmp_path_factory.mktemp("install") / "root"
    first = install(path)
    assert "creating system user kakou" in first.stdout
    yield Root(path)
    shutil.rmtree(path, ignore_errors=True)


# ----------------------------------------------------------------------------- first install


def test_the_service_user_is_a_system_account_in_the_device_groups(root: Root) -> None:
    _name, _, uid, gid, _comment, home, shell = root.account("passwd", "kakou")
    assert int(uid) < 1000
    assert int(gid) == root.gid
    assert (home, shell) == ("/var/lib/kakou", "/usr/sbin/nologin")
    for group in ("dialout", "gpio", "video", "audio"):  # created here if missing
        assert "kakou" in root.account("group", group)[3].split(","), group


def test_configuration_is_the_example_readable_by_the_service_group_only(root: Root) -> None:
    config = root / "etc/kakou/kakou.toml"
    example = (REPO / "config/kakou.example.toml").read_text()
    assert config.read_text() == example
    assert mode_owner(config) == ("0640", 0, root.gid)
    assert mode_owner(root / "etc/kakou") == ("0750", 0, root.gid)
    assert mode_owner(root / "etc/kakou/credentials") == ("0700", 0, 0)
    assert (root / "etc/kakou/kakou.toml.example").read_text() == example


def test_state_directory_belongs_to_the_service(root: Root) -> None:
    assert mode_owner(root / "var/lib/kakou") == ("0750", root.uid, root.gid)
    assert mode_owner(root / "var/lib/kakou/keys") == ("0750", root.uid, root.gid)


def test_units_are_installed_and_the_gate_is_enabled(root: Root) -> None:
    for unit in ("kakou-edge.service", "kakou-server.service"):
        installed = root / f"etc/systemd/system/{unit}"
        assert installed.read_text() == (REPO / "systemd" / unit).read_text()
        assert mode_owner(installed) == ("0644", 0, 0)
    wants = root / "etc/systemd/system/multi-user.target.wants"
    assert os.readlink(wants / "kakou-edge.service") == "/etc/systemd/system/kakou-edge.service"
    assert not (wants / "kakou-server.service").exists()  # the receiver only with --server


def test_the_installed_command_runs_and_validates_the_installed_config(root: Root) -> None:
    version = root.kakou("--version")
    assert version.returncode == 0, version.stderr
    check = root.kakou("config", "check", "--config", str(root / "etc/kakou/kakou.toml"))
    assert check.returncode == 0, check.stderr
    assert check.stdout.startswith("ok: community hxy, gate north")
    assert (root / "opt/kakou/docs/operations.md").is_file()


# -------------------------------------------------------------------------- second install


def test_a_second_run_upgrades_in_place_and_keeps_config_secrets_and_data(root: Root) -> None:
    config = root / "etc/kakou/kakou.toml"
    edited = config.read_text().replace('gate = "north"', 'gate = "east-2"')
    edited += "\n# edited on site: do not lose this line\n"
    config.write_text(edited)
    config.chmod(0o644)  # a careless edit: the installer puts it right again
    secret = root / "etc/kakou/credentials/mqtt-password"
    secret.write_text("s3cret\n")
    secret.chmod(0o644)
    private_key = root / "var/lib/kakou/keys/office.key"
    private_key.write_text("-----BEGIN PRIVATE KEY-----\n")
    private_key.chmod(0o644)
    db_path = root / "var/lib/kakou/kakou.db"
    old_entries = write_version_1_database(db_path, "hxy", "east-2", count=3)

    second = install(root.path)

    assert "creating system user" not in second.stdout
    assert "keeping /etc/kakou/kakou.toml" in second.stdout
    assert config.read_text() == edited
    assert mode_owner(config) == ("0640", 0, root.gid)
    assert mode_owner(secret) == ("0600", 0, 0)
    assert mode_owner(private_key) == ("0600", root.uid, root.gid)
    assert secret.read_text() == "s3cret\n"
    # Migrated by the installer's upgrade step, owned by the service, every entry kept.
    assert (
        f"schema version {LATEST_VERSION}, integrity ok, 3 entries of hxy/east-2" in second.stdout
    )
    for path in root.path.glob("var/lib/kakou/kakou.db*"):
        assert mode_owner(path)[1:] == (root.uid, root.gid), path
    with Store.open_existing(db_path) as store:
        assert store.schema_version() == LATEST_VERSION
        assert store.entries() == old_entries
        assert store.last_seq() == 3
    passwd = (root / "etc/passwd").read_text().splitlines()
    assert [line.split(":")[0] for line in passwd].count("kakou") == 1
    assert (root / "etc/systemd/system/multi-user.target.wants/kakou-edge.service").is_symlink()
    assert root.kakou("--version").returncode == 0
