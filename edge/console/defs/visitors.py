"""Bodies of the visitor and vehicle registration API (exact OpenAPI)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from edge.console.defs.request import RequestBody
from edge.rule import MAX_OCCUPANTS
from edge.store.registrations import RegistrationRow


class PersonRequest(RequestBody):
    name: str = Field(min_length=1, max_length=64, description="Full name as on the ID card.")
    phone: str = Field(
        default="", max_length=32, description="Mobile or landline; required for the first person."
    )
    id_number: str = Field(
        default="",
        max_length=32,
        description="18-character resident ID card number; its check digit is verified.",
    )


class VisitorRequest(RequestBody):
    name: str = Field(min_length=1, max_length=64)
    phone: str = Field(min_length=1, max_length=32)
    id_number: str = Field(default="", max_length=32)
    host_household: str = Field(min_length=1, max_length=64, description="e.g. 3-2-501")
    reason: str = Field(min_length=1, max_length=200, description="Why they come.")
    hours: float = Field(gt=0, le=744, description="Validity of the pass from now, in hours.")
    lane: str | None = Field(default=None, max_length=64, description="Lane to check them at.")
    present: bool = Field(
        default=False,
        description="Hand the new pass to the lane at once (the visitor stands at the gate).",
    )


class VehicleRequest(RequestBody):
    plate: str = Field(min_length=1, max_length=16, description="e.g. 京A12345")
    occupants: list[PersonRequest] = Field(
        min_length=1, max_length=MAX_OCCUPANTS, description="The driver first; each is measured."
    )
    host_household: str = Field(min_length=1, max_length=64)
    reason: str = Field(min_length=1, max_length=200)
    hours: float = Field(gt=0, le=744)
    lane: str | None = Field(default=None, max_length=64)


class PresentRequest(RequestBody):
    lane: str | None = Field(default=None, max_length=64)


class RevokeRequest(RequestBody):
    reason: str = Field(min_length=1, max_length=200, description="Why the pass is withdrawn.")


class OccupantsRequest(RequestBody):
    count: int = Field(ge=1, le=MAX_OCCUPANTS, description="People in the vehicle, driver too.")


class PersonView(BaseModel):
    name: str
    phone: str = Field(description="Always masked here, e.g. 138****5678.")
    id_number: str = Field(description="Always masked here, e.g. 1101**********002X.")


class RegistrationView(RegistrationRow):
    revoked: bool
    people: list[PersonView]
    token: str | None = Field(
        default=None, description="The signed pass (KK1), on single reads only."
    )
    qr_svg_url: str


class HoursWarningView(BaseModel):
    """The pass is outside its kind's hours when issued: the lane refuses it until then."""

    code: str = Field(description="outside_hours (works later) or never_in_hours.")
    hours: list[str] = Field(description="The kind's hours, gate time, e.g. ['07:00-21:00'].")
    first_usable_at: datetime | None = Field(
        description="When the pass first works, in the gate's time zone; null: never."
    )
    first_usable_local: str | None = Field(
        description="The same as the gate's clock shows it, e.g. '2026-11-24 07:00'."
    )
    message: str = Field(description="The warning in English, for scripts and logs.")


class IssuedView(BaseModel):
    registration: RegistrationView
    hours_warning: HoursWarningView | None = Field(
        default=None,
        description="Set when the lane would refuse the new pass now for its kind's hours.",
    )
    lane_accepted: bool | None = Field(
        default=None, description="Whether the lane took the pass, when it was handed over."
    )
    lane_rejected_code: str | None = None
