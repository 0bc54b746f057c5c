"""drivers.gpio on gpiozero's MockFactory: relay timing, fail-secure defaults, indicator patterns,
and SIGTERM releasing an energised relay in a real child process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from gpiozero import DigitalOutputDevice
from gpiozero.pins.mock import MockFactory

from drivers.gpio import SIGNAL_PATTERNS, GpioIndicator, GpioRelay
from tests.drivers.waiting import wait_until

EARLY_S = 0.02
"""How much sooner than asked a pin may change: clock granularity, nothing more."""
LATE_S = 0.25
"""How much later: a loaded machine wakes the timer thread late (seen: 86 ms), never early."""


def assert_on_for(mock_factory: MockFactory, pin: int, seconds: float) -> None:
    """The pin went on once and off again ``seconds`` later (MockPin stamps each change with
    the time since the one before)."""
    assert_states(mock_factory, pin, [False, True, False])
    on_for_s = mock_factory.pin(pin).states[2].timestamp
    assert seconds - EARLY_S <= on_for_s <= seconds + LATE_S, on_for_s


REPO = Path(__file__).resolve().parents[2]


def states(factory: MockFactory, pin: int) -> list[bool]:
    return [bool(s.state) for s in factory.pin(pin).states]


def assert_states(factory: MockFactory, pin: int, expected: list[bool]) -> None:
    """assert_states passes silently on a shorter history, so check the length too."""
    mock_pin = factory.pin(pin)
    assert len(mock_pin.states) == len(expected), mock_pin.states
    mock_pin.assert_states(expected)


LOCK_PIN = 17


@pytest.fixture
def relay(mock_factory: MockFactory) -> Iterator[GpioRelay]:
    """The lock's relay on LOCK_PIN with the driver's defaults, closed after the test."""
    device = GpioRelay(LOCK_PIN, pin_factory=mock_factory)
    yield device
    device.close()


def test_relay_starts_released(relay: GpioRelay, mock_factory: MockFactory) -> None:
    assert not relay.is_energised
    assert_states(mock_factory, LOCK_PIN, [False])


def test_a_failing_release_timer_leaves_the_relay_released(
    relay: GpioRelay, mock_factory: MockFactory
) -> None:
    relay.hold_open()
    assert relay.is_energised
    with relay._lock:  # a release time the timer cannot compute with: its thread raises
        relay._release_at_s = "soon"  # type: ignore[assignment]
        relay._lock.notify()
    assert wait_until(lambda: not relay.is_energised, timeout_s=2.0)
    assert not mock_factory.pin(LOCK_PIN).state


def test_pulse_energises_for_the_given_time(relay: GpioRelay, mock_factory: MockFactory) -> None:
    relay.pulse(0.3)
    assert relay.is_energised
    assert wait_until(lambda: not relay.is_energised, timeout_s=2.0)
    assert_on_for(mock_factory, LOCK_PIN, 0.3)


def test_pulse_returns_at_once(relay: GpioRelay) -> None:
    started = time.monotonic()
    relay.pulse(1.0)
    assert time.monotonic() - started < 0.05


def test_release_cuts_a_pulse_short(relay: GpioRelay, mock_factory: MockFactory) -> None:
    relay.pulse(5.0)
    time.sleep(0.1)
    relay.release()
    assert not relay.is_energised
    assert_on_for(mock_factory, LOCK_PIN, 0.1)


def test_a_new_pulse_restarts_the_timer(relay: GpioRelay, mock_factory: MockFactory) -> None:
    first = time.monotonic()
    relay.pulse(0.2)
    time.sleep(0.1)
    second = time.monotonic()
    relay.pulse(0.3)
    assert wait_until(lambda: not relay.is_energised, timeout_s=2.0)
    # Restarting writes "on" again (no change on the pin), so one continuous energised period,
    # ending 0.3 s after the second pulse (not 0.2 s after the first).
    assert_on_for(mock_factory, LOCK_PIN, (second - first) + 0.3)


def test_a_failed_timer_releases_the_relay_and_the_next_pulse_is_timed_again(
    relay: GpioRelay, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_off = DigitalOutputDevice.off
    failures: list[str] = []

    def off_failing_once(device: DigitalOutputDevice) -> None:
        if not failures:
            failures.append("the timer's release")
            raise RuntimeError("pin write failed")
        real_off(device)

    monkeypatch.setattr(DigitalOutputDevice, "off", off_failing_once)
    relay.pulse(0.05)
    # The timer's release raised: its thread ended, and its crash released the relay.
    assert wait_until(lambda: not relay.is_energised, timeout_s=2.0)
    assert failures == ["the timer's release"]
    relay.pulse(0.1)  # a timer is running again before the gate opens
    assert relay.is_energised
    assert wait_until(lambda: not relay.is_energised, timeout_s=2.0)


def test_hold_open_until_release(relay: GpioRelay, mock_factory: MockFactory) -> None:
    relay.hold_open()
    time.sleep(0.1)
    assert relay.is_energised
    relay.release()
    assert_states(mock_factory, LOCK_PIN, [False, True, False])


def test_active_low_boards_are_driven_high_when_released(mock_factory: MockFactory) -> None:
    relay = GpioRelay(LOCK_PIN, active_high=False, pin_factory=mock_factory)
    assert mock_factory.pin(LOCK_PIN).state is True
    relay.hold_open()
    assert mock_factory.pin(LOCK_PIN).state is False
    relay.close()
    assert mock_factory.pin(LOCK_PIN).state is True


def test_close_releases_first(relay: GpioRelay, mock_factory: MockFactory) -> None:
    relay.hold_open()
    relay.close()
    assert_states(mock_factory, LOCK_PIN, [False, True, False])
    assert mock_factory.pin(LOCK_PIN).function == "input"
    assert not relay.is_energised
    relay.close()  # idempotent
    relay.release()  # harmless after close


def test_pulse_length_must_be_positive(relay: GpioRelay) -> None:
    with pytest.raises(ValueError, match="positive"):
        relay.pulse(0)


GREEN, RED, BUZZER = 22, 23, 24


@pytest.fixture
def indicator(mock_factory: MockFactory) -> Iterator[GpioIndicator]:
    device = GpioIndicator(
        green_pin=GREEN, red_pin=RED, buzzer_pin=BUZZER, pin_factory=mock_factory
    )
    yield device
    device.close()


def test_pass_is_green_for_two_seconds_and_one_short_beep(
    indicator: GpioIndicator, mock_factory: MockFactory
) -> None:
    indicator.show("pass")
    time.sleep(2.2)
    assert_on_for(mock_factory, GREEN, 2.0)
    assert_on_for(mock_factory, BUZZER, 0.1)
    assert_states(mock_factory, RED, [False])


def test_deny_blinks_red_and_beeps_twice(
    indicator: GpioIndicator, mock_factory: MockFactory
) -> None:
    indicator.show("deny")
    time.sleep(2.2)
    assert_states(mock_factory, RED, [False] + [True, False] * 4)
    assert_states(mock_factory, BUZZER, [False] + [True, False] * 2)
    assert_states(mock_factory, GREEN, [False])


def test_fever_keeps_blinking_until_the_next_signal(
    indicator: GpioIndicator, mock_factory: MockFactory
) -> None:
    indicator.show("fever")
    time.sleep(0.45)
    assert len(mock_factory.pin(RED).states) >= 4  # fast blink, still going
    assert mock_factory.pin(BUZZER).states[1].state is True  # long tone started
    indicator.show("idle")
    time.sleep(0.25)
    for pin in (GREEN, RED, BUZZER):
        assert mock_factory.pin(pin).state is False


def test_wait_blinks_green_and_red_together(
    indicator: GpioIndicator, mock_factory: MockFactory
) -> None:
    indicator.show("wait")
    time.sleep(0.1)
    assert mock_factory.pin(GREEN).state is True
    assert mock_factory.pin(RED).state is True
    indicator.show("idle")
    assert indicator.current == "idle"
    assert indicator.wait_applied()
    assert not any(mock_factory.pin(pin).state for pin in (GREEN, RED, BUZZER))


def test_unknown_signal_is_a_programming_error(indicator: GpioIndicator) -> None:
    with pytest.raises(ValueError, match="unknown signal"):
        indicator.show("party")


def test_every_documented_signal_has_a_pattern() -> None:
    assert set(SIGNAL_PATTERNS) == {"pass", "deny", "fever", "wait", "idle"}


# The child energises a relay on a MockFactory pin and sleeps; the parent sends SIGTERM. Its
# recorder is registered before gpiozero and drivers.gpio are imported, so it runs after every
# other exit hook (atexit is last-in, first-out) and sees the pin as the process leaves it.
CHILD = textwrap.dedent(
    """
    import atexit, json, sys, time

    result_path, mode = sys.argv[1], sys.argv[2]
    seen = {}

    def record():
        pin = seen["pin"]
        with open(result_path, "w") as out:
            json.dump({"states": [s.state for s in pin.states], "final": pin.state}, out)

    atexit.register(record)

    from gpiozero.pins.mock import MockFactory
    from drivers.gpio import GpioRelay

    factory = MockFactory()
    relay = GpioRelay(17, pin_factory=factory)
    seen["pin"] = factory.pin(17)
    if mode == "handler":  # as the service does: SIGTERM is a normal exit, atexit runs
        import signal
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    relay.hold_open()
    print("energised", flush=True)
    time.sleep(30)
    """
)


def run_child_and_terminate(tmp_path: Path, mode: str) -> tuple[int, Path]:
    result = tmp_path / f"{mode}.json"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(result), mode],
        stdout=subprocess.PIPE,
        env=env,
        cwd=tmp_path,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == b"energised"
        child.send_signal(signal.SIGTERM)
        return child.wait(timeout=10), result
    finally:
        child.kill()
        child.wait()
        if child.stdout is not None:
            child.stdout.close()


def test_sigterm_while_energised_releases_the_relay(tmp_path: Path) -> None:
    code, result = run_child_and_terminate(tmp_path, "handler")
    assert code == 128 + signal.SIGTERM  # a normal exit, via SystemExit
    recorded = json.loads(result.read_text())
    assert recorded["states"] == [False, True, False]
    assert recorded["final"] is False


def test_without_the_handler_sigterm_skips_every_exit_hook(tmp_path: Path) -> None:
    """The control: the default SIGTERM action kills the process before any cleanup runs."""
    code, result = run_child_and_terminate(tmp_path, "default")
    assert code == -signal.SIGTERM
    assert not result.exists()
