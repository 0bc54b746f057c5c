"""The five-step rule (一停二看三问四测五行) as a pure state machine.

``step(state, event, ctx)`` returns the next state and the commands the lane must carry out, in
order. It does no I/O, reads no clock (every event carries its ``Instant``) and starts no thread,
so every transition is a plain function call in tests. Commands are ordered so that a
``RecordEntry`` always precedes the ``OpenGate`` it justifies: the lane stops at the first command
that fails, which keeps the gate shut when an entry could not be stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum

from drivers.base import Reading
from edge.model import (
    Direction,
    EntryDraft,
    GateMode,
    Instant,
    MeasuredTemperature,
    Outcome,
    PassClaims,
    Step,
    Verdict,
)
from edge.policy import (
    Check,
    PassHistory,
    Policy,
    Severity,
    check_answers,
    check_pass,
    judge_reading,
    missing_answers,
    needs_measure,
)

# ---------------------------------------------------------------------------- reason codes


class Reason(StrEnum):
    """Reason codes the rule itself adds (pass and policy codes come from their modules)."""

    FEVER = "fever"
    FEVER_NOT_CONFIRMED = "fever_not_confirmed"
    TIMEOUT_ASK = "timeout_ask"
    TIMEOUT_MEASURE = "timeout_measure"
    TIMEOUT_HOLD = "timeout_hold"
    SUPERSEDED = "superseded"
    GUARD_CANCELLED = "guard_cancelled"
    MODE_CHANGED = "mode_changed"
    EMERGENCY_FREE_EXIT = "emergency_free_exit"
    MANUAL_READING = "manual_reading"


MAX_OCCUPANTS = 9  # a minibus; a larger group is registered as visitors, one by one


# ---------------------------------------------------------------------------------- events


@dataclass(frozen=True, slots=True, kw_only=True)
class LaneEvent:
    """What every input of the rule has: the instant it happened (the rule reads no clock)."""

    at: Instant


@dataclass(frozen=True, slots=True, kw_only=True)
class PassShown(LaneEvent):
    """A code was scanned and verified; ``token_digest`` identifies the token without storing it."""

    verdict: Verdict
    token_digest: str
    history: PassHistory = field(default_factory=PassHistory)
    occupants: int = 1
    """People to measure on this pass: a vehicle's occupants, each measured (1 for a person)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AnswersGiven(LaneEvent):
    answers: Mapping[str, str]
    guard_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TemperatureTaken(LaneEvent):
    reading: Reading


PASSED_UNMEASURED = "passed_unmeasured"
"""The prompt for a pass with no temperature taken (an exit lane, a kind not measured)."""

OVERRIDE_AFTER_DENIAL_S = 120.0
"""A guard's override this soon after a denial (and before the next person) lets that person in."""


@dataclass(frozen=True, slots=True, kw_only=True)
class GuardEvent(LaneEvent):
    """An input only a named guard (or the office) gives: the entry it ends names them."""

    guard_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class GuardOverride(GuardEvent):
    """A guard opens the gate against the rule; needs the guard's id and a written reason."""

    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class GuardCancel(GuardEvent):
    """A guard ends the visit in progress (abandoned)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class OccupantsSet(GuardEvent):
    """The guard counts the people in a vehicle: each of them must be measured before it passes."""

    count: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ModeChange(GuardEvent):
    mode: GateMode
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Tick(LaneEvent):
    """The clock moved; timeouts and due re-measures are found here."""


Event = (
    PassShown
    | AnswersGiven
    | TemperatureTaken
    | GuardOverride
    | GuardCancel
    | OccupantsSet
    | ModeChange
    | Tick
)

# -------------------------------------------------------------------------------- commands


@dataclass(frozen=True, slots=True)
class RecordEntry:
    """Commit this entry durably. Must succeed before any later command runs.

    ``overrides``: the draft of the denied entry a guard's override lets in after all; the lane
    links the two by the stored entry's id (``extra["overrides"]``)."""

    draft: EntryDraft
    overrides: EntryDraft | None = None


