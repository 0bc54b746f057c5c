"""The live view's data: one state document per change, streamed as Server-Sent Events.

SSE rather than WebSocket: one direction is all the view needs (actions go through the JSON
API), it passes every proxy, and the browser reconnects on its own after a network drop.
"""

from __future__ import annotations

import asyncio
import functools
import json
import queue
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import StreamingResponse

from drivers.base import Health as DeviceHealth
from edge.console import i18n
from edge.console.auth import GuardDep, MaybeGuardDep
from edge.console.defs.request import AckRequest
from edge.console.defs.response import AlarmView
from edge.console.deps import ConsoleContext, ContextDep
from edge.console.live import Alarm, LiveHub
from edge.lane import Lane
from edge.model import PassKind

router = APIRouter(prefix="/api/v1", tags=["live"])

HEARTBEAT_S = 1.0  # a fresh state at least this often: timers, device health, no-bus gates


def hub_of(request: Request) -> LiveHub:
    hub: LiveHub = request.app.state.hub
    return hub


def lane_state(lane: Lane, hub: LiveHub) -> dict[str, Any]:
    """The lane's snapshot plus what the guard needs to act: questions, words, last entry."""
    view = lane.snapshot()
    view["step_zh"], view["step_en"] = i18n.STEPS.get(view["step"], (view["step"],) * 2)
    questions: list[dict[str, Any]] = []
    visit = view["visit"]
    if visit is not None and visit.get("kind"):
        kind = visit["kind"]
        visit["kind_zh"], visit["kind_en"] = i18n.zh(i18n.KINDS, kind), i18n.en(i18n.KINDS, kind)
        policy = lane.ctx.policy
        for qid in policy.rule_for(PassKind(kind)).questions:
            question = policy.questions[qid]
            questions.append(
                {
                    "id": qid,
                    "text_zh": question.text_zh,
                    "text_en": question.text_en,
                    "choices": list(question.choices),
                }
            )
    view["questions"] = questions
    view["fever_threshold_c"] = lane.ctx.policy.fever.threshold_c
    last = hub.last_entry.get(lane.ctx.lane)
    if last is not None:
        last = dict(last)
        last["outcome_zh"] = i18n.zh(i18n.OUTCOMES, last["outcome"])
        last["outcome_en"] = i18n.en(i18n.OUTCOMES, last["outcome"])
        last["reasons_zh"] = [i18n.zh(i18n.REASONS, r) for r in last.get("reasons", [])]
        last["reasons_en"] = [i18n.en(i18n.REASONS, r) for r in last.get("reasons", [])]
    view["last_entry"] = last
    return view


def alarm_view(alarm: Alarm) -> AlarmView:
    return AlarmView(
        id=alarm.id,
        lane=alarm.lane,
        kind=alarm.kind,
        detail=alarm.detail,
        raised_at=alarm.raised_at,
        acked_by=alarm.acked_by,
        acked_at=alarm.acked_at,
    )


def check_devices(context: ConsoleContext, hub: LiveHub) -> None:
    """A device that is down raises an alarm (the drivers report health, not events, here)."""
    for device in context.device_status():
        if device.health is DeviceHealth.DOWN:
            lane = device.name.split("/", 1)[0]
            hub.raise_alarm(lane, "device_down", f"{device.name}: {device.detail}")


PERSONAL = ("holder", "household", "pass_id", "pass", "answers", "guard")


def _redacted(view: dict[str, Any]) -> dict[str, Any]:
    """The lane as the kiosk may show it: steps, temperatures, verdict; nobody's name or flat."""
    for part in (view.get("visit"), view.get("last_entry")):
        if part is not None:
            for key in PERSONAL:
                part.pop(key, None)
    return view


def live_state(context: ConsoleContext, hub: LiveHub, *, signed_in: bool) -> dict[str, Any]:
    """Everything the live view shows; without a session (the kiosk) no personal data."""
    check_devices(context, hub)
    lanes = [lane_state(lane, hub) for lane in context.lanes.values()]
    if not signed_in:
        return {"lanes": [_redacted(view) for view in lanes], "alarms": [], "on_duty": []}
    return {
        "lanes": lanes,
        "alarms": [
            {
                **alarm_view(a).model_dump(mode="json"),
                "text_zh": i18n.zh(i18n.ALARMS, a.kind),
                "text_en": i18n.en(i18n.ALARMS, a.kind),
            }
            for a in hub.alarms()
        ],
        "on_duty": [
            {"id": g.id, "name": g.name, "since": at.isoformat()}
            for g, at in context.guards.on_duty()
        ],
    }


@router.get("/live/state")
def state(request: Request, context: ContextDep, guard: MaybeGuardDep) -> dict[str, Any]:
    """What the live view shows, once (the stream sends the same document on every change)."""
    return live_state(context, hub_of(request), signed_in=guard is not None)


@router.get("/live/stream", response_class=StreamingResponse)
async def stream(request: Request, context: ContextDep, guard: MaybeGuardDep) -> StreamingResponse:
    hub = hub_of(request)
    signed_in = guard is not None
    events = hub.open_stream()

    async def generate() -> AsyncIterator[str]:
        try:
            yield "retry: 1000\n\n"
            event: dict[str, Any] | None = None
            while not await request.is_disconnected():
                document = await asyncio.to_thread(
                    functools.partial(live_state, context, hub, signed_in=signed_in)
                )
                if event is not None and signed_in:
                    document["event"] = event
                yield f"data: {json.dumps(document, ensure_ascii=False, default=str)}\n\n"
                try:
                    event = await asyncio.to_thread(events.get, True, HEARTBEAT_S)
                except queue.Empty:
                    event = None
        finally:
            hub.close_stream(events)

    return StreamingResponse(
        generate(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.get("/alarms", response_model=list[AlarmView])
def alarms(request: Request, include_acked: bool = False) -> list[AlarmView]:
    return [alarm_view(a) for a in hub_of(request).alarms(include_acked=include_acked)]


@router.post("/alarms/{alarm_id}/ack", response_model=AlarmView)
def acknowledge(
    alarm_id: str, body: AckRequest, request: Request, guard: GuardDep, context: ContextDep
) -> AlarmView:
    alarm = hub_of(request).acknowledge(alarm_id, guard.id)
    if alarm is None:
        raise HTTPException(status_code=404, detail=f"no alarm {alarm_id!r}")
    context.guards.audit(
        context.now(),
        guard.id,
        "alarm_ack",
        alarm.lane,
        {"alarm": alarm.id, "kind": alarm.kind, "note": body.note},
    )
    return alarm_view(alarm)
