"""Prometheus metrics in the text exposition format (written by hand: a handful of lines needs
no client library on the Pi)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse

from drivers.base import Health as DeviceHealth
from edge.console.deps import ContextDep
from edge.console.hub import LiveHub

router = APIRouter(tags=["metrics"])


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


@router.get("/metrics", response_class=PlainTextResponse)
def metrics(request: Request, context: ContextDep) -> str:
    hub: LiveHub = request.app.state.hub
    lines = [
        "# HELP kakou_entries_stored Entries the gate still holds.",
        "# TYPE kakou_entries_stored gauge",
        f"kakou_entries_stored {context.store.entry_count()}",
        "# HELP kakou_last_seq Last sequence number used by this gate.",
        "# TYPE kakou_last_seq counter",
        f"kakou_last_seq {context.store.last_seq()}",
        "# HELP kakou_lane_up 1 while the lane's worker runs.",
        "# TYPE kakou_lane_up gauge",
    ]
    for lane in context.lanes.values():
        snap = lane.snapshot()
        name = _label(snap["lane"])
        lines.append(f'kakou_lane_up{{lane="{name}"}} {int(snap["alive"])}')
    lines += [
        "# HELP kakou_lane_unsaved_entries Entries waiting to be stored.",
        "# TYPE kakou_lane_unsaved_entries gauge",
    ]
    for lane in context.lanes.values():
        snap = lane.snapshot()
        lines.append(
            f'kakou_lane_unsaved_entries{{lane="{_label(snap["lane"])}"}} {snap["unsaved_entries"]}'
        )
    lines += [
        "# HELP kakou_device_up 1 when the device reports ok.",
        "# TYPE kakou_device_up gauge",
    ]
    for device in context.device_status():
        up = int(device.health is DeviceHealth.OK)
        lines.append(f'kakou_device_up{{device="{_label(device.name)}"}} {up}')
    lines += [
        "# HELP kakou_entries_total Entries recorded since the console started, by outcome.",
        "# TYPE kakou_entries_total counter",
    ]
    lines += [
        f'kakou_entries_total{{outcome="{_label(o)}"}} {n}' for o, n in hub.outcomes_seen.items()
    ]
    lines += [
        "# HELP kakou_bus_events_total Bus events seen, by topic.",
        "# TYPE kakou_bus_events_total counter",
    ]
    lines += [
        f'kakou_bus_events_total{{topic="{_label(t)}"}} {n}' for t, n in hub.events_seen.items()
    ]
    lines += [
        "# HELP kakou_alarms_active Alarms not yet acknowledged.",
        "# TYPE kakou_alarms_active gauge",
        f"kakou_alarms_active {len(hub.alarms())}",
    ]
    return "\n".join(lines) + "\n"
