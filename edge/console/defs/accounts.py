"""Account management's request and response bodies: states, PIN resets and changes."""

from __future__ import annotations

from pydantic import BaseModel, Field

from edge.console.defs.request import RequestBody
from edge.store.guards import AccountState, Role

_SECRET_DOC = (
    "A guard's PIN or password: at least 6 characters; an admin's password: at least 10 "
    "(422 kakou.weak_secret otherwise)."
)


class AccountView(BaseModel):
    id: str
    name: str
    role: Role
    state: AccountState = Field(description="Only an active account signs in.")


class ResetSecretRequest(RequestBody):
    secret: str = Field(min_length=1, max_length=256, description=_SECRET_DOC)


class ChangeSecretRequest(RequestBody):
    old: str = Field(min_length=1, max_length=256, description="The PIN or password in use.")
    new: str = Field(min_length=1, max_length=256, description=_SECRET_DOC)
