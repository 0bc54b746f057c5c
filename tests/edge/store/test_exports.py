"""Ledger rows read straight from the log: the same values, rows and order as decoded entries."""

from __future__ import annotations

import itertools
import threading
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from drivers.base import Reading
from edge.model import EntryDraft, MeasuredTemperature, Outcome
from edge.store import Store, StoreCorrupt
from edge.store.exports import FETCH_ROWS, EntryFilters, LedgerRow, ledger_rows
from edge.store.records import entry_to_row
from tests.edge.store.conftest import BOOT_ID, COMMUNITY, Recorder
from tests.edge.store.drafts import T0, drafts, full_draft, simple_draft


def _reading(body_c: float, *, fever: bool) -> MeasuredTemperature:
    return MeasuredTemperature(
        reading=Reading(value_c=body_c - 0.5, sensor="gy-mcu90614"),
        body_c=body_c,
        at=T0,
        plausible=True,
        fever=fever,
    )


# No deadline: each example writes to a SQLite file with synchronous=FULL, and an fsync on a
# busy machine can take longer than Hypothesis's 200 ms default (a flaky failure, not a bug).
@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(draft=drafts)
def test_a_row_holds_what_the_decoded_entry_holds(store: Store, draft: EntryDraft) -> None:
    entry = store.record_entry(draft, boot_id=BOOT_ID, recorded_at=draft.decided_at)
    window = {"since": draft.decided_at, "until": draft.decided_at + timedelta(microseconds=1)}
    (row,) = [row for row in ledger_rows(store, **window) if row.seq == entry.seq]
    assert row == LedgerRow.of(entry)
    assert row.answers == draft.answers  # the questions' order too


def test_every_optional_field_missing(store: Store) -> None:
    draft = EntryDraft(
        lane="north-1",
        direction=simple_draft().direction,
        outcome=Outcome.ABANDONED,
        started_at=T0,
        decided_at=T0,
    )
    store.record_entry(draft, boot_id=BOOT_ID, recorded_at=T0)
    (row,) = ledger_rows(store)
    assert row.pass_id is row.pass_kind is row.holder is row.household is None
    assert row.guard_id is row.guard_note is None
    assert (row.answers, row.temperatures, row.reasons) == ((), (), ())


def test_filters_select_what_store_entries_selects(
    store: Store, record: Recorder, db_path: Path
) -> None:
    # Seq 4 was decided before NTP corrected the clock: its time is earlier than seq 3's.
    record(household="h1")
    record(household="h2", outcome=Outcome.DENIED, pass_id="P-2")
    record(household="h1", outcome=Outcome.FEVER, lane="north-2")
    store.record_entry(simple_draft(decided_at=T0), boot_id=BOOT_ID, recorded_at=T0)
    record(household="h1", pass_id="P-2", lane="north-2")
    # The same community's other gate shares the file; its entries are not this gate's ledger.
    with Store.open(db_path, community=COMMUNITY, gate="south") as other:
        other.record_entry(simple_draft(), boot_id=BOOT_ID, recorded_at=T0)
    times = sorted(e.draft.decided_at for e in store.entries())
    bounds: list[datetime | None] = [None, *times, times[-1] + timedelta(seconds=1)]
    for since, until, outcome, household, pass_id, lane in itertools.product(
        bounds,
        bounds,
        (None, Outcome.DENIED, Outcome.PASSED),
        (None, "h1", "nobody"),
        (None, "P-2"),
        (None, "north-2"),
    ):
        filters = EntryFilters(
            since=since,
            until=until,
            outcome=outcome,
            household=household,
            pass_id=pass_id,
            lane=lane,
        )
        expected = [e.seq for e in store.entries(limit=1000, **filters)]
        found = [row.seq for row in ledger_rows(store, **filters)]
        assert found == expected, filters


def test_fever_cases_are_a_fever_outcome_or_any_fever_reading(
    store: Store, record: Recorder
) -> None:
    record(temperatures=(_reading(36.6, fever=False),))  # 1
    record(outcome=Outcome.FEVER, temperatures=())  # 2: confirmed by hand, no stored reading
    record(temperatures=(_reading(37.4, fever=True), _reading(36.9, fever=False)))  # 3
    record(outcome=Outcome.DENIED, temperatures=(_reading(36.1, fever=False),) * 2)  # 4
    record(outcome=Outcome.ABANDONED, temperatures=(_reading(38.0, fever=True),))  # 5
    assert [row.seq for row in ledger_rows(store, fever_cases=True)] == [2, 3, 5]
    assert [row.seq for row in ledger_rows(store, fever_cases=True, outcome=Outcome.PASSED)] == [3]


def test_a_walk_reads_past_one_fetch(store: Store) -> None:
    at = T0
    with store._writing():  # one transaction: filling only
        for _ in range(FETCH_ROWS * 2 + 1):
            at += timedelta(seconds=8)
            store.record_entry(simple_draft(decided_at=at), boot_id=BOOT_ID, recorded_at=at)
    seqs = [row.seq for row in ledger_rows(store)]
    assert seqs == list(range(1, FETCH_ROWS * 2 + 2))


def test_the_lane_records_while_an_export_is_open(store: Store, record: Recorder) -> None:
    for _ in range(FETCH_ROWS + 10):
        record()
    walk = ledger_rows(store)
    first = next(walk)  # the walk holds an open read of the file
    lane = threading.Thread(target=record, daemon=True)
    lane.start()
    lane.join(timeout=2.0)
    # The lane thread took the store's lock and committed: the walk holds neither the lock nor
    # anything that makes a WAL writer wait.
    assert not lane.is_alive()
    rest = [row.seq for row in walk]
    assert [first.seq, *rest] == list(range(1, FETCH_ROWS + 11))  # one snapshot
    assert [row.seq for row in ledger_rows(store)][-1] == FETCH_ROWS + 11


def test_a_walk_given_up_early_closes_its_connection(store: Store, record: Recorder) -> None:
    for _ in range(FETCH_ROWS + 1):
        record()
    walk = ledger_rows(store)
    next(walk)
    walk.close()  # a client that disconnected mid-download
    record()
    with store._reading() as conn:  # restarting the WAL waits for every reader to be gone
        busy, _, _ = conn.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()
    assert busy == 0


@pytest.mark.parametrize("column", ["answers", "temperatures", "reasons"])
def test_a_row_with_unreadable_json_is_store_corrupt(store: Store, column: str) -> None:
    entry = store.record_entry(full_draft(), boot_id=BOOT_ID, recorded_at=T0)
    row = entry_to_row(replace(entry, id="0691e475-0000-7000-8000-000000000000", seq=2))
    row[column] = "[{not json"
    columns = ", ".join(row)
    placeholders = ", ".join("?" * len(row))
    with store._writing() as db:
        db.execute("UPDATE sequences SET last_seq = 2")
        db.execute(f"INSERT INTO entries ({columns}) VALUES ({placeholders})", list(row.values()))
    with pytest.raises(StoreCorrupt, match="unreadable"):
        list(ledger_rows(store))
    with pytest.raises(StoreCorrupt, match="unreadable"):  # SQLite reads it for this one
        list(ledger_rows(store, fever_cases=True))
