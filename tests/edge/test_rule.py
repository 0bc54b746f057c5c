"""The five-step rule: every transition, every reason code, and the one-entry-per-visit law."""

from __future__ import annotations

import math
import random
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from edge.model import (
    Direction,
    EntryDraft,
    GateMode,
    Instant,
    MeasuredTemperature,
    Outcome,
    PassKind,
    Step,
    Verdict,
    VerifyReason,
)
from edge.policy import Finding, PassHistory, Policy, needs_measure
from edge.rule import (
    OVERRIDE_AFTER_DENIAL_S,
    PASSED_UNMEASURED,
    AnswersGiven,
    Command,
    Event,
    GuardCancel,
    GuardOverride,
    HoldGateOpen,
    LaneState,
    ModeChange,
    OpenGate,
    PassShown,
    Prompt,
    RaiseAlarm,
    Reason,
    RecordEntry,
    Reject,
    ReleaseGate,
    RequestReading,
    Signal,
    TemperatureTaken,
    Tick,
)
from tests.clock import FakeClock
from tests.edge.conftest import (
    GUARD,
    LANE,
    SENSOR,
    T0,
    RuleRun,
    RunFactory,
    context,
    entries_in,
    invalid,
    kinds_in,
    make_policy,
    reading,
    valid,
)

MEASURE_PROMPT = [Signal("wait"), Prompt(Step.MEASURE, "measure"), RequestReading()]
ASK_PROMPT = [Signal("wait"), Prompt(Step.ASK, "answer_questions", "travel_14d,symptoms")]
NO = {"travel_14d": "no", "symptoms": "no"}


def only_entry(commands: list[Any]) -> EntryDraft:
    (draft,) = entries_in(commands)
    return draft


def passed_tail(
    outcome: Outcome = Outcome.PASSED, open_s: float = 3.0, code: str | None = None
) -> list[Any]:
    return [OpenGate(open_s), Signal("pass"), Prompt(Step.PASS, code or outcome.value)]


def abandoned_tail(reason: str) -> list[Any]:
    return [Signal("idle"), Prompt(Step.STOP, "abandoned", reason)]


def denied_tail(reason: str, step: Step = Step.LOOK) -> list[Any]:
    return [Signal("deny"), Prompt(step, "denied", reason)]


def alarms(commands: list[Any]) -> list[str]:
    return [c.kind for c in commands if isinstance(c, RaiseAlarm)]


def into_hold(run: RuleRun, value_c: float = 37.8) -> None:
    """A resident measured over the fever line, now waiting for the confirming re-measure."""
    run.scan()
    run.advance(2)
    run.read(value_c)
    assert run.state.step is Step.HOLD


def remeasure(run: RuleRun, first_c: float, second_c: float) -> tuple[list[Command], EntryDraft]:
    """Hold on a fever reading, re-measure once due: the commands and the one entry decided."""
    into_hold(run, first_c)
    run.tick(60)
    commands = run.read(second_c)
    draft = only_entry(commands)
    assert [t.body_c for t in draft.temperatures] == [first_c, second_c]
    return commands, draft


# --------------------------------------------------------------------------- the pass path


def test_resident_measured_normal_passes_with_one_entry_then_the_gate_opens(
    rule_run: RuleRun,
) -> None:
    assert rule_run.state == LaneState()

    started = rule_run.now()
    assert rule_run.scan(token="tok-r") == MEASURE_PROMPT
    assert rule_run.state.step is Step.MEASURE
    assert rule_run.state.visit is not None
    assert rule_run.state.visit.token_digest == "tok-r"

    decided = rule_run.advance(4.5)
    commands = rule_run.read(36.5)

    expected = EntryDraft(
        lane=LANE,
        direction=Direction.IN,
        outcome=Outcome.PASSED,
        started_at=started.wall,
        decided_at=decided.wall,
        reasons=(),
        pass_id="P-0001",
        pass_kind=PassKind.RESIDENT,
        holder="王*华",
        household="3-2-501",
        key_id="hxy-2026a",
        answers=(),
        temperatures=(
            MeasuredTemperature(
                reading=reading(36.5), body_c=36.5, at=decided.wall, plausible=True, fever=False
            ),
        ),
        guard_id=None,
        guard_note=None,
        gate_mode=GateMode.NORMAL,
        clock_synced=True,
    )
    assert commands == [RecordEntry(expected), *passed_tail()]
    assert rule_run.state == LaneState(
        mode=GateMode.NORMAL, visit=None, last_digest="tok-r", last_ended_s=decided.mono_s
    )
    assert len(rule_run.entries()) == 1


def test_open_time_comes_from_the_lane(make_run: RunFactory) -> None:
    run = make_run(open_s=7.5)
    run.scan()
    commands = run.read(36.4)
    assert commands[1] == OpenGate(7.5)


def test_going_out_is_not_measured(make_run: RunFactory) -> None:
    run = make_run(direction=Direction.OUT)
    commands = run.scan()
    assert kinds_in(commands) == [RecordEntry, OpenGate, Signal, Prompt]
    draft = only_entry(commands)
    assert draft.outcome is Outcome.PASSED
    assert draft.direction is Direction.OUT
    assert draft.temperatures == ()
    assert run.state.step is Step.STOP


def test_kind_that_is_not_measured_passes_at_look(make_run: RunFactory) -> None:
    run = make_run(make_policy(kinds={"vehicle": {"measure": False}}))
    commands = run.scan(valid(PassKind.VEHICLE))
    assert only_entry(commands).outcome is Outcome.PASSED
    assert RequestReading() not in commands
    assert commands[1:] == passed_tail(code=PASSED_UNMEASURED)  # nothing measured, nothing claimed


def test_unsynced_clock_is_recorded_from_either_end_of_the_visit(rule_run: RuleRun) -> None:
    rule_run.clock.clock_synced = False
    rule_run.scan()
    rule_run.clock.clock_synced = True
    assert not only_entry(rule_run.read(36.5)).clock_synced

    rule_run.advance(10)
    rule_run.scan(token="tok-b")
    assert only_entry(rule_run.read(36.5)).clock_synced


# ------------------------------------------------------------------------ invalid verdicts


@pytest.mark.parametrize("reason", list(VerifyReason))
@pytest.mark.parametrize("named", [True, False])
def test_every_invalid_verdict_is_denied_with_its_reason(
    rule_run: RuleRun, reason: VerifyReason, named: bool
) -> None:
    commands = rule_run.scan(invalid(reason, named=named))
    draft = only_entry(commands)
    assert draft.outcome is Outcome.DENIED
    assert draft.reasons == (reason.value,)
    assert draft.pass_id == ("P-0001" if named else None)
    assert draft.household == ("3-2-501" if named else None)
    assert commands == [RecordEntry(draft), *denied_tail(reason)]
    assert not any(isinstance(c, OpenGate | RequestReading) for c in commands)
    assert rule_run.state.visit is None
    assert rule_run.state.last_digest == "tok-a"


# ------------------------------------------------------------------------------ questions


@pytest.mark.parametrize("kind", [PassKind.TEMPORARY, PassKind.VISITOR])
def test_questions_are_asked_then_recorded(rule_run: RuleRun, kind: PassKind) -> None:
    assert rule_run.scan(valid(kind)) == ASK_PROMPT
    assert rule_run.state.step is Step.ASK

    answered = rule_run.advance(20)
    assert rule_run.answer(symptoms="no", travel_14d="no", pets="yes") == MEASURE_PROMPT
    assert rule_run.state.visit is not None
    assert rule_run.state.visit.step_since_s == answered.mono_s

    draft = only_entry(rule_run.read(36.7))
    assert draft.outcome is Outcome.PASSED
    assert draft.pass_kind is kind
    # In the order asked, and only the questions asked.
    assert draft.answers == (("travel_14d", "no"), ("symptoms", "no"))
    assert draft.reasons == ()


