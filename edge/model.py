"""Frozen domain types shared by the rule, the lane, the store and the sync layer.

Nothing here does I/O; every type is a plain value that can be compared and serialised.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from drivers.base import Reading

ENTRY_SCHEMA_VERSION = 1


class PassKind(StrEnum):
    """Who a pass is for; policy (questions, gates, hours) is set per kind."""

    RESIDENT = "resident"
    TEMPORARY = "temporary"
    VISITOR = "visitor"
    STAFF = "staff"
    VEHICLE = "vehicle"


class Direction(StrEnum):
    IN = "in"
    OUT = "out"


class GateMode(StrEnum):
    """Normal checks; lockdown admits staff passes only; emergency holds the gate open."""

    NORMAL = "normal"
    LOCKDOWN = "lockdown"
    EMERGENCY = "emergency"


class VerifyReason(StrEnum):
    """Why a pass token did not verify. One code per failure; the first failure found wins."""

    BAD_ENCODING = "bad_encoding"
    BAD_STRUCTURE = "bad_structure"
    UNKNOWN_KEY = "unknown_key"
    BAD_SIGNATURE = "bad_signature"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"
    WRONG_COMMUNITY = "wrong_community"
    GATE_NOT_ALLOWED = "gate_not_allowed"
    REVOKED = "revoked"
    TOO_LARGE = "too_large"
    # A good signature from a key that may not sign this pass: a gate's own visitor key
    # ("gate-…") signs only visitor and vehicle passes of a few days (docs/passes.md).
    KEY_SCOPE = "key_scope"
    # Not a property of the token: the gate's clock policy refuses to judge any pass until NTP
    # has synchronised ([clock] unsynced_policy = "deny_until_synced").
    CLOCK_UNSYNCED = "clock_unsynced"


@dataclass(frozen=True, slots=True, kw_only=True)
class PassClaims:
    """The verified content of a pass token (see docs/passes.md)."""

    community: str
    pass_id: str
    kind: PassKind
    holder: str
    unit: str
    gates: tuple[str, ...]
    not_before: datetime
    expires: datetime
    issued_at: datetime
    key_id: str
    plate: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Verdict:
    """The outcome of verifying one token: claims when valid, else one reason code.

    ``claims`` may be present on a failed verdict when the signature was good (for example an
    expired or revoked pass), so the log can name whose pass it was. ``token_id`` names the
    signed content of any token that parsed, whichever zlib spelling carried it; it is empty for
    text that is not a token (docs/passes.md, "One pass, one identity").
    """

    reason: VerifyReason | None
    claims: PassClaims | None = None
    detail: str = ""
    token_id: str = ""

    @property
    def valid(self) -> bool:
        return self.reason is None and self.claims is not None


class Step(StrEnum):
    """The five steps of 一停二看三问四测五行, plus the fever hold between measure and pass."""

    STOP = "stop"  # idle: waiting for someone to show a pass
    LOOK = "look"
    ASK = "ask"
    MEASURE = "measure"
    HOLD = "hold"  # a reading at or over the fever line waits for its confirming re-measure
    PASS = "pass"


class Outcome(StrEnum):
    """How a visit ended. Every visit ends in exactly one entry with one outcome."""

    PASSED = "passed"
    DENIED = "denied"
    FEVER = "fever"
    ABANDONED = "abandoned"
    OVERRIDDEN = "overridden"
    MODE_CHANGE = "mode_change"


@dataclass(frozen=True, slots=True, kw_only=True)
class Instant:
    """A moment as the gate knows it: wall time, monotonic seconds, and whether NTP has synced."""

    wall: datetime
    mono_s: float
    clock_synced: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class MeasuredTemperature:
    """A reading with the gate's interpretation: offset applied and plausibility judged."""

    reading: Reading
    body_c: float
    at: datetime
    plausible: bool
    fever: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class EntryDraft:
    """Everything the rule knows about a finished visit; the store adds id, sequence and clock."""

    lane: str
    direction: Direction
    outcome: Outcome
    started_at: datetime
    decided_at: datetime
    reasons: tuple[str, ...] = ()
    pass_id: str | None = None
    pass_kind: PassKind | None = None
    holder: str | None = None
    household: str | None = None
    key_id: str | None = None
    answers: tuple[tuple[str, str], ...] = ()
    temperatures: tuple[MeasuredTemperature, ...] = ()
    guard_id: str | None = None
    guard_note: str | None = None
    gate_mode: GateMode = GateMode.NORMAL
    clock_synced: bool = True
    extra: tuple[tuple[str, str], ...] = ()
    """Facts the rule adds beyond the fixed fields (a vehicle's plate and occupants); the store
    moves them into ``Entry.extra``, which is what is stored and synced."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    """A stored entry: the draft plus identity, the gate's gap-free sequence and clock facts."""

    id: str
    seq: int
    schema_version: int
    community: str
    gate: str
    boot_id: str
    recorded_at: datetime
    draft: EntryDraft
    extra: dict[str, str] = field(default_factory=dict)


STORE_FAILED = "store_failed"
"""Reason code of an entry that could not be stored when it was decided, so the gate, which
opens only for a stored entry, did not open for it."""


def gate_not_opened(draft: EntryDraft) -> EntryDraft:
    """What an entry the gate was to open for says when it could not be stored in time: the gate
    stayed shut, so a pass or override becomes ``denied``, with ``store_failed`` and the rule's
    decision (``decided_passed``) as reasons; a mode change (to emergency, held open) keeps its
    outcome and gains ``store_failed``. ``decided_at`` stays the moment of the decision."""
    let_through = draft.outcome in (Outcome.PASSED, Outcome.OVERRIDDEN)
    decided = (f"decided_{draft.outcome.value}",) if let_through else ()
    return replace(
        draft,
        outcome=Outcome.DENIED if let_through else draft.outcome,
        reasons=tuple(dict.fromkeys((STORE_FAILED, *decided, *draft.reasons))),
    )
