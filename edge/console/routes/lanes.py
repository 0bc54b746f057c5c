"""Lane state and guard actions: answers, manual readings, override, cancel, gate mode."""

from __future__ import annotations

from concurrent.futures import Future

from fastapi import APIRouter, HTTPException

from drivers.base import Reading
from edge.console.deps import ContextDep, lane_or_404
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

router = APIRouter(prefix="/api/v1/lanes", tags=["lanes"])

ACTION_TIMEOUT_S = 5.0


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
def answer(lane_id: str, body: AnswersRequest, context: ContextDep) -> ActionResponse:
    return _respond(lane_or_404(context, lane_id).answer(body.answers, body.guard_id))


@router.post("/{lane_id}/manual-reading", response_model=ActionResponse)
def manual_reading(lane_id: str, body: ManualReadingRequest, context: ContextDep) -> ActionResponse:
    lane = lane_or_404(context, lane_id)
    reading = Reading(value_c=body.body_c, sensor=f"handheld:{body.guard_id}", manual=True)
    lane.submit_reading(reading)
    return ActionResponse(accepted=True)


@router.post("/{lane_id}/override", response_model=ActionResponse)
def override(lane_id: str, body: OverrideRequest, context: ContextDep) -> ActionResponse:
    return _respond(lane_or_404(context, lane_id).override(body.guard_id, body.reason))


@router.post("/{lane_id}/cancel", response_model=ActionResponse)
def cancel(lane_id: str, body: CancelRequest, context: ContextDep) -> ActionResponse:
    return _respond(lane_or_404(context, lane_id).cancel(body.guard_id))


@router.post("/{lane_id}/mode", response_model=ActionResponse)
def set_mode(lane_id: str, body: ModeRequest, context: ContextDep) -> ActionResponse:
    return _respond(lane_or_404(context, lane_id).set_mode(body.mode, body.guard_id, body.reason))
