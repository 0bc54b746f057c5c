"""`kakou server`: publish signed documents that a running gate applies (and garbage, unsigned,
stale and replayed ones that it ignores), the gap report, the daily report and its CSV, `run`
from a server.toml, and configuration errors."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from edge import keys
from edge.app.cli import main
from edge.store import Store
from edge.store.outbox import pending_count
from sync.contract import DownlinkKind, downlink_topic
from sync.downlink import Refusal
from sync.receiver.db import open_db
from sync.runtime import SyncHandle
from sync.settings import load_server_settings
from tests.sync.conftest import COMMUNITY, Recorder, Watcher
from tests.sync.rig import ROOT, Mosquitto, wait_until
from tests.sync.test_receiver_db import batch


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["server", *args])
    return result.exit_code, result.output


def test_signed_revocations_reach_the_gate_and_bad_downlink_is_ignored(
    broker: Mosquitto,
    gate_store: Store,
    tmp_path: Path,
    start_edge: Callable[..., SyncHandle],
    watcher_factory: Callable[..., Watcher],
) -> None:
    key_path, pub_path = keys.new_keypair("office-2026", tmp_path / "keys")
    forger_key, _ = keys.new_keypair("office-2026", tmp_path / "forger")
    gate_store.put_trusted_key("office-2026", pub_path.read_bytes(), source="config")
    handle = start_edge(broker.port)
    wait_until(lambda: handle.status()["connected"], 10, "the gate to connect")
    revoked = tmp_path / "revoked.txt"
    office_db = tmp_path / "office.db"

    def publish_args(key: Path, db: Path) -> list[str]:
        """`server publish revocations` of ``revoked``, signed with ``key``, kept in ``db``."""
        return [
            *("publish", "revocations", "--key", str(key), "--file", str(revoked)),
            *("--community", COMMUNITY, "--port", str(broker.port), "--db", str(db)),
        ]

    revoked.write_text("P-1\nP-2  # lost card\n")
    code, output = invoke(*publish_args(key_path, office_db))
    assert code == 0, output
    assert "version 1" in output
    wait_until(lambda: gate_store.revoked_ids() == {"P-1", "P-2"}, 10, "version 1 applied")
    revoked.write_text("P-2\nP-3\n")
    assert invoke(*publish_args(key_path, office_db))[0] == 0
    wait_until(lambda: gate_store.revoked_ids() == {"P-2", "P-3"}, 10, "version 2 applied")
    status = handle.status()["revocations"]
    assert status["version"] == 2
    assert 0 <= status["age_s"] < 30

    old_envelope = _envelopes(office_db)[0]  # version 1, signed and genuine
    forged = invoke(*publish_args(forger_key, tmp_path / "forger.db"))
    assert forged[0] == 0  # the office tool cannot know; the gate refuses it
    sender = watcher_factory(broker.port)
    topic = downlink_topic(COMMUNITY, DownlinkKind.REVOCATIONS)
    for payload in (
        b"\x00garbage",
        b'{"v": 1, "type": "revocations", "community": "hxy", "version": 99}',
        old_envelope.encode(),
    ):
        sender.publish(topic, payload, retain=True)
    refused = {
        Refusal.BAD_SIGNATURE,
        Refusal.MALFORMED,
        Refusal.UNSIGNED,
        Refusal.STALE,
    }
    wait_until(lambda: set(handle.status()["downlink_refused"]) >= refused, 10, "the refusals")
    assert gate_store.revoked_ids() == {"P-2", "P-3"}
    assert handle.status()["revocations"]["version"] == 2


def _envelopes(path: Path) -> list[str]:
    import sqlite3

    con = sqlite3.connect(path)
    try:
        return [row[0] for row in con.execute("SELECT envelope FROM downlink ORDER BY version")]
    finally:
        con.close()


def test_publish_refuses_a_version_that_is_not_newer(broker: Mosquitto, tmp_path: Path) -> None:
    key_path, _ = keys.new_keypair("office", tmp_path / "keys")
    revoked = tmp_path / "revoked.txt"
    revoked.write_text("P-1\n")
    args = [
        "publish",
        "revocations",
        "--key",
        str(key_path),
        "--file",
        str(revoked),
        "--community",
        "hxy",
        "--port",
        str(broker.port),
        "--db",
        str(tmp_path / "o.db"),
    ]
    assert invoke(*args, "--version", "5")[0] == 0
    code, output = invoke(*args, "--version", "5")
    assert code == 1
    assert "not newer" in output
    bad = tmp_path / "bad.txt"
    bad.write_text("P 1 has spaces\n")
    code, output = invoke(*args[:5], str(bad), *args[6:])
    assert code == 2
    assert "bad.txt:1" in output


def test_gaps_and_the_daily_report(gate_store: Store, record: Recorder, tmp_path: Path) -> None:
    record(10)
    entries = gate_store.entries(limit=10)
    db = open_db(path=tmp_path / "rx.db")
    db.store([batch(entries[:2] + entries[4:])], now=entries[0].recorded_at)
    db.close()
    code, output = invoke("gaps", "--db", str(tmp_path / "rx.db"))
    assert code == 0
    assert "missing 2 (seq 3-4)" in output
    assert invoke("gaps", "--db", str(tmp_path / "rx.db"), "--check")[0] == 1
    code, output = invoke("gaps", "--db", str(tmp_path / "rx.db"), "--json")
    assert json.loads(output)[0]["missing"] == [[3, 4]]
    day = entries[0].draft.decided_at.astimezone().date().isoformat()
    code, output = invoke(
        "report", "--db", str(tmp_path / "rx.db"), "--day", day, "--timezone", "UTC"
    )
    assert code == 0, output
    assert output.splitlines()[0].split()[:4] == ["day", "community", "gate", "total"]
    assert output.splitlines()[1].split()[1:4] == ["hxy", "north", "8"]
    csv_path = tmp_path / "out.csv"
    code, output = invoke(
        "report",
        "--db",
        str(tmp_path / "rx.db"),
        "--day",
        day,
        "--timezone",
        "UTC",
        "--csv",
        str(csv_path),
    )
    assert code == 0
    assert csv_path.read_text().splitlines()[1].startswith(f"{day},hxy,north,8,")
    assert invoke("report", "--db", str(tmp_path / "rx.db"), "--day", "23/11/2026")[0] == 2


def test_settings_errors_are_listed_and_exit_2(tmp_path: Path) -> None:
    code, output = invoke("gaps")
    assert code == 2
    assert "database" in output
    config = tmp_path / "server.toml"
    config.write_text("[receiver]\nmax_batch_messages = 0\n")
    code, output = invoke("gaps", "--config", str(config), "--db", str(tmp_path / "x.db"))
    assert code == 2
    assert f"{config}: receiver.max_batch_messages" in output


def test_run_from_a_config_file_until_sigterm(
    broker: Mosquitto,
    gate_store: Store,
    record: Recorder,
    tmp_path: Path,
    start_edge: Callable[..., SyncHandle],
) -> None:
    config = tmp_path / "server.toml"
    config.write_text(
        f'[broker]\nport = {broker.port}\n[database]\npath = "{tmp_path / "rx.db"}"\n'
        '[receiver]\nname = "office-1"\n'
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "edge", "server", "run", "--config", str(config)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        record(100)
        start_edge(broker.port)
        wait_until(lambda: pending_count(gate_store) == 0, 30, "the receiver to store")
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=20)
    assert process.returncode == 0, output
    assert "receiver stopped: " in output
    assert "100 stored" in output
    db = open_db(path=tmp_path / "rx.db")
    assert db.counts()["entries"] == 100
    db.close()


@pytest.mark.parametrize("kind", ["keys", "policy"])
def test_publish_keys_and_policy(
    kind: str,
    broker: Mosquitto,
    gate_store: Store,
    tmp_path: Path,
    start_edge: Callable[..., SyncHandle],
) -> None:
    key_path, pub_path = keys.new_keypair("office", tmp_path / "keys")
    gate_store.put_trusted_key("office", pub_path.read_bytes(), source="config")
    handle = start_edge(broker.port)
    wait_until(lambda: handle.status()["connected"], 10, "the gate to connect")
    if kind == "keys":
        keys.new_keypair("issuer-2027", tmp_path / "keys")
        source = tmp_path / "keys"
    else:
        source = tmp_path / "policy.toml"
        source.write_text("[policy.fever]\nthreshold_c = 37.5\n")
    code, output = invoke(
        "publish",
        kind,
        "--key",
        str(key_path),
        "--file",
        str(source),
        "--community",
        COMMUNITY,
        "--port",
        str(broker.port),
        "--db",
        str(tmp_path / "office.db"),
    )
    assert code == 0, output
    wait_until(lambda: handle.status()[f"{kind}_version"] == 1, 10, f"{kind} applied")
    if kind == "keys":
        assert set(gate_store.trusted_keys()) == {"office", "issuer-2027"}
    else:
        assert json.loads(gate_store.get_meta("sync.policy") or "")["fever"]["threshold_c"] == 37.5


def test_the_example_server_config_loads_and_uses_every_section() -> None:
    """config/server.example.toml is what the installer copies to /etc/kakou/server.toml."""
    example = Path(__file__).parents[2] / "config" / "server.example.toml"
    settings = load_server_settings(example)
    assert settings.database.path == Path("/var/lib/kakou-server/entries.db")
    assert settings.broker.username == "receiver"
    assert settings.broker.session_expiry_s == 7 * 86_400
    assert settings.receiver.group == "kakou-receivers"


def test_report_shows_and_asks_for_what_it_needs() -> None:
    result = CliRunner().invoke(main, ["server", "report", "--help"])
    assert result.exit_code == 0
    usage = " ".join(result.output.split("Options:")[0].split())
    assert "report --day DATE (--db FILE | --dsn DSN | --dsn-file FILE | --config" in usage
    assert "[required]" in result.output
    missing = CliRunner().invoke(main, ["server", "report", "--day", "2026-11-23"])
    assert missing.exit_code == 2
    assert "which receiver database? Give --db FILE (SQLite)" in missing.output
    assert "required, but missing" not in missing.output
    no_day = CliRunner().invoke(main, ["server", "report", "--db", "rx.db"])
    assert no_day.exit_code == 2
    assert "Missing option '--day'" in no_day.output
