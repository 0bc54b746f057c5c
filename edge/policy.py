"""The checkpoint policy: configured checks as validated data, and their pure evaluation.

Policy changed week by week in the field (thresholds, questions, who may use which gate when,
household exit quotas), so every check is configuration, and each is either hard (refuse and
log) or soft (admit and log). Evaluation here reads no clock and touches no storage: the lane
passes in the time and the pass's history.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    Field,
    PositiveFloat,
    PositiveInt,
    field_validator,
    model_validator,
)

from drivers.base import Reading
from edge.configmodel import ConfigModel
from edge.model import Direction, GateMode, MeasuredTemperature, PassClaims, PassKind


class Severity(StrEnum):
    """A hard check refuses the visit; a soft check admits it and records the finding."""

    HARD = "hard"
    SOFT = "soft"


class Finding(StrEnum):
    """Reason codes a policy check can add to a visit (besides the pass verification codes)."""

    LOCKDOWN = "lockdown"
    KIND_GATE = "kind_gate_not_allowed"
    KIND_HOURS = "kind_outside_hours"
    QUOTA = "exit_quota_exceeded"
    ANTI_PASSBACK = "anti_passback"
    ANSWER = "answer_refused"


# A window may end at 24:00 (midnight) but at no later minute of hour 24.
_HOURS_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-(([01]\d|2[0-3]):([0-5]\d)|24:00)$")


class Question(ConfigModel):
    """One question of the ask step (三问), answered by the guard tapping a choice."""

    text_zh: str
    """The question as the guard reads it, in Chinese."""
    text_en: str
    """The same question in English."""
    choices: tuple[str, ...] = Field(default=("no", "yes"), min_length=2)
    """Answers the guard may choose from."""
    refuse_on: tuple[str, ...] = ("yes",)
    """Answers that fail the check (e.g. 'yes' to high-risk travel)."""

    @model_validator(mode="after")
    def _refusals_are_choices(self) -> Question:
        unknown = [a for a in self.refuse_on if a not in self.choices]
        if unknown:
            raise ValueError(f"refuse_on has answers that are not choices: {unknown}")
        return self


class KindRule(ConfigModel):
    """What the policy asks of one kind of pass."""

    questions: tuple[str, ...] = ()
    """Question ids asked of this kind."""
    gates: tuple[str, ...] = ()
    """Gates this kind may use; empty means every gate."""
    hours: tuple[str, ...] = ()
    """Local time windows 'HH:MM-HH:MM' this kind may pass; empty means all day. A window may run
    past midnight ('22:00-06:00').
    """
    measure: bool = True
    """Whether this kind's temperature is taken."""

    @field_validator("hours")
    @classmethod
    def _hours_format(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for window in value:
            if not _HOURS_RE.match(window):
                raise ValueError(f"hours window {window!r} is not 'HH:MM-HH:MM'")
        return value


class FeverPolicy(ConfigModel):
    """The measure step (四测): fever line, plausibility and the confirming re-measure."""

    threshold_c: float = Field(default=37.3, ge=35.0, le=40.0)
    """At or above this body temperature is a fever."""
    plausible_min_c: float = Field(default=35.0, ge=25.0, le=40.0)
    """Below this a reading is implausible (winter mornings read 33-34 °C)."""
    plausible_max_c: float = Field(default=42.5, ge=36.0, le=45.0)
    """Above this a reading is implausible (sunlight, hot surface)."""
    recheck_after_s: float = Field(default=60.0, ge=0.0, le=3600.0)
    """A fever is confirmed only by a re-measure at least this many seconds later."""
    offsets_c: Mapping[str, float] = Field(default_factory=dict)
    """Per-sensor offset added to the module's value to give body temperature."""
    remeasure_interval_s: float = Field(default=1.0, gt=0.0, le=30.0)
    """Pause between automatic re-measure requests."""

    @model_validator(mode="after")
    def _ordered(self) -> FeverPolicy:
        if not self.plausible_min_c < self.threshold_c < self.plausible_max_c:
            raise ValueError(
                "need plausible_min_c < threshold_c < plausible_max_c, got "
                f"{self.plausible_min_c} < {self.threshold_c} < {self.plausible_max_c}"
            )
        for sensor, offset in self.offsets_c.items():
            if not abs(offset) <= 5.0:  # also refuses NaN, which compares false
                raise ValueError(f"offset for sensor {sensor!r} is {offset} °C; at most ±5 °C")
        return self


class QuotaPolicy(ConfigModel):
    """Household exit quota during a lockdown (e.g. one exit per household per two days)."""

    enabled: bool = False
    """Off unless the community imposes a quota."""
    exits: PositiveInt = 1
    """Exits allowed per household per window."""
    window_days: PositiveFloat = 2.0
    """Length of the quota window, days."""
    kinds: tuple[PassKind, ...] = (PassKind.RESIDENT,)
    """Pass kinds the quota applies to."""


class CheckSeverities(ConfigModel):
    """Hard or soft for each configurable check. Pass verification and fever are always hard."""

    kind_gate: Severity = Severity.HARD
    """Kind not allowed at this gate."""
    kind_hours: Severity = Severity.HARD
    """Kind outside its hours."""
    quota: Severity = Severity.HARD
    """Household exit quota used up."""
    anti_passback: Severity = Severity.SOFT
    """Same direction twice in a row (pass shared back)."""
    answers: Severity = Severity.HARD
    """An answer that refuses entry."""


class Timeouts(ConfigModel):
    """How long each waiting step lasts before the visit is recorded as abandoned."""

    ask_s: PositiveFloat = 90.0
    """Waiting for the guard's answers."""
    measure_s: PositiveFloat = 45.0
    """Waiting for a usable reading."""
    hold_s: PositiveFloat = 180.0
    """After the re-measure becomes due, waiting for it before giving up."""
    same_pass_ignore_s: float = Field(default=5.0, ge=0)
    """A pass scanned again this soon after its visit ended is the same visit."""
    next_occupant_s: float = Field(default=3.0, ge=0)
    """After one occupant of a vehicle measures normal, automatic readings this soon are still that
    person and do not count; the next is asked for after it.
    """


def _default_questions() -> dict[str, Question]:
    return {
        "travel_14d": Question(
            text_zh="14天内是否去过中高风险地区？",
            text_en="Been to a medium or high-risk area in the last 14 days?",
        ),
        "symptoms": Question(
            text_zh="是否有发热、咳嗽等症状？", text_en="Fever, cough or other symptoms?"
        ),
    }


def _default_kinds() -> dict[PassKind, KindRule]:
    return {
        PassKind.RESIDENT: KindRule(),
        PassKind.STAFF: KindRule(),
        PassKind.TEMPORARY: KindRule(questions=("travel_14d", "symptoms")),
        PassKind.VISITOR: KindRule(questions=("travel_14d", "symptoms"), hours=("07:00-21:00",)),
        PassKind.VEHICLE: KindRule(),
    }


class Policy(ConfigModel):
    """Everything the rule needs to decide a visit, validated once at start-up."""

    timezone: str = "Asia/Shanghai"
    """Local time zone for hours windows and quotas."""
    mode: GateMode = GateMode.NORMAL
    """Gate mode at start-up. An office policy that changes it switches the running lanes too,
    recorded as a mode change by 'office' (never into or out of emergency: that is the guard's
    call on site).
    """
    fever: FeverPolicy = Field(default_factory=FeverPolicy)
    questions: Mapping[str, Question] = Field(default_factory=_default_questions)
    kinds: Mapping[PassKind, KindRule] = Field(default_factory=_default_kinds)
    quota: QuotaPolicy = Field(default_factory=QuotaPolicy)
    anti_passback: bool = False
    """Refuse/flag same direction twice."""
    checks: CheckSeverities = Field(default_factory=CheckSeverities)
    timeouts: Timeouts = Field(default_factory=Timeouts)
    measure_directions: tuple[Direction, ...] = (Direction.IN,)
    """Directions whose visits are measured."""

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _questions_exist(self) -> Policy:
        for kind, rule in self.kinds.items():
            missing = [q for q in rule.questions if q not in self.questions]
            if missing:
                raise ValueError(f"kinds.{kind.value} asks unknown questions {missing}")
        return self

    def rule_for(self, kind: PassKind) -> KindRule:
        return self.kinds.get(kind, KindRule())

    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True, slots=True)
