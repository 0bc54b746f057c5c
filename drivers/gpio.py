"""The gate's GPIO outputs on gpiozero: the lock relay and the resident-facing indicator.

Every class takes ``pin_factory`` like gpiozero's own devices, so tests run the same code on
gpiozero's MockFactory. Fail-secure: the relay starts released and is released again on close and
at interpreter exit; the service (edge.app.boot) turns systemd's SIGTERM into a normal exit so that
cleanup runs (gpiozero resets pins only at a normal exit, and the kernel otherwise keeps an
energised output energised after the process dies).
"""

from __future__ import annotations

import atexit
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final

from gpiozero import LED, Buzzer, DigitalOutputDevice

from drivers.threads import Worker

PinFactory = Any  # gpiozero.Factory; gpiozero ships no type information
Pin = int | str


class GpioRelay:
    """The lock relay on one output pin; released (locked) unless told otherwise.

    A pulse energises the pin in the caller's thread, so the gate opens the moment the lane
    commands it, and one long-lived timer thread releases it: no thread is started per pulse
    (starting one costs milliseconds on a busy Pi, on the decision's critical path).
    """

    def __init__(
        self,
        pin: Pin,
        *,
        active_high: bool = True,
        pin_factory: PinFactory | None = None,
    ) -> None:
        # initial_value=False: the lock stays shut from the first instant; gpiozero warns that
        # initial_value=None leaves the pin as found, which can be "energised" after a crash.
        self._device = DigitalOutputDevice(
            pin, active_high=active_high, initial_value=False, pin_factory=pin_factory
        )
        self._lock = threading.Condition()
        self._release_at_s: float | None = None
        self._closed = False
        # A timer that failed must not leave the lock energised: its crash releases the relay.
        self._timer = Worker(
            f"relay-{pin}",
            self._release_when_due,
            join_timeout_s=1.0,
            on_crash=lambda _exc: self.release(),
        )
        self._timer.start()
        self._release_at_exit = _exit_releaser(self)
        atexit.register(self._release_at_exit)

    def pulse(self, seconds: float) -> None:
        """Energise now and release after ``seconds``; a new pulse restarts the time."""
        if seconds <= 0:
            raise ValueError("pulse length must be positive")
        with self._lock:
            if self._closed:
                return
            # Never energise with no timer to release: one that failed is started again first.
            self._timer.start()
            self._device.on()
            self._release_at_s = time.monotonic() + seconds
            self._lock.notify()

    def hold_open(self) -> None:
        """Energise until release() (e.g. a guard holds the gate for a delivery)."""
        with self._lock:
            if self._closed:
                return
            self._release_at_s = None
            self._device.on()

    def release(self) -> None:
        """De-energise now, cancelling a pulse in progress."""
        with self._lock:
            self._release_at_s = None
            if not self._device.closed:
                self._device.off()
            self._lock.notify()

    @property
    def is_energised(self) -> bool:
        with self._lock:
            return not self._device.closed and bool(self._device.is_active)

    def close(self) -> None:
        """Release, then free the pin."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._release_at_s = None
            self._device.off()
            self._device.close()
            self._lock.notify()
        self._timer.stop()
        atexit.unregister(self._release_at_exit)

    def _release_when_due(self) -> None:
        with self._lock:
            while not self._closed:
                due_s = self._release_at_s
                if due_s is None:
                    self._lock.wait()
                    continue
                remaining_s = due_s - time.monotonic()
                if remaining_s > 0:
                    self._lock.wait(timeout=remaining_s)
                    continue
                self._release_at_s = None
                self._device.off()


def _exit_releaser(relay: GpioRelay) -> Callable[[], None]:
    """An atexit hook that releases the relay without keeping it alive.

    Registered after gpiozero's own hook, so it runs first (atexit is last-in, first-out): the pin
    is driven to "released" before gpiozero turns it back into an input. That also covers a relay
    built on an injected pin factory, which gpiozero's hook does not know about.
    """
    reference = weakref.ref(relay)

    def release() -> None:
        target = reference()
        if target is not None:
            target.release()

    return release


@dataclass(frozen=True, slots=True)
class Blink:
    """One output's part of a pattern: on/off times and a count (None: until the next signal)."""

    on_s: float
    off_s: float
    count: int | None