@dataclass(frozen=True, slots=True)
class OpenGate:
    seconds: float


@dataclass(frozen=True, slots=True)
class HoldGateOpen:
    """Emergency free exit: the gate stays open until the mode changes back."""


@dataclass(frozen=True, slots=True)
class ReleaseGate:
    """Lock the gate now (leaving emergency mode)."""


@dataclass(frozen=True, slots=True)
class RequestReading:
    """Ask the thermometer for a measurement."""


@dataclass(frozen=True, slots=True)
class Signal:
    """Show a signal on the LEDs and buzzer: pass, deny, fever, wait or idle."""

    name: str


@dataclass(frozen=True, slots=True)
class Prompt:
    """Tell the resident and the guard what happens now (kiosk and console)."""

    step: Step
    code: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class RaiseAlarm:
    kind: str
    detail: str


@dataclass(frozen=True, slots=True)
class Reject:
    """A guard action or input the rule refused, with why; nothing else changed."""

    code: str
    detail: str


Command = (
    RecordEntry
    | OpenGate
    | HoldGateOpen
    | ReleaseGate
    | RequestReading
    | Signal
    | Prompt
    | RaiseAlarm
    | Reject
)

# ----------------------------------------------------------------------------------- state


@dataclass(frozen=True, slots=True)
class Visit:
    """One person's way through the steps, from a shown pass to its single entry."""

    started: Instant
    step: Step
    step_since_s: float
    token_digest: str = ""
    claims: PassClaims | None = None
    soft_findings: tuple[str, ...] = ()
    answers: tuple[tuple[str, str], ...] = ()
    temperatures: tuple[MeasuredTemperature, ...] = ()
    last_request_s: float | None = None
    first_fever_s: float | None = None
    recheck_prompted: bool = False
    occupants: int = 1
    cleared: int = 0
    """Occupants measured normal so far; the visit passes when all ``occupants`` are."""
    next_occupant_s: float | None = None
    """Automatic readings before this moment are the occupant just cleared, not the next."""


@dataclass(frozen=True, slots=True)
class LaneState:
    """The lane between events: the gate mode, the visit in progress, and the last pass seen."""

    mode: GateMode = GateMode.NORMAL
    visit: Visit | None = None
    last_digest: str = ""
    last_ended_s: float = float("-inf")
    last_stray_digest: str = ""
    last_stray_s: float = float("-inf")
    denied: Visit | None = None
    """The last visit that ended denied or with a fever, for a guard's override that follows."""
    denied_draft: EntryDraft | None = None
    denied_s: float = float("-inf")

    @property
    def step(self) -> Step:
        return self.visit.step if self.visit else Step.STOP


@dataclass(frozen=True, slots=True)
class LaneContext:
    """What the rule needs to know about the lane it runs: fixed for the lane's life."""

    lane: str
    gate: str
    direction: Direction
    policy: Policy
    open_s: float = 3.0
    extra_reasons: tuple[str, ...] = field(default=())


Result = tuple[LaneState, list[Command]]


# ------------------------------------------------------------------------------------ step


def step(state: LaneState, event: Event, ctx: LaneContext) -> Result:
    """Advance the rule by one event."""
    match event:
        case PassShown():
            return _on_pass(state, event, ctx)
        case AnswersGiven():
            return _on_answers(state, event, ctx)
        case TemperatureTaken():
            return _on_reading(state, event, ctx)
        case GuardOverride():
            return _on_override(state, event, ctx)
        case GuardCancel():
            return _on_cancel(state, event, ctx)
        case OccupantsSet():
            return _on_occupants(state, event, ctx)
        case ModeChange():
            return _on_mode(state, event, ctx)
        case Tick():
            return _on_tick(state, event, ctx)