@pytest.mark.parametrize(
    ("answers", "missing"),
    [
        ({}, "travel_14d,symptoms"),
        ({"travel_14d": "no"}, "symptoms"),
        ({"travel_14d": "no", "symptoms": "maybe"}, "symptoms"),
        ({"travel_14d": "", "symptoms": "no"}, "travel_14d"),
    ],
)
def test_missing_answers_are_rejected_and_change_nothing(
    rule_run: RuleRun, answers: dict[str, str], missing: str
) -> None:
    rule_run.scan(valid(PassKind.TEMPORARY))
    before = rule_run.state
    assert rule_run.answer(**answers) == [Reject("answers_missing", missing)]
    assert rule_run.state == before
    # The visit still waits and is still answerable.
    assert rule_run.answer(**NO) == MEASURE_PROMPT


def test_answers_when_nobody_is_asked_are_rejected(rule_run: RuleRun) -> None:
    assert rule_run.answer(**NO) == [Reject("not_asking", "no visit is waiting for answers")]
    assert rule_run.state == LaneState()
    rule_run.scan()  # a resident: straight to measure
    before = rule_run.state
    assert rule_run.answer(**NO) == [Reject("not_asking", "no visit is waiting for answers")]
    assert rule_run.state == before


def test_refusing_answer_with_hard_severity_is_denied(rule_run: RuleRun) -> None:
    rule_run.scan(valid(PassKind.VISITOR))
    commands = rule_run.answer(travel_14d="yes", symptoms="no")
    draft = only_entry(commands)
    assert draft.outcome is Outcome.DENIED
    assert draft.reasons == (Finding.ANSWER.value,)
    assert draft.answers == (("travel_14d", "yes"), ("symptoms", "no"))
    assert commands == [
        RecordEntry(draft),
        *denied_tail("answer_refused"),
    ]
    assert rule_run.state.visit is None


def test_refusing_answer_with_soft_severity_passes_and_is_recorded(make_run: RunFactory) -> None:
    run = make_run(make_policy(checks={"answers": "soft"}))
    run.scan(valid(PassKind.TEMPORARY))
    assert run.answer(travel_14d="no", symptoms="yes") == MEASURE_PROMPT
    commands = run.read(36.6)
    draft = only_entry(commands)
    assert draft.outcome is Outcome.PASSED
    assert draft.reasons == (Finding.ANSWER.value,)
    assert draft.answers == (("travel_14d", "no"), ("symptoms", "yes"))
    assert commands[1:] == passed_tail()


def test_answered_kind_that_is_not_measured_passes_at_ask(make_run: RunFactory) -> None:
    run = make_run(direction=Direction.OUT)
    run.scan(valid(PassKind.VISITOR))
    commands = run.answer(**NO)
    assert only_entry(commands).outcome is Outcome.PASSED
    assert commands[1:] == passed_tail(code=PASSED_UNMEASURED)  # nothing measured, nothing claimed


# -------------------------------------------------------------------------------- measure


@pytest.mark.parametrize("implausible_c", [33.1, 34.99, 42.51, 55.0])
def test_implausible_reading_asks_again_then_a_normal_one_passes(
    rule_run: RuleRun, implausible_c: float
) -> None:
    rule_run.scan()
    rule_run.advance(1)
    assert rule_run.read(implausible_c) == [
        Prompt(Step.MEASURE, "remeasure", f"{implausible_c:.1f}")
    ]
    assert rule_run.state.step is Step.MEASURE

    rule_run.advance(2)
    draft = only_entry(rule_run.read(36.6))
    assert draft.outcome is Outcome.PASSED
    assert [(t.body_c, t.plausible, t.fever) for t in draft.temperatures] == [
        (implausible_c, False, False),
        (36.6, True, False),
    ]
    assert draft.temperatures[0].at == T0 + timedelta(seconds=1)
    assert draft.temperatures[1].at == T0 + timedelta(seconds=3)


def test_sensor_offset_is_applied(make_run: RunFactory) -> None:
    run = make_run(make_policy(fever={"offsets_c": {SENSOR: 1.2}}))
    run.scan()
    # 34.6 from the module is 35.8 on the body: plausible and normal.
    draft = only_entry(run.read(34.6))
    assert draft.outcome is Outcome.PASSED
    assert draft.temperatures[0].body_c == 35.8
    assert draft.temperatures[0].reading.value_c == 34.6


def test_sensor_offset_can_carry_a_reading_over_the_fever_line(make_run: RunFactory) -> None:
    run = make_run(make_policy(fever={"offsets_c": {SENSOR: 0.5}}))
    run.scan()
    run.read(36.8)
    assert run.state.step is Step.HOLD


def test_manual_reading_takes_no_offset_and_is_flagged(make_run: RunFactory) -> None:
    run = make_run(make_policy(fever={"offsets_c": {SENSOR: 1.2}}))
    run.scan()
    # 36.6 from a handheld is 36.6; with the offset it would have been a fever.
    draft = only_entry(run.read(36.6, manual=True))
    assert draft.outcome is Outcome.PASSED
    assert draft.temperatures[0].body_c == 36.6
    assert draft.temperatures[0].reading.manual
    assert draft.reasons == (Reason.MANUAL_READING.value,)


def test_manual_reading_is_flagged_once(rule_run: RuleRun) -> None:
    rule_run.scan()
    rule_run.read(33.0, manual=True)
    draft = only_entry(rule_run.read(36.5, manual=True))
    assert draft.reasons == (Reason.MANUAL_READING.value,)


def test_manual_reading_is_flagged_even_if_the_decision_was_automatic(rule_run: RuleRun) -> None:
    rule_run.scan()
    rule_run.read(31.0, manual=True)
    draft = only_entry(rule_run.read(36.5))
    assert draft.reasons == (Reason.MANUAL_READING.value,)
    assert not draft.temperatures[1].reading.manual


@pytest.mark.parametrize("step", [Step.STOP, Step.ASK])
def test_stray_reading_is_ignored(rule_run: RuleRun, step: Step) -> None:
    if step is Step.ASK:
        rule_run.scan(valid(PassKind.TEMPORARY))
    before = rule_run.state
    assert rule_run.read(38.5) == []
    assert rule_run.state == before


# ---------------------------------------------------------------------------------- fever


@pytest.mark.parametrize(("value_c", "fever"), [(37.3, True), (37.29, False), (37.31, True)])
def test_the_fever_line_is_at_or_above_37_3(rule_run: RuleRun, value_c: float, fever: bool) -> None:
    rule_run.scan()
    commands = rule_run.read(value_c)
    if fever:
        assert commands == [Signal("wait"), Prompt(Step.HOLD, "fever_recheck", "60")]
        assert rule_run.state.step is Step.HOLD
    else:
        assert only_entry(commands).outcome is Outcome.PASSED


def test_fever_reading_holds_for_the_confirming_remeasure(rule_run: RuleRun) -> None:
    rule_run.scan()
    first = rule_run.advance(2)
    assert rule_run.read(38.1) == [Signal("wait"), Prompt(Step.HOLD, "fever_recheck", "60")]
    visit = rule_run.state.visit
    assert visit is not None
    assert visit.step is Step.HOLD
    assert visit.first_fever_s == first.mono_s

    # Readings before the delay are evidence but decide nothing.
    rule_run.advance(20)
    assert rule_run.read(36.4) == []
    rule_run.advance(20)
    assert rule_run.read(38.3) == []
    visit = rule_run.state.visit
    assert visit is not None
    assert visit.step is Step.HOLD
    assert [t.body_c for t in visit.temperatures] == [38.1, 36.4, 38.3]


