"""edge.store.alarms on a real SQLite file: one open alarm per lane and kind, final
acknowledgements with the guard and note (a fever's needs one), and alarms that outlive closing
the store."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge.store import Store
from edge.store.alarms import (
    MAX_DETAIL_CHARS,
    MAX_NOTE_CHARS,
    NOTE_REQUIRED_KINDS,
    AlarmBook,
    NoteRefused,
    new_alarm_id,
)
from edge.store.guards import Guard, GuardBook, Role
from tests.edge.store.conftest import COMMUNITY, GATE, StepClock


@pytest.fixture
def book(store: Store) -> AlarmBook:
    return AlarmBook(store)


@pytest.fixture
def guard(store: Store, clock: StepClock) -> Guard:
    return GuardBook(store).add("值班员一号", Role.GUARD, "246801", now=clock())


def test_a_raised_alarm_is_open_with_what_was_said(book: AlarmBook, clock: StepClock) -> None:
    at = clock.advance(5)
    alarm, new = book.raise_alarm("in-1", "door_forced", "in-1/door: opened while locked", at=at)
    assert new is True
    assert (alarm.lane, alarm.kind, alarm.detail) == (
        "in-1",
        "door_forced",
        "in-1/door: opened while locked",
    )
    assert alarm.raised_at == at
    assert alarm.is_open
    assert book.open_alarms() == [alarm]
    assert book.get(alarm.id) == alarm


def test_a_repeat_while_open_is_the_same_alarm_not_a_second_row(
    book: AlarmBook, clock: StepClock
) -> None:
    first, _ = book.raise_alarm("in-1", "door_held_open", "31 s", at=clock.advance(1))
    again, new = book.raise_alarm("in-1", "door_held_open", "62 s", at=clock.advance(1))
    assert new is False
    assert again == first  # the first detail and time stay
    other_lane, new_lane = book.raise_alarm("out-1", "door_held_open", "5 s", at=clock.advance(1))
    other_kind, new_kind = book.raise_alarm("in-1", "store_failed", "", at=clock.advance(1))
    assert new_lane
    assert new_kind
    assert [a.id for a in book.open_alarms()] == [first.id, other_lane.id, other_kind.id]
    assert len(book.recent()) == 3


def test_every_fever_is_its_own_alarm_but_one_id_is_stored_once(
    book: AlarmBook, clock: StepClock
) -> None:
    first, _ = book.raise_alarm("in-1", "fever", "张*", at=clock.advance(1))
    second, new = book.raise_alarm("in-1", "fever", "李*", at=clock.advance(1))
    assert new
    assert second.id != first.id
    again, new_again = book.raise_alarm("in-1", "fever", "李*", at=clock.wall, alarm_id=second.id)
    assert not new_again
    assert again == second
    assert [a.detail for a in book.open_alarms()] == ["张*", "李*"]


def test_acknowledging_records_the_guard_time_and_note_and_closes_it(
    book: AlarmBook, guard: Guard, clock: StepClock
) -> None:
    alarm, _ = book.raise_alarm("in-1", "fever", "张*", at=clock.advance(1))
    acked_at = clock.advance(30)
    acked = book.acknowledge(alarm.id, guard.id, at=acked_at, note="已隔离复测，已上报社区")
    assert acked is not None
    assert (acked.acked_by, acked.acked_at, acked.ack_note) == (
        guard.id,
        acked_at,
        "已隔离复测，已上报社区",
    )
    assert not acked.is_open
    assert book.open_alarms() == []
    assert book.recent() == [acked]
    # Once acknowledged, the same lane and kind opens a new alarm.
    again, new = book.raise_alarm("in-1", "fever", "李*", at=clock.advance(1))
    assert new is True
    assert again.id != alarm.id
    assert [a.id for a in book.recent()] == [again.id, alarm.id]  # newest first


def test_an_acknowledgement_is_final(book: AlarmBook, store: Store, guard: Guard) -> None:
    other = GuardBook(store).add("值班员二号", Role.GUARD, "135702", now=datetime.now(UTC))
    alarm, _ = book.raise_alarm("in-1", "door_held_open", "", at=datetime.now(UTC))
    first_at = datetime.now(UTC)
    first = book.acknowledge(alarm.id, guard.id, at=first_at, note="门已关好")
    second = book.acknowledge(alarm.id, other.id, at=first_at + timedelta(minutes=5), note="x")
    assert second == first
    assert second is not None
    assert (second.acked_by, second.acked_at, second.ack_note) == (guard.id, first_at, "门已关好")


def test_an_unknown_alarm_is_none_and_the_acknowledging_guard_must_exist(
    book: AlarmBook, clock: StepClock
) -> None:
    assert book.acknowledge("no-such-alarm", "g-nobody", at=clock()) is None
    assert book.get("no-such-alarm") is None
    alarm, _ = book.raise_alarm("in-1", "fever", "", at=clock())
    with pytest.raises(sqlite3.IntegrityError):  # acked_by references guards (id)
        book.acknowledge(alarm.id, "g-nobody", at=clock(), note="已复测")
    assert book.open_alarms() == [alarm]


def test_a_fever_is_acknowledged_only_with_a_note_of_what_was_done(
    book: AlarmBook, guard: Guard, clock: StepClock
) -> None:
    fever, _ = book.raise_alarm("in-1", "fever", "张*", at=clock.advance(1))
    for empty in ("", "  \n\t "):
        with pytest.raises(NoteRefused) as refused:
            book.acknowledge(fever.id, guard.id, at=clock.advance(1), note=empty)
        assert refused.value.code == "note_required"
    with pytest.raises(NoteRefused) as too_long:
        book.acknowledge(fever.id, guard.id, at=clock(), note="复" * (MAX_NOTE_CHARS + 1))
    assert too_long.value.code == "note_too_long"
    assert book.open_alarms() == [fever]  # refused: still open, nothing written
    acked = book.acknowledge(fever.id, guard.id, at=clock.advance(1), note=" 已复测；已上报社区 ")
    assert acked is not None
    assert (acked.acked_by, acked.ack_note) == (guard.id, "已复测；已上报社区")  # trimmed
    # Final, and a later empty acknowledgement is no refusal: nothing is written either way.
    assert book.acknowledge(fever.id, guard.id, at=clock.advance(1)) == acked
    door, _ = book.raise_alarm("in-1", "door_forced", "", at=clock.advance(1))
    assert book.acknowledge(door.id, guard.id, at=clock.advance(1)) is not None  # optional


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    kind=st.sampled_from(["fever", "fever_unconfirmed", "door_held_open", "sync_backlog"]),
    note=st.text(max_size=MAX_NOTE_CHARS + 20),
)
def test_a_note_is_stored_trimmed_or_refused_with_its_reason(
    book: AlarmBook, guard: Guard, clock: StepClock, kind: str, note: str
) -> None:
    lane = new_alarm_id(clock.advance(1))  # a lane of its own: an alarm of its own
    alarm, _ = book.raise_alarm(lane, kind, "", at=clock())
    trimmed = note.strip()
    if len(trimmed) > MAX_NOTE_CHARS or (not trimmed and kind in NOTE_REQUIRED_KINDS):
        with pytest.raises(NoteRefused) as refused:
            book.acknowledge(alarm.id, guard.id, at=clock(), note=note)
        assert refused.value.code == ("note_required" if not trimmed else "note_too_long")
        assert book.get(alarm.id) == alarm
    else:
        acked = book.acknowledge(alarm.id, guard.id, at=clock(), note=note)
        assert acked is not None
        assert acked.ack_note == trimmed


def test_times_are_stored_in_utc_and_a_naive_time_is_refused(book: AlarmBook) -> None:
    beijing = timezone(timedelta(hours=8))
    at = datetime(2026, 11, 23, 9, 30, tzinfo=beijing)
    alarm, _ = book.raise_alarm("in-1", "disk_filling", "", at=at)
    assert alarm.raised_at == at
    assert alarm.raised_at.utcoffset() == timedelta(0)
    assert book.open_alarms()[0].raised_at.isoformat() == "2026-11-23T01:30:00+00:00"
    with pytest.raises(ValueError, match="time zone"):
        book.raise_alarm("in-1", "fever", "", at=datetime(2026, 11, 23, 9, 30))
    with pytest.raises(ValueError, match="kind"):
        book.raise_alarm("in-1", "", "", at=at)


def test_the_caller_s_id_is_kept_and_long_details_are_cut(
    book: AlarmBook, clock: StepClock
) -> None:
    chosen = new_alarm_id(clock())
    alarm, _ = book.raise_alarm("", "sync_backlog", "x" * 5000, at=clock(), alarm_id=chosen)
    assert alarm.id == chosen
    assert len(book.open_alarms()[0].detail) == MAX_DETAIL_CHARS
    assert new_alarm_id(clock()) > chosen  # time-ordered ids


def test_alarms_survive_closing_and_reopening_the_store(db_path: Path, clock: StepClock) -> None:
    with Store.open(db_path, community=COMMUNITY, gate=GATE, now=clock) as store:
        guard = GuardBook(store).add("值班员一号", Role.GUARD, "246801", now=clock())
        book = AlarmBook(store)
        forced, _ = book.raise_alarm("in-1", "door_forced", "opened", at=clock.advance(1))
        fever, _ = book.raise_alarm("in-1", "fever", "张*", at=clock.advance(1))
        acked = book.acknowledge(fever.id, guard.id, at=clock.advance(10), note="已上报")
    with Store.open(db_path, community=COMMUNITY, gate=GATE, now=clock) as reopened:
        book = AlarmBook(reopened)
        assert book.open_alarms() == [forced]
        assert book.recent() == [acked, forced]
        # Still one open alarm per lane and kind after the restart.
        assert book.raise_alarm("in-1", "door_forced", "again", at=clock.advance(1)).new is False


def test_the_fever_alarms_of_a_window_come_oldest_first_acknowledged_or_not(
    book: AlarmBook, guard: Guard
) -> None:
    start = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)
    for minute, kind in enumerate(["fever", "door_forced", "fever_unconfirmed", "fever"]):
        book.raise_alarm("in-1", kind, f"#{minute}", at=start + timedelta(minutes=minute))
    first = book.each_event_alarms()[0]
    book.acknowledge(first.id, guard.id, at=start + timedelta(minutes=5), note="已复测")
    every = book.each_event_alarms()
    assert [(a.kind, a.detail) for a in every] == [
        ("fever", "#0"),
        ("fever_unconfirmed", "#2"),
        ("fever", "#3"),
    ]
    assert (every[0].acked_by, every[0].ack_note) == (guard.id, "已复测")
    window = book.each_event_alarms(
        since=start + timedelta(minutes=1), until=start + timedelta(minutes=3)
    )
    assert [a.detail for a in window] == ["#2"]
