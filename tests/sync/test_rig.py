"""The rig leaves no process behind: a pytest run whose tests fail (or that is SIGKILLed) while
they hold brokers started by the sync fixtures ends with none of those brokers running. And a
broker whose free port was taken before it bound moves to another, unless its port was asked for
or it has started once.

Each case runs an inner pytest, in a subprocess, on tests that use this directory's conftest
(loaded as a plugin) and fail on purpose; every path the inner run touches is under its own
``--basetemp``, so "a process it started" is any process whose command line names that folder.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from tests.sync import rig
from tests.sync.rig import ROOT, Mosquitto, PortTakenError, port_open, wait_until

INNER_TESTS = """
import os
import time
from pathlib import Path

from tests.sync.rig import Mosquitto


def note(broker: Mosquitto) -> None:
    with Path(os.environ["KAKOU_PIDS"]).open("a") as pids:
        pids.write(f"{broker.pid}\\n")


def test_fails_holding_the_broker_fixture(broker):
    note(broker)
    assert broker.running
    raise AssertionError("failing on purpose")


def test_fails_after_stopping_and_restarting_it(broker):
    broker.stop()
    broker.start()
    note(broker)
    raise AssertionError("failing on purpose")


def test_fails_with_a_broker_it_started_and_never_stopped(tmp_path):
    own = Mosquitto(tmp_path / "own")
    own.start()
    note(own)
    raise AssertionError("failing on purpose, without a finally")


def test_hangs_holding_a_broker(broker):
    if not os.environ.get("KAKOU_HANG"):
        return
    note(broker)
    time.sleep(120)  # the outer test SIGKILLs this pytest meanwhile
"""


def inner_run(tmp_path: Path, *, hang: bool) -> tuple[subprocess.Popen[str], Path, Path]:
    """Start the inner pytest; returns it, its basetemp and the file its brokers' pids go to."""
    tests = tmp_path / "inner"
    tests.mkdir()
    (tests / "conftest.py").write_text('pytest_plugins = ["tests.sync.conftest"]\n')
    (tests / "test_inner.py").write_text(textwrap.dedent(INNER_TESTS))
    basetemp = tmp_path / "inner-tmp"
    pids = tmp_path / "pids"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "KAKOU_PIDS": str(pids)}
    if hang:
        env["KAKOU_HANG"] = "1"
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "default"]
    command += [f"--basetemp={basetemp}", f"--rootdir={tests}", str(tests / "test_inner.py")]
    if hang:
        command += ["-k", "hangs"]
    process = subprocess.Popen(
        command, cwd=tests, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    return process, basetemp, pids


def started_by(folder: Path) -> list[int]:
    """Live (not zombie) processes with a file under ``folder`` on their command line (the inner
    pytest names the folder itself, not a file in it)."""
    found = []
    for process in psutil.process_iter(["cmdline", "status"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if f"{folder}/" in cmdline and process.info["status"] != psutil.STATUS_ZOMBIE:
            found.append(process.pid)
    return found


def brokers_noted(pids: Path) -> list[int]:
    return [int(line) for line in pids.read_text().split()] if pids.exists() else []


@pytest.fixture
def reap() -> Iterator[list[subprocess.Popen[str]]]:
    """Inner runs this test started: killed at the end whatever happened."""
    runs: list[subprocess.Popen[str]] = []
    yield runs
    for run in runs:
        if run.poll() is None:
            run.kill()
            run.wait(10)


def test_failing_tests_leave_no_broker_running(
    tmp_path: Path, reap: list[subprocess.Popen[str]]
) -> None:
    process, basetemp, pids = inner_run(tmp_path, hang=False)
    reap.append(process)
    output, _ = process.communicate(timeout=120)
    assert "3 failed, 1 passed" in output, output
    # The test that never stopped its own broker is caught by the sweep after each test.
    assert "killed processes the test left running" in output, output
    assert len(brokers_noted(pids)) == 3, output  # each test did hold a running broker
    assert started_by(basetemp) == []
    for pid in brokers_noted(pids):
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def test_a_pytest_killed_with_sigkill_leaves_no_broker_running(
    tmp_path: Path, reap: list[subprocess.Popen[str]]
) -> None:
    process, basetemp, pids = inner_run(tmp_path, hang=True)
    reap.append(process)
    wait_until(lambda: bool(brokers_noted(pids)) or process.poll() is not None, 60, "a broker")
    assert process.poll() is None, process.communicate()[0]
    assert started_by(basetemp) == brokers_noted(pids)  # the broker runs, and it is ours
    process.send_signal(signal.SIGKILL)  # no teardown, no atexit: only the kernel can help
    process.wait(10)
    wait_until(lambda: started_by(basetemp) == [], 10, "the orphaned broker to die")


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port something else listens on, as another test worker's broker would."""
    with socket.socket() as holder:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield int(holder.getsockname()[1])


def test_a_broker_whose_picked_port_was_taken_starts_on_another(
    tmp_path: Path, taken_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    picks = [taken_port]  # the first free port the broker picks is the taken one
    free_port = rig.free_port
    monkeypatch.setattr(rig, "free_port", lambda: picks.pop() if picks else free_port())
    broker = Mosquitto(tmp_path / "mosquitto")
    assert broker.port == taken_port
    try:
        broker.start()
        assert broker.running
        assert broker.port != taken_port
        assert port_open(broker.port)
        assert "Address already in use" in broker.log_tail()
    finally:
        broker.kill()


def test_a_broker_on_a_port_asked_for_does_not_move(tmp_path: Path, taken_port: int) -> None:
    broker = Mosquitto(tmp_path / "mosquitto", port=taken_port)
    with pytest.raises(PortTakenError, match="Address already in use"):
        broker.start()
    assert broker.port == taken_port
    assert not broker.running


def test_a_restarted_broker_keeps_its_port(tmp_path: Path) -> None:
    broker = Mosquitto(tmp_path / "mosquitto")
    broker.start()
    port = broker.port
    broker.stop()
    with socket.socket() as holder:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        holder.bind(("127.0.0.1", port))  # taken while the broker was down
        holder.listen()
        with pytest.raises(PortTakenError):
            broker.start()
    assert broker.port == port
    assert not broker.running
    broker.start()  # free again: back on the same port
    try:
        assert broker.port == port
        assert port_open(port)
    finally:
        broker.kill()