def test_ticks_in_hold_wait_then_request_the_remeasure(rule_run: RuleRun) -> None:
    into_hold(rule_run)
    assert rule_run.tick(59.875) == []
    assert rule_run.tick(0.125) == [Prompt(Step.HOLD, "remeasure_now"), RequestReading()]
    # The prompt is given once; afterwards the thermometer is asked every interval.
    assert rule_run.tick(0.5) == []
    assert rule_run.tick(0.5) == [RequestReading()]
    assert rule_run.tick(0.875) == []
    assert rule_run.tick(0.125) == [RequestReading()]
    assert rule_run.state.step is Step.HOLD


def test_confirmed_fever_raises_the_alarm_and_keeps_the_gate_shut(rule_run: RuleRun) -> None:
    commands, draft = remeasure(rule_run, 38.1, 37.9)
    assert draft.outcome is Outcome.FEVER
    assert draft.reasons == (Reason.FEVER.value,)
    assert commands == [
        RecordEntry(draft),
        Signal("fever"),
        RaiseAlarm("fever", "王*华, household 3-2-501; readings °C: 38.1, 37.9"),
        Prompt(Step.HOLD, "fever"),
    ]
    assert not any(isinstance(c, OpenGate) for c in rule_run.log)
    assert rule_run.state.visit is None


def test_fever_alarm_names_only_plausible_readings(rule_run: RuleRun) -> None:
    into_hold(rule_run, 38.0)
    rule_run.advance(61)
    assert rule_run.read(50.0) == [Prompt(Step.HOLD, "remeasure", "50.0")]
    assert rule_run.state.step is Step.HOLD  # an implausible re-measure does not decide
    commands = rule_run.read(38.2)
    assert RaiseAlarm("fever", "王*华, household 3-2-501; readings °C: 38.0, 38.2") in commands


def test_a_remeasure_without_the_prompt_still_decides_once_due(rule_run: RuleRun) -> None:
    into_hold(rule_run)
    rule_run.advance(60)  # no tick came: the reading itself is late enough
    assert only_entry(rule_run.read(37.4)).outcome is Outcome.FEVER


def test_normal_remeasure_passes_with_fever_not_confirmed(rule_run: RuleRun) -> None:
    commands, draft = remeasure(rule_run, 37.5, 36.8)
    assert draft.outcome is Outcome.PASSED
    assert draft.reasons == (Reason.FEVER_NOT_CONFIRMED.value,)
    assert commands[1:] == passed_tail()
    assert alarms(commands) == []


def test_recheck_delay_is_configured(make_run: RunFactory) -> None:
    run = make_run(make_policy(fever={"recheck_after_s": 0}))
    run.scan()
    assert run.read(38.0) == [Signal("wait"), Prompt(Step.HOLD, "fever_recheck", "0")]
    assert only_entry(run.read(36.5)).outcome is Outcome.PASSED


def test_hold_timeout_abandons_and_still_reports_the_fever(rule_run: RuleRun) -> None:
    into_hold(rule_run, 38.4)
    # Due 60 s after the first fever reading; given up 180 s after that.
    rule_run.tick(60)
    rule_run.tick(179.875)
    assert rule_run.state.step is Step.HOLD
    commands = rule_run.tick(0.125)
    draft = only_entry(commands)
    assert draft.outcome is Outcome.ABANDONED
    assert draft.reasons == (Reason.TIMEOUT_HOLD.value, Reason.FEVER_NOT_CONFIRMED.value)
    assert commands == [
        RecordEntry(draft),
        *abandoned_tail("timeout_hold,fever_not_confirmed"),
        RaiseAlarm("fever_unconfirmed", "王*华, household 3-2-501; readings °C: 38.4"),
    ]
    assert not any(isinstance(c, OpenGate) for c in rule_run.log)


def test_hold_times_out_even_without_earlier_ticks(rule_run: RuleRun) -> None:
    into_hold(rule_run)
    assert only_entry(rule_run.tick(240)).reasons == ("timeout_hold", "fever_not_confirmed")


def test_measure_timeout_does_not_apply_in_hold(rule_run: RuleRun) -> None:
    into_hold(rule_run)
    assert rule_run.tick(50) == []  # past measure_s (45 s) but before the re-measure is due
    assert rule_run.state.step is Step.HOLD


def test_superseded_in_hold_reports_the_fever(rule_run: RuleRun) -> None:
    into_hold(rule_run, 38.0)
    rule_run.advance(5)
    commands = rule_run.scan(valid(pass_id="P-0002", unit="9-1-101"), token="tok-b")
    abandoned = entries_in(commands)[0]
    assert abandoned.outcome is Outcome.ABANDONED
    assert abandoned.reasons == (Reason.SUPERSEDED.value, Reason.FEVER_NOT_CONFIRMED.value)
    assert abandoned.pass_id == "P-0001"
    assert (
        RaiseAlarm("fever_unconfirmed", "王*华, household 3-2-501; readings °C: 38.0") in commands
    )
    # The alarm belongs to the old visit: it comes before the new visit's prompts.
    assert commands.index(
        RaiseAlarm("fever_unconfirmed", "王*华, household 3-2-501; readings °C: 38.0")
    ) < (commands.index(RequestReading()))
    assert rule_run.state.step is Step.MEASURE


def test_cancelled_in_hold_reports_the_fever(rule_run: RuleRun) -> None:
    into_hold(rule_run)
    commands = rule_run.cancel()
    assert only_entry(commands).reasons == ("guard_cancelled", "fever_not_confirmed")
    assert alarms(commands) == ["fever_unconfirmed"]


def test_mode_change_in_hold_reports_the_fever(rule_run: RuleRun) -> None:
    into_hold(rule_run)
    commands = rule_run.mode(GateMode.LOCKDOWN)
    abandoned = entries_in(commands)[0]
    assert abandoned.reasons == ("mode_changed", "fever_not_confirmed")
    assert "fever_unconfirmed" in alarms(commands)


def test_override_in_hold_reports_the_unconfirmed_fever(rule_run: RuleRun) -> None:
    # A guard may let a held person through, but the fever is still reported upward (上报).
    into_hold(rule_run, 37.9)
    commands = rule_run.override(reason="going to the clinic")
    draft = entries_in(commands)[0]
    assert draft.outcome is Outcome.OVERRIDDEN
    assert draft.reasons == (Reason.FEVER_NOT_CONFIRMED.value,)
    assert commands[:2] == [RecordEntry(draft), OpenGate(3.0)]
    assert alarms(commands) == ["fever_unconfirmed"]


# ------------------------------------------------------------------------------- timeouts


def test_ask_times_out_exactly_at_the_limit(rule_run: RuleRun) -> None:
    rule_run.scan(valid(PassKind.TEMPORARY))
    # Binary fractions keep the clock sums exact, so the boundary is the boundary.
    assert rule_run.tick(89.875) == []
    assert rule_run.state.step is Step.ASK
    commands = rule_run.tick(0.125)
    draft = only_entry(commands)
    assert draft.outcome is Outcome.ABANDONED
    assert draft.reasons == (Reason.TIMEOUT_ASK.value,)
    assert commands == [
        RecordEntry(draft),
        *abandoned_tail("timeout_ask"),
    ]
    assert rule_run.state.visit is None


def test_measure_times_out_exactly_at_the_limit(rule_run: RuleRun) -> None:
    rule_run.scan()
    rule_run.read(33.0)
    commands = rule_run.tick(44.875)
    assert RecordEntry not in kinds_in(commands)
    assert rule_run.state.step is Step.MEASURE
    commands = rule_run.tick(0.125)
    draft = only_entry(commands)
    assert draft.outcome is Outcome.ABANDONED
    assert draft.reasons == (Reason.TIMEOUT_MEASURE.value,)
    assert [t.body_c for t in draft.temperatures] == [33.0]  # the failed tries are evidence
    assert not any(isinstance(c, OpenGate) for c in commands)


