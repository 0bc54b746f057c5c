"""Visitor and vehicle registration: the JSON API and its pages.

A guard registers a visitor (name, phone, ID card, host household, reason, validity) or a
vehicle (plate and each occupant); the gate signs a pass for it on the spot, shown as a QR code
on screen and printable. A vehicle's pass goes straight to the lane with its occupant count, so
the thermometer measures every occupant before the barrier opens. Lists show phone and ID
numbers masked whatever the policy keeps.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response

from edge.console.auth import GuardDep
from edge.console.defs.visitors import (
    HoursWarningView,
    IssuedView,
    PersonRequest,
    PersonView,
    PresentRequest,
    RegistrationView,
    RevokeRequest,
    VehicleRequest,
    VisitorRequest,
)
from edge.console.deps import ConsoleContext, ContextDep, lane_or_404
from edge.console.routes import visitor_pages
from edge.console.routes.lanes import ACTION_TIMEOUT_S
from edge.identity import mask_id_number, mask_phone
from edge.store.registrations import Registration
from edge.visitors import (
    Issued,
    PersonForm,
    RegistrationError,
    RegistrationForm,
    VisitorDesk,
    display_number,
)

API = "/api/v1"
api = APIRouter(prefix=API, tags=["visitors"])
PAGE_SIZE = 50


def _desk(context: ConsoleContext) -> VisitorDesk:
    if context.desk is None:
        raise HTTPException(status_code=404, detail="visitor registration is off ([visitors])")
    return context.desk


def _person(body: PersonRequest) -> PersonForm:
    return PersonForm(name=body.name, phone=body.phone, id_number=body.id_number)


def _refused(exc: RegistrationError) -> RequestValidationError:
    """The desk's field problems as FastAPI's own 422 shape, one error per field."""
    return RequestValidationError(
        [
            {
                "type": f"kakou.{problem.code}",
                "loc": ("body", *path.split(".")),
                "msg": problem.message,
            }
            for path, problem in exc.problems.items()
        ]
    )


def _view(
    registration: Registration, context: ConsoleContext, *, token: str | None = None
) -> RegistrationView:
    return RegistrationView(
        **registration.model_dump(exclude={"people"}),
        revoked=registration.pass_id in context.store.revoked_ids(),
        people=[
            PersonView(
                name=p.name,
                phone=display_number(p.phone, mask_phone),
                id_number=display_number(p.id_number, mask_id_number),
            )
            for p in registration.people
        ],
        token=token,
        qr_svg_url=f"{API}/registrations/{registration.id}/qr.svg",
    )


def _register(context: ConsoleContext, form: RegistrationForm, guard_id: str) -> Issued:
    desk = _desk(context)
    if form.lane is not None:
        lane_or_404(context, form.lane)
    try:
        return desk.register(form, guard_id, policy=context.policy)
    except RegistrationError as exc:
        raise _refused(exc) from exc


def _warning(issued: Issued) -> HoursWarningView | None:
    warning = issued.warning
    if warning is None:
        return None
    first = warning.first_usable_at
    return HoursWarningView(
        code=warning.code,
        hours=list(warning.hours),
        first_usable_at=first,
        first_usable_local=first.strftime("%Y-%m-%d %H:%M") if first is not None else None,
        message=warning.message,
    )


def _handed_to_lane(
    context: ConsoleContext,
    lane_id: str | None,
    registration: Registration,
    token: str,
    *,
    show_token: bool,
) -> IssuedView:
    """Give the pass to the lane as if scanned, with the people it covers; say what it did."""
    lane = lane_or_404(context, lane_id)
    future = lane.submit_pass(token, occupants=len(registration.people), source="desk")
    try:
        result = future.result(timeout=ACTION_TIMEOUT_S)
    except TimeoutError as exc:
        raise HTTPException(status_code=503, detail="the lane did not answer in time") from exc
    return IssuedView(
        registration=_view(registration, context, token=token if show_token else None),
        lane_accepted=result.rejected is None,
        lane_rejected_code=result.rejected.code if result.rejected else None,
    )


@api.post("/visitors", response_model=IssuedView, status_code=201)
def register_visitor(body: VisitorRequest, guard: GuardDep, context: ContextDep) -> IssuedView:
    """Register a visitor and sign their pass (valid at this gate for ``hours``)."""
    form = RegistrationForm(
        host_household=body.host_household,
        reason=body.reason,
        hours=body.hours,
        people=(PersonForm(name=body.name, phone=body.phone, id_number=body.id_number),),
        lane=body.lane,
    )
    issued = _register(context, form, guard.id)
    if body.present:
        handed = _handed_to_lane(
            context, body.lane, issued.registration, issued.token, show_token=True
        )
        return handed.model_copy(update={"hours_warning": _warning(issued)})
    return IssuedView(
        registration=_view(issued.registration, context, token=issued.token),
        hours_warning=_warning(issued),
    )


@api.post("/vehicles", response_model=IssuedView, status_code=201)
def register_vehicle(body: VehicleRequest, guard: GuardDep, context: ContextDep) -> IssuedView:
    """Register a vehicle and its occupants; its pass goes to the lane at once, where every
    occupant is measured before the barrier opens."""
    form = RegistrationForm(
        host_household=body.host_household,
        reason=body.reason,
        hours=body.hours,
        people=tuple(_person(p) for p in body.occupants),
        plate=body.plate,
        lane=body.lane,
    )
    issued = _register(context, form, guard.id)
    handed = _handed_to_lane(context, body.lane, issued.registration, issued.token, show_token=True)
    return handed.model_copy(update={"hours_warning": _warning(issued)})


@api.get("/registrations", response_model=list[RegistrationView])
def list_registrations(
    guard: GuardDep,
    context: ContextDep,
    kind: Annotated[str | None, Query(pattern="^(visitor|vehicle)$")] = None,
    before: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = PAGE_SIZE,
) -> list[RegistrationView]:
    """Newest first, phone and ID numbers masked; page back with ``before``."""
    if before is not None and before.tzinfo is None:
        raise HTTPException(status_code=422, detail="before needs a time zone")
    found = _desk(context).book.recent(limit=limit, before=before, kind=kind)
    return [_view(r, context) for r in found]


def _registration_or_404(context: ConsoleContext, registration_id: str) -> Registration:
    found = _desk(context).book.get(registration_id)
    if found is None:
        raise HTTPException(status_code=404, detail=f"no registration {registration_id!r}")
    return found


@api.get("/registrations/{registration_id}", response_model=RegistrationView)
def get_registration(
    registration_id: str, guard: GuardDep, context: ContextDep
) -> RegistrationView:
    found = _registration_or_404(context, registration_id)
    return _view(found, context, token=_desk(context).token(found))


@api.get(
    "/registrations/{registration_id}/qr.svg",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}}},
)
def registration_qr(registration_id: str, guard: GuardDep, context: ContextDep) -> Response:
    """The pass as a QR code for the screen or the printer."""
    # qrcode, reportlab and Pillow (7 MB) only once a pass is shown, not in an idle gate.
    from edge.passes_pdf import qr_svg

    found = _registration_or_404(context, registration_id)
    return Response(
        qr_svg(_desk(context).token(found)),
        media_type="image/svg+xml",
        headers={"Cache-Control": "no-store"},
    )


@api.post("/registrations/{registration_id}/present", response_model=IssuedView)
def present(
    registration_id: str, body: PresentRequest, guard: GuardDep, context: ContextDep
) -> IssuedView:
    """Hand a registered pass to a lane, as if scanned: for a visitor without a phone."""
    found = _registration_or_404(context, registration_id)
    token = _desk(context).token(found)
    context.guards.audit(
        context.now(), guard.id, "pass_presented", body.lane, {"registration": found.id}
    )
    return _handed_to_lane(context, body.lane, found, token, show_token=False)


@api.post("/registrations/{registration_id}/revoke", response_model=RegistrationView)
def revoke(
    registration_id: str, body: RevokeRequest, guard: GuardDep, context: ContextDep
) -> RegistrationView:
    """Withdraw a registration's pass: every lane refuses it from now on."""
    found = _registration_or_404(context, registration_id)
    context.store.add_revocations([found.pass_id], source=f"guard:{guard.id}")
    context.guards.audit(
        context.now(),
        guard.id,
        "pass_revoked",
        None,
        {"registration": found.id, "pass_id": found.pass_id, "reason": body.reason},
    )
    for lane in context.lanes.values():
        lane.reload_trust().result(timeout=ACTION_TIMEOUT_S)
    return _view(found, context)


router = APIRouter()
"""The visitors' API and pages, as the console includes them."""
router.include_router(api)
router.include_router(visitor_pages.router)