class PassHistory:
    """What the store knows about a pass and its household, fetched by the lane before deciding."""

    last_direction: Direction | None = None
    household_exits_in_window: int = 0


@dataclass(frozen=True, slots=True)
class Check:
    """One failed check and how much it weighs."""

    finding: Finding
    severity: Severity


def quota_applies(policy: Policy, kind: PassKind, direction: Direction) -> bool:
    """Whether the household exit quota counts this pass here (the lane reads the count only
    then: a gate with no quota never pays for the query)."""
    return policy.quota.enabled and direction is Direction.OUT and kind in policy.quota.kinds


def quota_window_start(policy: Policy, now: datetime) -> datetime:
    """Start of the quota window ending now (the lane counts exits since then)."""
    return now - timedelta(days=policy.quota.window_days)


def _in_window(window: str, at: time) -> bool:
    start_s, end_s = window.split("-")
    start = _parse_hhmm(start_s)
    end = _parse_hhmm(end_s)
    if start <= end:
        return start <= at < end
    return at >= start or at < end  # runs past midnight


def _parse_hhmm(text: str) -> time:
    hours, minutes = (int(part) for part in text.split(":"))
    return time.max if hours == 24 else time(hours, minutes)


def check_pass(
    policy: Policy,
    claims: PassClaims,
    *,
    gate: str,
    direction: Direction,
    mode: GateMode,
    now: datetime,
    history: PassHistory,
) -> list[Check]:
    """The look step's policy checks on a pass whose signature and validity already verified."""
    checks: list[Check] = []
    if mode is GateMode.LOCKDOWN and claims.kind is not PassKind.STAFF:
        checks.append(Check(Finding.LOCKDOWN, Severity.HARD))
    rule = policy.rule_for(claims.kind)
    if rule.gates and gate not in rule.gates:
        checks.append(Check(Finding.KIND_GATE, policy.checks.kind_gate))
    if rule.hours:
        local = now.astimezone(policy.zone()).time()
        if not any(_in_window(w, local) for w in rule.hours):
            checks.append(Check(Finding.KIND_HOURS, policy.checks.kind_hours))
    if (
        quota_applies(policy, claims.kind, direction)
        and history.household_exits_in_window >= policy.quota.exits
    ):
        checks.append(Check(Finding.QUOTA, policy.checks.quota))
    if policy.anti_passback and history.last_direction is direction:
        checks.append(Check(Finding.ANTI_PASSBACK, policy.checks.anti_passback))
    return checks


