"""A simulated door contact: opens and shuts a ``GpioDoor`` through its gpiozero MockFactory pin.

The contact closes while the door is shut (to ground with the default pull-up, to 3V3 with a
pull-down). An unwired MockFactory pin idles at its pull, which the door reads as open; a
simulated gate shuts its doors at start so it does not raise a held-open alarm at every start.
"""

from __future__ import annotations

from drivers.door import GpioDoor


class SimDoorContact:
    """Someone at the door: ``open()`` and ``shut()`` move the contact as the door would."""

    def __init__(self, door: GpioDoor) -> None:
        self.door = door
        pin = door.contact_pin
        if not hasattr(pin, "drive_low"):
            raise TypeError(f"{door.name}: only a MockFactory pin can be simulated, not {pin!r}")
        self._pin = pin

    @property
    def is_open(self) -> bool:
        return self.door.is_open

    def shut(self) -> None:
        if self.door.contact_pull_up:
            self._pin.drive_low()
        else:
            self._pin.drive_high()

    def open(self) -> None:
        if self.door.contact_pull_up:
            self._pin.drive_high()
        else:
            self._pin.drive_low()