def _draft(
    ctx: LaneContext,
    state: LaneState,
    outcome: Outcome,
    at: Instant,
    reasons: tuple[str, ...],
    visit: Visit | None,
    *,
    guard_id: str | None = None,
    guard_note: str | None = None,
) -> EntryDraft:
    claims = visit.claims if visit else None
    return EntryDraft(
        lane=ctx.lane,
        direction=ctx.direction,
        outcome=outcome,
        started_at=visit.started.wall if visit else at.wall,
        decided_at=at.wall,
        reasons=_unique(reasons + (visit.soft_findings if visit else ())),
        pass_id=claims.pass_id if claims else None,
        pass_kind=claims.kind if claims else None,
        holder=claims.holder if claims else None,
        household=claims.unit if claims else None,
        key_id=claims.key_id if claims else None,
        answers=visit.answers if visit else (),
        temperatures=visit.temperatures if visit else (),
        guard_id=guard_id,
        guard_note=guard_note,
        gate_mode=state.mode,
        clock_synced=(visit.started.clock_synced if visit else True) and at.clock_synced,
        extra=_vehicle_extra(visit),
    )


def _vehicle_extra(visit: Visit | None) -> tuple[tuple[str, str], ...]:
    """A vehicle's plate and how many occupants were counted and measured, for the entry."""
    if visit is None or visit.claims is None or visit.claims.plate is None:
        return ()
    return (
        ("plate", visit.claims.plate),
        ("occupants", str(visit.occupants)),
        ("occupants_cleared", str(visit.cleared)),
    )


def _unique(codes: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(codes))


def _end(
    state: LaneState,
    ctx: LaneContext,
    outcome: Outcome,
    at: Instant,
    reasons: tuple[str, ...],
    *,
    guard_id: str | None = None,
    guard_note: str | None = None,
    overrides: EntryDraft | None = None,
) -> Result:
    """Finish the visit in progress (or a visit-less guard action) as exactly one entry."""
    visit = state.visit
    # Left (abandoned) or let through (overridden) before the confirming re-measure; a visit
    # already decided (a confirmed fever, then overridden) is not unconfirmed.
    fever_unconfirmed = (
        outcome in (Outcome.ABANDONED, Outcome.OVERRIDDEN)
        and visit is not None
        and visit.first_fever_s is not None
        and overrides is None
    )
    if fever_unconfirmed:
        reasons = (*reasons, Reason.FEVER_NOT_CONFIRMED)
    draft = _draft(
        ctx, state, outcome, at, reasons, visit, guard_id=guard_id, guard_note=guard_note
    )
    commands: list[Command] = [RecordEntry(draft, overrides=overrides)]
    if outcome in (Outcome.PASSED, Outcome.OVERRIDDEN):
        if state.mode is not GateMode.EMERGENCY:
            commands.append(OpenGate(ctx.open_s))
        # Say only what this lane checked: "temperature normal" needs a measured temperature.
        measured = outcome is Outcome.PASSED and bool(draft.temperatures)
        code = outcome.value if measured or outcome is Outcome.OVERRIDDEN else PASSED_UNMEASURED
        commands += [Signal("pass"), Prompt(Step.PASS, code)]
    elif outcome is Outcome.FEVER:
        commands += [
            Signal("fever"),
            RaiseAlarm("fever", _fever_detail(visit)),
            Prompt(Step.HOLD, "fever"),
        ]
    elif outcome is Outcome.DENIED:
        commands += [Signal("deny"), Prompt(Step.LOOK, "denied", ",".join(draft.reasons))]
    else:
        commands += [Signal("idle"), Prompt(Step.STOP, outcome.value, ",".join(draft.reasons))]
    if fever_unconfirmed:
        # A person over the fever line who left before the re-measure is still reported (上报).
        commands.append(RaiseAlarm("fever_unconfirmed", _fever_detail(visit)))
    refused = outcome in (Outcome.DENIED, Outcome.FEVER) and visit is not None
    presented = visit is not None and overrides is None  # an override's pass was shown before
    new_state = replace(
        state,
        visit=None,
        last_digest=visit.token_digest if visit and presented else state.last_digest,
        last_ended_s=at.mono_s if presented else state.last_ended_s,
        denied=visit if refused else None,
        denied_draft=draft if refused else None,
        denied_s=at.mono_s if refused else float("-inf"),
    )
    return new_state, commands


