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
