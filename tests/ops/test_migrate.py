"""`kakou db migrate`, the installer's upgrade step: a database the previous schema version wrote
(migration 1 only) is upgraded in place and every entry is still there."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from edge.app.cli import main
from edge.store import Store
from edge.store.migrations import LATEST_VERSION
from tests.ops.conftest import write_sim_config, write_version_1_database


def test_a_version_1_database_is_migrated_and_keeps_its_entries(tmp_path: Path) -> None:
    db_path = tmp_path / "old" / "kakou.db"
    db_path.parent.mkdir()
    old_entries = write_version_1_database(db_path, "demo", "north", count=5)
    config = write_sim_config(tmp_path / "kakou.toml", state_dir=tmp_path / "state", port=8080)

    result = CliRunner().invoke(
        main, ["db", "migrate", "--config", str(config), "--db", str(db_path)]
    )

    assert result.exit_code == 0, result.output
    assert result.output == (
        f"{db_path}: schema version {LATEST_VERSION}, integrity ok, 5 entries of demo/north\n"
    )
    with Store.open_existing(db_path) as store:
        assert store.schema_version() == LATEST_VERSION
        assert store.entries() == old_entries
        assert store.last_seq() == 5
    again = CliRunner().invoke(main, ["db", "migrate", "--db", str(db_path)])  # bound now
    assert again.exit_code == 0, again.output


def test_a_version_1_database_without_a_configuration_says_what_is_missing(
    tmp_path: Path,
) -> None:
    db_path = tmp_path / "kakou.db"
    write_version_1_database(db_path, "demo", "north", count=1)
    result = CliRunner().invoke(main, ["db", "migrate", "--db", str(db_path)])
    assert result.exit_code == 1
    assert "give --config to bind it to the configured gate" in result.output


def test_there_is_nothing_to_migrate_without_a_database(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["db", "migrate", "--db", str(tmp_path / "none.db")])
    assert result.exit_code == 1
    assert "no database at" in result.output
    assert not (tmp_path / "none.db").exists()  # never created by a migration
