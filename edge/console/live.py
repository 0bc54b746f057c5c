"""The console's bus listener: fans lane events out to browsers and keeps the alarm board.

Lane threads publish; this hub copies each event, as JSON, into the queue of every open live
stream (a bounded queue: a stalled browser loses old events, never slows the lane) and raises
an alarm for fever, store failures and dead workers until a guard acknowledges it.
"""

from __future__ import annotations

import itertools
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from edge.bus import Bus, BusEvent
from edge.model import Entry, Outcome
from edge.store.records import entry_to_document

STREAM_QUEUE = 256
ALARM_KINDS = {"fever", "store_failed", "lane_down", "device_down"}


@dataclass(frozen=True, slots=True)
class Alarm:
    id: str
    lane: str
    kind: str
    detail: str
    raised_at: datetime
    acked_by: str | None = None
    acked_at: datetime | None = None


def event_json(event: BusEvent) -> dict[str, Any]:
    """A bus event as plain JSON (entries become their stored document)."""
    data: dict[str, Any] = {}
    for key, value in event.data.items():
        data[key] = entry_to_document(value) if isinstance(value, Entry) else value
    return {"topic": event.topic, "lane": event.lane, "data": data}


class LiveHub:
    """Listens on the bus for the console; one per app."""

    def __init__(self, now: Callable[[], datetime]) -> None:
        self._now = now
        self._lock = threading.Lock()
        self._streams: list[queue.Queue[dict[str, Any]]] = []
        self._alarms: dict[str, Alarm] = {}
        self._ids = itertools.count(1)
        self._unsubscribe: Callable[[], None] | None = None
        self.events_seen: dict[str, int] = {}
        self.outcomes_seen: dict[str, int] = {}
        self.last_entry: dict[str, dict[str, Any]] = {}

    def attach(self, bus: Bus) -> None:
        self._unsubscribe = bus.subscribe(self.on_event)

    def detach(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()

    def on_event(self, event: BusEvent) -> None:
        payload = event_json(event)
        alarm: Alarm | None = None
        with self._lock:
            self.events_seen[event.topic] = self.events_seen.get(event.topic, 0) + 1
            entry = event.data.get("entry")
            if event.topic == "entry" and isinstance(entry, Entry):
                outcome = entry.draft.outcome.value
                self.outcomes_seen[outcome] = self.outcomes_seen.get(outcome, 0) + 1
                self.last_entry[event.lane] = payload["data"]["entry"]
            kind = str(event.data.get("kind", ""))
            if event.topic == "alarm" and kind in ALARM_KINDS:
                alarm = self._raise_locked(event.lane, kind, str(event.data.get("detail") or ""))
            elif (
                event.topic == "entry"
                and isinstance(entry, Entry)
                and entry.draft.outcome is Outcome.FEVER
            ):
                # The rule also raises a fever alarm; one board row per lane and kind suffices.
                alarm = self._raise_locked(event.lane, "fever", entry.draft.holder or "")
        self._broadcast(payload)
        if alarm is not None:
            self._broadcast({"topic": "alarm_board", "lane": alarm.lane, "data": {}})

    def _raise_locked(self, lane: str, kind: str, detail: str) -> Alarm | None:
        for alarm in self._alarms.values():
            if alarm.lane == lane and alarm.kind == kind and alarm.acked_by is None:
                return None  # already showing
        alarm = Alarm(f"a{next(self._ids)}", lane, kind, detail, self._now())
        self._alarms[alarm.id] = alarm
        return alarm

    def raise_alarm(self, lane: str, kind: str, detail: str) -> Alarm | None:
        with self._lock:
            alarm = self._raise_locked(lane, kind, detail)
        if alarm is not None:
            self._broadcast({"topic": "alarm_board", "lane": lane, "data": {}})
        return alarm

    def alarms(self, *, include_acked: bool = False) -> list[Alarm]:
        with self._lock:
            found = list(self._alarms.values())
        return [a for a in found if include_acked or a.acked_by is None]

    def acknowledge(self, alarm_id: str, guard_id: str) -> Alarm | None:
        with self._lock:
            alarm = self._alarms.get(alarm_id)
            if alarm is None:
                return None
            if alarm.acked_by is None:
                alarm = replace(alarm, acked_by=guard_id, acked_at=self._now())
                self._alarms[alarm_id] = alarm
        self._broadcast({"topic": "alarm_board", "lane": alarm.lane, "data": {}})
        return alarm

    def open_stream(self) -> queue.Queue[dict[str, Any]]:
        stream: queue.Queue[dict[str, Any]] = queue.Queue(maxsize=STREAM_QUEUE)
        with self._lock:
            self._streams.append(stream)
        return stream

    def close_stream(self, stream: queue.Queue[dict[str, Any]]) -> None:
        with self._lock:
            if stream in self._streams:
                self._streams.remove(stream)

    def _broadcast(self, payload: dict[str, Any]) -> None:
        with self._lock:
            streams = list(self._streams)
        for stream in streams:
            try:
                stream.put_nowait(payload)
            except queue.Full:
                try:  # drop the oldest: the next snapshot brings the browser up to date
                    stream.get_nowait()
                    stream.put_nowait(payload)
                except (queue.Empty, queue.Full):
                    pass