def _fever_detail(visit: Visit | None) -> str:
    temps = visit.temperatures if visit else ()
    who = visit.claims.unit if visit and visit.claims else "unknown"
    readings = ", ".join(f"{t.body_c:.1f}" for t in temps if t.plausible)
    holder = f"{visit.claims.holder}, " if visit and visit.claims else ""
    return f"{holder}household {who}; readings °C: {readings}"


def _with_step(visit: Visit, new_step: Step, at: Instant) -> Visit:
    return replace(visit, step=new_step, step_since_s=at.mono_s)


def _on_pass(state: LaneState, event: PassShown, ctx: LaneContext) -> Result:
    at = event.at
    digest = event.token_digest
    visit = state.visit
    if visit and visit.token_digest == digest:
        return state, []  # the same pass read again while its visit goes on
    if (
        visit is None
        and digest == state.last_digest
        and at.mono_s - state.last_ended_s < ctx.policy.timeouts.same_pass_ignore_s
    ):
        return state, []  # still holding the phone up after passing
    if visit is not None and not event.verdict.valid and state.mode is not GateMode.EMERGENCY:
        return _stray_code(state, event, ctx)
    commands: list[Command] = []
    if visit is not None:
        state, ended = _end(state, ctx, Outcome.ABANDONED, at, (Reason.SUPERSEDED,))
        commands += ended
    new_visit = Visit(
        started=at,
        step=Step.LOOK,
        step_since_s=at.mono_s,
        token_digest=digest,
        claims=event.verdict.claims,
        occupants=min(max(event.occupants, 1), MAX_OCCUPANTS),
    )
    state = replace(state, visit=new_visit)
    if state.mode is GateMode.EMERGENCY:
        reasons: tuple[str, ...] = (Reason.EMERGENCY_FREE_EXIT,)
        if event.verdict.reason is not None:
            reasons += (event.verdict.reason.value,)
        state, ended = _end(state, ctx, Outcome.PASSED, at, reasons)
        return state, commands + ended
    if not event.verdict.valid:
        assert event.verdict.reason is not None
        state, ended = _end(state, ctx, Outcome.DENIED, at, (event.verdict.reason.value,))
        return state, commands + ended
    claims = event.verdict.claims
    assert claims is not None
    checks = check_pass(
        ctx.policy,
        claims,
        gate=ctx.gate,
        direction=ctx.direction,
        mode=state.mode,
        now=at.wall,
        history=event.history,
    )
    state, more = _apply_checks(state, ctx, checks, at)
    commands += more
    if state.visit is None:
        return state, commands
    return _advance_from(state, ctx, Step.LOOK, at, commands)


def _stray_code(state: LaneState, event: PassShown, ctx: LaneContext) -> Result:
    """A code that does not verify, read while someone else is being checked: it is logged as a
    denied entry of its own, and the visit in progress goes on undisturbed (a camera may read a
    stray code; a forged pass must not cut short the person at the thermometer)."""
    at = event.at
    if (
        event.token_digest == state.last_stray_digest
        and at.mono_s - state.last_stray_s < ctx.policy.timeouts.same_pass_ignore_s
    ):
        return state, []
    assert event.verdict.reason is not None
    stray = Visit(
        started=at,
        step=Step.LOOK,
        step_since_s=at.mono_s,
        token_digest=event.token_digest,
        claims=event.verdict.claims,
    )
    reasons = (event.verdict.reason.value,)
    draft = _draft(ctx, state, Outcome.DENIED, at, reasons, stray)
    state = replace(state, last_stray_digest=event.token_digest, last_stray_s=at.mono_s)
    return state, [RecordEntry(draft), Prompt(Step.LOOK, "denied", ",".join(reasons))]


