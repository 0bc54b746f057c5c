"""sync/office/retention.py on SQLite and a real PostgreSQL: entries past [office]
retention_days are deleted, but never one a log's gap view still needs (above its contiguous
seq) nor a log's highest; the gaps read the same before and after; no setting keeps all."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from edge.app.cli import main
from sync.office import retention
from sync.receiver.db import ReceiverDb, open_db
from sync.settings import ServerSettings
from tests.office.conftest import office_server_settings
from tests.office.ledger_data import Visits, store

BOTH = pytest.mark.parametrize("office_db", ["sqlite", "postgresql"], indirect=True)
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def stored_ids(db: ReceiverDb) -> set[str]:
    with db.reading() as q:
        return {str(row[0]) for row in q.all("SELECT id FROM entries")}


@BOTH
def test_old_entries_go_but_what_the_gaps_need_stays(
    office_db: ReceiverDb, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(retention, "CHUNK_ROWS", 2)  # several rounds per log
    old = NOW - timedelta(days=40)
    north, south = Visits(), Visits()
    for index in range(8):  # north 1-8, all old; 6 never arrives: 7 and 8 stand behind a gap
        entry = north.visit(old + timedelta(minutes=index))
        if entry.seq == 6:
            north.made.remove(entry)
    for index in range(5):  # south 1-5, old, then 6 recent
        south.visit(old + timedelta(minutes=index), gate="south")
    south.visit(NOW - timedelta(days=1), gate="south")
    store(office_db, north.made + south.made)
    gaps_before = office_db.gaps()
    result = retention.prune(office_db, days=30, now=NOW)
    kept = stored_ids(office_db)
    # north: 1-5 contiguous and old, gone; 7 and 8 are above the gap: kept.
    # south: 1-5 old, gone; 6 recent (and the log's highest): kept.
    assert kept == {north.made[5].id, north.made[6].id, south.made[5].id}
    assert result.deleted == 10
    assert result.cutoff == NOW - timedelta(days=30)
    assert office_db.gaps() == gaps_before
    (north_gaps,) = [log for log in office_db.gaps() if log.gate == "north"]
    assert north_gaps.missing == ((6, 6),)
    # The missing entry arrives at last: the log completes as if nothing had been pruned.
    late = Visits()
    for index in range(6):
        late.visit(old + timedelta(minutes=index))
    store(office_db, late.made[5:])
    (north_gaps,) = [log for log in office_db.gaps() if log.gate == "north"]
    assert (north_gaps.missing, north_gaps.contiguous_seq, north_gaps.max_seq) == ((), 8, 8)


def test_a_log_whose_entries_are_all_old_keeps_its_last(office_db: ReceiverDb) -> None:
    v = Visits()
    for index in range(4):
        v.visit(NOW - timedelta(days=90, minutes=-index))
    store(office_db, v.made)
    assert retention.prune(office_db, days=30, now=NOW).deleted == 3
    assert stored_ids(office_db) == {v.made[-1].id}
    (log,) = office_db.gaps()
    assert (log.contiguous_seq, log.max_seq, log.missing) == (4, 4, ())


def test_without_the_setting_everything_is_kept(office_db: ReceiverDb) -> None:
    v = Visits()
    v.visit(NOW - timedelta(days=3000))
    v.visit(NOW - timedelta(days=2999))
    store(office_db, v.made)
    days = retention.retention_days(office_server_settings())
    assert days is None
    assert retention.prune(office_db, days=days, now=NOW) == retention.PruneResult(0, None)
    assert len(stored_ids(office_db)) == 2
    assert retention.retention_days(office_server_settings(retention_days=30)) == 30
    assert (
        retention.retention_days(ServerSettings.model_validate({"database": {"path": "x"}})) is None
    )


def test_the_daily_job_prunes_at_once_and_stops(office_db: ReceiverDb) -> None:
    v = Visits()
    for index in range(3):
        v.visit(NOW - timedelta(days=60, minutes=-index))
    store(office_db, v.made)
    settings = office_server_settings(retention_days=30)
    stop = retention.start_daily(office_db, settings, now=lambda: NOW)
    try:
        deadline = datetime.now(UTC) + timedelta(seconds=10)
        while len(stored_ids(office_db)) > 1 and datetime.now(UTC) < deadline:
            time.sleep(0.05)
    finally:
        stop()
    assert stored_ids(office_db) == {v.made[-1].id}


def test_kakou_server_prune_runs_it_now(tmp_path: Path) -> None:
    path = tmp_path / "receiver.db"
    db = open_db(path=path)
    v = Visits()
    for index in range(3):
        v.visit(datetime(2020, 1, 1, 8, index, tzinfo=UTC))
    store(db, v.made)
    db.close()
    kept_all = CliRunner().invoke(main, ["server", "prune", "--db", str(path)])
    assert kept_all.exit_code == 0, kept_all.output
    assert "everything is kept" in kept_all.output
    result = CliRunner().invoke(main, ["server", "prune", "--db", str(path), "--days", "30"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("deleted 2 entries decided before ")
    db = open_db(path=path)
    try:
        assert stored_ids(db) == {v.made[-1].id}
    finally:
        db.close()
