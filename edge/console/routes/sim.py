"""Simulation controls for `kakou sim`: only mounted when the configuration enables simulation."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException

from edge.console.defs.sim import SimDoorRequest, SimDoorResponse
from edge.console.deps import ConsoleContext, ContextDep, SimulationControl, invalid
from edge.console.schemas import (
    CrowdStatus,
    SimCrowdRequest,
    SimPresentRequest,
    SimSampleRequest,
    SimTemperatureRequest,
)
from edge.simulation import NoDoor

router = APIRouter(prefix="/api/v1/sim", tags=["simulation"])


def _sim(context: ConsoleContext, lane: str | None) -> tuple[SimulationControl, str]:
    if context.simulation is None:
        raise HTTPException(status_code=404, detail="simulation is not enabled")
    lane_id = lane or next(iter(context.lanes))
    if lane_id not in context.lanes:
        raise HTTPException(status_code=404, detail=f"no lane {lane_id!r}")
    return context.simulation, lane_id


@router.post("/present", status_code=202)
def present(body: SimPresentRequest, context: ContextDep) -> dict[str, str]:
    sim, lane = _sim(context, body.lane)
    try:
        payload = body.payload()
    except ValueError as exc:
        raise invalid(("body", "payload_b64"), str(exc)) from exc
    sim.present(lane, payload)
    return {"lane": lane, "status": "presented"}


@router.post("/sample", status_code=202)
def sample(body: SimSampleRequest, context: ContextDep) -> dict[str, str]:
    """Show the scanner a made-up pass: a resident's, an expired or a forged one, …"""
    sim, lane = _sim(context, body.lane)
    pass_id = sim.present_sample(lane, body.case)
    return {"lane": lane, "status": "presented", "pass_id": pass_id}


@router.post("/temperature", status_code=202)
def temperature(body: SimTemperatureRequest, context: ContextDep) -> dict[str, str]:
    sim, lane = _sim(context, body.lane)
    sim.temperature(lane, body.values_c, body.then_c)
    return {"lane": lane, "status": "set"}


@router.post("/door", response_model=SimDoorResponse)
def door(body: SimDoorRequest, context: ContextDep) -> SimDoorResponse:
    """Open or shut the lane's simulated door contact (404 if the lane has none)."""
    sim, lane = _sim(context, body.lane)
    try:
        is_open = sim.door(lane, open_=body.state == "open")
    except NoDoor as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc
    return SimDoorResponse(lane=lane, state="open" if is_open else "closed")


@router.post("/crowd", status_code=202, response_model=CrowdStatus)
def start_crowd(body: SimCrowdRequest, context: ContextDep) -> CrowdStatus:
    sim, lane = _sim(context, body.lane)
    crowd_id = sim.start_crowd(lane, body.count, body.seed)
    status = sim.crowd_status(crowd_id)
    assert status is not None
    return CrowdStatus(**status)


@router.get("/crowd/{crowd_id}", response_model=CrowdStatus)
def crowd_status(crowd_id: str, context: ContextDep) -> CrowdStatus:
    sim, _ = _sim(context, None)
    status = sim.crowd_status(crowd_id)
    if status is None:
        raise HTTPException(status_code=404, detail=f"no crowd {crowd_id!r}")
    return CrowdStatus(**status)
