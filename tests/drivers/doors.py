"""A GpioDoor on gpiozero's MockFactory pins with everything it reported, for the door tests."""

from __future__ import annotations

import threading
import time

from gpiozero.pins.mock import MockFactory

from drivers.door import DoorAlarm, DoorAlarmKind, GpioDoor

CONTACT, EXIT = 5, 6


class Door:
    """A GpioDoor on mock pins, a switchable relay state, and everything it reported.

    ``shut=False`` leaves the contact undriven, as after a cut wire or before a simulator runs;
    ``energised=True`` starts with the lock relay energised (the door unlocked)."""

    def __init__(
        self,
        factory: MockFactory,
        *,
        shut: bool = True,
        energised: bool = False,
        **options: object,
    ) -> None:
        self.factory = factory
        self.energised = energised
        self.alarms: list[tuple[DoorAlarm, float]] = []
        self.exit_requests = 0
        self.lock = threading.Lock()
        self.door = GpioDoor(
            "door-1",
            contact_pin=CONTACT,
            exit_pin=EXIT,
            relay_energised=lambda: self.energised,
            on_alarm=self._on_alarm,
            on_exit_request=self._on_exit,
            pin_factory=factory,
            **options,  # type: ignore[arg-type]
        )
        if shut:
            self.contact.drive_low()  # the contact pulls the input to ground

    @property
    def contact(self):  # type: ignore[no-untyped-def]
        return self.factory.pin(CONTACT)

    def _on_alarm(self, alarm: DoorAlarm) -> None:
        with self.lock:
            self.alarms.append((alarm, time.monotonic()))

    def _on_exit(self) -> None:
        self.exit_requests += 1

    def kinds(self) -> list[DoorAlarmKind]:
        with self.lock:
            return [alarm.kind for alarm, _ in self.alarms]

    def open(self) -> float:
        self.contact.drive_high()
        return time.monotonic()

    def open_briefly(self, seconds: float) -> None:
        """Open for ``seconds``, then shut and wait as long again."""
        self.open()
        time.sleep(seconds)
        self.close()
        time.sleep(seconds)

    def close(self) -> None:
        self.contact.drive_low()
