"""Lane state and guard actions: answers, manual readings, override, cancel, gate mode."""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

from fastapi import APIRouter, HTTPException

from drivers.base import Reading
from edge.console.auth import GuardDep
from edge.console.defs.visitors import OccupantsRequest
from edge.console.deps import ConsoleContext, ContextDep, lane_or_404
from edge.console.schemas import (
    ActionResponse,
    AnswersRequest,
    CancelRequest,
    LaneView,
    ManualReadingRequest,
    ModeRequest,
    OverrideRequest,
)
from edge.lane import ActionResult
from edge.model import GateMode
from edge.store.guards import Guard, Role

router = APIRouter(prefix="/api/v1/lanes", tags=["lanes"])

ACTION_TIMEOUT_S = 5.0


def _audit(context: ConsoleContext, guard: Guard, action: str, lane: str, **detail: Any) -> None:
    """Every guard action is logged with who did it, before it is carried out."""
    context.guards.audit(context.now(), guard.id, action, lane, detail)


def _respond(future: Future[ActionResult]) -> ActionResponse:
    try:
        result = future.result(timeout=ACTION_TIMEOUT_S)
    except TimeoutError as exc:
        raise HTTPException(status_code=503, detail="the lane did not answer in time") from exc
    if result.rejected is not None:
        return ActionResponse(
            accepted=False,
            rejected_code=result.rejected.code,
            rejected_detail=result.rejected.detail,
        )
    return ActionResponse(accepted=True, entry_ids=[e.id for e in result.entries])


@router.get("", response_model=list[LaneView])
def list_lanes(context: ContextDep) -> list[LaneView]:
    return [LaneView(**lane.snapshot()) for lane in context.lanes.values()]


@router.get("/{lane_id}", response_model=LaneView)
def get_lane(lane_id: str, context: ContextDep) -> LaneView:
    return LaneView(**lane_or_404(context, lane_id).snapshot())


@router.post("/{lane_id}/answers", response_model=ActionResponse)
def answer(
    lane_id: str, body: AnswersRequest, guard: GuardDep, context: ContextDep
) -> ActionResponse:
    lane = lane_or_404(context, lane_id)
    _audit(context, guard, "answers", lane.ctx.lane, answers=body.answers)
    return _respond(lane.answer(body.answers, guard.id))


@router.post("/{lane_id}/occupants", response_model=ActionResponse)
def set_occupants(
    lane_id: str, body: OccupantsRequest, guard: GuardDep, context: ContextDep
) -> ActionResponse:
    """Count the people in the vehicle being checked: each of them is measured."""
    lane = lane_or_404(context, lane_id)
    _audit(context, guard, "occupants", lane.ctx.lane, count=body.count)
    return _respond(lane.set_occupants(body.count, guard.id))


@router.post("/{lane_id}/manual-reading", response_model=ActionResponse)
def manual_reading(
    lane_id: str, body: ManualReadingRequest, guard: GuardDep, context: ContextDep
) -> ActionResponse:
    lane = lane_or_404(context, lane_id)
    _audit(context, guard, "manual_reading", lane.ctx.lane, body_c=body.body_c)
    reading = Reading(value_c=body.body_c, sensor=f"handheld:{guard.id}", manual=True)
    lane.submit_reading(reading)
    return ActionResponse(accepted=True)


@router.post("/{lane_id}/override", response_model=ActionResponse)
def override(
    lane_id: str, body: OverrideRequest, guard: GuardDep, context: ContextDep
) -> ActionResponse:
    lane = lane_or_404(context, lane_id)
    _audit(context, guard, "override", lane.ctx.lane, reason=body.reason)
    return _respond(lane.override(guard.id, body.reason))


@router.post("/{lane_id}/cancel", response_model=ActionResponse)
def cancel(
    lane_id: str, body: CancelRequest, guard: GuardDep, context: ContextDep
) -> ActionResponse:
    lane = lane_or_404(context, lane_id)
    _audit(context, guard, "cancel", lane.ctx.lane)
    return _respond(lane.cancel(guard.id))


def may_set_mode(guard: Guard, current: GateMode, wanted: GateMode) -> bool:
    """A lockdown shuts residents out: an admin starts and ends it. Emergency free exit is for
    the guard at the gate (a fire, a crush), who may start and end it alone."""
    touches_lockdown = GateMode.LOCKDOWN in (current, wanted)
    return guard.role is Role.ADMIN or not touches_lockdown


@router.post(
    "/{lane_id}/mode",
    response_model=ActionResponse,
    responses={403: {"description": "A lockdown is started or ended by an admin only."}},
)
def set_mode(
    lane_id: str, body: ModeRequest, guard: GuardDep, context: ContextDep
) -> ActionResponse:
    """Change the lane's mode with a written reason (logged, and an entry in the ledger).

    Emergency free exit (the gate held open) and back: any guard. Lockdown (staff passes
    only) and back: an admin (403 for a guard)."""
    lane = lane_or_404(context, lane_id)
    current = GateMode(lane.snapshot()["mode"])
    if not may_set_mode(guard, current, body.mode):
        raise HTTPException(status_code=403, detail="a lockdown is started or ended by an admin")
    _audit(context, guard, "mode", lane.ctx.lane, mode=body.mode.value, reason=body.reason)
    return _respond(lane.set_mode(body.mode, guard.id, body.reason))