@dataclass(frozen=True, slots=True)
class Pattern:
    """What the green LED, red LED and buzzer do for one signal; None means off."""

    green: Blink | None = None
    red: Blink | None = None
    buzzer: Blink | None = None


SIGNAL_PATTERNS: Final[Mapping[str, Pattern]] = MappingProxyType(
    {
        "pass": Pattern(green=Blink(2.0, 0.0, 1), buzzer=Blink(0.1, 0.0, 1)),
        "deny": Pattern(red=Blink(0.25, 0.25, 4), buzzer=Blink(0.15, 0.15, 2)),
        "fever": Pattern(red=Blink(0.1, 0.1, None), buzzer=Blink(1.0, 0.4, 3)),
        "wait": Pattern(green=Blink(0.6, 0.6, None), red=Blink(0.6, 0.6, None)),
        "idle": Pattern(),
    }
)


class GpioIndicator:
    """Green LED, red LED and buzzer showing one named signal at a time."""

    def __init__(
        self,
        *,
        green_pin: Pin,
        red_pin: Pin,
        buzzer_pin: Pin,
        active_high: bool = True,
        pin_factory: PinFactory | None = None,
        patterns: Mapping[str, Pattern] = SIGNAL_PATTERNS,
    ) -> None:
        self._green = LED(
            green_pin, active_high=active_high, initial_value=False, pin_factory=pin_factory
        )
        self._red = LED(
            red_pin, active_high=active_high, initial_value=False, pin_factory=pin_factory
        )
        self._buzzer = Buzzer(
            buzzer_pin, active_high=active_high, initial_value=False, pin_factory=pin_factory
        )
        self._patterns = patterns
        self._lock = threading.Lock()
        self._wanted = threading.Condition()
        self._next: str | None = None
        self._requested = 0
        self._applied = 0
        self._closed = False
        self.current = "idle"
        # gpiozero starts a thread per blink; applying signals on our own worker keeps that cost
        # off the lane's thread, and only the newest signal is shown when several arrive at once.
        self._worker = Worker("indicator", self._apply_loop)
        self._worker.start()

    def show(self, signal_name: str) -> None:
        """Show ``pass``, ``deny``, ``fever``, ``wait`` or ``idle``; replaces the current signal.

        Returns at once; the worker applies the newest signal within a millisecond or so.
        """
        if signal_name not in self._patterns:
            raise ValueError(f"unknown signal {signal_name!r}; known: {sorted(self._patterns)}")
        with self._wanted:
            self._next = signal_name
            self.current = signal_name
            self._requested += 1
            self._wanted.notify_all()

    def wait_applied(self, timeout_s: float = 1.0) -> bool:
        """Wait until every signal asked for so far is on the pins (tests, orderly shutdown)."""
        with self._wanted:
            return self._wanted.wait_for(
                lambda: self._applied >= self._requested or self._closed, timeout=timeout_s
            )

    def _apply_loop(self) -> None:
        while True:
            with self._wanted:
                self._wanted.wait_for(lambda: self._next is not None or self._closed)
                if self._closed:
                    return
                name, self._next = self._next, None
                target = self._requested
            assert name is not None
            self._apply(name)
            with self._wanted:
                self._applied = target
                self._wanted.notify_all()

    def _apply(self, signal_name: str) -> None:
        pattern = self._patterns[signal_name]
        with self._lock:
            if self._closed:
                return
            for device, blink in (
                (self._green, pattern.green),
                (self._red, pattern.red),
                (self._buzzer, pattern.buzzer),
            ):
                if blink is None:
                    device.off()
                else:
                    device.blink(blink.on_s, blink.off_s, n=blink.count, background=True)

    def close(self) -> None:
        with self._wanted:
            self._closed = True
            self._wanted.notify()
        self._worker.stop()
        with self._lock:
            for device in (self._green, self._red, self._buzzer):
                if not device.closed:
                    device.off()
                    device.close()
