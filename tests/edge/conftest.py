"""Builders and a hand-driven lane for the rule and policy tests.

The rule is pure: a test holds a ``FakeClock``, sends events through ``step`` and reads the
commands back. ``RuleRun`` keeps that loop in one place so each test reads as the visit it walks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from drivers.base import Reading
from edge.model import (
    Direction,
    EntryDraft,
    GateMode,
    Instant,
    Outcome,
    PassClaims,
    PassKind,
    Verdict,
    VerifyReason,
)
from edge.policy import PassHistory, Policy
from edge.rule import (
    AnswersGiven,
    Command,
    Event,
    GuardCancel,
    GuardOverride,
    LaneContext,
    LaneState,
    ModeChange,
    OpenGate,
    PassShown,
    RecordEntry,
    TemperatureTaken,
    Tick,
    step,
)
from tests.clock import FakeClock

LANE = "north-in-1"
GATE = "north"
SENSOR = "ir-1"
GUARD = "guard-07"
# 07:00 UTC is 15:00 in Asia/Shanghai: inside every default hours window.
T0 = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)


def claims(
    kind: PassKind = PassKind.RESIDENT,
    *,
    pass_id: str = "P-0001",
    holder: str = "王*华",
    unit: str = "3-2-501",
    gates: tuple[str, ...] = (GATE,),
    key_id: str = "hxy-2026a",
) -> PassClaims:
    return PassClaims(
        community="hxy",
        pass_id=pass_id,
        kind=kind,
        holder=holder,
        unit=unit,
        gates=gates,
        not_before=T0 - timedelta(days=30),
        expires=T0 + timedelta(days=30),
        issued_at=T0 - timedelta(days=30),
        key_id=key_id,
    )


def valid(kind: PassKind = PassKind.RESIDENT, **changes: Any) -> Verdict:
    """A verdict for a pass that verified."""
    return Verdict(reason=None, claims=claims(kind, **changes))


def invalid(reason: VerifyReason, *, named: bool = True, **changes: Any) -> Verdict:
    """A failed verdict; ``named`` keeps the claims, as for an expired or revoked pass."""
    return Verdict(reason=reason, claims=claims(**changes) if named else None, detail="test")


def reading(value_c: float, *, sensor: str = SENSOR, manual: bool = False) -> Reading:
    return Reading(value_c=value_c, sensor=sensor, manual=manual)


def make_policy(**fields: Any) -> Policy:
    """A policy from plain data, as the settings loader hands it over."""
    return Policy.model_validate(fields)


def context(
    policy: Policy | None = None, *, direction: Direction = Direction.IN, open_s: float = 3.0
) -> LaneContext:
    return LaneContext(
        lane=LANE,
        gate=GATE,
        direction=direction,
        policy=policy if policy is not None else Policy(),
        open_s=open_s,
    )


def entries_in(commands: list[Command]) -> list[EntryDraft]:
    return [c.draft for c in commands if isinstance(c, RecordEntry)]


def kinds_in(commands: list[Command]) -> list[type]:
    return [type(c) for c in commands]


def assert_gate_opens_only_after_entry(commands: list[Command]) -> None:
    """Every OpenGate comes straight after the RecordEntry (passed or overridden) it justifies."""
    for index, command in enumerate(commands):
        if isinstance(command, OpenGate):
            assert index > 0, commands
            before = commands[index - 1]
            assert isinstance(before, RecordEntry), commands
            assert before.draft.outcome in (Outcome.PASSED, Outcome.OVERRIDDEN), commands


@dataclass
class RuleRun:
    """One lane driven by hand: the rule's state, its context, a fake clock and every command."""

    ctx: LaneContext
    clock: FakeClock = field(default_factory=FakeClock)
    state: LaneState = field(default_factory=LaneState)
    log: list[Command] = field(default_factory=list)

    def now(self) -> Instant:
        return self.clock.now()

    def advance(self, seconds: float) -> Instant:
        return self.clock.advance(seconds)

    def send(self, event: Event) -> list[Command]:
        self.state, commands = step(self.state, event, self.ctx)
        assert_gate_opens_only_after_entry(commands)
        self.log += commands
        return commands

    def scan(
        self,
        verdict: Verdict | None = None,
        *,
        token: str = "tok-a",
        history: PassHistory | None = None,
    ) -> list[Command]:
        return self.send(
            PassShown(
                at=self.now(),
                verdict=verdict if verdict is not None else valid(),
                token_digest=token,
                history=history if history is not None else PassHistory(),
            )
        )

    def answer(self, **answers: str) -> list[Command]:
        return self.send(AnswersGiven(at=self.now(), answers=answers, guard_id=GUARD))

    def read(self, value_c: float, *, sensor: str = SENSOR, manual: bool = False) -> list[Command]:
        return self.send(
            TemperatureTaken(at=self.now(), reading=reading(value_c, sensor=sensor, manual=manual))
        )

    def tick(self, after_s: float = 0.0) -> list[Command]:
        return self.send(Tick(at=self.advance(after_s)))

    def override(self, guard_id: str = GUARD, reason: str = "elderly resident") -> list[Command]:
        return self.send(GuardOverride(at=self.now(), guard_id=guard_id, reason=reason))

    def cancel(self, guard_id: str = GUARD) -> list[Command]:
        return self.send(GuardCancel(at=self.now(), guard_id=guard_id))

    def mode(
        self, mode: GateMode, guard_id: str = GUARD, reason: str = "fire drill"
    ) -> list[Command]:
        return self.send(ModeChange(at=self.now(), mode=mode, guard_id=guard_id, reason=reason))

    def entries(self) -> list[EntryDraft]:
        return entries_in(self.log)


RunFactory = Callable[..., RuleRun]


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock(wall=T0)


@pytest.fixture
def make_run(fake_clock: FakeClock) -> RunFactory:
    """Build a lane on the shared fake clock: ``make_run(policy, direction=..., mode=...)``."""

    def build(
        policy: Policy | None = None,
        *,
        direction: Direction = Direction.IN,
        mode: GateMode = GateMode.NORMAL,
        open_s: float = 3.0,
    ) -> RuleRun:
        return RuleRun(
            ctx=context(policy, direction=direction, open_s=open_s),
            clock=fake_clock,
            state=LaneState(mode=mode),
        )

    return build


@pytest.fixture
def rule_run(make_run: RunFactory) -> RuleRun:
    """An inbound lane with the default policy."""
    return make_run()
