"""The live view's data: one state document per change, streamed as Server-Sent Events.

SSE rather than WebSocket: one direction is all the view needs (actions go through the JSON
API), it passes every proxy, and the browser reconnects on its own after a network drop.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import queue
import threading
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from edge.console import messages
from edge.console.auth import GuardDep, MaybeGuardDep
from edge.console.defs.request import AckRequest, GroupAckRequest
from edge.console.defs.response import AlarmView
from edge.console.deps import ConsoleContext, ContextDep, invalid
from edge.console.hub import Alarm, EventQueue, LiveHub, StoreUnavailable
from edge.console.throttle import client_key
from edge.console.work import BoundedWork
from edge.lane import Lane
from edge.model import PassKind
from edge.store.alarms import MAX_NOTE_CHARS, NOTE_REQUIRED_KINDS, NoteRefused
from edge.store.guards import Guard

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1", tags=["live"])

HEARTBEAT_S = 1.0  # a fresh state at least this often: timers, device health, no-bus gates


def hub_of(request: Request) -> LiveHub:
    hub: LiveHub = request.app.state.hub
    return hub


def lane_state(lane: Lane, hub: LiveHub) -> dict[str, Any]:
    """The lane's snapshot plus what the guard needs to act: questions, words, last entry."""
    view = lane.snapshot()
    view["step_zh"], view["step_en"] = messages.both("step", view["step"])
    questions: list[dict[str, Any]] = []
    visit = view["visit"]
    if visit is not None and visit.get("kind"):
        kind = visit["kind"]
        visit["kind_zh"], visit["kind_en"] = messages.both("kind", kind)
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
        last["outcome_zh"], last["outcome_en"] = messages.both("outcome", last["outcome"])
        reasons = [messages.both("reason", r) for r in last.get("reasons", [])]
        last["reasons_zh"] = [zh for zh, _ in reasons]
        last["reasons_en"] = [en for _, en in reasons]
    view["last_entry"] = last
    return view


def alarm_view(alarm: Alarm, names: Mapping[str, str], zone: ZoneInfo) -> AlarmView:
    """An alarm with its words in both languages and its times in the gate's ``zone`` (never the
    browser's: a guard's phone may be set to any zone); ``names``: guard names by id."""
    return AlarmView(
        id=alarm.id,
        lane=alarm.lane,
        kind=alarm.kind,
        detail=alarm.detail,
        detail_zh=messages.detail(alarm.detail, "zh"),
        detail_en=messages.detail(alarm.detail, "en"),
        raised_at=alarm.raised_at,
        raised_at_local=_local(alarm.raised_at, zone),
        text_zh=messages.term("alarm", alarm.kind, "zh"),
        text_en=messages.term("alarm", alarm.kind, "en"),
        acked_by=alarm.acked_by,
        acked_by_name=names.get(alarm.acked_by) if alarm.acked_by else None,
        acked_at=alarm.acked_at,
        acked_at_local=None if alarm.acked_at is None else _local(alarm.acked_at, zone),
        ack_note=alarm.ack_note,
    )


