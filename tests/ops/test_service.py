"""`kakou run` as systemd runs it: READY and watchdog pings on a notify socket, and the relay
released after SIGTERM (by the process itself), SIGABRT and SIGKILL (by `kakou relay-off`, the
unit's ExecStopPost=).

The gate is the embedded simulated one, a real subprocess with the console on a free port,
started in emergency free exit: its relay is held energised, as a guard's emergency mode holds
it, and the console's lane view says so. MockFactory pins live inside the process, so what
happened to the relay at stop is read from the journal the service writes (stderr here): the
pin is read back after release.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.drivers.waiting import wait_until
from tests.ops.conftest import KAKOU, free_port, write_sim_config
from tests.ops.test_systemd import NotifySocket

WATCHDOG_USEC = 400_000  # WatchdogSec=0.4s: a ping every 0.2 s
START_TIMEOUT_S = 30.0
ENERGISED_AT_START = "relay in-1 energised at start (mode emergency)"
RELEASED_AT_STOP = "relay in-1 released at stop"


def _no_core_dump() -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # SIGABRT would otherwise dump core


@dataclass
class RunningGate:
    process: subprocess.Popen[bytes]
    config: Path
    port: int
    journal: Path
    notify: NotifySocket

    def log(self) -> str:
        return self.journal.read_text(encoding="utf-8", errors="replace")

    def api(self, path: str) -> dict[str, Any]:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=10) as answer:
            body: dict[str, Any] = json.loads(answer.read())
            return body

    def assert_relay_energised(self) -> None:
        lane = self.api("/api/v1/lanes/in-1")
        assert (lane["mode"], lane["relay_energised"]) == ("emergency", True)

    def wait_exit(self, timeout_s: float = 20.0) -> int:
        return self.process.wait(timeout=timeout_s)


@pytest.fixture
def gate(tmp_path: Path) -> Iterator[RunningGate]:
    port = free_port()
    config = write_sim_config(
        tmp_path / "kakou.toml", state_dir=tmp_path / "state", port=port, emergency=True
    )
    notify = NotifySocket(f"@kakou-test-{os.getpid()}-{port}")
    journal = tmp_path / "journal.log"
    env = {
        **os.environ,
        "NOTIFY_SOCKET": notify.address,
        "WATCHDOG_USEC": str(WATCHDOG_USEC),
        "PYTHONUNBUFFERED": "1",
    }
    with journal.open("wb") as sink:
        process = subprocess.Popen(
            [KAKOU, "run", "--config", config],
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=tmp_path,
            preexec_fn=_no_core_dump,
        )
    running = RunningGate(process, config, port, journal, notify)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not any(line == "READY=1" for line in notify.lines()):
            assert process.poll() is None, f"kakou run exited early:\n{running.log()}"
            assert time.monotonic() < deadline, f"no READY=1:\n{running.log()}"
            time.sleep(0.05)
        yield running
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
        notify.close()


def relay_off(config: Path) -> subprocess.CompletedProcess[str]:
    """What systemd does next, whatever killed the service: ExecStopPost=kakou relay-off."""
    return subprocess.run(
        [KAKOU, "relay-off", "--config", config],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_ready_then_watchdog_pings_then_stopping_and_a_clean_sigterm(gate: RunningGate) -> None:
    assert wait_until(lambda: gate.notify.lines().count("WATCHDOG=1") >= 3, timeout_s=5)
    gate.assert_relay_energised()

    gate.process.send_signal(signal.SIGTERM)

    assert gate.wait_exit() == 0
    log = gate.log()
    assert RELEASED_AT_STOP in log  # read back from the pin after release, before it was freed
    assert log.index(ENERGISED_AT_START) < log.index(RELEASED_AT_STOP)
    assert "still reads energised" not in log
    lines = gate.notify.lines()
    assert lines[:2] == ["READY=1", "STATUS=gate demo/north: 1 lane(s) running"]
    assert lines[-2:] == ["STOPPING=1", "STATUS=stopping"]
    assert lines.index("WATCHDOG=1") > lines.index("READY=1")


@pytest.mark.parametrize(
    "kill_signal", [signal.SIGABRT, signal.SIGKILL], ids=["SIGABRT", "SIGKILL"]
)
def test_after_a_watchdog_abort_or_a_kill_relay_off_releases_the_relay(
    gate: RunningGate, kill_signal: signal.Signals
) -> None:
    gate.assert_relay_energised()

    gate.process.send_signal(kill_signal)

    assert gate.wait_exit() == -kill_signal
    # The process had no chance to release anything: this is why the unit has ExecStopPost=.
    assert ENERGISED_AT_START in gate.log()
    assert RELEASED_AT_STOP not in gate.log()
    result = relay_off(gate.config)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "in-1: relay on GPIO 17 released (energised when high)\n"