def test_measure_timeout_counts_from_the_end_of_the_questions(rule_run: RuleRun) -> None:
    rule_run.scan(valid(PassKind.TEMPORARY))
    rule_run.advance(80)
    rule_run.answer(**NO)
    assert RecordEntry not in kinds_in(rule_run.tick(44.875))
    assert only_entry(rule_run.tick(0.125)).reasons == ("timeout_measure",)


def test_configured_timeouts(make_run: RunFactory) -> None:
    run = make_run(make_policy(timeouts={"ask_s": 10, "measure_s": 5}))
    run.scan(valid(PassKind.TEMPORARY))
    assert only_entry(run.tick(10)).reasons == ("timeout_ask",)
    run.advance(10)
    run.scan(token="tok-b")
    assert only_entry(run.tick(5)).reasons == ("timeout_measure",)


def test_tick_with_nobody_at_the_gate_does_nothing(rule_run: RuleRun) -> None:
    assert rule_run.tick(1000) == []
    assert rule_run.state == LaneState()


def test_measure_rerequests_respect_the_interval(make_run: RunFactory) -> None:
    run = make_run(make_policy(fever={"remeasure_interval_s": 5}))
    assert run.scan()[-1] == RequestReading()
    assert run.tick(4.875) == []
    assert run.tick(0.125) == [RequestReading()]
    assert run.tick(4.0) == []
    assert run.tick(1.0) == [RequestReading()]
    # An implausible reading restarts the pause: the module just answered.
    run.advance(3)
    run.read(30.0)
    assert run.tick(4.875) == []
    assert run.tick(0.125) == [RequestReading()]


def test_default_rerequest_interval_is_one_second(rule_run: RuleRun) -> None:
    rule_run.scan()
    assert [rule_run.tick(0.5) for _ in range(4)] == [
        [],
        [RequestReading()],
        [],
        [RequestReading()],
    ]


# ---------------------------------------------------------------------------- superseding


def test_a_different_pass_supersedes_the_visit(rule_run: RuleRun) -> None:
    first = rule_run.now()
    rule_run.scan(valid(PassKind.TEMPORARY), token="tok-a")
    second = rule_run.advance(10)
    commands = rule_run.scan(valid(pass_id="P-0002"), token="tok-b")
    draft = entries_in(commands)[0]
    assert draft.outcome is Outcome.ABANDONED
    assert draft.reasons == (Reason.SUPERSEDED.value,)
    assert draft.pass_id == "P-0001"
    assert draft.started_at == first.wall
    assert draft.decided_at == second.wall
    assert commands == [
        RecordEntry(draft),
        *abandoned_tail("superseded"),
        *MEASURE_PROMPT,
    ]
    visit = rule_run.state.visit
    assert visit is not None
    assert visit.token_digest == "tok-b"
    assert visit.started == second

    passed = only_entry(rule_run.read(36.5))
    assert passed.pass_id == "P-0002"
    assert passed.started_at == second.wall
    assert [d.outcome for d in rule_run.entries()] == [Outcome.ABANDONED, Outcome.PASSED]


def test_an_invalid_code_during_a_visit_is_logged_and_the_visit_goes_on(
    rule_run: RuleRun,
) -> None:
    rule_run.scan()
    before = rule_run.state.visit
    commands = rule_run.scan(invalid(VerifyReason.REVOKED), token="tok-b")
    assert [(d.outcome, d.reasons) for d in entries_in(commands)] == [
        (Outcome.DENIED, ("revoked",)),
    ]
    assert not any(isinstance(c, OpenGate) for c in commands)
    assert rule_run.state.visit == before
    # The scanner reading the same stray code again is not a second entry.
    rule_run.advance(1)
    assert rule_run.scan(invalid(VerifyReason.REVOKED), token="tok-b") == []


def assert_shown_again_in_vain(run: RuleRun, value_c: float, later_s: float) -> None:
    """Scan a pass, read ``value_c``, show the same pass ``later_s`` later: nothing changes."""
    run.scan(token="tok-a")
    run.read(value_c)
    before = run.state
    run.advance(later_s)
    assert run.scan(token="tok-a") == []
    assert run.state == before


def test_the_same_pass_during_its_visit_changes_nothing(rule_run: RuleRun) -> None:
    assert_shown_again_in_vain(rule_run, 33.0, 3)  # implausible: the visit is still measuring


def test_the_same_pass_just_after_passing_is_ignored(rule_run: RuleRun) -> None:
    assert_shown_again_in_vain(rule_run, 36.5, 4.875)
    rule_run.advance(0.125)
    assert rule_run.scan(token="tok-a") == MEASURE_PROMPT
    assert rule_run.state.step is Step.MEASURE


def test_another_pass_just_after_passing_starts_a_visit(rule_run: RuleRun) -> None:
    rule_run.scan(token="tok-a")
    rule_run.read(36.5)
    rule_run.advance(0.5)
    assert rule_run.scan(token="tok-b") == MEASURE_PROMPT


def test_a_denied_pass_shown_again_at_once_is_not_logged_twice(rule_run: RuleRun) -> None:
    rule_run.scan(invalid(VerifyReason.EXPIRED))
    rule_run.advance(1)
    assert rule_run.scan(invalid(VerifyReason.EXPIRED)) == []
    assert len(rule_run.entries()) == 1


def test_same_pass_window_is_configured(make_run: RunFactory) -> None:
    run = make_run(make_policy(timeouts={"same_pass_ignore_s": 0}))
    run.scan()
    run.read(36.5)
    assert run.scan() == MEASURE_PROMPT


# ------------------------------------------------------------------------- guard override


@pytest.mark.parametrize(
    ("guard_id", "reason", "code"),
    [
        ("", "elderly resident", "guard_required"),
        ("   ", "elderly resident", "guard_required"),
        (GUARD, "", "reason_required"),
        (GUARD, " \t ", "reason_required"),
        ("", "", "guard_required"),
    ],
)
@pytest.mark.parametrize("with_visit", [True, False])
def test_override_needs_a_guard_and_a_reason(
    rule_run: RuleRun, guard_id: str, reason: str, code: str, with_visit: bool
) -> None:
    if with_visit:
        rule_run.scan()
    before = rule_run.state
    commands = rule_run.override(guard_id=guard_id, reason=reason)
    (reject,) = commands
    assert isinstance(reject, Reject)
    assert reject.code == code
    assert rule_run.state == before
    assert rule_run.entries() == []


def test_override_records_the_guard_then_opens(rule_run: RuleRun) -> None:
    rule_run.scan()
    rule_run.read(32.0)
    rule_run.advance(8)
    commands = rule_run.override(reason="  cold hands, handheld read 36.4  ")
    draft = only_entry(commands)
    assert draft.outcome is Outcome.OVERRIDDEN
    assert draft.guard_id == GUARD
    assert draft.guard_note == "cold hands, handheld read 36.4"
    assert draft.pass_id == "P-0001"
    assert [t.body_c for t in draft.temperatures] == [32.0]
    assert commands == [RecordEntry(draft), *passed_tail(Outcome.OVERRIDDEN)]
    assert rule_run.state.visit is None
    assert rule_run.state.last_digest == "tok-a"


def test_override_while_asking(rule_run: RuleRun) -> None:
    rule_run.scan(valid(PassKind.VISITOR))
    draft = only_entry(rule_run.override())
    assert draft.outcome is Outcome.OVERRIDDEN
    assert draft.answers == ()


def test_override_with_nobody_scanned(rule_run: RuleRun) -> None:
    rule_run.scan(token="tok-old")
    rule_run.read(36.5)
    rule_run.advance(30)
    before = rule_run.state
    at = rule_run.now()
    commands = rule_run.override(reason="courier without a pass")
    draft = only_entry(commands)
    assert draft.outcome is Outcome.OVERRIDDEN
    assert draft.pass_id is None
    assert draft.pass_kind is None
    assert draft.started_at == draft.decided_at == at.wall
    assert draft.reasons == ()
    assert draft.guard_note == "courier without a pass"
    assert commands == [RecordEntry(draft), *passed_tail(Outcome.OVERRIDDEN)]
    assert rule_run.state == before  # no visit to end: the last pass seen stays


