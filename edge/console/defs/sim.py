"""Bodies of the simulation API's door control (exact OpenAPI)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from edge.console.defs.request import RequestBody


class SimDoorRequest(RequestBody):
    lane: str | None = Field(default=None, description="Lane id (default: the first lane).")
    state: Literal["open", "closed"] = Field(
        description="Open the door (forced if the lock is shut) or shut it."
    )


class SimDoorResponse(BaseModel):
    lane: str
    state: Literal["open", "closed"] = Field(description="The door as its contact reads now.")
