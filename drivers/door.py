"""The door: its contact (forced open, held open) and the request-to-exit button, on gpiozero.

Wiring assumed by default, and why: the contact closes to ground while the door is shut, with a
pull-up, so a cut wire reads as "open" and raises an alarm instead of hiding a forced door.
"Forced" means the door opened while the lock relay was not energised and nobody pressed the
exit button just before; "held open" means it stayed open longer than ``held_open_s``. The
class judges nothing else: alarms go to ``on_alarm`` and exit requests to ``on_exit_request``;
the lane decides what to do (open the relay, tell the guard, publish on the bus).

Like gpiozero's own devices it takes ``pin_factory``, so tests drive MockFactory pins.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from gpiozero import Button

from drivers.base import DeviceStatus, Health
from drivers.status import counted
from drivers.threads import Worker

PinFactory = Any  # gpiozero.Factory; gpiozero ships no type information
Pin = int | str

# No "held" events are used; gpiozero's Button.close() waits out hold_time (1 s by default)
# while the button is active, which a shut door always is.
_HOLD_TIME_S = 0.01


class DoorAlarmKind(StrEnum):
    FORCED = "door_forced"  # opened while locked, with no exit request
    HELD_OPEN = "door_held_open"  # open longer than held_open_s
    HELD_OPEN_CLEARED = "door_held_open_cleared"  # closed again after a held-open alarm


@dataclass(frozen=True, slots=True)
class DoorAlarm:
    """One alarm; ``at_s`` is the monotonic time the condition arose (the opening, for both)."""

    kind: DoorAlarmKind
    door: str
    detail: str
    at_s: float


DoorAlarmListener = Callable[[DoorAlarm], None]
ExitListener = Callable[[], None]


class GpioDoor:
    """A door contact and an optional request-to-exit button.

    ``relay_energised`` answers whether the lock is released right now (e.g.
    ``GpioRelay.is_energised``); it is asked at the moment the door opens.
    """

    def __init__(
        self,
        name: str,
        *,
        contact_pin: Pin,
        relay_energised: Callable[[], bool],
        on_alarm: DoorAlarmListener,
        exit_pin: Pin | None = None,
        on_exit_request: ExitListener | None = None,
        held_open_s: float = 30.0,
        exit_grace_s: float = 5.0,
        contact_pull_up: bool = True,
        exit_pull_up: bool = True,
        bounce_s: float | None = 0.05,
        pin_factory: PinFactory | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if held_open_s <= 0:
            raise ValueError("held_open_s must be positive")
        self.name = name
        self._relay_energised = relay_energised
        self._on_alarm = on_alarm
        self._on_exit_request = on_exit_request
        self._held_open_s = held_open_s
        self._exit_grace_s = exit_grace_s
        self._clock = clock
        self.contact_pull_up = contact_pull_up

        self._lock = threading.Condition()
        self._closed = False
        self._opened_at_s: float | None = None
        self._held_alarm_raised = False
        self._last_exit_s: float | None = None
        # A contact that reopens within bounce_s of closing is chatter, not a new opening:
        # gpiozero's bounce_time is not honoured by every pin factory (MockFactory ignores it).
        self._chatter_s = bounce_s or 0.0
        self._last_closing: tuple[float, float] | None = None  # (closed at, opened at)
        self._counts: Counter[str] = Counter()

        def button(pin: Pin, pull_up: bool) -> Button:
            return Button(
                pin,
                pull_up=pull_up,
                bounce_time=bounce_s,
                hold_time=_HOLD_TIME_S,
                pin_factory=pin_factory,
            )

        # Button.is_active is True while the contact is closed, i.e. the door is shut.
        self._contact = button(contact_pin, contact_pull_up)
        self._exit = button(exit_pin, exit_pull_up) if exit_pin is not None else None
        if not self._contact.is_active:
            # Open at start-up: time the held-open alarm from now; whether it was forced is unknown.
            self._opened_at_s = clock()
        self._timer = Worker(f"door-{name}", self._watch_held_open, join_timeout_s=1.0)
        self._timer.start()
        self._contact.when_released = self._door_opened
        self._contact.when_pressed = self._door_closed
        if self._exit is not None:
            self._exit.when_pressed = self._exit_pressed

    @property
    def contact_pin(self) -> Any:
        """The gpiozero pin behind the contact (a MockPin under MockFactory: the simulator's)."""
        return self._contact.pin

    @property
    def is_open(self) -> bool:
        with self._lock:
            return self._opened_at_s is not None

    def status(self) -> DeviceStatus:
        now_s = self._clock()
        with self._lock:
            extra = counted(self._counts)
            opened = self._opened_at_s
            held = self._held_alarm_raised
        if opened is None:
            return DeviceStatus(self.name, Health.OK, "closed", extra)
        extra["open_for_s"] = f"{now_s - opened:.1f}"
        return DeviceStatus(self.name, Health.OK, "held open" if held else "open", extra)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._lock.notify_all()
        self._timer.stop()
        for button in (self._contact, self._exit):
            if button is not None:
                button.close()

    # --- pin callbacks (gpiozero's thread; the caller's thread with MockFactory) ------------

    def _door_opened(self) -> None:
        now_s = self._clock()
        energised = self._relay_energised()
        with self._lock:
            if self._closed or self._opened_at_s is not None:
                return
            closing = self._last_closing
            if closing is not None and now_s - closing[0] < self._chatter_s:
                self._opened_at_s = closing[1]  # the same opening goes on
                self._lock.notify_all()
                return
            self._opened_at_s = now_s
            self._held_alarm_raised = False
            self._counts["openings"] += 1
            exit_recent = self._last_exit_s is not None and now_s - self._last_exit_s <= (
                self._exit_grace_s
            )
            forced = not energised and not exit_recent
            if forced:
                self._counts["forced"] += 1
            self._lock.notify_all()
        if forced:
            self._emit(DoorAlarmKind.FORCED, "opened while the lock was shut", now_s)

    def _door_closed(self) -> None:
        now_s = self._clock()
        with self._lock:
            opened_s, self._opened_at_s = self._opened_at_s, None
            if opened_s is not None:
                self._last_closing = (now_s, opened_s)
            cleared = self._held_alarm_raised
            self._held_alarm_raised = False
            self._lock.notify_all()
        if cleared and opened_s is not None:
            open_for_s = now_s - opened_s
            self._emit(
                DoorAlarmKind.HELD_OPEN_CLEARED, f"closed after {open_for_s:.0f} s", opened_s
            )

    def _exit_pressed(self) -> None:
        with self._lock:
            self._last_exit_s = self._clock()
            self._counts["exit_requests"] += 1
        if self._on_exit_request is not None:
            self._on_exit_request()

    # --- held-open timer (one long-lived thread, no thread per opening) -----------------------

    def _watch_held_open(self) -> None:
        with self._lock:
            while not self._closed:
                opened_s = self._opened_at_s
                if opened_s is None or self._held_alarm_raised:
                    self._lock.wait()
                    continue
                remaining_s = opened_s + self._held_open_s - self._clock()
                if remaining_s > 0:
                    self._lock.wait(timeout=remaining_s)
                    continue
                self._held_alarm_raised = True
                self._counts["held_open"] += 1
                self._lock.release()
                try:
                    self._emit(
                        DoorAlarmKind.HELD_OPEN,
                        f"open longer than {self._held_open_s:g} s",
                        opened_s,
                    )
                finally:
                    self._lock.acquire()

    def _emit(self, kind: DoorAlarmKind, detail: str, at_s: float) -> None:
        self._on_alarm(DoorAlarm(kind, self.name, detail, at_s))
