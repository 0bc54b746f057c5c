"""Health: the store's integrity, each lane's worker and each device's state."""

from __future__ import annotations

from fastapi import APIRouter

from drivers.base import Health as DeviceHealth
from edge.console.deps import ContextDep
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