def _apply_checks(state: LaneState, ctx: LaneContext, checks: list[Check], at: Instant) -> Result:
    """Hard findings end the visit denied; soft ones ride along to the entry."""
    hard = tuple(c.finding.value for c in checks if c.severity is Severity.HARD)
    soft = tuple(c.finding.value for c in checks if c.severity is Severity.SOFT)
    assert state.visit is not None
    state = replace(
        state, visit=replace(state.visit, soft_findings=state.visit.soft_findings + soft)
    )
    if hard:
        return _end(state, ctx, Outcome.DENIED, at, hard)
    return state, []


def _advance_from(
    state: LaneState, ctx: LaneContext, done: Step, at: Instant, commands: list[Command]
) -> Result:
    """Move to the next step the policy asks for after ``done``; pass when none remain."""
    visit = state.visit
    assert visit is not None
    assert visit.claims is not None
    kind = visit.claims.kind
    if done is Step.LOOK and ctx.policy.rule_for(kind).questions:
        state = replace(state, visit=_with_step(visit, Step.ASK, at))
        qids = ",".join(ctx.policy.rule_for(kind).questions)
        return state, [*commands, Signal("wait"), Prompt(Step.ASK, "answer_questions", qids)]
    if done in (Step.LOOK, Step.ASK) and needs_measure(ctx.policy, kind, ctx.direction):
        visit = replace(_with_step(visit, Step.MEASURE, at), last_request_s=at.mono_s)
        state = replace(state, visit=visit)
        return state, [*commands, Signal("wait"), Prompt(Step.MEASURE, "measure"), RequestReading()]
    state, ended = _end(state, ctx, Outcome.PASSED, at, ())
    return state, commands + ended


def _on_answers(state: LaneState, event: AnswersGiven, ctx: LaneContext) -> Result:
    visit = state.visit
    if visit is None or visit.step is not Step.ASK or visit.claims is None:
        return state, [Reject("not_asking", "no visit is waiting for answers")]
    kind = visit.claims.kind
    missing = missing_answers(ctx.policy, kind, event.answers)
    if missing:
        return state, [Reject("answers_missing", ",".join(missing))]
    asked = ctx.policy.rule_for(kind).questions
    answers = tuple((qid, event.answers[qid]) for qid in asked)
    state = replace(state, visit=replace(visit, answers=answers))
    state, commands = _apply_checks(
        state, ctx, check_answers(ctx.policy, kind, event.answers), event.at
    )
    if state.visit is None:
        return state, commands
    return _advance_from(state, ctx, Step.ASK, event.at, commands)


def _on_reading(state: LaneState, event: TemperatureTaken, ctx: LaneContext) -> Result:
    visit = state.visit
    if visit is None or visit.step not in (Step.MEASURE, Step.HOLD):
        return state, []  # nobody is being measured: a stray reading is not evidence of anything
    at = event.at
    if (
        visit.next_occupant_s is not None
        and at.mono_s < visit.next_occupant_s
        and not event.reading.manual
    ):
        return state, []  # the thermometer still sees the person just measured
    measured = judge_reading(ctx.policy, event.reading, at.wall)
    visit = replace(visit, temperatures=(*visit.temperatures, measured))
    if event.reading.manual:
        visit = replace(visit, soft_findings=_unique((*visit.soft_findings, Reason.MANUAL_READING)))
    state = replace(state, visit=visit)
    if not measured.plausible:
        visit = replace(visit, last_request_s=at.mono_s)
        return replace(state, visit=visit), [
            Prompt(visit.step, "remeasure", f"{measured.body_c:.1f}")
        ]
    if visit.step is Step.MEASURE:
        if not measured.fever:
            return _occupant_cleared(state, ctx, at)
        visit = replace(_with_step(visit, Step.HOLD, at), first_fever_s=at.mono_s)
        return replace(state, visit=visit), [
            Signal("wait"),
            Prompt(Step.HOLD, "fever_recheck", f"{ctx.policy.fever.recheck_after_s:.0f}"),
        ]
    # HOLD: only a re-measure taken after the confirmation delay decides.
    assert visit.first_fever_s is not None
    if at.mono_s - visit.first_fever_s < ctx.policy.fever.recheck_after_s:
        return state, []
    if measured.fever:
        return _end(state, ctx, Outcome.FEVER, at, (Reason.FEVER,))
    visit = replace(
        visit,
        soft_findings=_unique((*visit.soft_findings, Reason.FEVER_NOT_CONFIRMED)),
        first_fever_s=None,
        recheck_prompted=False,
    )
    return _occupant_cleared(replace(state, visit=visit), ctx, at)


