"""systemd/install.sh into a throw-away root on this machine, twice: the first run installs, the
second upgrades to a new release beside the first and keeps an edited configuration, secrets and
the data, migrating a database written by the previous schema version. Then an upgrade that
cannot reach the package index fails and leaves the running release in place, its gate serving
throughout, and --rollback switches between the two.

The installer runs for real (it needs root): account files written with useradd --prefix, a
virtual environment built from this tree, units enabled with systemctl --root. Only the system
packages (apt) are skipped, as they are in every --root install.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from edge.store import Store
from edge.store.migrations import LATEST_VERSION
from tests.drivers.waiting import wait_until
from tests.ops.conftest import (
    REPO,
    free_port,
    write_file,
    write_sim_config,
    write_version_1_database,
)

# Tens of seconds: run by default and in CI (-m 'not slow' leaves them out). They share the
# installed root and build on each other: the parallel run keeps a file on one worker, in order.
pytestmark = pytest.mark.slow

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


def run_installer(
    root: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(INSTALLER), "--root", str(root), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=INSTALL_TIMEOUT_S,
        env=env,
    )


def install(root: Path) -> subprocess.CompletedProcess[str]:
    result = run_installer(root)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def releases(root: Root) -> dict[str, str]:
    """Where current and previous point, and which release folders exist."""
    links = {
        name: os.readlink(root / f"opt/kakou/{name}")
        for name in ("current", "previous")
        if (root / f"opt/kakou/{name}").is_symlink()
    }
    folders = sorted(path.name for path in (root / "opt/kakou/releases").iterdir())
    return {**links, "folders": " ".join(folders)}


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


def test_the_gate_runs_from_a_release_with_the_locked_set_and_no_camera_stack(root: Root) -> None:
    current = os.readlink(root / "opt/kakou/current")
    assert current.startswith("releases/0.1.0-")
    assert os.readlink(root / "opt/kakou/venv") == "current/venv"  # the units' path
    assert not (root / "opt/kakou/previous").exists()  # a first install has none
    python = str(root / "opt/kakou/venv/bin/python")
    pins = (REPO / "requirements/gate-x86_64.txt").read_text()
    assert "cryptography==" in pins
    assert "opencv" not in pins
    # The example configuration has no camera lane: the camera extra is neither installed
    # nor needed; the pin factory lgpio comes from the lock.
    probe = "import importlib.util as u; print([bool(u.find_spec(m)) for m in ('cv2', 'lgpio')])"
    found = subprocess.run([python, "-c", probe], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "[False, True]"
    env_file = root / "etc/kakou/kakou.env"
    assert "GPIOZERO_PIN_FACTORY=lgpio" in env_file.read_text().splitlines()
    assert mode_owner(env_file) == ("0640", 0, root.gid)


def test_every_requirement_in_the_release_is_met(root: Root) -> None:
    """pip check: colorzero's setuptools and sqlite-utils' pip are in the lock too."""
    python = str(root / "opt/kakou/venv/bin/python")
    checked = subprocess.run(
        [python, "-m", "pip", "--disable-pip-version-check", "check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (checked.returncode, checked.stdout) == (0, "No broken requirements found.\n")


def test_the_installed_command_runs_and_validates_the_installed_config(root: Root) -> None:
    version = root.kakou("--version")
    assert version.returncode == 0, version.stderr
    check = root.kakou("config", "check", "--config", str(root / "etc/kakou/kakou.toml"))
    assert check.returncode == 0, check.stderr
    assert check.stdout.startswith("ok: community hxy, gate north")
    assert (root / "opt/kakou/docs/operations.md").is_file()


# -------------------------------------------------------------------------- second install


def test_the_install_makes_the_consoles_https_certificate(root: Root) -> None:
    """For guards' phones on the LAN (docs/console.md): made at the first install, its key for
    root and the service's group only (an upgrade keeps it: see the next test)."""
    tls = root / "etc/kakou/tls"
    assert (tls / "console.crt").read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")
    assert mode_owner(tls / "console.key") == ("0640", 0, root.gid)
    assert mode_owner(tls) == ("0750", 0, root.gid)


