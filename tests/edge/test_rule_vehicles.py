"""Vehicles at the rule: every occupant is measured before the gate opens, once."""

from __future__ import annotations

from dataclasses import replace

import pytest

from edge.model import Outcome, PassKind, Step, Verdict
from edge.policy import PassHistory
from edge.rule import (
    MAX_OCCUPANTS,
    OccupantsSet,
    OpenGate,
    PassShown,
    Prompt,
    Reason,
    Reject,
    RequestReading,
    Signal,
)
from tests.edge.conftest import GUARD, RuleRun, claims, entries_in

PLATE = "京A12345"


def vehicle(**changes: object) -> Verdict:
    return Verdict(reason=None, claims=replace(claims(PassKind.VEHICLE, **changes), plate=PLATE))


def arrive(run: RuleRun, occupants: int, verdict: Verdict | None = None) -> None:
    run.send(
        PassShown(
            at=run.now(),
            verdict=verdict or vehicle(),
            token_digest="tok-car",
            history=PassHistory(),
            occupants=occupants,
        )
    )


def count(run: RuleRun, n: int, guard: str = GUARD) -> list[object]:
    return list(run.send(OccupantsSet(at=run.now(), count=n, guard_id=guard)))


def opened(commands: list[object]) -> bool:
    return any(isinstance(c, OpenGate) for c in commands)


def next_person(run: RuleRun) -> None:
    """The next occupant leans to the window once the gap after the last one has passed."""
    run.advance(run.ctx.policy.timeouts.next_occupant_s)


def test_three_occupants_each_measured_then_one_entry_and_the_gate_opens(
    rule_run: RuleRun,
) -> None:
    arrive(rule_run, 3)
    assert rule_run.state.step is Step.MEASURE
    first = rule_run.read(36.5)
    assert first == [Signal("wait"), Prompt(Step.MEASURE, "measure_next", "2/3")]
    assert not entries_in(first)
    next_person(rule_run)
    second = rule_run.read(36.7)
    assert Prompt(Step.MEASURE, "measure_next", "3/3") in second
    assert not opened(first + second)
    next_person(rule_run)
    last = rule_run.read(36.4)
    (draft,) = entries_in(last)
    assert opened(last)
    assert draft.outcome is Outcome.PASSED
    assert [t.body_c for t in draft.temperatures] == [36.5, 36.7, 36.4]
    assert dict(draft.extra) == {"plate": PLATE, "occupants": "3", "occupants_cleared": "3"}
    assert rule_run.state.step is Step.STOP


def test_a_confirmed_fever_in_the_second_occupant_holds_the_whole_vehicle(
    rule_run: RuleRun,
) -> None:
    arrive(rule_run, 3)
    rule_run.read(36.5)
    next_person(rule_run)
    rule_run.read(38.2)
    assert rule_run.state.step is Step.HOLD
    rule_run.advance(rule_run.ctx.policy.fever.recheck_after_s)
    commands = rule_run.read(38.4)
    (draft,) = entries_in(commands)
    assert draft.outcome is Outcome.FEVER
    assert not opened(rule_run.log)
    assert dict(draft.extra)["occupants_cleared"] == "1"
    assert [t.body_c for t in draft.temperatures] == [36.5, 38.2, 38.4]


def test_an_unconfirmed_fever_moves_on_to_the_next_occupant(rule_run: RuleRun) -> None:
    arrive(rule_run, 2)
    rule_run.read(37.6)
    rule_run.advance(rule_run.ctx.policy.fever.recheck_after_s)
    commands = rule_run.read(36.8)
    assert Prompt(Step.MEASURE, "measure_next", "2/2") in commands
    assert rule_run.state.step is Step.MEASURE
    assert not entries_in(commands)
    next_person(rule_run)
    last = rule_run.read(36.6)
    (draft,) = entries_in(last)
    assert draft.outcome is Outcome.PASSED
    assert Reason.FEVER_NOT_CONFIRMED in draft.reasons
    assert opened(last)


def test_an_implausible_reading_does_not_count_as_an_occupant(rule_run: RuleRun) -> None:
    arrive(rule_run, 2)
    rule_run.read(33.0)  # a cold forehead: re-measure, nobody cleared
    assert rule_run.state.visit is not None
    assert rule_run.state.visit.cleared == 0
    rule_run.read(36.5)
    assert not rule_run.entries()
    next_person(rule_run)
    rule_run.read(36.5)
    assert [d.outcome for d in rule_run.entries()] == [Outcome.PASSED]


