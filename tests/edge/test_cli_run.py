"""The `kakou` command's shell around the library: config check/default, and clear errors (with
an exit status, never a traceback) for a broken file, a gate that is not running, a missing log.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from click.testing import CliRunner, Result

from edge.app.boot import Gate, build_gate
from edge.app.cli import main
from edge.app.settings import default_config_text, parse_settings
from edge.bus import BusEvent
from edge.console.app import create_app
from tests.drivers.waiting import wait_until
from tests.edge.console.conftest import gate_settings

ROOT = Path(__file__).resolve().parents[2]
KAKOU = Path(sys.executable).parent / "kakou"

BROKEN = """\
[site]
community = "demo community"
gate = "north"

[[lanes]]
id = "In-1"
relay = { pin = 99 }
scanner = { kind = "serial" }
thermometer = { kind = "none" }

[console]
port = 0
colour = "blue"
"""
BROKEN_FIELDS = [
    "site.community",
    "lanes[0].id",
    "lanes[0].scanner.url",
    "lanes[0].relay.pin",
    "console.port",
    "console.colour",
]


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def assert_clean_exit(result: Result, code: int) -> None:
    """Exited on purpose with ``code``: no exception escaped, no traceback printed."""
    assert result.exit_code == code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output + result.stderr


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# ------------------------------------------------------------------------------ config


def test_config_check_accepts_the_example_config() -> None:
    result = invoke("config", "check", "--config", str(ROOT / "config" / "kakou.example.toml"))
    assert_clean_exit(result, 0)
    assert result.stdout.startswith("ok: community hxy, gate north, lanes in-1 (in)")


def test_config_check_accepts_the_embedded_default() -> None:
    result = invoke("config", "check")
    assert_clean_exit(result, 0)
    assert result.stdout.startswith("ok: community demo, gate north, lanes in-1 (in)")


def test_config_check_lists_every_problem_on_its_own_line(tmp_path: Path) -> None:
    path = tmp_path / "kakou.toml"
    path.write_text(BROKEN, encoding="utf-8")
    result = invoke("config", "check", "--config", str(path))
    assert_clean_exit(result, 2)
    header, *problems = result.stderr.splitlines()
    assert header == f"kakou: configuration has {len(BROKEN_FIELDS)} problem(s):"
    assert len(problems) == len(BROKEN_FIELDS)
    for line, field_path in zip(problems, BROKEN_FIELDS, strict=True):
        assert line.startswith(f"  {path}: {field_path}: "), line
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("text", "problem"),
    [("x = [", "not valid TOML"), (None, "cannot read")],
    ids=["not-toml", "missing-file"],
)
def test_config_check_names_the_file_it_cannot_use(
    tmp_path: Path, text: str | None, problem: str
) -> None:
    path = tmp_path / "kakou.toml"
    if text is not None:
        path.write_text(text, encoding="utf-8")
    result = invoke("config", "check", "--config", str(path))
    assert_clean_exit(result, 2)
    (line,) = result.stderr.splitlines()[1:]
    assert line.startswith(f"  {path}: {problem}")


def test_config_default_prints_toml_that_is_the_embedded_default() -> None:
    result = invoke("config", "default")
    assert_clean_exit(result, 0)
    assert result.stdout == default_config_text()
    data = tomllib.loads(result.stdout)
    assert data["sim"]["enabled"] is True
    settings = parse_settings(result.stdout, "(printed default)")
    assert [lane.id for lane in settings.lanes] == ["in-1"]


def test_run_with_a_broken_config_exits_2_before_starting_anything(tmp_path: Path) -> None:
    path = tmp_path / "kakou.toml"
    path.write_text(BROKEN, encoding="utf-8")
    done = subprocess.run(
        [str(KAKOU), "run", "--config", str(path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert f"{path}: console.port: " in done.stderr
    assert not (tmp_path / "kakou-data").exists()


# ------------------------------------------------------------------------ other commands


@pytest.mark.parametrize(
    "args",
    [("present", "KK1:ABC"), ("temp", "36.6"), ("crowd", "3", "--seed", "1")],
    ids=["present", "temp", "crowd"],
)
def test_sim_against_no_server_is_a_clear_error(args: tuple[str, ...]) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = invoke("sim", "--url", url, *args)
    assert_clean_exit(result, 1)
    assert f"Error: cannot reach the gate at {url}" in result.stderr
    assert "is `kakou run` running?" in result.stderr


def test_entries_on_a_missing_database_exits_2(tmp_path: Path) -> None:
    db = tmp_path / "nowhere" / "kakou.db"
    result = invoke("entries", "--db", str(db))
    assert_clean_exit(result, 2)
    assert f"no entry log at {db}" in result.stderr
    assert not db.parent.exists()  # looking never creates a database


class ServedGate:
    """A simulated gate with its console on a real uvicorn server, on a thread, on a free port."""

    def __init__(self, gate: Gate) -> None:
        self.gate = gate
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        config = uvicorn.Config(
            create_app(gate.console_context()), host="127.0.0.1", port=port, log_level="warning"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="test-console", daemon=True)
        self.thread.start()
        assert wait_until(lambda: self.server.started, timeout_s=10)

    def shut_down(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def served_gate(tmp_path: Path) -> Iterator[ServedGate]:
    served = ServedGate(build_gate(gate_settings(tmp_path / "state")))
    yield served
    served.shut_down()
    served.gate.stop()


def test_sim_temp_and_present_reach_a_running_gate(served_gate: ServedGate) -> None:
    entries: list[BusEvent] = []
    served_gate.gate.bus.subscribe(lambda e: entries.append(e) if e.topic == "entry" else None)
    temp = invoke("sim", "--url", served_gate.url, "temp", "36.5")
    assert_clean_exit(temp, 0)
    assert temp.stdout == "thermometer on lane in-1 will read 36.5\n"
    present = invoke("sim", "--url", served_gate.url, "present", "not a pass")
    assert_clean_exit(present, 0)
    assert present.stdout == "presented on lane in-1\n"
    assert wait_until(lambda: entries, timeout_s=5)
    assert entries[0].data["entry"].draft.reasons == ("bad_encoding",)


def test_a_gate_that_goes_away_during_a_crowd_is_a_clear_error(served_gate: ServedGate) -> None:
    def stop_at_first_entry(event: BusEvent) -> None:
        if event.topic == "entry" and not served_gate.server.should_exit:
            threading.Thread(target=served_gate.shut_down, daemon=True).start()

    served_gate.gate.bus.subscribe(stop_at_first_entry)
    result = invoke("sim", "--url", served_gate.url, "crowd", "40", "--seed", "1")
    assert_clean_exit(result, 1)
    assert f"Error: lost the gate at {served_gate.url}" in result.stderr