def _local(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%m-%d %H:%M:%S")


def guard_names(context: ConsoleContext, alarms: list[Alarm]) -> dict[str, str]:
    """The names of the guards who acknowledged ``alarms``, by id (one read, when any did)."""
    if not any(a.acked_by for a in alarms):
        return {}
    return {g.id: g.name for g in context.guards.all()}


def refresh_alarms(context: ConsoleContext, hub: LiveHub) -> None:
    """Store the alarms the store could not take yet. Device and sync health are not polled
    here: edge.health announces them on the bus, console or not."""
    hub.flush()


def alarm_json(alarm: Alarm, zone: ZoneInfo) -> dict[str, Any]:
    """An open alarm for the board, with its words and how the guard acknowledges it: whether
    a note is required, how long it may be, and the quick picks for this kind."""
    return {
        **alarm_view(alarm, {}, zone).model_dump(mode="json"),
        "note_required": alarm.kind in NOTE_REQUIRED_KINDS,
        "note_max_chars": MAX_NOTE_CHARS,
        "quick_notes": [
            list(messages.words(pick)) for pick in messages.ACK_PICKS.get(alarm.kind, ())
        ],
    }


PERSONAL = ("holder", "household", "pass_id", "pass", "answers", "guard", "plate", "extra")


def _redacted(view: dict[str, Any]) -> dict[str, Any]:
    """The lane as the kiosk may show it: steps, temperatures, verdict; nobody's name or flat."""
    for part in (view.get("visit"), view.get("last_entry")):
        if part is not None:
            for key in PERSONAL:
                part.pop(key, None)
    return view


def live_state(context: ConsoleContext, hub: LiveHub, *, signed_in: bool) -> dict[str, Any]:
    """Everything the live view shows; without a session (the kiosk) no personal data."""
    refresh_alarms(context, hub)
    lanes = [lane_state(lane, hub) for lane in context.lanes.values()]
    if not signed_in:
        return {"lanes": [_redacted(view) for view in lanes], "alarms": [], "on_duty": []}
    return {
        "lanes": lanes,
        "alarms": [alarm_json(a, context.zone) for a in hub.alarms()],
        "on_duty": [
            {"id": g.id, "name": g.name, "since": at.isoformat()}
            for g, at in context.guards.on_duty()
        ],
    }


@router.get("/live/state")
def state(request: Request, context: ContextDep, guard: MaybeGuardDep) -> dict[str, Any]:
    """What the live view shows, once (the stream sends the same document on every change)."""
    return live_state(context, hub_of(request), signed_in=guard is not None)


class StreamSlots:
    """How many live streams are open, per client and in all, against the configured caps."""

    def __init__(self, total: int, per_client: int) -> None:
        self.total, self.per_client = total, per_client
        self._open: dict[str, int] = {}
        self._lock = threading.Lock()

    def take(self, client: str) -> int | None:
        """None when a slot is taken for ``client``, else the status to refuse with: 429 when
        this client holds its share, 503 when the gate holds all it will."""
        with self._lock:
            if self._open.get(client, 0) >= self.per_client:
                return 429
            if sum(self._open.values()) >= self.total:
                return 503
            self._open[client] = self._open.get(client, 0) + 1
            return None

    def give_back(self, client: str) -> None:
        with self._lock:
            left = self._open.get(client, 0) - 1
            if left > 0:
                self._open[client] = left
            else:
                self._open.pop(client, None)


class _SlotStream(StreamingResponse):
    """A streaming response that calls ``release`` however it ends (done, dropped, cancelled),
    also when the body never started."""

    def __init__(self, body: AsyncIterator[str], release: Callable[[], None]) -> None:
        super().__init__(
            body,
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )
        self._release = release

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._release()


async def _next_event(events: EventQueue, woken: asyncio.Event) -> dict[str, Any] | None:
    """The next queued event, waiting at most ``HEARTBEAT_S`` for one on the event loop (no
    thread held while waiting)."""
    woken.clear()
    with contextlib.suppress(queue.Empty):
        return events.get_nowait()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(woken.wait(), HEARTBEAT_S)
    with contextlib.suppress(queue.Empty):
        return events.get_nowait()
    return None


@router.get(
    "/live/stream",
    response_class=StreamingResponse,
    responses={
        401: {"description": "No session: the kiosk polls /api/v1/live/state instead."},
        429: {"description": "This client holds its share of live streams."},
        503: {"description": "The gate holds as many live streams as it will."},
    },
)
async def stream(request: Request, context: ContextDep, guard: GuardDep) -> StreamingResponse:
    """The live state as Server-Sent Events, for a signed-in guard; capped per client and in
    all ([console] max_streams_per_client, max_streams)."""
    hub = hub_of(request)
    slots: StreamSlots = request.app.state.stream_slots
    work: BoundedWork = request.app.state.stream_work
    client = client_key(request.client.host if request.client else None)
    refused = slots.take(client)
    if refused is not None:
        raise HTTPException(refused, "too many live streams", headers={"Retry-After": "5"})
    loop = asyncio.get_running_loop()
    woken = asyncio.Event()

    def wake() -> None:  # on a lane's thread
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody is waiting
            loop.call_soon_threadsafe(woken.set)

    events = hub.open_stream(wake)

    def release() -> None:
        hub.close_stream(events)
        slots.give_back(client)

    async def generate() -> AsyncIterator[str]:
        yield "retry: 1000\n\n"
        event: dict[str, Any] | None = None
        while not await request.is_disconnected():
            document = await work.run(functools.partial(live_state, context, hub, signed_in=True))
            if event is not None:
                document["event"] = event
            yield f"data: {json.dumps(document, ensure_ascii=False, default=str)}\n\n"
            event = await _next_event(events, woken)

    return _SlotStream(generate(), release)


@router.get("/alarms", response_model=list[AlarmView])
def alarms(
    request: Request, context: ContextDep, guard: GuardDep, include_acked: bool = False
) -> list[AlarmView]:
    """Open alarms, oldest first; with ``include_acked`` the latest ones, newest first.

    Needs a session: a fever alarm names the person."""
    hub = hub_of(request)
    refresh_alarms(context, hub)
    found = hub.alarms(include_acked=include_acked)
    names = guard_names(context, found)
    return [alarm_view(a, names, context.zone) for a in found]


def _acknowledge(
    hub: LiveHub, context: ConsoleContext, guard: Guard, alarm_id: str, note: str, **more: Any
) -> Alarm | None:
    """Acknowledge one alarm in the alarm book and log it in the audit log; None if unknown.

    ``StoreUnavailable`` becomes 503 and ``NoteRefused`` 422: the alarm stays open."""
    try:
        alarm = hub.acknowledge(alarm_id, guard.id, note)
    except StoreUnavailable as exc:
        raise HTTPException(status_code=503, detail=str(exc)) from exc
    except NoteRefused as exc:
        raise invalid(("body", "note"), str(exc), code=exc.code) from exc
    if alarm is not None:
        context.guards.audit(
            context.now(),
            guard.id,
            "alarm_ack",
            alarm.lane,
            {"alarm": alarm.id, "kind": alarm.kind, "note": note, **more},
        )
    return alarm


@router.post(
    "/alarms/ack",
    response_model=list[AlarmView],
    responses={
        503: {"description": "The store cannot log the acknowledgements; the rest stay open."}
    },
)
def acknowledge_group(
    body: GroupAckRequest, request: Request, guard: GuardDep, context: ContextDep
) -> list[AlarmView]:
    """Acknowledge several open alarms with one note (after a crowd: a dozen fevers on one
    lane), each logged in the alarm book and the audit log as if acknowledged alone.

    By ``ids``, or every open alarm of ``kind`` (on ``lane``). Alarms no longer open (another
    guard was quicker) are left out of the answer. 422 ``kakou.note_required`` when a fever is
    among them and the note is empty: then none is acknowledged."""
    hub = hub_of(request)
    board = hub.alarms()
    if body.ids is not None:
        wanted = set(body.ids)
        chosen = [alarm for alarm in board if alarm.id in wanted]
    else:
        chosen = [
            alarm
            for alarm in board
            if alarm.kind == body.kind and (body.lane is None or alarm.lane == body.lane)
        ]
    needing = sorted({alarm.kind for alarm in chosen} & NOTE_REQUIRED_KINDS)
    if not body.note and needing:
        message = f"a {needing[0]} alarm needs a note of what was done"
        raise invalid(("body", "note"), message, code="note_required")
    done = [
        alarm
        for alarm in (
            _acknowledge(hub, context, guard, alarm.id, body.note, group=len(chosen))
            for alarm in chosen
        )
        if alarm is not None
    ]
    names = guard_names(context, done)
    return [alarm_view(alarm, names, context.zone) for alarm in done]


@router.post(
    "/alarms/{alarm_id}/ack",
    response_model=AlarmView,
    responses={
        404: {"description": "No such alarm."},
        503: {"description": "The store cannot log the acknowledgement; the alarm stays open."},
    },
)
def acknowledge(
    alarm_id: str, body: AckRequest, request: Request, guard: GuardDep, context: ContextDep
) -> AlarmView:
    """Acknowledge an alarm (final: a second acknowledgement keeps the first), logged with the
    guard and note in the alarm book and the audit log.

    422 when the note is too long, or empty on a fever alarm (``kakou.note_required``): the
    alarm stays open."""
    alarm = _acknowledge(hub_of(request), context, guard, alarm_id, body.note)
    if alarm is None:
        raise HTTPException(status_code=404, detail=f"no alarm {alarm_id!r}")
    return alarm_view(alarm, guard_names(context, [alarm]), context.zone)
