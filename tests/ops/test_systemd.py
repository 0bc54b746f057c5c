"""edge.systemd: sd_notify over a real datagram socket, the watchdog loop with injected liveness,
credentials lookup, and the liveness checks of a real (simulated) gate."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory

from edge import systemd
from edge.app import boot
from edge.app.boot import Gate
from edge.app.settings import Settings
from tests.drivers.waiting import wait_until
from tests.ops.conftest import write_file
from tests.settings import sim_settings

FIXTURES = Path(__file__).parents[1] / "fixtures" / "qr"


class NotifySocket:
    """A unix datagram socket standing in for systemd's notify socket; collects messages."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        bind_to = "\0" + address[1:] if address.startswith("@") else address
        self.sock.bind(bind_to)
        self.sock.settimeout(0.05)
        self.messages: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._collect, daemon=True)
        self._thread.start()

    def _collect(self) -> None:
        while not self._stop.is_set():
            try:
                self.messages.append(self.sock.recv(4096).decode())
            except TimeoutError:
                continue

    def lines(self) -> list[str]:
        return [line for message in list(self.messages) for line in message.splitlines()]

    def close(self) -> None:
        self._stop.set()
        self._thread.join(1)
        self.sock.close()


@pytest.fixture
def notify_socket() -> Iterator[NotifySocket]:
    server = NotifySocket(f"@kakou-test-{uuid.uuid4().hex}")
    yield server
    server.close()


def test_notifier_without_a_socket_does_nothing() -> None:
    notifier = systemd.Notifier.from_environment({})
    assert not notifier.enabled
    assert notifier.ready("up") is False
    assert notifier.watchdog() is False


def test_notifier_speaks_sd_notify_to_an_abstract_socket(notify_socket: NotifySocket) -> None:
    notifier = systemd.Notifier.from_environment({"NOTIFY_SOCKET": notify_socket.address})
    assert notifier.ready("gate up")
    assert notifier.watchdog()
    assert notifier.stopping()
    assert wait_until(lambda: len(notify_socket.messages) == 3)
    assert notify_socket.messages == [
        "READY=1\nSTATUS=gate up",
        "WATCHDOG=1",
        "STOPPING=1\nSTATUS=stopping",
    ]


def test_notifier_to_a_path_socket(tmp_path: Path) -> None:
    server = NotifySocket(str(tmp_path / "notify"))
    try:
        assert systemd.Notifier(server.address).watchdog()
        assert wait_until(lambda: server.messages == ["WATCHDOG=1"])
    finally:
        server.close()


def test_a_vanished_socket_is_a_logged_failure_not_a_crash(tmp_path: Path) -> None:
    assert systemd.Notifier(str(tmp_path / "gone")).watchdog() is False


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, None),
        ({"WATCHDOG_USEC": "30000000"}, 15.0),
        ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(os.getpid())}, 15.0),
        ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}, None),  # meant for another process
        ({"WATCHDOG_USEC": "0"}, None),
        ({"WATCHDOG_USEC": "soon"}, None),
    ],
)
def test_watchdog_interval_is_half_of_watchdog_sec(
    environ: dict[str, str], expected: float | None
) -> None:
    assert systemd.watchdog_interval_s(environ) == expected


def test_pings_stop_for_good_when_a_worker_dies(notify_socket: NotifySocket) -> None:
    lane_alive = threading.Event()
    lane_alive.set()
    checks = [
        systemd.WorkerCheck("lane in-1", lane_alive.is_set),
        systemd.WorkerCheck("device in-1/scanner", lambda: True),
    ]
    notifier = systemd.Notifier(notify_socket.address)
    stop = threading.Event()
    result: list[list[str]] = []
    loop = threading.Thread(
        target=lambda: result.append(systemd.supervise(stop, checks, notifier, interval_s=0.01))
    )
    loop.start()
    try:
        assert wait_until(lambda: notify_socket.lines().count("WATCHDOG=1") >= 5)
        lane_alive.clear()  # the lane's worker thread died
        assert wait_until(lambda: "STATUS=worker down: lane in-1" in notify_socket.lines())
        pings = notify_socket.lines().count("WATCHDOG=1")
        lane_alive.set()  # even if a check flickers back, a dead worker does not come back
        stop.wait(0.3)  # thirty more rounds of the loop
        assert notify_socket.lines().count("WATCHDOG=1") == pings
        assert notify_socket.lines()[-1] == "STATUS=worker down: lane in-1"
    finally:
        stop.set()
        loop.join(2)
    assert result == [["lane in-1"]]


def test_a_check_that_raises_counts_as_a_dead_worker() -> None:
    def broken() -> bool:
        raise RuntimeError("bug in a check")

    checks = [systemd.WorkerCheck("ok", lambda: True), systemd.WorkerCheck("bad", broken)]
    assert systemd.dead_workers(checks) == ["bad"]


@pytest.fixture
def build_gate(
    mock_factory: MockFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[Settings], Gate]]:
    """boot.build_gate on mock pins; every gate built is stopped when the test ends."""
    monkeypatch.setattr(boot, "make_pin_factory", lambda name: mock_factory)
    gates: list[Gate] = []

    def build(settings: Settings) -> Gate:
        gates.append(boot.build_gate(settings))
        return gates[-1]

    yield build
    for gate in gates:
        gate.stop()


