"""What the console's routes depend on, injected through FastAPI dependencies."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any, Protocol
from zoneinfo import ZoneInfo

from fastapi import Depends, HTTPException, Request
from fastapi.exceptions import RequestValidationError

from drivers.base import DeviceStatus
from edge.bus import Bus
from edge.lane import Lane
from edge.policy import Policy
from edge.store import Store
from edge.store.guards import GuardBook
from edge.visitors import VisitorDesk


class SimulationControl(Protocol):
    """The simulator's controls as the console sees them (edge.simulation implements it)."""

    def present(self, lane: str, payload: bytes) -> None: ...
    def temperature(self, lane: str, values_c: list[float], then_c: float | None) -> None: ...
    def door(self, lane: str, *, open_: bool) -> bool: ...
    def start_crowd(self, lane: str, count: int, seed: int) -> str: ...
    def present_sample(self, lane: str, case: str) -> str: ...
    def crowd_status(self, crowd_id: str) -> dict[str, Any] | None: ...


@dataclass(frozen=True, slots=True)
class SyncView:
    """The MQTT sync as the console shows it; boot builds it from the sync's status, because
    edge never imports sync (the layers contract)."""

    connected: bool
    broker: str
    backlog: int
    last_ack_seq: int | None = None
    last_ack_at: datetime | None = None
    clock_offset_s: float | None = None
    """The receiver's clock minus the gate's (seconds), measured from acknowledgements."""
    last_error: str | None = None


@dataclass(frozen=True, slots=True)
class ClockView:
    """Whether NTP vouches for the wall clock, and the last time it did (the pass time floor)."""

    synced: bool
    last_trusted_at: datetime | None = None


@dataclass
class ConsoleContext:
    store: Store
    lanes: Mapping[str, Lane]
    device_status: Callable[[], list[DeviceStatus]]
    simulation: SimulationControl | None = None
    bus: Bus | None = None
    """The lane's bus: live view, alarms and metrics listen on it (polling without it)."""
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    desk: VisitorDesk | None = None
    """Registers visitors and vehicles and signs their passes; None when [visitors] is off."""
    sync_status: Callable[[], SyncView | None] | None = None
    """The MQTT sync's state (for the status page and the sync_backlog alarm); None: no sync."""
    clock_status: Callable[[], ClockView] | None = None
    """The clock's sync state for the status page; None: not known to the console."""
    guards: GuardBook = field(init=False)

    def __post_init__(self) -> None:
        self.guards = GuardBook(self.store)

    @property
    def policy(self) -> Policy:
        """The policy in force (every lane takes up the same one)."""
        return next(iter(self.lanes.values())).ctx.policy

    @property
    def zone(self) -> ZoneInfo:
        """The gate's local time zone: days, hours windows and ledger times are read in it."""
        return ZoneInfo(self.policy.timezone)


def get_context(request: Request) -> ConsoleContext:
    context: ConsoleContext = request.app.state.context
    return context


ContextDep = Annotated[ConsoleContext, Depends(get_context)]


def lane_or_404(context: ConsoleContext, lane_id: str | None) -> Lane:
    if lane_id is None:
        return next(iter(context.lanes.values()))
    lane = context.lanes.get(lane_id)
    if lane is None:
        raise HTTPException(status_code=404, detail=f"no lane {lane_id!r}")
    return lane


def invalid(
    loc: tuple[str, ...], message: str, *, code: str | None = None
) -> RequestValidationError:
    """A 422 shaped like FastAPI's own (the documented ``HTTPValidationError``), for checks
    that a field's type alone cannot express. A ``code`` becomes the error type
    ``kakou.<code>``, which the console says in the guard's language."""
    kind = "value_error" if code is None else f"kakou.{code}"
    return RequestValidationError([{"type": kind, "loc": loc, "msg": message}])
