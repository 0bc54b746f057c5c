"""Health: the store's integrity, each lane's worker and each device's state; and the status."""

from __future__ import annotations

from fastapi import APIRouter, Request

from drivers.base import Health as DeviceHealth
from edge.console.auth import GuardDep
from edge.console.deps import ContextDep
from edge.console.routes.live import hub_of
from edge.console.routes.status import GateStatus, TrustState, gate_status, trust_state
from edge.console.schemas import Health, LaneView

router = APIRouter(prefix="/api/v1", tags=["health"])


@router.get("/health", response_model=Health)
def health(context: ContextDep) -> Health:
    lanes = [LaneView(**lane.snapshot()) for lane in context.lanes.values()]
    devices = context.device_status()
    status: str = "ok"
    if any(d.health is not DeviceHealth.OK for d in devices):
        status = "degraded"
    unsaved = any(lane.unsaved_entries for lane in lanes)
    if context.store.integrity != "ok" or unsaved or not all(lane.alive for lane in lanes):
        status = "down"
    return Health(
        status=status,  # type: ignore[arg-type]
        integrity=context.store.integrity,
        lanes=lanes,
        devices=[{"name": d.name, "health": d.health.value, "detail": d.detail} for d in devices],
        entries_stored=context.store.entry_count(),
    )


@router.get("/status", response_model=GateStatus)
def status(request: Request, context: ContextDep) -> GateStatus:
    """Devices with their last reading and error, sync, clock, storage and open alarms (open,
    like health: no personal data)."""
    return gate_status(context, hub_of(request))


@router.get("/trust", response_model=TrustState)
def trust(context: ContextDep, guard: GuardDep) -> TrustState:
    """The keys this gate trusts, where each came from, and every recent change of trust.

    Needs a session: nothing in it is secret, but it tells a stranger which keys to go after."""
    return trust_state(context)
