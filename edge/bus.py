"""One in-process event bus, and the one table of what travels on it.

The lane announces what happened; listeners decide what to do: the console's live view, the MQTT
alert relay, the voice, the journal, the simulator. The lane never knows who listens, and a
failing listener is logged and never reaches the lane.

Every event is a frozen dataclass below, named once (its ``TOPIC`` is the word the browser's live
stream and the logs use). Publishing takes an event object; a listener for one kind subscribes
with the class (``bus.on(AlarmRaised, listener)``), so mypy rejects a listener for an event that
does not exist or a field it does not have, and tests/edge/test_bus.py checks that every event
here is published by some product code.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any, ClassVar, TypeVar

from edge.model import Entry
from edge.policy import Policy

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class BusEvent:
    """What every event has: the lane it happened on ('' for the gate as a whole)."""

    TOPIC: ClassVar[str] = ""
    lane: str = ""

    @property
    def topic(self) -> str:
        return self.TOPIC

    @property
    def data(self) -> dict[str, Any]:
        """The event's own fields (not the lane), e.g. for the live stream's JSON."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "lane"}


@dataclass(frozen=True, slots=True, kw_only=True)
class EntryRecorded(BusEvent):
    """An entry is durable in the store (the lane, or the retry of an unsaved one)."""

    TOPIC: ClassVar[str] = "entry"
    entry: Entry


@dataclass(frozen=True, slots=True, kw_only=True)
class StepChanged(BusEvent):
    """The lane's visit moved to another of the five steps."""

    TOPIC: ClassVar[str] = "step"
    step: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Prompted(BusEvent):
    """What the resident is told now (a prompt code of edge.rule; the voice speaks it)."""

    TOPIC: ClassVar[str] = "prompt"
    step: str
    code: str
    detail: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ScanRead(BusEvent):
    """A code was read and judged (no token: it may be anyone's)."""

    TOPIC: ClassVar[str] = "scan"
    source: str
    valid: bool
    reason: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RelayMoved(BusEvent):
    """The lock relay was pulsed, held open or released (with the entry that justified it)."""

    TOPIC: ClassVar[str] = "relay"
    action: str  # pulse, hold_open, release
    seconds: float | None = None
    entry_id: str | None = None
    seq: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionRejected(BusEvent):
    """A guard's or the office's action was refused (code and why)."""

    TOPIC: ClassVar[str] = "reject"
    code: str
    detail: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class AlarmRaised(BusEvent):
    """Something a guard must see and the office must hear (edge.console.hub.ALARM_KINDS)."""

    TOPIC: ClassVar[str] = "alarm"
    kind: str
    detail: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class AlarmCleared(BusEvent):
    """A watched condition (a device down, the sync backlog) is over."""

    TOPIC: ClassVar[str] = "cleared"
    kind: str
    detail: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ExitRequested(BusEvent):
    """Someone pressed the lane's request-to-exit button."""

    TOPIC: ClassVar[str] = "exit_request"


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyApplied(BusEvent):
    """A lane took up a new policy (between visits)."""

    TOPIC: ClassVar[str] = "policy_applied"


@dataclass(frozen=True, slots=True, kw_only=True)
class TrustChanged(BusEvent):
    """The office's signed revocations or keys changed the trust material: lanes reload it."""

    TOPIC: ClassVar[str] = "trust"
    kind: str
    version: int


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyReceived(BusEvent):
    """The office's signed policy arrived: lanes take it up between visits."""

    TOPIC: ClassVar[str] = "policy"
    version: int
    policy: Policy


EVENTS: tuple[type[BusEvent], ...] = (
    EntryRecorded,
    StepChanged,
    Prompted,
    ScanRead,
    RelayMoved,
    ActionRejected,
    AlarmRaised,
    AlarmCleared,
    ExitRequested,
    PolicyApplied,
    TrustChanged,
    PolicyReceived,
)
"""The table: every event the bus carries."""

E = TypeVar("E", bound=BusEvent)
Listener = Callable[[BusEvent], None]
Unsubscribe = Callable[[], None]


class Bus:
    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()

    def subscribe(self, listener: Listener) -> Unsubscribe:
        """Hear every event (the console's live stream does); returns the way to stop."""
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def on(self, kind: type[E], listener: Callable[[E], None]) -> Unsubscribe:
        """Hear the events of one class from the table; returns the way to stop."""

        def matching(event: BusEvent) -> None:
            if isinstance(event, kind):
                listener(event)

        return self.subscribe(matching)

    def publish(self, event: BusEvent) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(event)
            except Exception:  # a listener's bug must never stop the lane
                log.exception("bus listener %r failed on %s", listener, event.topic)