def test_override_keeps_soft_findings(make_run: RunFactory) -> None:
    run = make_run(
        make_policy(
            anti_passback=True,
            kinds={"resident": {"gates": ["east"]}},
            checks={"kind_gate": "soft"},
        )
    )
    run.scan(history=PassHistory(last_direction=Direction.IN))
    run.read(34.0, manual=True)
    draft = only_entry(run.override())
    assert draft.reasons == (
        Finding.KIND_GATE.value,
        Finding.ANTI_PASSBACK.value,
        Reason.MANUAL_READING.value,
    )


def test_guard_cancel_abandons_the_visit(rule_run: RuleRun) -> None:
    rule_run.scan(valid(PassKind.TEMPORARY))
    commands = rule_run.cancel(guard_id="guard-11")
    draft = only_entry(commands)
    assert draft.outcome is Outcome.ABANDONED
    assert draft.reasons == (Reason.GUARD_CANCELLED.value,)
    assert draft.guard_id == "guard-11"
    assert commands == [
        RecordEntry(draft),
        *abandoned_tail("guard_cancelled"),
    ]
    assert rule_run.state.visit is None


def test_guard_cancel_with_nobody_is_rejected(rule_run: RuleRun) -> None:
    assert rule_run.cancel() == [Reject("no_visit", "no visit in progress")]
    assert rule_run.state == LaneState()


# ------------------------------------------------------------------------ policy at look


def test_hard_finding_denies_at_look(make_run: RunFactory) -> None:
    run = make_run(make_policy(kinds={"visitor": {"gates": ["east"]}}))
    commands = run.scan(valid(PassKind.VISITOR))
    draft = only_entry(commands)
    assert draft.outcome is Outcome.DENIED
    assert draft.reasons == (Finding.KIND_GATE.value,)
    assert commands[1:] == denied_tail("kind_gate_not_allowed")


def test_soft_finding_rides_along_to_the_entry(make_run: RunFactory) -> None:
    run = make_run(make_policy(anti_passback=True))
    assert run.scan(history=PassHistory(last_direction=Direction.IN)) == MEASURE_PROMPT
    assert only_entry(run.read(36.5)).reasons == (Finding.ANTI_PASSBACK.value,)


def test_hard_and_soft_findings_are_both_named_when_denied(make_run: RunFactory) -> None:
    run = make_run(
        make_policy(anti_passback=True, quota={"enabled": True}), direction=Direction.OUT
    )
    history = PassHistory(last_direction=Direction.OUT, household_exits_in_window=1)
    draft = only_entry(run.scan(history=history))
    assert draft.outcome is Outcome.DENIED
    assert draft.reasons == (Finding.QUOTA.value, Finding.ANTI_PASSBACK.value)


def test_visitor_out_of_hours_is_denied(rule_run: RuleRun) -> None:
    rule_run.clock.wall = T0.replace(hour=14)  # 22:00 in Shanghai
    draft = only_entry(rule_run.scan(valid(PassKind.VISITOR)))
    assert draft.reasons == (Finding.KIND_HOURS.value,)


# ---------------------------------------------------------------------------------- modes


@pytest.mark.parametrize("kind", [k for k in PassKind if k is not PassKind.STAFF])
def test_lockdown_denies_everyone_but_staff(make_run: RunFactory, kind: PassKind) -> None:
    run = make_run(mode=GateMode.LOCKDOWN)
    commands = run.scan(valid(kind))
    draft = only_entry(commands)
    assert draft.outcome is Outcome.DENIED
    assert draft.reasons == (Finding.LOCKDOWN.value,)
    assert draft.gate_mode is GateMode.LOCKDOWN
    assert not any(isinstance(c, OpenGate) for c in commands)


def test_lockdown_is_hard_even_when_every_other_check_is_soft(make_run: RunFactory) -> None:
    soft = make_policy(
        anti_passback=True,
        kinds={"visitor": {"gates": ["east"], "questions": []}},
        checks={"kind_gate": "soft", "anti_passback": "soft", "kind_hours": "soft"},
    )
    run = make_run(soft, mode=GateMode.LOCKDOWN)
    draft = only_entry(
        run.scan(valid(PassKind.VISITOR), history=PassHistory(last_direction=Direction.IN))
    )
    assert draft.outcome is Outcome.DENIED
    assert draft.reasons == ("lockdown", "kind_gate_not_allowed", "anti_passback")


def test_lockdown_admits_staff(make_run: RunFactory) -> None:
    run = make_run(mode=GateMode.LOCKDOWN)
    assert run.scan(valid(PassKind.STAFF)) == MEASURE_PROMPT
    commands = run.read(36.5)
    draft = only_entry(commands)
    assert draft.outcome is Outcome.PASSED
    assert draft.gate_mode is GateMode.LOCKDOWN
    assert commands[1:] == passed_tail()


def test_lockdown_reports_the_pass_failure_first(make_run: RunFactory) -> None:
    run = make_run(mode=GateMode.LOCKDOWN)
    draft = only_entry(run.scan(invalid(VerifyReason.EXPIRED)))
    assert draft.reasons == ("expired",)


@pytest.mark.parametrize(
    ("guard_id", "reason"), [("", "fire"), (" ", "fire"), (GUARD, ""), (GUARD, "  ")]
)
def test_mode_change_needs_a_guard_and_a_reason(
    rule_run: RuleRun, guard_id: str, reason: str
) -> None:
    rule_run.scan()
    before = rule_run.state
    commands = rule_run.mode(GateMode.EMERGENCY, guard_id=guard_id, reason=reason)
    assert commands == [
        Reject("reason_required", "a mode change needs the guard's id and a reason")
    ]
    assert rule_run.state == before


@pytest.mark.parametrize("mode", list(GateMode))
def test_same_mode_is_rejected(make_run: RunFactory, mode: GateMode) -> None:
    run = make_run(mode=mode)
    before = run.state
    assert run.mode(mode) == [Reject("same_mode", f"the gate is already in {mode.value} mode")]
    assert run.state == before


def test_entering_emergency_holds_the_gate_open_after_the_entry(rule_run: RuleRun) -> None:
    at = rule_run.now()
    commands = rule_run.mode(GateMode.EMERGENCY, reason=" fire in building 3 ")
    draft = only_entry(commands)
    assert draft == EntryDraft(
        lane=LANE,
        direction=Direction.IN,
        outcome=Outcome.MODE_CHANGE,
        started_at=at.wall,
        decided_at=at.wall,
        reasons=("mode_emergency",),
        guard_id=GUARD,
        guard_note="fire in building 3",
        gate_mode=GateMode.EMERGENCY,
    )
    assert commands == [
        RecordEntry(draft),
        HoldGateOpen(),
        RaiseAlarm("emergency", "fire in building 3"),
        Prompt(Step.STOP, "mode_emergency"),
    ]
    assert rule_run.state.mode is GateMode.EMERGENCY


def test_passes_in_emergency_are_free_exits_without_opening(make_run: RunFactory) -> None:
    run = make_run(mode=GateMode.EMERGENCY)
    commands = run.scan(valid(PassKind.VISITOR))  # no questions, no measuring, no hours
    draft = only_entry(commands)
    assert draft.outcome is Outcome.PASSED
    assert draft.reasons == (Reason.EMERGENCY_FREE_EXIT.value,)
    assert draft.gate_mode is GateMode.EMERGENCY
    assert draft.pass_id == "P-0001"
    assert commands == [RecordEntry(draft), Signal("pass"), Prompt(Step.PASS, PASSED_UNMEASURED)]
    assert run.state.visit is None