def _occupant_cleared(state: LaneState, ctx: LaneContext, at: Instant) -> Result:
    """One more person measured normal: pass when it was the last, else measure the next."""
    visit = state.visit
    assert visit is not None
    visit = replace(visit, cleared=visit.cleared + 1)
    if visit.cleared >= visit.occupants:
        return _end(replace(state, visit=visit), ctx, Outcome.PASSED, at, ())
    # No reading is asked for until the next person is in front of the thermometer.
    gap_s = ctx.policy.timeouts.next_occupant_s
    visit = replace(_with_step(visit, Step.MEASURE, at), next_occupant_s=at.mono_s + gap_s)
    detail = f"{visit.cleared + 1}/{visit.occupants}"
    return replace(state, visit=visit), [
        Signal("wait"),
        Prompt(Step.MEASURE, "measure_next", detail),
    ]


def _on_occupants(state: LaneState, event: OccupantsSet, ctx: LaneContext) -> Result:
    visit = state.visit
    if not event.guard_id.strip():
        return state, [Reject("guard_required", "counting occupants needs the guard's id")]
    counting = (Step.ASK, Step.MEASURE, Step.HOLD)
    if visit is None or visit.claims is None or visit.step not in counting:
        return state, [Reject("no_visit", "no vehicle is being checked")]
    if visit.claims.plate is None:
        return state, [Reject("not_vehicle", "only a vehicle pass has occupants")]
    # Already measured people stay measured; the one in the fever hold counts as well.
    least = visit.cleared + (1 if visit.step is Step.HOLD else 0)
    if not max(least, 1) <= event.count <= MAX_OCCUPANTS:
        return state, [
            Reject("occupants_out_of_range", f"between {max(least, 1)} and {MAX_OCCUPANTS}")
        ]
    visit = replace(visit, occupants=event.count)
    if visit.step is Step.MEASURE and visit.cleared >= visit.occupants:
        return _end(replace(state, visit=visit), ctx, Outcome.PASSED, event.at, ())
    return replace(state, visit=visit), [
        Prompt(visit.step, "occupants", f"{visit.cleared}/{visit.occupants}")
    ]


def _on_override(state: LaneState, event: GuardOverride, ctx: LaneContext) -> Result:
    if not event.guard_id.strip():
        return state, [Reject("guard_required", "an override needs the guard's id")]
    if not event.reason.strip():
        return state, [Reject("reason_required", "an override needs a written reason")]
    overrides = None
    just_refused = event.at.mono_s - state.denied_s <= OVERRIDE_AFTER_DENIAL_S
    if state.visit is None and state.denied is not None and just_refused:
        # The guard lets in the person just refused: the entry names them, carries their
        # readings and the refusal's reasons, and points at the refused entry.
        overrides = state.denied_draft
        state = replace(state, visit=state.denied)
    pending = state.visit.soft_findings if state.visit else ()
    if overrides is not None:
        pending = _unique(overrides.reasons + pending)
    return _end(
        state,
        ctx,
        Outcome.OVERRIDDEN,
        event.at,
        pending,
        guard_id=event.guard_id,
        guard_note=event.reason.strip(),
        overrides=overrides,
    )


