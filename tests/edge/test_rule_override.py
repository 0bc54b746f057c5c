"""A guard's override right after a refusal lets that person in: the entry names them, keeps
their readings and the refusal's reasons, and (in the lane) points at the refused entry."""

from __future__ import annotations

from edge.model import Outcome, VerifyReason
from edge.rule import OVERRIDE_AFTER_DENIAL_S, OpenGate, RecordEntry
from tests.edge.conftest import RuleRun, entries_in, invalid, valid


def test_an_override_after_an_expired_pass_carries_the_person_and_the_refusal(
    rule_run: RuleRun,
) -> None:
    (denied,) = entries_in(rule_run.scan(invalid(VerifyReason.EXPIRED), token="tok-old"))
    assert denied.outcome is Outcome.DENIED
    rule_run.advance(30)
    commands = rule_run.override(reason="known resident, pass renewal pending")
    record = commands[0]
    assert isinstance(record, RecordEntry)
    assert record.overrides is denied
    overridden = record.draft
    assert overridden.outcome is Outcome.OVERRIDDEN
    assert (overridden.pass_id, overridden.holder, overridden.household) == (
        denied.pass_id,
        denied.holder,
        denied.household,
    )
    assert overridden.pass_id is not None
    assert VerifyReason.EXPIRED.value in overridden.reasons
    assert overridden.started_at == denied.started_at
    assert overridden.guard_note == "known resident, pass renewal pending"
    assert OpenGate(rule_run.ctx.open_s) in commands


def test_an_override_of_a_confirmed_fever_keeps_the_readings_and_is_not_unconfirmed(
    rule_run: RuleRun,
) -> None:
    rule_run.scan(valid())
    rule_run.read(38.4)
    rule_run.advance(61)
    rule_run.read(38.5)
    (fever,) = [d for d in rule_run.entries() if d.outcome is Outcome.FEVER]
    commands = rule_run.override(reason="ambulance crew")
    (overridden,) = entries_in(commands)
    assert overridden.temperatures == fever.temperatures
    assert "fever" in overridden.reasons
    assert "fever_not_confirmed" not in overridden.reasons


def test_a_late_override_or_one_after_another_visit_stands_alone(rule_run: RuleRun) -> None:
    rule_run.scan(invalid(VerifyReason.EXPIRED), token="tok-old")
    rule_run.advance(OVERRIDE_AFTER_DENIAL_S + 1)
    (late,) = entries_in(rule_run.override())
    assert late.pass_id is None
    rule_run.scan(invalid(VerifyReason.EXPIRED), token="tok-2")
    rule_run.advance(5)
    rule_run.override()  # lets that person in
    (again,) = entries_in(rule_run.override())  # a second override names nobody
    assert again.pass_id is None
