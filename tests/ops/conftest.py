"""Fixtures for the operations tests: simulated gate configurations, free ports, mock pins."""

from __future__ import annotations

import socket
import sys
from datetime import timedelta
from pathlib import Path

from sqlite_utils import Database

from edge.app.settings import default_config_text, load_settings
from edge.model import ENTRY_SCHEMA_VERSION, Entry
from edge.store.migrations import migrate, schema_version
from tests.edge.store.drafts import T0, simple_draft
from tests.edge.store.version1 import insert_version_1_entries

REPO = Path(__file__).resolve().parents[2]
KAKOU = Path(sys.executable).parent / "kakou"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_file(path: Path, text: str, mode: int | None = None) -> Path:
    """``text`` at ``path``, its folders made; with ``mode`` when the test is about who may
    read it (a secret, a key, a configuration)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    if mode is not None:
        path.chmod(mode)
    return path


def write_sim_config(
    path: Path, *, state_dir: Path, port: int, console: bool = True, emergency: bool = False
) -> Path:
    """The embedded simulated gate as a file: state under ``state_dir``, console on ``port``.

    ``emergency``: the gate starts in emergency free exit, its relay held energised from the
    first moment (as a guard's emergency mode holds it), with no sign-in needed to get there.
    """
    text = default_config_text()
    replacements = {
        'state_dir = "kakou-data"': f'state_dir = "{state_dir}"',
        "port = 8080": f"port = {port}\nenabled = {'true' if console else 'false'}",
    }
    for old, new in replacements.items():
        assert old in text, f"the embedded default no longer has {old!r}"
        text = text.replace(old, new)
    if emergency:
        text += '\n[policy]\nmode = "emergency"\n'
    path.write_text(text, encoding="utf-8")
    load_settings(path)  # still a valid configuration
    return path


def write_version_1_database(path: Path, community: str, gate: str, count: int) -> list[Entry]:
    """A database as the previous schema version (migration 1 only) left it, with entries."""
    db = Database(path)
    migrate(db, now=T0, target=1)
    entries = [
        Entry(
            id=f"0190a0b0-0000-7000-8000-{seq:012d}",
            seq=seq,
            schema_version=ENTRY_SCHEMA_VERSION,
            community=community,
            gate=gate,
            boot_id="old-boot",
            recorded_at=T0 + timedelta(seconds=seq),
            draft=simple_draft(pass_id=f"P-{seq}"),
        )
        for seq in range(1, count + 1)
    ]
    with db.atomic():
        insert_version_1_entries(db, community, gate, entries)
    assert schema_version(db) == 1
    db.close()
    return entries