def _on_cancel(state: LaneState, event: GuardCancel, ctx: LaneContext) -> Result:
    if not event.guard_id.strip():
        return state, [Reject("guard_required", "a cancel needs the guard's id")]
    if state.visit is None:
        return state, [Reject("no_visit", "no visit in progress")]
    return _end(
        state, ctx, Outcome.ABANDONED, event.at, (Reason.GUARD_CANCELLED,), guard_id=event.guard_id
    )


def _on_mode(state: LaneState, event: ModeChange, ctx: LaneContext) -> Result:
    if not event.guard_id.strip() or not event.reason.strip():
        return state, [Reject("reason_required", "a mode change needs the guard's id and a reason")]
    if event.mode is state.mode:
        return state, [Reject("same_mode", f"the gate is already in {event.mode.value} mode")]
    commands: list[Command] = []
    if state.visit is not None:
        state, commands = _end(state, ctx, Outcome.ABANDONED, event.at, (Reason.MODE_CHANGED,))
    previous = state.mode
    state = replace(state, mode=event.mode)
    entry = _draft(
        ctx,
        state,
        Outcome.MODE_CHANGE,
        event.at,
        (f"mode_{event.mode.value}",),
        None,
        guard_id=event.guard_id,
        guard_note=event.reason.strip(),
    )
    commands.append(RecordEntry(entry))
    if event.mode is GateMode.EMERGENCY:
        commands += [HoldGateOpen(), RaiseAlarm("emergency", event.reason.strip())]
    elif previous is GateMode.EMERGENCY:
        commands.append(ReleaseGate())
    commands.append(Prompt(Step.STOP, f"mode_{event.mode.value}"))
    return state, commands


def _on_tick(state: LaneState, event: Tick, ctx: LaneContext) -> Result:
    visit = state.visit
    if visit is None:
        return state, []
    at = event.at
    timeouts = ctx.policy.timeouts
    waited_s = at.mono_s - visit.step_since_s
    if visit.step is Step.ASK and waited_s >= timeouts.ask_s:
        return _end(state, ctx, Outcome.ABANDONED, at, (Reason.TIMEOUT_ASK,))
    if visit.step is Step.MEASURE:
        if waited_s >= timeouts.measure_s:
            return _end(state, ctx, Outcome.ABANDONED, at, (Reason.TIMEOUT_MEASURE,))
        return _maybe_request(state, visit, at, ctx)
    if visit.step is Step.HOLD:
        assert visit.first_fever_s is not None
        due_s = visit.first_fever_s + ctx.policy.fever.recheck_after_s
        if at.mono_s >= due_s + timeouts.hold_s:
            return _end(state, ctx, Outcome.ABANDONED, at, (Reason.TIMEOUT_HOLD,))
        if at.mono_s < due_s:
            return state, []
        if not visit.recheck_prompted:
            visit = replace(visit, recheck_prompted=True, last_request_s=at.mono_s)
            return replace(state, visit=visit), [
                Prompt(Step.HOLD, "remeasure_now"),
                RequestReading(),
            ]
        return _maybe_request(state, visit, at, ctx)
    return state, []


def _maybe_request(state: LaneState, visit: Visit, at: Instant, ctx: LaneContext) -> Result:
    """Ask the thermometer again after a pause, so a missed or implausible reading retries."""
    last = visit.last_request_s
    if last is not None and at.mono_s - last < ctx.policy.fever.remeasure_interval_s:
        return state, []
    if visit.next_occupant_s is not None and at.mono_s < visit.next_occupant_s:
        return state, []
    return replace(state, visit=replace(visit, last_request_s=at.mono_s)), [RequestReading()]
