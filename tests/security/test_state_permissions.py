"""Issue #10, part 4: the state folder is not readable by other users, whatever the umask.

The attack: another local account reads ``kakou.db`` (every resident's name, unit and visits)
from a gate started outside systemd, where the shell's umask 022 made the folder 0755 and the
database, its WAL and shared memory 0644. Now the gate makes its folders 0700 and the database
files 0600, and tightens a folder or database an earlier version left open, with a warning.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory

from edge.app.boot import build_gate
from edge.store import Store
from tests.edge.test_boot import make_settings, pin_factory  # noqa: F401  (a fixture)

USERS_GID = 100  # Debian's shared "users" group


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask_022() -> Iterator[None]:
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_a_fresh_gate_keeps_its_state_to_its_own_user(
    tmp_path: Path,
    pin_factory: MockFactory,  # noqa: F811
    umask_022: None,
) -> None:
    settings = make_settings(tmp_path / "kakou-data")
    gate = build_gate(settings)
    try:
        state = settings.site.state_dir
        db = settings.db_path
        wal, shm = db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")
        folders = [state, state / "keys", state / "issuer", state / "sim"]
        found = {str(p.relative_to(tmp_path)): oct(mode(p)) for p in [*folders, db, wal, shm]}
        print(f"umask 022, a fresh gate: {found}")
        assert {p: oct(mode(p)) for p in folders} == {p: "0o700" for p in folders}
        assert {p: oct(mode(p)) for p in (db, wal, shm)} == {p: "0o600" for p in (db, wal, shm)}
        # Nothing under the folder is open to others but public keys (behind a 0700 folder).
        for path in state.rglob("*"):
            if not path.is_symlink() and path.suffix != ".pub":
                assert not mode(path) & 0o077, path
    finally:
        gate.stop()


def test_an_open_state_folder_and_database_left_by_an_earlier_run_are_tightened(
    tmp_path: Path,
    pin_factory: MockFactory,  # noqa: F811
    umask_022: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = make_settings(tmp_path / "kakou-data")
    state = settings.site.state_dir
    state.mkdir(mode=0o755)
    Store.open(settings.db_path, community="c", gate="g").close()
    settings.db_path.chmod(0o644)
    # A group other accounts are in: group access is no better than world access.
    for path in (state, settings.db_path):
        os.chown(path, -1, USERS_GID)
    caplog.set_level(logging.WARNING, logger="edge.store")
    gate = build_gate(settings, start=False)
    try:
        now = f"{oct(mode(state))}, {oct(mode(settings.db_path))}"
        print(f"left 0755 (group users) and 0644: now {now}")
        assert mode(state) == 0o700
        assert mode(settings.db_path) == 0o600
        warned = [r.getMessage() for r in caplog.records if "readable by others" in r.getMessage()]
        assert len(warned) == 2
    finally:
        gate.stop()


def test_the_owners_own_group_may_keep_access_but_others_may_not(
    tmp_path: Path, umask_022: None
) -> None:
    """systemd's ``StateDirectoryMode=0750`` gives the folder to kakou:kakou, a group of one:
    left as it is (no warning at every start), but world access is taken away."""
    folder = tmp_path / "state"
    folder.mkdir(mode=0o755)
    Store.open(folder / "kakou.db", community="c", gate="g").close()
    (folder / "kakou.db").chmod(0o644)
    Store.open(folder / "kakou.db", community="c", gate="g").close()
    assert os.stat(folder).st_gid == os.getgid()  # root:root, root's own group
    assert mode(folder / "kakou.db") == 0o640
