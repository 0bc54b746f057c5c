"""Entry drafts for the store tests: one with every field filled, and a hypothesis strategy."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

from drivers.base import Reading
from edge.model import (
    Direction,
    EntryDraft,
    GateMode,
    MeasuredTemperature,
    Outcome,
    PassKind,
)

CST = timezone(timedelta(hours=8))
T0 = datetime(2026, 11, 23, 8, 0, 0, 125_000, tzinfo=CST)


def simple_draft(**changes: Any) -> EntryDraft:
    """A resident walking in, nothing unusual."""
    draft = EntryDraft(
        lane="north-1",
        direction=Direction.IN,
        outcome=Outcome.PASSED,
        started_at=T0,
        decided_at=T0 + timedelta(seconds=4),
        pass_id="P-1",
        pass_kind=PassKind.RESIDENT,
        holder="李*",
        household="1-101",
        key_id="k1",
    )
    return replace(draft, **changes)


def full_draft(**changes: Any) -> EntryDraft:
    """A fever visit with every optional field set, Chinese answers and raw sensor values."""
    draft = simple_draft(
        outcome=Outcome.FEVER,
        decided_at=T0 + timedelta(seconds=95, microseconds=3),
        reasons=("fever", "manual_reading"),
        pass_id="P-2026-000123",
        pass_kind=PassKind.TEMPORARY,
        holder="张*明",
        household="3栋2单元401",
        key_id="community-2026a",
        answers=(("travel_14d", "否，一直在小区"), ("symptoms", "有点咳嗽")),
        temperatures=(
            MeasuredTemperature(
                reading=Reading(
                    value_c=37.31,
                    sensor="gy-mcu90614",
                    object_c=37.31,
                    ambient_c=-3.5,
                    raw_hex="5a5a45040e930e6e7b",
                ),
                body_c=37.81,
                at=T0 + timedelta(seconds=20),
                plausible=True,
                fever=True,
            ),
            MeasuredTemperature(
                reading=Reading(value_c=37.6, sensor="handheld", manual=True),
                body_c=37.6,
                at=(T0 + timedelta(seconds=90)).astimezone(UTC),
                plausible=True,
                fever=True,
            ),
        ),
        guard_id="guard-07",
        guard_note="复测37.6℃，已报社区",
        gate_mode=GateMode.LOCKDOWN,
        clock_synced=False,
    )
    return replace(draft, **changes)


# ----------------------------------------------------------------------------- strategies

_offsets = st.sampled_from(
    [UTC, CST, timezone(timedelta(hours=-5, minutes=-30)), timezone(timedelta(hours=14))]
)
moments = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1), timezones=_offsets
)
# Anything a holder name, a guard note or an answer may contain (no surrogates: not UTF-8).
texts = st.text(max_size=40)
optional_texts = st.none() | texts
celsius = st.floats(min_value=-60, max_value=400, allow_nan=False, allow_infinity=False)
optional_celsius = st.none() | celsius

readings = st.builds(
    Reading,
    value_c=celsius,
    sensor=texts,
    object_c=optional_celsius,
    ambient_c=optional_celsius,
    manual=st.booleans(),
    raw_hex=st.text(alphabet="0123456789abcdef", max_size=64),
)
temperatures = st.builds(
    MeasuredTemperature,
    reading=readings,
    body_c=celsius,
    at=moments,
    plausible=st.booleans(),
    fever=st.booleans(),
)
# The rule asks each question once: answers have distinct question ids.
answers = st.dictionaries(texts, texts, max_size=4).map(lambda found: tuple(found.items()))

drafts = st.builds(
    EntryDraft,
    lane=texts,
    direction=st.sampled_from(Direction),
    outcome=st.sampled_from(Outcome),
    started_at=moments,
    decided_at=moments,
    reasons=st.lists(texts, max_size=4).map(tuple),
    pass_id=optional_texts,
    pass_kind=st.none() | st.sampled_from(PassKind),
    holder=optional_texts,
    household=optional_texts,
    key_id=optional_texts,
    answers=answers,
    temperatures=st.lists(temperatures, max_size=3).map(tuple),
    guard_id=optional_texts,
    guard_note=optional_texts,
    gate_mode=st.sampled_from(GateMode),
    clock_synced=st.booleans(),
)
extras = st.dictionaries(texts, texts, max_size=3)
