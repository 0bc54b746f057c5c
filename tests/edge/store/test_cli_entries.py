"""`kakou entries` (edge/app/cli/entries.py) over a real store file, through click's CliRunner."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from edge.app.cli.entries import COMMANDS, entries
from edge.app.settings import default_config_text
from edge.entry_document import entry_to_document
from edge.model import Direction, Outcome
from edge.policy import Policy
from edge.store import Store
from sync.subscriber import META_POLICY
from tests.edge.store.conftest import BOOT_ID, COMMUNITY, GATE
from tests.edge.store.drafts import T0, full_draft, simple_draft


@pytest.fixture
def filled(tmp_path: Path) -> Path:
    """A log with five entries, one of them the fever visit with every field set."""
    path = tmp_path / "kakou-data" / "kakou.db"
    with Store.open(path, community=COMMUNITY, gate=GATE) as store:
        for index in range(4):
            at = T0 + timedelta(minutes=index)
            store.record_entry(
                simple_draft(decided_at=at, direction=Direction.OUT if index % 2 else Direction.IN),
                boot_id=BOOT_ID,
                recorded_at=at,
            )
        at = T0 + timedelta(minutes=10)
        store.record_entry(full_draft(decided_at=at), boot_id=BOOT_ID, recorded_at=at)
    return path


def test_exported_for_registration() -> None:
    assert [entries] == COMMANDS


def test_table(filled: Path) -> None:
    result = CliRunner().invoke(entries, ["--db", str(filled)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    header = " ".join(lines[0].split())
    assert header == "SEQ TIME LANE DIR OUTCOME KIND HOLDER HOUSEHOLD TEMP REASONS"
    assert [line.split()[0] for line in lines[1:6]] == ["1", "2", "3", "4", "5"]
    fever = lines[5]
    assert "张*明" in fever
    assert "3栋2单元401" in fever
    assert "37.8! 37.6!m" in fever
    assert fever.endswith("fever,manual_reading")
    assert "5 shown" in lines[-1]
    assert "last seq 5" in lines[-1]


def test_table_columns_line_up_with_chinese_names(filled: Path) -> None:
    lines = CliRunner().invoke(entries, ["--db", str(filled)]).stdout.splitlines()[:6]
    from edge.app.cli.entries import _display_width

    # The REASONS column starts at the same terminal column on every line.
    starts = {_display_width(line[: line.rindex("  ") + 2]) for line in lines}
    assert len(starts) == 1


def test_limit_shows_the_newest(filled: Path) -> None:
    result = CliRunner().invoke(entries, ["--db", str(filled), "--limit", "2"])
    assert [line.split()[0] for line in result.stdout.splitlines()[1:3]] == ["4", "5"]


def test_json_lines_are_the_documents(filled: Path) -> None:
    result = CliRunner().invoke(entries, ["--db", str(filled), "--json"])
    assert result.exit_code == 0, result.output
    documents = [json.loads(line) for line in result.stdout.splitlines()]
    with Store.open_existing(filled) as store:
        expected = [entry_to_document(entry) for entry in store.entries()]
    assert documents == expected
    assert documents[-1]["outcome"] == Outcome.FEVER.value
    assert "张*明" in result.stdout  # readable, not \\u-escaped


def test_since_filters_oldest_first(filled: Path) -> None:
    since = (T0 + timedelta(minutes=2)).isoformat()
    result = CliRunner().invoke(entries, ["--db", str(filled), "--since", since, "--json"])
    assert [json.loads(line)["seq"] for line in result.stdout.splitlines()] == [3, 4, 5]
    result = CliRunner().invoke(
        entries, ["--db", str(filled), "--since", since, "--limit", "1", "--json"]
    )
    assert [json.loads(line)["seq"] for line in result.stdout.splitlines()] == [3]


def test_bad_since_is_a_usage_error(filled: Path) -> None:
    result = CliRunner().invoke(entries, ["--db", str(filled), "--since", "last tuesday"])
    assert result.exit_code == 2
    assert "not an ISO 8601 date or time" in result.output


def test_missing_database_exits_2_and_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "kakou-data" / "kakou.db"
    result = CliRunner().invoke(entries, ["--db", str(missing)])
    assert result.exit_code == 2
    assert "no entry log at" in result.stderr
    assert "Traceback" not in result.output
    assert not missing.parent.exists()


def test_default_path_is_the_state_directory(filled: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(filled.parent.parent)
    result = CliRunner().invoke(entries, ["--json"])
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 5


def test_reads_while_the_service_holds_the_store_open(filled: Path) -> None:
    with Store.open(filled, community=COMMUNITY, gate=GATE) as service:
        service.record_entry(simple_draft(), boot_id=BOOT_ID, recorded_at=T0)
        result = CliRunner().invoke(entries, ["--db", str(filled), "--json"])
        assert result.exit_code == 0, result.output
        assert len(result.stdout.splitlines()) == 6
        service.record_entry(simple_draft(), boot_id=BOOT_ID, recorded_at=T0)  # not blocked


# ------------------------------------------------------- the gate's time zone and --config


def _gate_config(tmp_path: Path, state_dir: Path, timezone: str) -> Path:
    """The embedded default with its state in ``state_dir`` and ``[policy] timezone`` set."""
    text = default_config_text().replace(
        'state_dir = "kakou-data"',
        f'state_dir = "{state_dir}"\n\n[policy]\ntimezone = "{timezone}"',
    )
    assert timezone in text
    config = tmp_path / "kakou.toml"
    config.write_text(text, encoding="utf-8")
    return config


def _times(output: str) -> list[str]:
    return [" ".join(line.split()[1:3]) for line in output.splitlines()[1:6]]


def test_times_are_gate_time_whatever_the_machine_says(
    filled: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TZ", "UTC")  # the machine's zone, as on a Pi left at its default
    time.tzset()
    try:
        result = CliRunner().invoke(entries, ["--db", str(filled)])
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    assert result.exit_code == 0, result.output
    # The embedded default's policy: Asia/Shanghai, as the console shows it.
    assert _times(result.stdout)[0] == "2026-11-23 08:00:00"
    assert "times in Asia/Shanghai" in result.stdout.splitlines()[-1]


def test_config_names_the_database_and_the_zone(filled: Path, tmp_path: Path) -> None:
    config = _gate_config(tmp_path, filled.parent, "Europe/London")
    result = CliRunner().invoke(entries, ["--config", str(config)])
    assert result.exit_code == 0, result.output
    assert _times(result.stdout)[0] == "2026-11-23 00:00:00"
    assert "times in Europe/London" in result.stdout


def test_db_wins_over_the_configured_state_directory(filled: Path, tmp_path: Path) -> None:
    config = _gate_config(tmp_path, tmp_path / "elsewhere", "Europe/London")
    result = CliRunner().invoke(entries, ["--config", str(config), "--db", str(filled)])
    assert result.exit_code == 0, result.output
    assert _times(result.stdout)[0] == "2026-11-23 00:00:00"


def test_the_office_policy_in_force_sets_the_zone(filled: Path) -> None:
    with Store.open_existing(filled) as store:
        store.set_meta(META_POLICY, Policy(timezone="Asia/Tokyo").model_dump_json())
    result = CliRunner().invoke(entries, ["--db", str(filled)])
    assert _times(result.stdout)[0] == "2026-11-23 09:00:00"


def test_since_without_an_offset_is_gate_time(filled: Path, tmp_path: Path) -> None:
    # 08:02 in Shanghai is 00:02 in London: the same instant only when read as gate time.
    config = _gate_config(tmp_path, filled.parent, "Europe/London")
    args = ["--config", str(config), "--since", "2026-11-23T00:02", "--json"]
    result = CliRunner().invoke(entries, args)
    assert [json.loads(line)["seq"] for line in result.stdout.splitlines()] == [3, 4, 5]


def test_a_bad_config_is_reported_not_a_traceback(filled: Path, tmp_path: Path) -> None:
    config = tmp_path / "broken.toml"
    config.write_text("[site]\ncommunity = 'x'\n", encoding="utf-8")
    result = CliRunner().invoke(entries, ["--config", str(config)])
    assert result.exit_code == 2
    assert "problem(s)" in result.stderr
    assert "Traceback" not in result.output


# ------------------------------------------------------------------- a reader that stops


@pytest.fixture
def long_log(tmp_path: Path) -> Path:
    """More JSON lines than a pipe buffers (64 KiB), so the writer meets the closed pipe."""
    path = tmp_path / "kakou.db"
    with Store.open(path, community=COMMUNITY, gate=GATE) as store:
        for index in range(200):
            at = T0 + timedelta(seconds=index)
            store.record_entry(full_draft(decided_at=at), boot_id=BOOT_ID, recorded_at=at)
    return path


def test_json_into_head_exits_0_without_a_traceback(long_log: Path) -> None:
    kakou = Path(sys.executable).with_name("kakou")
    result = subprocess.run(
        ["bash", "-o", "pipefail", "-c", f'"{kakou}" entries --json --db "{long_log}" | head -1'],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert json.loads(result.stdout)["seq"] == 1
