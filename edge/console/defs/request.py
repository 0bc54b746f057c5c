"""What clients send: sign-in, hand-over, new accounts, alarm acknowledgements."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from edge.store.alarms import MAX_NOTE_CHARS
from edge.store.guards import Role


class RequestBody(BaseModel):
    """A body a client sends: an unknown field is refused (422), never silently ignored, so a
    misspelt field cannot pass for a missing one."""

    model_config = ConfigDict(extra="forbid")


class SignInRequest(RequestBody):
    name: str = Field(min_length=1, max_length=64, description="The guard's account name.")
    secret: str = Field(min_length=1, max_length=256, description="PIN or password.")


class HandOverRequest(RequestBody):
    note: str = Field(default="", max_length=500, description="What the next shift should know.")


class NewGuardRequest(RequestBody):
    name: str = Field(min_length=1, max_length=64)
    role: Role = Field(default=Role.GUARD)
    secret: str = Field(
        min_length=1,
        max_length=256,
        description="A guard's PIN or password: at least 6 characters; an admin's password: "
        "at least 10 (422 kakou.weak_secret otherwise).",
    )


class AckRequest(RequestBody):
    note: Annotated[str, StringConstraints(strip_whitespace=True)] = Field(
        default="",
        max_length=MAX_NOTE_CHARS,
        description="What the guard did about it (trimmed). A fever alarm needs one: without "
        "it the answer is 422 with the error type kakou.note_required.",
    )


class GroupAckRequest(AckRequest):
    """Several open alarms acknowledged with one note: by ``ids``, or every open alarm of a
    ``kind`` (on one ``lane`` when given)."""

    ids: list[Annotated[str, StringConstraints(min_length=1, max_length=64)]] | None = Field(
        default=None, max_length=1000, description="The alarms to acknowledge."
    )
    kind: str | None = Field(
        default=None, min_length=1, max_length=64, description="Every open alarm of this kind."
    )
    lane: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="With kind: only this lane's (the gate-wide alarms' lane is empty).",
    )

    @model_validator(mode="after")
    def _which(self) -> GroupAckRequest:
        if (self.ids is None) == (self.kind is None):
            raise ValueError("give either ids or kind")
        if self.lane is not None and self.kind is None:
            raise ValueError("lane goes with kind")
        return self
