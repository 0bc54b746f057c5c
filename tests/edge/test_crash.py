"""Power-cut durability: a gate killed with SIGKILL at random moments loses nothing.

A child process runs the whole simulated gate (real ptys, real drivers, real SQLite) under a
crowd and journals every relay command it issues, with the entry id that justified it. The test
kills it at a random moment, again and again on the same database, and after every kill checks:
the database passes its integrity check, sequence numbers are 1..N with no gap, every entry has
its outbox row, and every entry whose relay command was issued is stored.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import sqlite3
import time
from pathlib import Path

import pytest

from edge.app.boot import build_gate, ensure_sim_issuer
from edge.bus import BusEvent
from tests.settings import sim_settings

KILLS = int(os.environ.get("KAKOU_CRASH_KILLS", "200"))
READY_TIMEOUT_S = 20.0


def run_gate_until_killed(state_dir: str, journal: str, ready: str, seed: int) -> None:
    """Child process: the gate under a crowd, journaling relay commands, until SIGKILL."""
    gate = build_gate(sim_settings(Path(state_dir)))
    fd = os.open(journal, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def on_bus(event: BusEvent) -> None:
        if event.topic == "relay" and event.data.get("action") == "pulse":
            os.write(fd, f"{event.data['entry_id']} {event.data['seq']}\n".encode())

    gate.bus.subscribe(on_bus)
    assert gate.simulation is not None
    gate.simulation.start_crowd("in-1", 120, seed)
    Path(ready).write_text("ready")
    while True:
        time.sleep(1)


def _check_database(db_path: Path, journal: Path) -> tuple[int, int]:
    """Integrity, gap-free sequence, outbox completeness, and every journaled entry present."""
    con = sqlite3.connect(db_path)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        seqs = [row[0] for row in con.execute("SELECT seq FROM entries ORDER BY seq")]
        assert seqs == list(range(1, len(seqs) + 1)), "sequence has a gap or a duplicate"
        stored = {row[0] for row in con.execute("SELECT id FROM entries")}
        outboxed = {row[0] for row in con.execute("SELECT entry_id FROM outbox")}
        assert outboxed == stored, "an entry without its outbox row (or the reverse)"
    finally:
        con.close()
    opened = [line.split()[0] for line in journal.read_text().splitlines() if line.strip()]
    missing = [entry_id for entry_id in opened if entry_id not in stored]
    assert not missing, f"the gate opened for entries that are not stored: {missing[:5]}"
    return len(seqs), len(opened)


@pytest.mark.slow
def test_sigkill_at_random_moments_loses_no_entry(tmp_path: Path) -> None:
    settings = sim_settings(tmp_path / "state")
    settings.site.state_dir.mkdir(parents=True)
    ensure_sim_issuer(settings)  # created once: a key half-written by a kill is another test
    journal = tmp_path / "relay-journal.txt"
    journal.touch()
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["edge.app.boot", "tests.edge.test_crash"])
    rng = random.Random(20261123)
    entries_before = 0
    grew = 0
    for kill in range(KILLS):
        ready = tmp_path / f"ready-{kill}"
        child = context.Process(
            target=run_gate_until_killed,
            args=(str(settings.site.state_dir), str(journal), str(ready), kill),
        )
        child.start()
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not ready.exists():
            assert child.is_alive(), f"gate child died on its own (exit {child.exitcode})"
            assert time.monotonic() < deadline, "gate child did not start"
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.6))
        child.kill()  # SIGKILL: no handler, no atexit, no flush
        child.join(timeout=10)
        assert child.exitcode == -9
        entries, opened = _check_database(settings.db_path, journal)
        assert entries >= entries_before
        grew += entries > entries_before
        entries_before = entries
    # The kills must have landed while entries were being written, not only at start-up.
    assert entries_before >= KILLS
    assert grew >= KILLS // 2
    assert opened > 0