@pytest.mark.parametrize("reason", list(VerifyReason))
def test_invalid_passes_in_emergency_are_logged_free_exits(
    make_run: RunFactory, reason: VerifyReason
) -> None:
    run = make_run(mode=GateMode.EMERGENCY)
    commands = run.scan(invalid(reason, named=False))
    draft = only_entry(commands)
    assert draft.outcome is Outcome.PASSED
    assert draft.reasons == (Reason.EMERGENCY_FREE_EXIT.value, reason.value)
    assert not any(isinstance(c, OpenGate) for c in commands)


def test_override_in_emergency_does_not_pulse_the_held_gate(make_run: RunFactory) -> None:
    run = make_run(mode=GateMode.EMERGENCY)
    commands = run.override()
    assert only_entry(commands).outcome is Outcome.OVERRIDDEN
    assert commands[1:] == [Signal("pass"), Prompt(Step.PASS, "overridden")]


@pytest.mark.parametrize("to", [GateMode.NORMAL, GateMode.LOCKDOWN])
def test_leaving_emergency_releases_the_gate(make_run: RunFactory, to: GateMode) -> None:
    run = make_run(mode=GateMode.EMERGENCY)
    commands = run.mode(to, reason="all clear")
    draft = only_entry(commands)
    assert draft.outcome is Outcome.MODE_CHANGE
    assert draft.reasons == (f"mode_{to.value}",)
    assert draft.gate_mode is to
    assert commands == [RecordEntry(draft), ReleaseGate(), Prompt(Step.STOP, f"mode_{to.value}")]
    assert run.state.mode is to
    # Back to normal checks: the next pass is measured and the gate pulses again.
    run.advance(10)
    run.scan(valid(PassKind.STAFF))
    assert run.read(36.5)[1] == OpenGate(3.0)


@pytest.mark.parametrize(
    ("start", "to"), [(GateMode.NORMAL, GateMode.LOCKDOWN), (GateMode.LOCKDOWN, GateMode.NORMAL)]
)
def test_changes_outside_emergency_leave_the_relay_alone(
    make_run: RunFactory, start: GateMode, to: GateMode
) -> None:
    run = make_run(mode=start)
    commands = run.mode(to)
    assert kinds_in(commands) == [RecordEntry, Prompt]
    assert run.state.mode is to


def test_mode_change_during_a_visit_abandons_it_first(rule_run: RuleRun) -> None:
    rule_run.scan(valid(PassKind.TEMPORARY))
    commands = rule_run.mode(GateMode.EMERGENCY)
    abandoned, changed = entries_in(commands)
    assert (abandoned.outcome, abandoned.reasons) == (Outcome.ABANDONED, ("mode_changed",))
    assert abandoned.gate_mode is GateMode.NORMAL  # decided under the mode it started in
    assert abandoned.pass_id == "P-0001"
    assert changed.outcome is Outcome.MODE_CHANGE
    assert kinds_in(commands) == [
        RecordEntry,
        Signal,
        Prompt,
        RecordEntry,
        HoldGateOpen,
        RaiseAlarm,
        Prompt,
    ]
    assert rule_run.state.visit is None


# ------------------------------------------------------------------- every gate opening


def _paths_that_open(make_run: RunFactory) -> list[list[Any]]:
    """Each way the rule can open the gate, as the command list of the deciding event."""
    opened: list[list[Any]] = []

    run = make_run()
    run.scan()
    opened.append(run.read(36.5))

    run = make_run(direction=Direction.OUT)
    opened.append(run.scan(valid(PassKind.VISITOR)) + run.answer(**NO))

    run = make_run()
    into_hold(run)
    run.advance(60)
    opened.append(run.read(36.5))

    run = make_run()
    run.scan()
    opened.append(run.override())

    run = make_run()
    opened.append(run.override())

    run = make_run()
    into_hold(run)
    opened.append(run.override())

    run = make_run(direction=Direction.OUT)
    run.scan(valid(PassKind.TEMPORARY))
    opened.append(run.scan(token="tok-b"))  # supersede, then the new visit passes at once
    return opened


def test_every_opening_follows_its_entry(make_run: RunFactory) -> None:
    paths = _paths_that_open(make_run)
    assert len(paths) == 7
    for commands in paths:
        opens = [i for i, c in enumerate(commands) if isinstance(c, OpenGate)]
        assert len(opens) == 1, commands
        before = commands[opens[0] - 1]
        assert isinstance(before, RecordEntry)
        assert before.draft.outcome in (Outcome.PASSED, Outcome.OVERRIDDEN)
        assert len(entries_in(commands[: opens[0]])) >= 1


# ------------------------------------------------------- random sequences: the invariants

MACHINE_POLICIES = [
    Policy(),
    make_policy(
        anti_passback=True,
        quota={"enabled": True, "kinds": ["resident", "temporary"]},
        checks={"kind_gate": "soft", "kind_hours": "soft", "quota": "soft", "answers": "soft"},
        kinds={
            "resident": {},
            "staff": {"measure": False},
            "temporary": {"questions": ["symptoms"], "hours": ["22:00-06:00"]},
            "visitor": {"questions": ["travel_14d", "symptoms"], "gates": ["east"]},
        },
        fever={"offsets_c": {SENSOR: 0.6}, "recheck_after_s": 10, "remeasure_interval_s": 2.5},
        timeouts={"ask_s": 20, "measure_s": 15, "hold_s": 30, "same_pass_ignore_s": 3},
        measure_directions=["in", "out"],
    ),
    make_policy(
        anti_passback=True,
        checks={"anti_passback": "hard"},
        fever={"recheck_after_s": 0},
        timeouts={"same_pass_ignore_s": 0},
    ),
]
TOKENS = ("tok-a", "tok-b", "tok-c")
# Weighted towards valid input, so that random sequences get deep into the steps.
GUARD_IDS = (GUARD, GUARD, GUARD, "", "  ")
NOTES = ("known to the guard", "fire drill", "", " \t")
START_MODES = [GateMode.NORMAL] * 4 + [GateMode.LOCKDOWN, GateMode.EMERGENCY]
ODD_TEMPERATURES_C = (33.1, 34.99, 35.0, 37.29, 37.3, 42.5, 42.51, math.nan, math.inf, -math.inf)
PAUSES_S = (0.0, 0.5, 1.0, 2.5, 3.0, 5.0, 10.0, 15.0, 20.0, 30.0, 45.0, 60.0, 90.0, 180.0, 240.0)


