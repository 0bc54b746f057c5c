"""The console's bus listener: fans lane events out to browsers and keeps the alarm board.

Lane threads publish; this hub copies each event, as JSON, into the queue of every open live
stream (a bounded queue: a stalled browser loses old events, never slows the lane) and raises
an alarm for each kind in ``ALARM_KINDS`` until a guard acknowledges it.

The board is kept in memory and written through to the store's ``AlarmBook``, so alarms outlive
a restart (the board starts with the still-open ones). Memory is the fast path: a banner shows
even when the store cannot write, which is exactly when ``store_failed`` is raised; such an
alarm stays on the board and is written at the next ``flush`` (every console refresh). Alarms
are few (a repeat while one is open is no new alarm), so writing through on the publisher's
thread costs about one entry write per new alarm.
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from edge.bus import AlarmRaised, Bus, BusEvent, EntryRecorded
from edge.entry_document import entry_to_document
from edge.model import Entry
from edge.store import StoreError
from edge.store.alarms import EACH_EVENT_KINDS, Alarm, AlarmBook, new_alarm_id

__all__ = ["ALARM_KINDS", "Alarm", "EventQueue", "LiveHub", "StoreUnavailable", "event_json"]

log = logging.getLogger(__name__)

STREAM_QUEUE = 256
ALARM_KINDS = frozenset(
    {
        "fever",  # the rule, and every entry with outcome fever
        "fever_unconfirmed",  # over the line, left before the re-measure (still reported)
        "emergency",  # a guard put the lane in emergency free exit
        "store_failed",  # an entry could not be stored: the gate stays shut
        "lane_down",  # the lane's worker died: the gate stays locked
        "device_down",  # edge.health: a device reports down
        "door_forced",  # the door contact opened while the lock was shut
        "door_held_open",  # open longer than [lanes.door] held_open_s
        "disk_filling",  # edge.retention: the state directory's disk is nearly full
        "sync_backlog",  # edge.health: entries wait for the community receiver too long or too many
        "downlink_refused",  # sync: a signed office document refused as implausible or misused
    }
)
RECENT_ALARMS = 200
"""How many alarms ``alarms(include_acked=True)`` returns from the store."""
STORE_ERRORS = (StoreError, sqlite3.Error, OSError)


class StoreUnavailable(Exception):  # noqa: N818  (named for the condition, like StoreCorrupt)
    """The store cannot write now; an acknowledgement that cannot be logged is refused."""


def event_json(event: BusEvent) -> dict[str, Any]:
    """A bus event as plain JSON (entries become their stored document)."""
    data: dict[str, Any] = {}
    for key, value in event.data.items():
        data[key] = entry_to_document(value) if isinstance(value, Entry) else value
    return {"topic": event.topic, "lane": event.lane, "data": data}


class EventQueue(queue.Queue[dict[str, Any]]):
    """One live stream's events (bounded: a stalled browser loses the oldest) and its waker."""

    def __init__(self, wake: Callable[[], None]) -> None:
        super().__init__(maxsize=STREAM_QUEUE)
        self.wake = wake