def missing_answers(policy: Policy, kind: PassKind, answers: Mapping[str, str]) -> list[str]:
    """Question ids for this kind that have no valid answer yet."""
    return [
        qid
        for qid in policy.rule_for(kind).questions
        if answers.get(qid) not in policy.questions[qid].choices
    ]


def check_answers(policy: Policy, kind: PassKind, answers: Mapping[str, str]) -> list[Check]:
    """The ask step: any refusing answer fails with the configured severity."""
    refused = any(
        answers.get(qid) in policy.questions[qid].refuse_on
        for qid in policy.rule_for(kind).questions
    )
    return [Check(Finding.ANSWER, policy.checks.answers)] if refused else []


def needs_measure(policy: Policy, kind: PassKind | None, direction: Direction) -> bool:
    """Whether a visit of this kind in this direction goes through the measure step."""
    if direction not in policy.measure_directions:
        return False
    return kind is None or policy.rule_for(kind).measure


def judge_reading(policy: Policy, reading: Reading, at: datetime) -> MeasuredTemperature:
    """Apply the sensor's offset, then judge plausibility before fever: never call a cold
    reading 'normal' (outdoors in winter modules read 33-34 °C)."""
    offset = 0.0 if reading.manual else policy.fever.offsets_c.get(reading.sensor, 0.0)
    body_c = round(reading.value_c + offset, 2)
    plausible = policy.fever.plausible_min_c <= body_c <= policy.fever.plausible_max_c
    return MeasuredTemperature(
        reading=reading,
        body_c=body_c,
        at=at,
        plausible=plausible,
        fever=plausible and body_c >= policy.fever.threshold_c,
    )
