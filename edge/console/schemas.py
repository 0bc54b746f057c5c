"""Request and response bodies of the console API (/api/v1): the OpenAPI contract."""

from __future__ import annotations

import base64
import binascii
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from edge.console.defs.request import RequestBody
from edge.model import GateMode

_IGNORED = "Ignored, kept for old clients: the guard is the one signed in (the session)."


class GuardActionRequest(RequestBody):
    """A guard's action on a lane. Who acts is the guard signed in (the session)."""

    guard_id: str | None = Field(default=None, min_length=1, max_length=64, description=_IGNORED)


class AnswersRequest(GuardActionRequest):
    answers: dict[str, str] = Field(description="Question id → chosen answer.")


class OverrideRequest(GuardActionRequest):
    reason: str = Field(min_length=1, max_length=500, description="Why the rule is overridden.")


class CancelRequest(GuardActionRequest):
    """The visit in progress is cancelled (recorded as abandoned)."""


class ModeRequest(GuardActionRequest):
    mode: GateMode
    reason: str = Field(min_length=1, max_length=500)


class ManualReadingRequest(GuardActionRequest):
    body_c: float = Field(ge=25.0, le=45.0, description="Reading from a handheld thermometer.")


class ActionResponse(BaseModel):
    accepted: bool
    rejected_code: str | None = None
    rejected_detail: str | None = None
    entry_ids: list[str] = Field(default_factory=list)


class LaneView(BaseModel):
    lane: str
    gate: str
    direction: str
    mode: str
    step: str
    alive: bool
    unsaved_entries: int
    relay_energised: bool
    visit: dict[str, Any] | None


class EntriesPage(BaseModel):
    entries: list[dict[str, Any]]
    next_after_seq: int | None = Field(description="Pass as after_seq to get the next page.")


class Health(BaseModel):
    status: Literal["ok", "degraded", "down"]
    integrity: str
    lanes: list[LaneView]
    devices: list[dict[str, str]]
    entries_stored: int


class SimPresentRequest(RequestBody):
    lane: str | None = Field(default=None, description="Lane id; the first lane when omitted.")
    text: str | None = Field(
        default=None, max_length=1_100_000, description="What the scanner reads, as text."
    )
    payload_b64: str | None = Field(
        default=None,
        max_length=1_500_000,
        description="What the scanner reads, as base64 bytes (binary junk, other encodings).",
    )

    @model_validator(mode="after")
    def _one_payload(self) -> SimPresentRequest:
        if (self.text is None) == (self.payload_b64 is None):
            raise ValueError("give exactly one of text or payload_b64")
        return self

    def payload(self) -> bytes:
        if self.text is not None:
            return self.text.encode("utf-8")
        assert self.payload_b64 is not None
        try:
            return base64.b64decode(self.payload_b64, validate=True)
        except binascii.Error as exc:
            raise ValueError(f"payload_b64 is not base64: {exc}") from exc


class SimTemperatureRequest(RequestBody):
    lane: str | None = None
    values_c: list[float] = Field(min_length=1, max_length=50)
    then_c: float | None = Field(default=None, description="Reading once the list is used up.")


class SimSampleRequest(RequestBody):
    lane: str | None = None
    case: Literal["resident", "temporary", "staff", "expired", "forged"] = Field(
        default="resident", description="Which made-up pass the scanner is shown."
    )


class SimCrowdRequest(RequestBody):
    lane: str | None = None
    count: int = Field(ge=1, le=100_000)
    seed: int = Field(default=0)


class CrowdStatus(BaseModel):
    id: str
    state: Literal["running", "done", "failed"]
    total: int
    presented: int
    recorded: int
    matched: int
    mismatches: list[dict[str, Any]]
    by_expected: dict[str, int]
    by_actual: dict[str, int]
    error: str | None = None