class LaneModel:
    """A lane driven by random events, checking after every event what must always hold.

    It keeps a small model of its own (the visit in progress, the last visit that ended) so it
    can say which events start a visit, which end one, and which the rule must ignore.
    """

    def __init__(self, run: RuleRun) -> None:
        self.run = run
        self.started = 0  # PassShown events that began a visit
        self.visit_entries = 0  # entries that closed a visit
        self.other_entries = 0  # mode changes and overrides with nobody scanned
        self.last_end: tuple[str, float] | None = None  # token and monotonic time
        self.outcomes: list[Outcome] = []

    def apply(self, event: Event) -> None:
        before = self.run.state
        ignored = self._should_ignore(event, before)
        commands = self.run.send(event)  # send() also checks every OpenGate follows its entry
        after = self.run.state
        at = event.at

        rejects = [c for c in commands if isinstance(c, Reject)]
        if rejects:
            assert commands == rejects[:1], commands
            assert after == before
            return
        if ignored:
            assert commands == []
            assert after == before
            return

        drafts = entries_in(commands)
        self.outcomes += [d.outcome for d in drafts]
        visit_drafts = self._split_other_entries(event, before, drafts)

        # The visits that ended here, in order, by token; each ends in exactly one entry.
        ended: list[str] = []
        if isinstance(event, PassShown) and self._is_stray(event, before):
            # A code that does not verify, read during a visit: its own denied entry, and the
            # visit in progress goes on exactly as it was.
            self.started += 1
            (stray,) = visit_drafts
            assert stray.outcome is Outcome.DENIED
            assert stray.started_at == at.wall
            assert after.visit == before.visit
            assert OpenGate not in {type(c) for c in commands}
            self.visit_entries += 1
            self._check_commands(event, before, after, commands, visit_drafts)
            self.check_state()
            return
        if isinstance(event, PassShown):
            self.started += 1
            if before.visit is not None:
                superseded = visit_drafts[0]
                assert superseded.outcome is Outcome.ABANDONED
                assert superseded.reasons[0] == Reason.SUPERSEDED
                assert superseded.started_at == before.visit.started.wall
                ended.append(before.visit.token_digest)
            if after.visit is None:
                assert visit_drafts[-1].started_at == at.wall
                ended.append(event.token_digest)
            else:
                assert after.visit.token_digest == event.token_digest
                assert after.visit.started == at
        elif after.visit is not None:
            assert before.visit is not None
            assert after.visit.started == before.visit.started
            assert after.visit.token_digest == before.visit.token_digest
        elif before.visit is not None:
            assert visit_drafts[0].started_at == before.visit.started.wall
            ended.append(before.visit.token_digest)
        assert len(visit_drafts) == len(ended), (event, commands)
        if ended:
            self.last_end = (ended[-1], at.mono_s)
        self.visit_entries += len(visit_drafts)

        self._check_commands(event, before, after, commands, visit_drafts)
        self.check_state()

    def _should_ignore(self, event: Event, before: LaneState) -> bool:
        if not isinstance(event, PassShown):
            return False
        token = event.token_digest
        ignore_s = self.run.ctx.policy.timeouts.same_pass_ignore_s
        if before.visit is not None:
            if before.visit.token_digest == token:
                return True
            return (
                self._is_stray(event, before)
                and before.last_stray_digest == token
                and event.at.mono_s - before.last_stray_s < ignore_s
            )
        return (
            self.last_end is not None
            and self.last_end[0] == token
            and event.at.mono_s - self.last_end[1] < ignore_s
        )

    @staticmethod
    def _is_stray(event: PassShown, before: LaneState) -> bool:
        return (
            before.visit is not None
            and before.visit.token_digest != event.token_digest
            and not event.verdict.valid
            and before.mode is not GateMode.EMERGENCY
        )

    def _split_other_entries(
        self, event: Event, before: LaneState, drafts: list[EntryDraft]
    ) -> list[EntryDraft]:
        """Set aside (and check) the entries that record a guard action rather than a visit."""
        if isinstance(event, ModeChange):
            *visit_drafts, change = drafts
            assert change.outcome is Outcome.MODE_CHANGE
            assert change.reasons == (f"mode_{event.mode.value}",)
            assert change.gate_mode is event.mode
            assert change.guard_id == event.guard_id
            assert change.pass_id is None
            self.other_entries += 1
            return visit_drafts
        if isinstance(event, GuardOverride) and before.visit is None:
            (alone,) = drafts
            assert alone.outcome is Outcome.OVERRIDDEN
            # Right after a refusal the override lets that person in and names them.
            just_refused = event.at.mono_s - before.denied_s <= OVERRIDE_AFTER_DENIAL_S
            refused = before.denied if just_refused else None
            assert alone.pass_id == (refused.claims.pass_id if refused and refused.claims else None)
            assert alone.guard_id == event.guard_id
            self.other_entries += 1
            return []
        return drafts

    def _check_commands(
        self,
        event: Event,
        before: LaneState,
        after: LaneState,
        commands: list[Any],
        visit_drafts: list[EntryDraft],
    ) -> None:
        ctx = self.run.ctx
        drafts = entries_in(commands)
        opens = [c for c in commands if isinstance(c, OpenGate)]
        assert len(opens) <= 1
        if GateMode.EMERGENCY in (before.mode, after.mode):
            assert opens == []  # the gate is held open; pulsing the relay would drop it
        entering = isinstance(event, ModeChange) and event.mode is GateMode.EMERGENCY
        leaving = isinstance(event, ModeChange) and before.mode is GateMode.EMERGENCY
        assert (HoldGateOpen() in commands) == entering
        assert (ReleaseGate() in commands) == leaving
        if entering:
            held = commands.index(HoldGateOpen())
            assert isinstance(commands[held - 1], RecordEntry)
            assert commands[held - 1].draft.outcome is Outcome.MODE_CHANGE

        for draft in drafts:
            assert draft.lane == ctx.lane
            assert draft.direction is ctx.direction
            assert draft.decided_at == event.at.wall
            assert draft.started_at <= draft.decided_at
            fevers = [t for t in draft.temperatures if t.fever]
            if draft.outcome is Outcome.FEVER:
                assert draft.reasons[0] == Reason.FEVER
                assert draft.temperatures[-1].fever
                assert len(fevers) >= 2  # the first reading and its confirmation
            elif draft.outcome is not Outcome.MODE_CHANGE:
                # Anyone ever over the line and not confirmed is flagged, and only they are; a
                # guard's override of a confirmed fever carries the fever instead.
                confirmed = draft.outcome is Outcome.OVERRIDDEN and Reason.FEVER in draft.reasons
                unconfirmed = Reason.FEVER_NOT_CONFIRMED in draft.reasons
                assert unconfirmed == (bool(fevers) and not confirmed), draft
            if draft.outcome is Outcome.DENIED:
                assert draft.reasons
                assert draft.temperatures == ()
                assert draft.gate_mode is not GateMode.EMERGENCY
            if draft.outcome is Outcome.PASSED:
                self._check_passed(draft)
        for draft in visit_drafts:
            assert draft.gate_mode is before.mode

        unconfirmed = sum(
            d.outcome in (Outcome.ABANDONED, Outcome.OVERRIDDEN)
            and Reason.FEVER_NOT_CONFIRMED in d.reasons
            for d in drafts
        )
        assert alarms(commands).count("fever") == sum(d.outcome is Outcome.FEVER for d in drafts)
        assert alarms(commands).count("fever_unconfirmed") == unconfirmed
        if RequestReading() in commands:
            assert after.step in (Step.MEASURE, Step.HOLD)

    def _check_passed(self, draft: EntryDraft) -> None:
        """Only a good pass and a normal temperature let a person through (五行)."""
        if draft.gate_mode is GateMode.EMERGENCY:
            assert draft.reasons[0] == Reason.EMERGENCY_FREE_EXIT
            return
        assert not {r.value for r in VerifyReason} & set(draft.reasons)
        assert draft.pass_id is not None
        assert Finding.LOCKDOWN.value not in draft.reasons
        if needs_measure(self.run.ctx.policy, draft.pass_kind, draft.direction):
            assert draft.temperatures
            assert draft.temperatures[-1].plausible
            assert not draft.temperatures[-1].fever

    def check_state(self) -> None:
        state = self.run.state
        assert (state.visit is None) == (state.step is Step.STOP)
        if state.visit is not None:
            assert state.visit.step in (Step.ASK, Step.MEASURE, Step.HOLD)
            assert state.mode is not GateMode.EMERGENCY
            assert (state.visit.first_fever_s is not None) == (state.visit.step is Step.HOLD)
            assert state.visit.claims is not None
        # A visit ends exactly once, and only an ended visit has its entry.
        open_visits = 0 if state.visit is None else 1
        assert self.visit_entries == self.started - open_visits
        assert len(self.run.entries()) == self.visit_entries + self.other_entries


