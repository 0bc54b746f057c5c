"""The README's flow as a newcomer runs it: `kakou run` on the embedded default (only the port
and the state folder changed), a simulated crowd from a second terminal, the durable log read
back with `kakou entries`, and a clean stop on SIGTERM. Every step is a real process."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow  # tens of seconds: run by default and in CI; -m 'not slow' skips

KAKOU = Path(sys.executable).parent / "kakou"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
CROWD = 60


def kakou(*args: str, cwd: Path, timeout_s: float = 60.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(KAKOU), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def newcomer_config(tmp_path: Path, port: int) -> Path:
    """`kakou config default`, with only console.port and site.state_dir changed."""
    printed = kakou("config", "default", cwd=tmp_path)
    assert printed.returncode == 0, printed.stderr
    state_dir = json.dumps(str(tmp_path / "state"))  # a TOML basic string
    text, ports = re.subn(r"(?m)^port = 8080$", f"port = {port}", printed.stdout)
    text, dirs = re.subn(r'(?m)^state_dir = "kakou-data"$', f"state_dir = {state_dir}", text)
    assert (ports, dirs) == (1, 1), "the embedded default changed shape"
    path = tmp_path / "kakou.toml"
    path.write_text(text, encoding="utf-8")
    return path


def wait_healthy(url: str, process: subprocess.Popen[str]) -> dict[str, object]:
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        assert process.poll() is None, f"kakou run exited with {process.returncode}"
        try:
            health: dict[str, object] = httpx.get(f"{url}/api/v1/health", timeout=2).json()
        except httpx.HTTPError:
            health = {}
        if health.get("status") == "ok":
            return health
        assert time.monotonic() < deadline, f"not healthy in time: {health}"
        time.sleep(0.2)


@pytest.fixture
def gate_process(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """`kakou run --config <tmp config>` in tmp_path; killed if the test did not stop it."""
    port = free_port()
    config = newcomer_config(tmp_path, port)
    log = (tmp_path / "kakou-run.log").open("w")
    process = subprocess.Popen(
        [str(KAKOU), "run", "--config", str(config)],
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield process, f"http://127.0.0.1:{port}"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT_S)
        log.close()


def test_run_crowd_entries_and_stop_as_the_readme_says(
    tmp_path: Path, gate_process: tuple[subprocess.Popen[str], str]
) -> None:
    process, url = gate_process
    wait_healthy(url, process)

    crowd = kakou("sim", "--url", url, "crowd", str(CROWD), "--seed", "3", cwd=tmp_path)
    assert crowd.returncode == 0, crowd.stdout + crowd.stderr
    assert f"people {CROWD}, entries {CROWD}, matching the expected decision {CROWD}" in (
        crowd.stdout
    )
    assert "MISMATCH" not in crowd.stdout

    db = tmp_path / "state" / "kakou.db"
    listed = kakou("entries", "--db", str(db), "--json", cwd=tmp_path)  # --json: every entry
    assert listed.returncode == 0, listed.stderr
    documents = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [d["seq"] for d in documents] == list(range(1, CROWD + 1))
    assert {d["outcome"] for d in documents} >= {"passed", "denied", "fever"}
    # With --limit: the newest ones, oldest first.
    newest = kakou("entries", "--db", str(db), "--json", "--limit", "50", cwd=tmp_path)
    assert [json.loads(line)["seq"] for line in newest.stdout.splitlines()] == list(
        range(CROWD - 49, CROWD + 1)
    )

    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=STOP_TIMEOUT_S) == 0
    log = (tmp_path / "kakou-run.log").read_text(encoding="utf-8")
    assert "Traceback" not in log, log