def test_the_guard_counts_more_occupants_while_measuring(rule_run: RuleRun) -> None:
    arrive(rule_run, 1)  # scanned by the camera: the driver alone until the guard counts
    assert count(rule_run, 2) == [Prompt(Step.MEASURE, "occupants", "0/2")]
    first = rule_run.read(36.5)
    assert not entries_in(first)
    next_person(rule_run)
    last = rule_run.read(36.6)
    assert [d.outcome for d in entries_in(last)] == [Outcome.PASSED]


def test_counting_down_to_those_already_measured_lets_the_vehicle_pass(rule_run: RuleRun) -> None:
    arrive(rule_run, 3)
    rule_run.read(36.5)
    next_person(rule_run)
    rule_run.read(36.5)
    commands = count(rule_run, 2)
    (draft,) = entries_in(commands)
    assert draft.outcome is Outcome.PASSED
    assert opened(commands)


@pytest.mark.parametrize(
    ("setup_readings", "new_count", "code"),
    [
        ((36.5, 36.5), 1, "occupants_out_of_range"),  # two already measured
        ((), 0, "occupants_out_of_range"),
        ((), MAX_OCCUPANTS + 1, "occupants_out_of_range"),
    ],
)
def test_impossible_counts_are_refused(
    rule_run: RuleRun, setup_readings: tuple[float, ...], new_count: int, code: str
) -> None:
    arrive(rule_run, 3)
    for value in setup_readings:
        rule_run.read(value)
        next_person(rule_run)
    before = rule_run.state
    (rejected,) = count(rule_run, new_count)
    assert isinstance(rejected, Reject)
    assert rejected.code == code
    assert rule_run.state == before


def test_counting_during_a_fever_hold_keeps_the_held_person(rule_run: RuleRun) -> None:
    arrive(rule_run, 2)
    rule_run.read(36.5)
    next_person(rule_run)
    rule_run.read(38.0)
    assert rule_run.state.step is Step.HOLD
    (rejected,) = count(rule_run, 1)  # one cleared plus the one held: at least 2
    assert isinstance(rejected, Reject)


def test_occupants_need_a_vehicle_pass_a_visit_and_a_guard(rule_run: RuleRun) -> None:
    (no_visit,) = count(rule_run, 2)
    assert isinstance(no_visit, Reject)
    assert no_visit.code == "no_visit"
    rule_run.scan()
    (person,) = count(rule_run, 2)
    assert isinstance(person, Reject)
    assert person.code == "not_vehicle"
    rule_run.cancel()
    arrive(rule_run, 1)
    (anonymous,) = count(rule_run, 2, guard=" ")
    assert isinstance(anonymous, Reject)
    assert anonymous.code == "guard_required"


@pytest.mark.parametrize(("asked", "kept"), [(0, 1), (-3, 1), (50, MAX_OCCUPANTS)])
def test_the_shown_occupant_count_is_kept_in_range(
    rule_run: RuleRun, asked: int, kept: int
) -> None:
    arrive(rule_run, asked)
    assert rule_run.state.visit is not None
    assert rule_run.state.visit.occupants == kept


def test_a_person_pass_has_no_vehicle_facts_in_its_entry(rule_run: RuleRun) -> None:
    rule_run.scan()
    (draft,) = entries_in(rule_run.read(36.5))
    assert draft.extra == ()


def test_the_person_just_cleared_is_not_counted_again(rule_run: RuleRun) -> None:
    """A fixed thermometer answering at once would read the same face twice: automatic
    readings in the gap are ignored and the next is asked for only after it."""
    arrive(rule_run, 2)
    rule_run.read(36.5)
    assert rule_run.read(36.5) == []  # the same person, still at the window
    assert rule_run.tick(0.5) == []  # no request inside the gap
    assert rule_run.state.visit is not None
    assert rule_run.state.visit.cleared == 1
    assert RequestReading() in rule_run.tick(rule_run.ctx.policy.timeouts.next_occupant_s)
    (draft,) = entries_in(rule_run.read(36.9))
    assert draft.outcome is Outcome.PASSED


def test_a_handheld_reading_in_the_gap_counts_for_the_next_person(rule_run: RuleRun) -> None:
    """The guard typed it for the next occupant: a manual reading is never the same face."""
    arrive(rule_run, 2)
    rule_run.read(36.5)
    (draft,) = entries_in(rule_run.read(36.7, manual=True))
    assert draft.outcome is Outcome.PASSED
    assert Reason.MANUAL_READING in draft.reasons
