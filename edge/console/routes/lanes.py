"""Lane state and guard actions: answers, manual readings, override, cancel, gate mode."""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException

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
from edge.lane import ActionResult, Lane
from edge.model import GateMode
from edge.store.guards import Guard, Role

router = APIRouter(prefix="/api/v1/lanes", tags=["lanes"])

ACTION_TIMEOUT_S = 5.0


@dataclass(frozen=True, slots=True)
class GuardAction:
    """A guard acting on the lane of the address; every action is logged with who did it,
    before it is carried out."""

    lane_id: str
    guard: Guard
    context: ConsoleContext

    @property
    def lane(self) -> Lane:
        """The lane acted on (404 for none), looked up once the request's body is valid."""
        return lane_or_404(self.context, self.lane_id)

    def begin(self, action: str, **detail: Any) -> Lane:
        """Logs ``action`` with its ``detail``, then gives the lane to carry it out on."""
        lane = self.lane
        self.context.guards.audit(self.context.now(), self.guard.id, action, lane.ctx.lane, detail)
        return lane


def guard_action(lane_id: str, guard: GuardDep, context: ContextDep) -> GuardAction:
    return GuardAction(lane_id, guard, context)


ActionDep = Annotated[GuardAction, Depends(guard_action)]


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
def answer(body: AnswersRequest, act: ActionDep) -> ActionResponse:
    lane = act.begin("answers", answers=body.answers)
    return _respond(lane.answer(body.answers, act.guard.id))


@router.post("/{lane_id}/occupants", response_model=ActionResponse)
def set_occupants(body: OccupantsRequest, act: ActionDep) -> ActionResponse:
    """Count the people in the vehicle being checked: each of them is measured."""
    lane = act.begin("occupants", count=body.count)
    return _respond(lane.set_occupants(body.count, act.guard.id))


@router.post("/{lane_id}/manual-reading", response_model=ActionResponse)
def manual_reading(body: ManualReadingRequest, act: ActionDep) -> ActionResponse:
    lane = act.begin("manual_reading", body_c=body.body_c)
    reading = Reading(value_c=body.body_c, sensor=f"handheld:{act.guard.id}", manual=True)
    lane.submit_reading(reading)
    return ActionResponse(accepted=True)


@router.post("/{lane_id}/override", response_model=ActionResponse)
def override(body: OverrideRequest, act: ActionDep) -> ActionResponse:
    lane = act.begin("override", reason=body.reason)
    return _respond(lane.override(act.guard.id, body.reason))


@router.post("/{lane_id}/cancel", response_model=ActionResponse)
def cancel(body: CancelRequest, act: ActionDep) -> ActionResponse:
    return _respond(act.begin("cancel").cancel(act.guard.id))


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
def set_mode(body: ModeRequest, act: ActionDep) -> ActionResponse:
    """Change the lane's mode with a written reason (logged, and an entry in the ledger).

    Emergency free exit (the gate held open) and back: any guard. Lockdown (staff passes
    only) and back: an admin (403 for a guard)."""
    current = GateMode(act.lane.snapshot()["mode"])
    if not may_set_mode(act.guard, current, body.mode):
        raise HTTPException(status_code=403, detail="a lockdown is started or ended by an admin")
    lane = act.begin("mode", mode=body.mode.value, reason=body.reason)
    return _respond(lane.set_mode(body.mode, act.guard.id, body.reason))
