"""`kakou server officer add|list|disable|enable|reset-secret`, and `kakou server run` serving the
office console beside the receiver when [office] enabled (a real Mosquitto, a real process)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from click.testing import CliRunner

from edge.app.cli.server import server
from sync.office import accounts, audit
from sync.receiver.db import open_db
from tests.sync.rig import ROOT, Mosquitto, free_port, wait_until


def _officer(db_path: Path, *args: str, stdin: str | None = None) -> tuple[int, str]:
    """``kakou server officer ARGS --db DB_PATH``: its exit code and output."""
    result = CliRunner().invoke(server, ["officer", *args, "--db", str(db_path)], input=stdin)
    return result.exit_code, result.output


def test_officers_are_added_listed_disabled_and_given_a_new_password(tmp_path: Path) -> None:
    db_path = tmp_path / "receiver.db"
    code, output = _officer(
        db_path,
        "add",
        "王芳",
        "--community",
        "hxy",
        "--community",
        "lhy",
        stdin="office-secret-1\noffice-secret-1\n",
    )
    assert code == 0, output
    assert "added officer 王芳 (hxy, lhy)" in output
    assert "office-secret-1" not in output  # asked without echo
    secret_file = tmp_path / "secret"
    secret_file.write_text("district-admin-9\n")
    code, output = _officer(
        db_path,
        "add",
        "赵主任",
        "--role",
        "admin",
        "--community",
        "*",
        "--secret-file",
        str(secret_file),
    )
    assert code == 0, output
    code, output = _officer(db_path, "list", "--json")
    assert code == 0, output
    listed = [json.loads(line) for line in output.splitlines()]
    assert listed == [
        {"name": "王芳", "role": "officer", "communities": ["hxy", "lhy"], "state": "active"},
        {"name": "赵主任", "role": "admin", "communities": None, "state": "active"},
    ]
    # a short password, a taken name and an unknown account are refused with a reason
    code, output = _officer(db_path, "add", "李四", "--community", "hxy", stdin="short\nshort\n")
    assert code == 1
    assert "at least 10 characters" in output
    code, output = _officer(
        db_path, "add", "王芳", "--community", "hxy", "--secret-file", str(secret_file)
    )
    assert code == 1
    assert "already an officer named" in output
    assert _officer(db_path, "disable", "无此人")[0] == 1
    code, output = _officer(db_path, "add", "x", stdin="")
    assert code == 2  # no community named
    # the last admin cannot be disabled; an officer can, then enabled again
    code, output = _officer(db_path, "disable", "赵主任")
    assert code == 1
    assert "at least one active admin" in output
    assert _officer(db_path, "disable", "王芳")[0] == 0
    assert "disabled" in _officer(db_path, "list")[1].splitlines()[0]
    assert _officer(db_path, "enable", "王芳")[0] == 0
    code, output = _officer(
        db_path, "reset-secret", "王芳", stdin="another-secret-2\nanother-secret-2\n"
    )
    assert code == 0, output
    db = open_db(path=db_path)
    try:
        signed = accounts.sign_in(
            db, "王芳", "another-secret-2", now=datetime.now(UTC), session_for=timedelta(hours=1)
        )
        assert isinstance(signed, tuple)
        actions = [line.action for line in audit.read(db, communities=None)]
    finally:
        db.close()
    # newest first; the refused disabling of the last admin left no line
    assert actions[:4] == ["signed_in", "secret_reset", "officer_enabled", "officer_disabled"]


def test_server_run_serves_the_office_beside_the_receiver(tmp_path: Path) -> None:
    broker = Mosquitto(tmp_path / "mosquitto")
    broker.start()
    port = free_port()
    config = tmp_path / "server.toml"
    config.write_text(
        f'[broker]\nport = {broker.port}\n[database]\npath = "{tmp_path / "receiver.db"}"\n'
        f"[office]\nenabled = true\nport = {port}\n",
        encoding="utf-8",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "edge", "server", "run", "--config", str(config)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:

        def answers() -> bool:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/login", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(answers, 30, "the office console to answer", every_s=0.2)
        page = httpx.get(f"http://127.0.0.1:{port}/login", timeout=5)
        assert "办公室登录" in page.text
        me = httpx.get(f"http://127.0.0.1:{port}/api/v1/auth/me", timeout=5)
        assert me.status_code == 401
        process.send_signal(signal.SIGTERM)
        assert process.wait(20) == 0
        assert not answers()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(5)
        broker.kill()
