"""`kakou guard` (edge/app/cli/guards.py): the gate's database by --config or --db, checked before
anyone types a PIN."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from edge.app.cli import main
from edge.app.settings import default_config_text
from edge.store import Store


def _config(tmp_path: Path, state_dir: Path) -> Path:
    config = tmp_path / "kakou.toml"
    text = default_config_text().replace('state_dir = "kakou-data"', f'state_dir = "{state_dir}"')
    config.write_text(text, encoding="utf-8")
    return config


def test_a_missing_database_is_reported_before_the_pin_is_asked(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "kakou.db"
    result = CliRunner().invoke(
        main, ["guard", "add", "--name", "李卫", "--db", str(missing)], input="246801\n246801\n"
    )
    assert result.exit_code == 2
    assert f"no entry log at {missing}" in result.stderr
    assert "PIN" not in result.output  # nobody was asked
    assert not missing.parent.exists()


def test_config_gives_the_state_directory(tmp_path: Path) -> None:
    state = tmp_path / "state"
    Store.open(state / "kakou.db", community="demo", gate="north").close()
    config = _config(tmp_path, state)
    runner = CliRunner()
    added = runner.invoke(
        main, ["guard", "add", "--name", "李卫", "--config", str(config)], input="246801\n246801\n"
    )
    assert added.exit_code == 0, added.output
    assert "added guard 李卫" in added.output
    listed = runner.invoke(main, ["guard", "list", "--config", str(config)])
    assert listed.exit_code == 0, listed.output
    assert "guard\t李卫" in listed.output


def test_a_config_whose_state_has_no_database_says_so(tmp_path: Path) -> None:
    config = _config(tmp_path, tmp_path / "empty")
    result = CliRunner().invoke(main, ["guard", "list", "--config", str(config)])
    assert result.exit_code == 2
    assert f"no entry log at {tmp_path / 'empty' / 'kakou.db'}" in result.stderr


def test_an_admin_on_the_gate_disables_removes_and_resets_accounts_and_reads_the_audit(
    tmp_path: Path,
) -> None:
    db = tmp_path / "kakou.db"
    Store.open(db, community="demo", gate="north").close()
    runner = CliRunner()

    def kakou(*args: str, stdin: str = "") -> str:
        result = runner.invoke(main, [*args, "--db", str(db)], input=stdin)
        assert result.exit_code == 0, result.output + result.stderr
        return result.output

    kakou(
        "guard", "add", "--name", "admin", "--role", "admin", "--pin-stdin", stdin="admin-pin-01\n"
    )
    kakou("guard", "add", "--name", "李卫", "--pin-stdin", stdin="246801\n")
    kakou("guard", "add", "--name", "王强", "--pin-stdin", stdin="135790\n")
    assert "李卫 (" in kakou("guard", "disable", "李卫")
    assert "李卫\tdisabled" in kakou("guard", "list")
    assert kakou("guard", "enable", "李卫").endswith("is active\n")
    assert "removed" in kakou("guard", "remove", "王强")
    assert "sessions have ended" in kakou(
        "guard", "reset-pin", "李卫", "--pin-stdin", stdin="864213\n"
    )
    short = runner.invoke(
        main, ["guard", "reset-pin", "李卫", "--pin-stdin", "--db", str(db)], input="12\n"
    )
    assert short.exit_code == 1
    assert "at least 6" in short.output + short.stderr
    lonely = runner.invoke(main, ["guard", "remove", "admin", "--db", str(db)])
    assert lonely.exit_code == 1  # the last admin stays
    unknown = runner.invoke(main, ["guard", "disable", "nobody", "--db", str(db)])
    assert "no account named 'nobody'" in unknown.output + unknown.stderr
    audit = kakou("guard", "audit", "--name", "李卫")
    actions = [line.split("\t")[2] for line in audit.splitlines()]
    assert {"guard_disabled", "guard_enabled"} <= set(actions)
    assert len([a for a in actions if "secret" in a or "pin" in a]) == 1  # the reset
