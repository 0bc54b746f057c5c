"""edge.visitors.first_usable_at / hours_warning: when a newly issued pass first gets past the
look step's hours check, in gate time, and that it agrees with the check itself at every moment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from edge.model import Direction, GateMode, PassClaims, PassKind
from edge.policy import Finding, KindRule, PassHistory, Policy, check_pass
from edge.visitors import first_usable_at, hours_warning

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _policy(*hours: str, timezone: str = "Asia/Shanghai") -> Policy:
    return Policy(timezone=timezone, kinds={PassKind.VISITOR: KindRule(hours=hours)})


def test_a_twelve_hour_pass_at_21_22_first_works_at_seven_the_next_morning() -> None:
    issued = datetime(2026, 11, 23, 21, 22, tzinfo=SHANGHAI)
    warning = hours_warning(Policy(), PassKind.VISITOR, issued, issued + timedelta(hours=12))
    assert warning is not None
    assert warning.code == "outside_hours"
    assert warning.first_usable_at == datetime(2026, 11, 24, 7, 0, tzinfo=SHANGHAI)
    assert warning.hours == ("07:00-21:00",)
    assert "it first works at 2026-11-24 07:00" in warning.message


def test_the_first_usable_moment_is_gate_time_whatever_zone_it_was_given_in() -> None:
    issued = datetime(2026, 11, 23, 13, 22, tzinfo=UTC)  # 21:22 in Shanghai
    first = first_usable_at(Policy(), PassKind.VISITOR, issued, issued + timedelta(hours=12))
    assert first is not None
    assert first.tzinfo == SHANGHAI
    assert (first.hour, first.minute) == (7, 0)


def test_a_pass_that_ends_before_the_hours_begin_never_works() -> None:
    issued = datetime(2026, 11, 23, 21, 22, tzinfo=SHANGHAI)
    warning = hours_warning(Policy(), PassKind.VISITOR, issued, issued + timedelta(hours=2))
    assert warning is not None
    assert warning.code == "never_in_hours"
    assert warning.first_usable_at is None


def test_no_warning_inside_the_hours_or_for_a_kind_without_hours() -> None:
    noon = datetime(2026, 11, 23, 12, 0, tzinfo=SHANGHAI)
    assert hours_warning(Policy(), PassKind.VISITOR, noon, noon + timedelta(hours=12)) is None
    night = datetime(2026, 11, 23, 23, 0, tzinfo=SHANGHAI)
    assert hours_warning(Policy(), PassKind.VEHICLE, night, night + timedelta(hours=1)) is None


def test_windows_past_midnight_and_to_24_00() -> None:
    evening = datetime(2026, 11, 23, 18, 0, tzinfo=SHANGHAI)
    late = _policy("22:00-02:00")
    assert first_usable_at(late, PassKind.VISITOR, evening, evening + timedelta(days=1)) == (
        datetime(2026, 11, 23, 22, 0, tzinfo=SHANGHAI)
    )
    small_hours = datetime(2026, 11, 24, 1, 0, tzinfo=SHANGHAI)
    assert (
        hours_warning(late, PassKind.VISITOR, small_hours, small_hours + timedelta(hours=1)) is None
    )
    all_day = _policy("00:00-24:00")
    assert hours_warning(all_day, PassKind.VISITOR, evening, evening + timedelta(hours=1)) is None


def _claims(at: datetime) -> PassClaims:
    return PassClaims(
        community="c",
        pass_id="V-1",
        kind=PassKind.VISITOR,
        holder="张*",
        unit="3-2-501",
        gates=(),
        not_before=at - timedelta(days=1),
        expires=at + timedelta(days=1),
        issued_at=at - timedelta(days=1),
        key_id="gate-k",
    )


def _refused_for_hours(policy: Policy, at: datetime) -> bool:
    checks = check_pass(
        policy,
        _claims(at),
        gate="north",
        direction=Direction.IN,
        mode=GateMode.NORMAL,
        now=at,
        history=PassHistory(),
    )
    return any(check.finding is Finding.KIND_HOURS for check in checks)


hhmm = st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.sampled_from([0, 30, 59]))
windows = st.lists(st.builds(lambda a, b: f"{a}-{b}", hhmm, hhmm), min_size=1, max_size=3)
moments = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)


@settings(max_examples=300, deadline=None)
@given(hours=windows, at=moments, zone=st.sampled_from(["Asia/Shanghai", "Europe/London"]))
def test_agrees_with_the_look_steps_hours_check(hours: list[str], at: datetime, zone: str) -> None:
    policy = _policy(*hours, timezone=zone)
    first = first_usable_at(policy, PassKind.VISITOR, at, at + timedelta(days=3))
    assert (first == at) is not _refused_for_hours(policy, at)
    if first is not None and first > at:
        assert not _refused_for_hours(policy, first)  # it does work then ...
        assert _refused_for_hours(policy, first - timedelta(seconds=1))  # ... and not before