def test_a_second_run_upgrades_in_place_and_keeps_config_secrets_and_data(root: Root) -> None:
    config = root / "etc/kakou/kakou.toml"
    edited = config.read_text().replace('gate = "north"', 'gate = "east-2"')
    edited += "\n# edited on site: do not lose this line\n"
    config.write_text(edited)
    config.chmod(0o644)  # a careless edit: the installer puts it right again
    secret = write_file(root / "etc/kakou/credentials/mqtt-password", "s3cret\n", 0o644)
    private_key = write_file(
        root / "var/lib/kakou/keys/office.key", "-----BEGIN PRIVATE KEY-----\n", 0o644
    )
    db_path = root / "var/lib/kakou/kakou.db"
    old_entries = write_version_1_database(db_path, "hxy", "east-2", count=3)
    certificate = (root / "etc/kakou/tls/console.crt").read_bytes()

    second = install(root.path)

    # Phones already trust the console's certificate: an upgrade keeps it.
    assert "making the console's HTTPS certificate" not in second.stdout
    assert (root / "etc/kakou/tls/console.crt").read_bytes() == certificate

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
    # A new release beside the first, which is kept for --rollback.
    state = releases(root)
    assert state["current"] != state["previous"]
    assert state["folders"] == " ".join(
        sorted(name.removeprefix("releases/") for name in (state["current"], state["previous"]))
    )


# --------------------------------------------------------------- a failed upgrade, a rollback


class HealthPoller:
    """Asks a gate's console for /api/v1/health every 0.2 s on a thread of its own, counting the
    answers (any HTTP status) and the times nothing answered."""

    def __init__(self, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}/api/v1/health"
        self.answered = 0
        self.unanswered = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        while not self._stop.wait(0.2):
            try:
                with urllib.request.urlopen(self.url, timeout=5):
                    self.answered += 1
            except urllib.error.HTTPError:
                self.answered += 1  # degraded or down is still an answer
            except OSError:
                self.unanswered += 1

    def __enter__(self) -> HealthPoller:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(10)


@contextmanager
def gate_running_from(root: Root, folder: Path) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """`kakou run` of the root's current release (the simulated gate, console on a free port),
    running until the block ends; yields the process and its console's port."""
    port = free_port()
    config = write_sim_config(folder / "kakou.toml", state_dir=folder / "state", port=port)
    log = folder / "gate.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [str(root / "opt/kakou/venv/bin/kakou"), "run", "--config", str(config)],
            stdout=sink,
            stderr=subprocess.STDOUT,
            cwd=folder,
        )
    try:
        with HealthPoller(port) as poller:
            started = wait_until(lambda: poller.answered > 0, timeout_s=60)
        assert started, f"the installed gate never answered:\n{log.read_text(errors='replace')}"
        yield process, port
    finally:
        process.terminate()
        process.wait(20)


def test_an_upgrade_that_cannot_reach_the_index_leaves_the_running_release(
    root: Root, tmp_path: Path
) -> None:
    """The gate of the current release keeps serving through an upgrade that fails.

    Without systemd here the installer stops no gate itself (it would only after the new
    release is built, which this one never is); what is shown is that a failed build touches
    nothing the running gate uses: it answers every health check throughout, and its release
    is still the current one afterwards."""
    before = releases(root)
    offline = {key: value for key, value in os.environ.items() if not key.startswith("PIP_")}
    offline |= {
        "PIP_CONFIG_FILE": os.devnull,  # no mirror or local wheels from pip's configuration
        "PIP_INDEX_URL": "http://127.0.0.1:9/simple",  # nothing listens on port 9
        "PIP_NO_CACHE_DIR": "1",
        "PIP_RETRIES": "0",
        "PIP_TIMEOUT": "5",
    }
    with gate_running_from(root, tmp_path) as (gate, port), HealthPoller(port) as poller:
        failed = run_installer(root.path, env=offline)
        answered = poller.answered
        assert wait_until(lambda: poller.answered > answered, timeout_s=10)  # after it, too
        assert gate.poll() is None
    assert failed.returncode != 0
    assert answered > 0
    assert poller.unanswered == 0
    assert "FAILED before the switch: the running release is unchanged" in failed.stdout
    assert releases(root) == before  # the half-built release was removed, nothing switched
    assert root.kakou("--version").returncode == 0
    check = root.kakou("config", "check", "--config", str(root / "etc/kakou/kakou.toml"))
    assert check.returncode == 0, check.stderr


def test_rollback_switches_to_the_previous_release_and_back(root: Root) -> None:
    before = releases(root)
    result = run_installer(root.path, "--rollback")
    assert result.returncode == 0, result.stdout + result.stderr
    after = releases(root)
    assert (after["current"], after["previous"]) == (before["previous"], before["current"])
    assert root.kakou("--version").returncode == 0
    assert run_installer(root.path, "--rollback").returncode == 0
    assert releases(root) == before
