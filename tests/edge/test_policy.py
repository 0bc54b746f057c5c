"""The configured checks: pass checks, answers, measuring, readings and policy validation."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from edge import policy
from edge.model import Direction, GateMode, PassKind
from edge.policy import (
    Check,
    CheckSeverities,
    FeverPolicy,
    Finding,
    KindRule,
    PassHistory,
    Policy,
    Question,
    Severity,
)
from tests.edge.conftest import GATE, SENSOR, T0, claims, make_policy, reading


def checks_for(
    pol: Policy,
    kind: PassKind = PassKind.RESIDENT,
    *,
    gate: str = GATE,
    direction: Direction = Direction.IN,
    mode: GateMode = GateMode.NORMAL,
    now: datetime = T0,
    history: PassHistory | None = None,
) -> list[Check]:
    return policy.check_pass(
        pol,
        claims(kind),
        gate=gate,
        direction=direction,
        mode=mode,
        now=now,
        history=history if history is not None else PassHistory(),
    )


def findings(checks: list[Check]) -> list[Finding]:
    return [c.finding for c in checks]


def utc(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, 23, hour, minute, tzinfo=UTC)


# --------------------------------------------------------------------------- defaults


def test_defaults_follow_the_field_rule() -> None:
    pol = Policy()
    assert pol.fever.threshold_c == 37.3
    assert pol.timezone == "Asia/Shanghai"
    assert pol.mode is GateMode.NORMAL
    assert pol.rule_for(PassKind.RESIDENT).questions == ()
    assert pol.rule_for(PassKind.TEMPORARY).questions == ("travel_14d", "symptoms")
    assert pol.rule_for(PassKind.VISITOR).hours == ("07:00-21:00",)
    assert pol.measure_directions == (Direction.IN,)
    assert pol.checks.anti_passback is Severity.SOFT
    assert pol.checks.kind_gate is Severity.HARD
    assert not pol.quota.enabled
    assert not pol.anti_passback


def test_kind_without_a_rule_gets_the_permissive_default() -> None:
    pol = make_policy(kinds={"resident": {}})
    assert pol.rule_for(PassKind.VEHICLE) == KindRule()
    assert checks_for(pol, PassKind.VEHICLE, gate="anywhere") == []


def test_a_clean_pass_has_no_findings() -> None:
    assert checks_for(Policy(), PassKind.VISITOR) == []


# ------------------------------------------------------------------------- kind gates


def test_kind_with_no_gates_may_use_every_gate() -> None:
    assert checks_for(Policy(), gate="south") == []


def test_kind_gates_admit_listed_gates_only() -> None:
    pol = make_policy(kinds={"visitor": {"gates": ["north", "east"]}})
    assert checks_for(pol, PassKind.VISITOR, gate="east") == []
    assert checks_for(pol, PassKind.VISITOR, gate="south") == [
        Check(Finding.KIND_GATE, Severity.HARD)
    ]
    assert checks_for(pol, PassKind.RESIDENT, gate="south") == []


@pytest.mark.parametrize("severity", list(Severity))
def test_kind_gate_severity_is_configured(severity: Severity) -> None:
    pol = make_policy(kinds={"visitor": {"gates": ["east"]}}, checks={"kind_gate": severity.value})
    assert checks_for(pol, PassKind.VISITOR) == [Check(Finding.KIND_GATE, severity)]


# ------------------------------------------------------------------------------ hours

# Default visitor window 07:00-21:00 in Asia/Shanghai (UTC+8, no daylight saving).


@pytest.mark.parametrize(
    ("now", "inside"),
    [
        (utc(23, 0) - timedelta(days=1), True),  # 07:00 local: the start is inside
        (utc(22, 59) - timedelta(days=1), False),  # 06:59 local
        (utc(12, 59), True),  # 20:59 local
        (utc(13, 0), False),  # 21:00 local: the end is outside
        (utc(7, 0), True),  # 15:00 local
        (utc(18, 0), False),  # 02:00 local
    ],
)
def test_visitor_hours_in_local_time(now: datetime, inside: bool) -> None:
    expected = [] if inside else [Check(Finding.KIND_HOURS, Severity.HARD)]
    assert checks_for(Policy(), PassKind.VISITOR, now=now) == expected


def test_hours_use_the_configured_time_zone() -> None:
    at = utc(23, 30)  # 23:30 UTC is 07:30 the next morning in Shanghai
    shanghai = Policy()
    in_utc = make_policy(timezone="UTC")
    assert checks_for(shanghai, PassKind.VISITOR, now=at) == []
    assert findings(checks_for(in_utc, PassKind.VISITOR, now=at)) == [Finding.KIND_HOURS]
    noon_utc = utc(12, 0)  # 20:00 in Shanghai, noon in UTC: both inside
    assert checks_for(shanghai, PassKind.VISITOR, now=noon_utc) == []
    assert checks_for(in_utc, PassKind.VISITOR, now=noon_utc) == []
    late_utc = utc(14, 0)  # 22:00 in Shanghai, 14:00 in UTC
    assert findings(checks_for(shanghai, PassKind.VISITOR, now=late_utc)) == [Finding.KIND_HOURS]
    assert checks_for(in_utc, PassKind.VISITOR, now=late_utc) == []


def test_an_aware_time_in_another_zone_is_converted() -> None:
    from zoneinfo import ZoneInfo

    # 08:00 in New York (UTC-5 in November) is 21:00 in Shanghai: outside.
    ny = datetime(2026, 11, 23, 8, 0, tzinfo=ZoneInfo("America/New_York"))
    assert findings(checks_for(Policy(), PassKind.VISITOR, now=ny)) == [Finding.KIND_HOURS]


@pytest.mark.parametrize(
    ("local_hhmm", "inside"),
    [
        ((22, 0), True),
        ((23, 59), True),
        ((0, 0), True),
        ((3, 0), True),
        ((5, 59), True),
        ((6, 0), False),
        ((12, 0), False),
        ((21, 59), False),
    ],
)
def test_window_past_midnight(local_hhmm: tuple[int, int], inside: bool) -> None:
    pol = make_policy(timezone="UTC", kinds={"staff": {"hours": ["22:00-06:00"]}})
    found = findings(checks_for(pol, PassKind.STAFF, now=utc(*local_hhmm)))
    assert found == ([] if inside else [Finding.KIND_HOURS])


def test_any_of_several_windows_admits() -> None:
    pol = make_policy(timezone="UTC", kinds={"staff": {"hours": ["06:00-09:00", "17:00-24:00"]}})
    assert checks_for(pol, PassKind.STAFF, now=utc(7)) == []
    assert checks_for(pol, PassKind.STAFF, now=utc(23, 59)) == []
    assert findings(checks_for(pol, PassKind.STAFF, now=utc(12))) == [Finding.KIND_HOURS]
    assert findings(checks_for(pol, PassKind.STAFF, now=utc(0, 30))) == [Finding.KIND_HOURS]


@pytest.mark.parametrize("severity", list(Severity))
def test_hours_severity_is_configured(severity: Severity) -> None:
    pol = make_policy(checks={"kind_hours": severity.value})
    assert checks_for(pol, PassKind.VISITOR, now=utc(18)) == [Check(Finding.KIND_HOURS, severity)]


_HHMM = st.tuples(st.integers(0, 23), st.integers(0, 59))


@given(start=_HHMM, end=_HHMM, at=_HHMM)
def test_a_window_and_its_reverse_split_the_day(
    start: tuple[int, int], end: tuple[int, int], at: tuple[int, int]
) -> None:
    """'A-B' and 'B-A' cover every minute of the day exactly once (unless A equals B)."""
    if start == end:
        return
    forward = f"{start[0]:02d}:{start[1]:02d}-{end[0]:02d}:{end[1]:02d}"
    backward = f"{end[0]:02d}:{end[1]:02d}-{start[0]:02d}:{start[1]:02d}"
    now = utc(*at)
    inside = [
        not checks_for(
            make_policy(timezone="UTC", kinds={"staff": {"hours": [window]}}),
            PassKind.STAFF,
            now=now,
        )
        for window in (forward, backward)
    ]
    assert inside.count(True) == 1


# ------------------------------------------------------------------------------ quota

QUOTA = {"enabled": True, "exits": 2, "window_days": 2}


@pytest.mark.parametrize(("exits", "exceeded"), [(0, False), (1, False), (2, True), (3, True)])
def test_quota_counts_household_exits_at_the_limit(exits: int, exceeded: bool) -> None:
    found = checks_for(
        make_policy(quota=QUOTA),
        direction=Direction.OUT,
        history=PassHistory(household_exits_in_window=exits),
    )
    assert found == ([Check(Finding.QUOTA, Severity.HARD)] if exceeded else [])


def test_quota_only_limits_going_out() -> None:
    history = PassHistory(household_exits_in_window=9)
    assert checks_for(make_policy(quota=QUOTA), direction=Direction.IN, history=history) == []


def test_quota_only_limits_configured_kinds() -> None:
    history = PassHistory(household_exits_in_window=9)
    pol = make_policy(quota={**QUOTA, "kinds": ["temporary"]})
    assert checks_for(pol, PassKind.RESIDENT, direction=Direction.OUT, history=history) == []
    assert findings(
        checks_for(pol, PassKind.TEMPORARY, direction=Direction.OUT, history=history)
    ) == [Finding.QUOTA]


def test_quota_off_by_default() -> None:
    history = PassHistory(household_exits_in_window=99)
    assert checks_for(Policy(), direction=Direction.OUT, history=history) == []


def test_quota_severity_is_configured() -> None:
    pol = make_policy(quota=QUOTA, checks={"quota": "soft"})
    found = checks_for(
        pol, direction=Direction.OUT, history=PassHistory(household_exits_in_window=2)
    )
    assert found == [Check(Finding.QUOTA, Severity.SOFT)]


def test_quota_window_start_is_window_days_back() -> None:
    assert policy.quota_window_start(make_policy(quota=QUOTA), T0) == T0 - timedelta(days=2)
    half = make_policy(quota={**QUOTA, "window_days": 0.5})
    assert policy.quota_window_start(half, T0) == T0 - timedelta(hours=12)


# ---------------------------------------------------------------------- anti-passback


@pytest.mark.parametrize("direction", list(Direction))
def test_anti_passback_off_ignores_history(direction: Direction) -> None:
    history = PassHistory(last_direction=direction)
    assert checks_for(Policy(), direction=direction, history=history) == []


@pytest.mark.parametrize("direction", list(Direction))
def test_anti_passback_flags_the_same_direction_twice(direction: Direction) -> None:
    pol = make_policy(anti_passback=True)
    same = PassHistory(last_direction=direction)
    other = PassHistory(last_direction=Direction.OUT if direction is Direction.IN else Direction.IN)
    assert checks_for(pol, direction=direction, history=same) == [
        Check(Finding.ANTI_PASSBACK, Severity.SOFT)
    ]
    assert checks_for(pol, direction=direction, history=other) == []
    assert checks_for(pol, direction=direction, history=PassHistory()) == []


def test_anti_passback_can_be_hard() -> None:
    pol = make_policy(anti_passback=True, checks={"anti_passback": "hard"})
    found = checks_for(pol, history=PassHistory(last_direction=Direction.IN))
    assert found == [Check(Finding.ANTI_PASSBACK, Severity.HARD)]


# --------------------------------------------------------------------------- lockdown


@pytest.mark.parametrize("kind", [k for k in PassKind if k is not PassKind.STAFF])
def test_lockdown_refuses_every_kind_but_staff(kind: PassKind) -> None:
    assert checks_for(Policy(), kind, mode=GateMode.LOCKDOWN) == [
        Check(Finding.LOCKDOWN, Severity.HARD)
    ]


def test_lockdown_is_hard_even_when_every_check_is_soft() -> None:
    soft = {name: "soft" for name in CheckSeverities.model_fields}
    pol = make_policy(checks=soft)
    assert Check(Finding.LOCKDOWN, Severity.HARD) in checks_for(
        pol, PassKind.VISITOR, mode=GateMode.LOCKDOWN
    )


@pytest.mark.parametrize("mode", list(GateMode))
def test_staff_pass_in_every_mode(mode: GateMode) -> None:
    assert checks_for(Policy(), PassKind.STAFF, mode=mode) == []


@pytest.mark.parametrize("mode", [GateMode.NORMAL, GateMode.EMERGENCY])
def test_only_lockdown_adds_the_lockdown_finding(mode: GateMode) -> None:
    assert checks_for(Policy(), PassKind.VISITOR, mode=mode) == []


def test_every_failed_check_is_reported_with_its_severity() -> None:
    pol = make_policy(
        kinds={"temporary": {"gates": ["east"], "hours": ["08:00-09:00"]}},
        quota={**QUOTA, "kinds": ["temporary"]},
        anti_passback=True,
        checks={"kind_hours": "soft"},
    )
    found = checks_for(
        pol,
        PassKind.TEMPORARY,
        direction=Direction.OUT,
        mode=GateMode.LOCKDOWN,
        now=utc(12),
        history=PassHistory(last_direction=Direction.OUT, household_exits_in_window=5),
    )
    assert found == [
        Check(Finding.LOCKDOWN, Severity.HARD),
        Check(Finding.KIND_GATE, Severity.HARD),
        Check(Finding.KIND_HOURS, Severity.SOFT),
        Check(Finding.QUOTA, Severity.HARD),
        Check(Finding.ANTI_PASSBACK, Severity.SOFT),
    ]


# ---------------------------------------------------------------------------- answers


def test_missing_answers_lists_unanswered_and_unknown_choices() -> None:
    pol = Policy()
    kind = PassKind.TEMPORARY
    assert policy.missing_answers(pol, kind, {}) == ["travel_14d", "symptoms"]
    assert policy.missing_answers(pol, kind, {"travel_14d": "no"}) == ["symptoms"]
    unknown_choice = {"travel_14d": "maybe", "symptoms": "no"}
    assert policy.missing_answers(pol, kind, unknown_choice) == ["travel_14d"]
    assert policy.missing_answers(pol, kind, {"travel_14d": "no", "symptoms": "yes"}) == []
    assert policy.missing_answers(pol, PassKind.RESIDENT, {}) == []


@pytest.mark.parametrize("severity", list(Severity))
def test_refusing_answer_fails_with_the_configured_severity(severity: Severity) -> None:
    pol = make_policy(checks={"answers": severity.value})
    kind = PassKind.VISITOR
    assert policy.check_answers(pol, kind, {"travel_14d": "no", "symptoms": "no"}) == []
    assert policy.check_answers(pol, kind, {"travel_14d": "no", "symptoms": "yes"}) == [
        Check(Finding.ANSWER, severity)
    ]
    assert policy.check_answers(pol, kind, {"travel_14d": "yes", "symptoms": "yes"}) == [
        Check(Finding.ANSWER, severity)
    ]


def test_refusing_answers_are_configured_per_question() -> None:
    pol = make_policy(
        questions={
            "purpose": {
                "text_zh": "来访事由？",
                "text_en": "Purpose of visit?",
                "choices": ["family", "delivery", "other"],
                "refuse_on": ["other"],
            }
        },
        kinds={"visitor": {"questions": ["purpose"]}},
    )
    assert policy.check_answers(pol, PassKind.VISITOR, {"purpose": "delivery"}) == []
    refusing = policy.check_answers(pol, PassKind.VISITOR, {"purpose": "other"})
    assert findings(refusing) == [Finding.ANSWER]
    # Only the kind's own questions count.
    assert policy.check_answers(pol, PassKind.RESIDENT, {"purpose": "other"}) == []


# ---------------------------------------------------------------------------- measure


def test_needs_measure_by_direction_and_kind() -> None:
    pol = make_policy(kinds={"vehicle": {"measure": False}})
    assert policy.needs_measure(pol, PassKind.RESIDENT, Direction.IN)
    assert not policy.needs_measure(pol, PassKind.RESIDENT, Direction.OUT)
    assert not policy.needs_measure(pol, PassKind.VEHICLE, Direction.IN)
    assert policy.needs_measure(pol, None, Direction.IN)  # nobody unknown skips the thermometer
    both = make_policy(measure_directions=["in", "out"])
    assert policy.needs_measure(both, PassKind.RESIDENT, Direction.OUT)


# ------------------------------------------------------------------------------ readings


@pytest.mark.parametrize(
    ("value_c", "plausible", "fever"),
    [
        (33.1, False, False),  # a cold module on a winter morning
        (34.99, False, False),
        (35.0, True, False),  # the plausible range is inclusive
        (36.5, True, False),
        (37.29, True, False),
        (37.3, True, True),  # the fever line: at or above
        (38.5, True, True),
        (42.5, True, True),
        (42.51, False, False),  # sunlight on the sensor is not a fever
        (60.0, False, False),
    ],
)
def test_judge_reading_plausibility_before_fever(
    value_c: float, plausible: bool, fever: bool
) -> None:
    measured = policy.judge_reading(Policy(), reading(value_c), T0)
    assert (measured.body_c, measured.plausible, measured.fever) == (value_c, plausible, fever)
    assert measured.at == T0
    assert measured.reading == reading(value_c)


def test_judge_reading_applies_the_sensor_offset() -> None:
    pol = make_policy(fever={"offsets_c": {SENSOR: 0.8, "ir-2": -0.5}})
    assert policy.judge_reading(pol, reading(36.0), T0).body_c == 36.8
    assert policy.judge_reading(pol, reading(36.0, sensor="ir-2"), T0).body_c == 35.5
    assert policy.judge_reading(pol, reading(36.0, sensor="ir-9"), T0).body_c == 36.0
    # The offset can carry a cold reading into the plausible range, or a warm one over the line.
    assert policy.judge_reading(pol, reading(34.5), T0).plausible
    assert policy.judge_reading(pol, reading(36.5), T0).fever


def test_manual_readings_take_no_offset() -> None:
    pol = make_policy(fever={"offsets_c": {SENSOR: 0.8}})
    measured = policy.judge_reading(pol, reading(36.6, manual=True), T0)
    assert measured.body_c == 36.6
    assert not measured.fever


def test_offset_sums_are_rounded_so_the_line_holds() -> None:
    # 37.2 + 0.1 is 37.300000000000004 in binary floating point; rounded it is the fever line.
    pol = make_policy(fever={"offsets_c": {SENSOR: 0.1}})
    measured = policy.judge_reading(pol, reading(37.2), T0)
    assert measured.body_c == 37.3
    assert measured.fever
    pol_down = make_policy(fever={"offsets_c": {SENSOR: 0.3}})
    assert not policy.judge_reading(pol_down, reading(36.99), T0).fever  # 37.29


def test_configured_threshold_and_range() -> None:
    pol = make_policy(fever={"threshold_c": 37.5, "plausible_min_c": 34.0, "plausible_max_c": 41.0})
    assert not policy.judge_reading(pol, reading(37.4), T0).fever
    assert policy.judge_reading(pol, reading(37.5), T0).fever
    assert policy.judge_reading(pol, reading(34.0), T0).plausible
    assert not policy.judge_reading(pol, reading(41.1), T0).plausible


@given(
    value_c=st.floats(min_value=-50, max_value=150, allow_nan=False),
    offset_c=st.floats(min_value=-5, max_value=5, allow_nan=False),
    manual=st.booleans(),
)
def test_judge_reading_properties(value_c: float, offset_c: float, manual: bool) -> None:
    pol = Policy(fever=FeverPolicy(offsets_c={SENSOR: offset_c}))
    measured = policy.judge_reading(pol, reading(value_c, manual=manual), T0)
    expected_c = round(value_c + (0.0 if manual else offset_c), 2)
    assert measured.body_c == expected_c
    assert measured.plausible == (35.0 <= expected_c <= 42.5)
    assert measured.fever == (measured.plausible and expected_c >= 37.3)
    assert not measured.fever or measured.plausible


# ---------------------------------------------------------------------------- validation


def _error(data: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as info:
        Policy.model_validate(data)
    return str(info.value)


def test_unknown_question_in_a_kind_is_named() -> None:
    message = _error({"kinds": {"visitor": {"questions": ["travel_14d", "pets"]}}})
    assert "kinds.visitor asks unknown questions ['pets']" in message


def test_removing_a_question_a_kind_still_asks_is_refused() -> None:
    message = _error({"questions": {}})
    assert "unknown questions" in message
    assert "travel_14d" in message


@pytest.mark.parametrize(
    "window",
    ["7:00-21:00", "07:00-21", "07:00–21:00", "24:00-06:00", "07:60-21:00", "07:00-25:00", ""],
)
def test_bad_hours_format_is_named(window: str) -> None:
    message = _error({"kinds": {"visitor": {"hours": [window]}}})
    assert f"hours window {window!r} is not 'HH:MM-HH:MM'" in message
    assert "kinds.visitor.hours" in message


def test_hours_may_end_at_midnight_but_not_after() -> None:
    assert KindRule(hours=("18:00-24:00",)).hours == ("18:00-24:00",)
    message = _error({"kinds": {"visitor": {"hours": ["18:00-24:30"]}}})
    assert "'18:00-24:30' is not 'HH:MM-HH:MM'" in message


@pytest.mark.parametrize(
    ("fever", "problem"),
    [
        ({"threshold_c": 34.0}, "fever.threshold_c\n  Input should be greater than or equal to 35"),
        ({"threshold_c": 41.0}, "fever.threshold_c\n  Input should be less than or equal to 40"),
        ({"plausible_min_c": 37.5}, "got 37.5 < 37.3 < 42.5"),
        ({"plausible_max_c": 37.3}, "got 35.0 < 37.3 < 37.3"),
        ({"threshold_c": 35.0}, "got 35.0 < 35.0 < 42.5"),  # equal to the plausible minimum
    ],
)
def test_threshold_outside_the_plausible_range_is_refused(
    fever: dict[str, float], problem: str
) -> None:
    message = _error({"fever": fever})
    assert problem in message
    if problem.startswith("got"):
        assert "need plausible_min_c < threshold_c < plausible_max_c" in message


def test_threshold_between_plausible_bounds_message() -> None:
    message = _error({"fever": {"threshold_c": 38.0, "plausible_max_c": 37.9}})
    assert "need plausible_min_c < threshold_c < plausible_max_c, got 35.0 < 38.0 < 37.9" in message


@pytest.mark.parametrize("offset_c", [5.01, -5.5, 10.0, math.nan, math.inf])
def test_offset_over_five_degrees_is_refused(offset_c: float) -> None:
    message = _error({"fever": {"offsets_c": {"ir-3": offset_c}}})
    assert "offset for sensor 'ir-3'" in message
    assert "at most ±5 °C" in message


@pytest.mark.parametrize("offset_c", [5.0, -5.0, 0.0])
def test_offsets_up_to_five_degrees_are_accepted(offset_c: float) -> None:
    assert make_policy(fever={"offsets_c": {"ir-3": offset_c}}).fever.offsets_c == {
        "ir-3": offset_c
    }


@pytest.mark.parametrize("zone", ["Asia/Shangai", "Mars/Olympus", "../etc/passwd", ""])
def test_unknown_time_zone_is_named(zone: str) -> None:
    message = _error({"timezone": zone})
    assert f"unknown time zone {zone!r}" in message


@pytest.mark.parametrize(
    ("data", "where"),
    [
        ({"thresold": 37.3}, "thresold"),
        ({"fever": {"threshold": 37.5}}, "fever.threshold"),
        ({"kinds": {"visitor": {"hour": ["07:00-21:00"]}}}, "kinds.visitor.hour"),
        ({"checks": {"fever": "soft"}}, "checks.fever"),
        ({"timeouts": {"ask": 30}}, "timeouts.ask"),
        ({"quota": {"enable": True}}, "quota.enable"),
    ],
)
def test_extra_keys_are_forbidden_and_named(data: dict[str, Any], where: str) -> None:
    message = _error(data)
    assert where in message
    assert "Extra inputs are not permitted" in message


def test_unknown_pass_kind_is_refused() -> None:
    assert "kinds.courier" in _error({"kinds": {"courier": {}}})


def test_refusal_must_be_one_of_the_choices() -> None:
    with pytest.raises(
        ValidationError, match=r"refuse_on has answers that are not choices: \['Y'\]"
    ):
        Question(text_zh="？", text_en="?", choices=("no", "yes"), refuse_on=("Y",))


@pytest.mark.parametrize(
    ("data", "where"),
    [
        ({"timeouts": {"ask_s": 0}}, "timeouts.ask_s"),
        ({"timeouts": {"same_pass_ignore_s": -1}}, "timeouts.same_pass_ignore_s"),
        ({"fever": {"recheck_after_s": -1}}, "fever.recheck_after_s"),
        ({"fever": {"remeasure_interval_s": 0}}, "fever.remeasure_interval_s"),
        ({"quota": {"exits": 0}}, "quota.exits"),
        ({"checks": {"quota": "medium"}}, "checks.quota"),
        ({"mode": "panic"}, "mode"),
        ({"measure_directions": ["up"]}, "measure_directions"),
    ],
)
def test_out_of_range_fields_are_named(data: dict[str, Any], where: str) -> None:
    assert where in _error(data)


def test_policy_is_frozen() -> None:
    pol = Policy()
    with pytest.raises(ValidationError):
        pol.timezone = "UTC"