class LiveHub:
    """Listens on the bus for the console and keeps its alarm board; one per app."""

    def __init__(self, now: Callable[[], datetime], book: AlarmBook) -> None:
        self._now = now
        self._book = book
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()  # one writer at a time: a raise lands before its ack
        self._streams: list[EventQueue] = []
        self._alarms: dict[str, Alarm] = {}  # the board: open alarms by id
        self._unsaved: list[str] = []  # board ids the store has not taken yet, oldest first
        self._renamed: dict[str, str] = {}  # a board id → the open alarm the store already had
        self._store_failing = False
        self._unsubscribe: Callable[[], None] | None = None
        self.events_seen: dict[str, int] = {}
        self.outcomes_seen: dict[str, int] = {}
        self.last_entry: dict[str, dict[str, Any]] = {}
        try:
            self._alarms = {alarm.id: alarm for alarm in book.open_alarms()}
        except STORE_ERRORS as exc:  # a broken store must not keep the console from starting
            log.error("could not read the open alarms from the store: %s", exc)

    def attach(self, bus: Bus) -> None:
        self._unsubscribe = bus.subscribe(self.on_event)

    def detach(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        self.flush()

    def on_event(self, event: BusEvent) -> None:
        payload = event_json(event)
        alarm: Alarm | None = None
        with self._lock:
            self.events_seen[event.topic] = self.events_seen.get(event.topic, 0) + 1
            if isinstance(event, EntryRecorded):
                outcome = event.entry.draft.outcome.value
                self.outcomes_seen[outcome] = self.outcomes_seen.get(outcome, 0) + 1
                self.last_entry[event.lane] = payload["data"]["entry"]
            if isinstance(event, AlarmRaised) and event.kind in ALARM_KINDS:
                # The rule raises one fever alarm per feverish person, naming them.
                alarm = self._raise_locked(event.lane, event.kind, event.detail)
        self._broadcast(payload)
        if alarm is not None:
            self.flush()
            self._broadcast({"topic": "alarm_board", "lane": alarm.lane, "data": {}})

    # ------------------------------------------------------------------------ the board

    def _raise_locked(self, lane: str, kind: str, detail: str) -> Alarm | None:
        for alarm in self._alarms.values():
            if alarm.lane == lane and alarm.kind == kind and kind not in EACH_EVENT_KINDS:
                return None  # already showing
        now = self._now()
        alarm = Alarm(new_alarm_id(now), lane, kind, detail, now)
        self._alarms[alarm.id] = alarm
        self._unsaved.append(alarm.id)
        return alarm

    def raise_alarm(self, lane: str, kind: str, detail: str) -> Alarm | None:
        """Show (and store) an alarm; None when one of this lane and kind is already open."""
        with self._lock:
            alarm = self._raise_locked(lane, kind, detail)
        if alarm is not None:
            self.flush()
            self._broadcast({"topic": "alarm_board", "lane": lane, "data": {}})
        return alarm

    def alarms(self, *, include_acked: bool = False) -> list[Alarm]:
        """The open alarms, oldest first; with ``include_acked`` the latest ones, newest first."""
        with self._lock:
            board = sorted(self._alarms.values(), key=lambda a: (a.raised_at, a.id))
            unsaved = [self._alarms[i] for i in self._unsaved if i in self._alarms]
        if not include_acked:
            return board
        try:
            stored = self._book.recent(limit=RECENT_ALARMS)
        except STORE_ERRORS as exc:
            log.warning("could not read recent alarms: %s", exc)
            return board[::-1]
        return sorted([*unsaved, *stored], key=lambda a: (a.raised_at, a.id), reverse=True)

    def acknowledge(self, alarm_id: str, guard_id: str, note: str = "") -> Alarm | None:
        """Acknowledge in the store, then take the alarm off the board; None if unknown.

        Raises ``StoreUnavailable`` when the store cannot log it, and ``NoteRefused`` when the
        note cannot close this alarm (a fever with none): the alarm then stays showing.
        """
        with self._write_lock:
            if not self._flush_locked():
                raise StoreUnavailable("the store cannot write; the alarm stays open")
            alarm_id = self._renamed.get(alarm_id, alarm_id)
            try:
                acked = self._book.acknowledge(alarm_id, guard_id, at=self._now(), note=note)
            except STORE_ERRORS as exc:
                raise StoreUnavailable(f"the store cannot write: {exc}") from exc
        if acked is None:
            return None
        with self._lock:
            self._alarms.pop(acked.id, None)
        self._broadcast({"topic": "alarm_board", "lane": acked.lane, "data": {}})
        return acked

    def flush(self) -> bool:
        """Write the alarms the store has not taken yet; False while it still cannot."""
        with self._write_lock:
            return self._flush_locked()

    @property
    def unsaved(self) -> int:
        """Alarms on the board that the store has not taken yet."""
        with self._lock:
            return len(self._unsaved)

    def _flush_locked(self) -> bool:
        while True:
            with self._lock:
                if not self._unsaved:
                    break
                alarm = self._alarms[self._unsaved[0]]
            try:
                stored, _ = self._book.raise_alarm(
                    alarm.lane, alarm.kind, alarm.detail, at=alarm.raised_at, alarm_id=alarm.id
                )
            except STORE_ERRORS as exc:
                if not self._store_failing:
                    log.error("alarm %s %s shown but not stored: %s", alarm.kind, alarm.id, exc)
                self._store_failing = True
                return False
            with self._lock:
                self._unsaved.pop(0)
                if stored.id != alarm.id:  # the store already had this lane and kind open
                    del self._alarms[alarm.id]
                    self._alarms[stored.id] = stored
                    self._renamed[alarm.id] = stored.id
        if self._store_failing:
            log.warning("the store takes alarms again")
            self._store_failing = False
        return True

    # ------------------------------------------------------------------------ streams

    def open_stream(self, wake: Callable[[], None] = lambda: None) -> EventQueue:
        """A queue of this hub's events for one browser; ``wake`` is called (on the publishing
        thread) after each event is queued, so a stream can wait without holding a thread."""
        stream = EventQueue(wake)
        with self._lock:
            self._streams.append(stream)
        return stream

    def close_stream(self, stream: EventQueue) -> None:
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
            stream.wake()