def _run_for(pol: Policy, direction: Direction, mode: GateMode, wall_hour: int) -> RuleRun:
    return RuleRun(
        ctx=context(pol, direction=direction),
        clock=FakeClock(wall=T0.replace(hour=wall_hour)),
        state=LaneState(mode=mode),
    )


valid_verdicts = st.builds(
    valid, st.sampled_from(list(PassKind)), pass_id=st.sampled_from(["P-1", "P-2"])
)
invalid_verdicts = st.builds(invalid, st.sampled_from(list(VerifyReason)), named=st.booleans())
verdicts = st.sampled_from([True, True, True, False]).flatmap(
    lambda good: valid_verdicts if good else invalid_verdicts
)
histories = st.builds(
    PassHistory,
    last_direction=st.none() | st.sampled_from(list(Direction)),
    household_exits_in_window=st.integers(0, 3),
)
body_c = st.floats(36.0, 37.29) | st.floats(37.3, 39.5)
pauses_s = st.sampled_from(PAUSES_S) | st.floats(0.0, 300.0)


class RuleMachine(RuleBasedStateMachine):
    """Hypothesis picks the events; every kind can arrive at any time. A few extra rules,
    enabled only in the step they fit, make whole visits (and the fever hold) likely."""

    def __init__(self) -> None:
        super().__init__()
        self.model = LaneModel(RuleRun(ctx=context()))

    @initialize(
        pol=st.sampled_from(MACHINE_POLICIES),
        direction=st.sampled_from(list(Direction)),
        mode=st.sampled_from(START_MODES),
        wall_hour=st.integers(0, 23),
    )
    def start(self, pol: Policy, direction: Direction, mode: GateMode, wall_hour: int) -> None:
        self.model = LaneModel(_run_for(pol, direction, mode, wall_hour))

    def now(self) -> Instant:
        return self.model.run.now()

    @rule(verdict=verdicts, token=st.sampled_from(TOKENS), history=histories)
    def scan(self, verdict: Verdict, token: str, history: PassHistory) -> None:
        self.model.apply(
            PassShown(at=self.now(), verdict=verdict, token_digest=token, history=history)
        )

    @rule(
        answers=st.dictionaries(
            st.sampled_from(["travel_14d", "symptoms", "purpose"]),
            st.sampled_from(["no", "yes", "maybe"]),
        )
    )
    def answer(self, answers: dict[str, str]) -> None:
        self.model.apply(AnswersGiven(at=self.now(), answers=answers, guard_id=GUARD))

    @precondition(lambda self: self.model.run.state.step is Step.ASK)
    @rule()
    def answer_no(self) -> None:
        answers = {qid: "no" for qid in self.model.run.ctx.policy.questions}
        self.model.apply(AnswersGiven(at=self.now(), answers=answers, guard_id=GUARD))

    @rule(
        value_c=st.sampled_from(ODD_TEMPERATURES_C) | st.floats(30.0, 45.0),
        manual=st.booleans(),
        sensor=st.sampled_from([SENSOR, "ir-2"]),
    )
    def read(self, value_c: float, manual: bool, sensor: str) -> None:
        taken = reading(value_c, sensor=sensor, manual=manual)
        self.model.apply(TemperatureTaken(at=self.now(), reading=taken))

    @precondition(lambda self: self.model.run.state.step in (Step.MEASURE, Step.HOLD))
    @rule(value_c=body_c, late_s=st.sampled_from([0.0, 5.0, 10.0, 60.0]))
    def read_body(self, value_c: float, late_s: float) -> None:
        self.model.run.advance(late_s)
        self.model.apply(TemperatureTaken(at=self.now(), reading=reading(value_c)))

    @rule(seconds=pauses_s)
    def tick(self, seconds: float) -> None:
        self.model.apply(Tick(at=self.model.run.advance(seconds)))

    @rule(seconds=pauses_s)
    def wait(self, seconds: float) -> None:
        self.model.run.advance(seconds)

    @rule(
        action=st.sampled_from(["override", "cancel", "mode"]),
        guard_id=st.sampled_from(GUARD_IDS),
        note=st.sampled_from(NOTES),
        mode=st.sampled_from(list(GateMode)),
    )
    def guard(self, action: str, guard_id: str, note: str, mode: GateMode) -> None:
        at = self.now()
        event: Event
        if action == "override":
            event = GuardOverride(at=at, guard_id=guard_id, reason=note)
        elif action == "cancel":
            event = GuardCancel(at=at, guard_id=guard_id)
        else:
            event = ModeChange(at=at, mode=mode, guard_id=guard_id, reason=note)
        self.model.apply(event)

    @invariant()
    def holds(self) -> None:
        self.model.check_state()


TestRuleMachine = RuleMachine.TestCase
TestRuleMachine.settings = settings(
    max_examples=100,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def _random_event(rng: random.Random, run: RuleRun) -> Event | None:
    """One event, weighted by the step the lane is in (None: the clock only moves on)."""
    at = run.now()
    step_now = run.state.step
    roll = rng.random()
    if step_now is Step.ASK and roll < 0.5:
        answer = "yes" if rng.random() < 0.2 else "no"
        asked = run.ctx.policy.questions
        return AnswersGiven(at=at, answers={q: answer for q in asked}, guard_id=GUARD)
    if step_now in (Step.MEASURE, Step.HOLD) and roll < 0.5:
        if rng.random() < 0.5:
            run.advance(rng.choice([0.0, 1.0, 10.0, 30.0, 60.0]))
        value_c = rng.choice([*ODD_TEMPERATURES_C, 36.2, 36.8, 37.5, 38.4])
        taken = reading(value_c, sensor=rng.choice([SENSOR, "ir-2"]), manual=rng.random() < 0.1)
        return TemperatureTaken(at=run.now(), reading=taken)
    roll = rng.random()
    if roll < 0.3:
        if rng.random() < 0.8:
            verdict = valid(rng.choice(list(PassKind)), pass_id=rng.choice(["P-1", "P-2"]))
        else:
            verdict = invalid(rng.choice(list(VerifyReason)), named=rng.random() < 0.5)
        history = PassHistory(
            last_direction=rng.choice([None, *Direction]),
            household_exits_in_window=rng.randint(0, 2),
        )
        return PassShown(at=at, verdict=verdict, token_digest=rng.choice(TOKENS), history=history)
    if roll < 0.6:
        return Tick(at=run.advance(rng.choice(PAUSES_S)))
    if roll < 0.7:
        run.advance(rng.choice(PAUSES_S))
        return None
    if roll < 0.8:
        return AnswersGiven(at=at, answers={"symptoms": rng.choice(["no", "x"])}, guard_id=GUARD)
    guard_id = rng.choice(GUARD_IDS)
    if roll < 0.87:
        return GuardOverride(at=at, guard_id=guard_id, reason=rng.choice(NOTES))
    if roll < 0.94:
        return GuardCancel(at=at, guard_id=guard_id)
    mode = rng.choice(list(GateMode))
    return ModeChange(at=at, mode=mode, guard_id=guard_id, reason=rng.choice(NOTES))


def test_random_walks_keep_every_invariant() -> None:
    """Seeded random walks: many more events than the hypothesis machine, weighted to reach
    every ending, with the same checks after every event."""
    outcomes: set[Outcome] = set()
    reasons: set[str] = set()
    for seed in range(240):
        rng = random.Random(seed)
        run = _run_for(
            rng.choice(MACHINE_POLICIES),
            rng.choice(list(Direction)),
            rng.choice(START_MODES),
            rng.randrange(24),
        )
        model = LaneModel(run)
        for _ in range(60):
            event = _random_event(rng, run)
            if event is not None:
                model.apply(event)
        outcomes.update(model.outcomes)
        reasons.update(r for draft in run.entries() for r in draft.reasons)
    # The walks did reach every way a visit can end, for every reason the rule gives.
    assert outcomes == set(Outcome)
    assert {r.value for r in Reason} <= reasons