def test_gate_liveness_checks_see_lanes_and_device_readers(
    tmp_path: Path, build_gate: Callable[[Settings], Gate]
) -> None:
    gate = build_gate(sim_settings(tmp_path / "state"))
    checks = boot.worker_checks(gate)
    assert {check.name for check in checks} == {
        "lane in-1",
        "device in-1/scanner",
        "device in-1/thermometer",
    }
    assert wait_until(lambda: systemd.dead_workers(checks) == [])
    gate.lanes["in-1"].stop()
    assert systemd.dead_workers(checks) == ["lane in-1"]
    gate.stop()  # a stopped gate: every worker counts as dead
    assert sorted(systemd.dead_workers(checks)) == [
        "device in-1/scanner",
        "device in-1/thermometer",
        "lane in-1",
    ]


def test_a_hung_lane_counts_as_dead(tmp_path: Path, build_gate: Callable[[Settings], Gate]) -> None:
    gate = build_gate(sim_settings(tmp_path / "state"))
    lane = gate.lanes["in-1"]
    assert wait_until(lambda: lane.last_tick_mono_s > 0)
    assert systemd.dead_workers(boot.worker_checks(gate, stall_s=5.0)) == []
    # A worker alive but not ticking for longer than stall_s (deadlocked) is not vouched for.
    assert systemd.dead_workers(boot.worker_checks(gate, stall_s=0.0)) == ["lane in-1"]


# ------------------------------------------------------------------------------ credentials


def test_credentials_come_from_systemd_when_it_loaded_them(tmp_path: Path) -> None:
    loaded = tmp_path / "run-credentials"
    write_file(loaded / "kakou_mqtt-password", "s3cret\n")
    write_file(loaded / "client.key", "KEY")
    source = tmp_path / "etc-credentials"
    environ = {"CREDENTIALS_DIRECTORY": str(loaded)}
    # The unit loads the whole folder: systemd prefixes each name with "kakou_".
    assert (
        systemd.credential_path("mqtt-password", source, environ) == loaded / "kakou_mqtt-password"
    )
    # A drop-in may load one credential under its own name.
    assert systemd.credential_path("client.key", source, environ) == loaded / "client.key"
    # Not loaded by systemd, or no systemd at all: the configured folder.
    assert systemd.credential_path("other", source, environ) == source / "other"
    assert systemd.credential_path("mqtt-password", source, {}) == source / "mqtt-password"


@pytest.mark.parametrize("name", ["", "..", "../etc/shadow", "a/b"])
def test_a_credential_name_cannot_reach_outside_its_folder(name: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="plain file name"):
        systemd.credential_path(name, tmp_path, {})


def test_readable_secret_files_are_warned_about_not_refused(tmp_path: Path) -> None:
    private = write_file(tmp_path / "private", "x", 0o600)
    shared = write_file(tmp_path / "shared", "x", 0o640)
    warnings = systemd.secret_file_warnings([private, shared, tmp_path / "missing"])
    assert warnings == [
        f"{shared}: secret file is readable by group or others (mode 0640); run chmod 600 on it",
        f"{tmp_path / 'missing'}: secret file does not exist",
    ]


def test_boot_checks_the_configured_secrets(tmp_path: Path) -> None:
    folder = tmp_path / "credentials"
    write_file(folder / "mqtt-password", "x", 0o644)
    settings = sim_settings(
        tmp_path / "state", credentials={"directory": str(folder), "mqtt_password": "mqtt-password"}
    )
    assert boot.secret_warnings(settings) == [
        f"{folder / 'mqtt-password'}: secret file is readable by group or others (mode 0644); "
        "run chmod 600 on it"
    ]
    assert boot.secret_warnings(sim_settings(tmp_path / "state")) == []


def test_camera_and_door_threads_are_watched_too(
    tmp_path: Path, build_gate: Callable[[Settings], Gate]
) -> None:
    """A lane with a camera (an image folder) and a door contact: each has its own thread, and
    the watchdog must see them alive, not mistake them for dead serial readers."""
    frames = tmp_path / "frames"
    frames.mkdir()
    shutil.copy(FIXTURES / "printed_far.jpg", frames / "0001.jpg")
    lane = sim_settings(tmp_path / "x").lanes[0].model_dump(mode="json")
    lane["camera"] = {"kind": "camera", "source": str(frames), "loop": True}
    lane["door"] = {"contact_pin": 5}
    gate = build_gate(sim_settings(tmp_path / "state", lanes=[lane]))
    checks = boot.worker_checks(gate)
    assert {"device in-1/camera", "device in-1/door"} <= {check.name for check in checks}
    assert wait_until(lambda: systemd.dead_workers(checks) == [], timeout_s=10)
    gate.stop()  # a stopped gate: its camera and door threads count as dead
    assert {"device in-1/camera", "device in-1/door"} <= set(systemd.dead_workers(checks))
