"""drivers.serialport.SerialTransport: URLs, health, reopening, thread lifecycle."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from drivers.base import DeviceStatus, Health
from drivers.serialport import SerialTransport
from drivers.sim.pty import PtyDevice
from tests.drivers.waiting import wait_until


class Received:
    def __init__(self) -> None:
        self.data = bytearray()
        self.statuses: list[DeviceStatus] = []
        self.ticks = 0
        self.opens = 0


@pytest.fixture
def received() -> Received:
    return Received()


@pytest.fixture
def echo_device(tmp_path: Path) -> Iterator[PtyDevice]:
    """A device that echoes what it receives, prefixed with '>'."""
    holder: list[PtyDevice] = []
    device = PtyDevice(lambda data: holder[0].send(b">" + data), link_path=tmp_path / "ttyECHO")
    holder.append(device)
    device.start()
    yield device
    device.stop()


def transport_for(url: str, received: Received) -> SerialTransport:
    def on_open() -> None:
        received.opens += 1

    def on_tick() -> None:
        received.ticks += 1

    return SerialTransport(
        "test",
        url,
        baudrate=9600,
        on_bytes=received.data.extend,
        on_open=on_open,
        on_tick=on_tick,
        on_status=received.statuses.append,
        reopen_min_s=0.05,
        reopen_max_s=0.2,
    )


@contextlib.contextmanager
def started(transport: SerialTransport) -> Iterator[SerialTransport]:
    """``transport`` started, and stopped when the block ends."""
    transport.start()
    try:
        yield transport
    finally:
        transport.stop()


def test_loop_url_round_trip(received: Received) -> None:
    with started(transport_for("loop://", received)) as transport:
        assert wait_until(lambda: transport.is_open)
        assert transport.write(b"hello\r")
        assert wait_until(lambda: bytes(received.data) == b"hello\r")
        assert received.opens == 1
        assert wait_until(lambda: received.ticks > 3)  # ticks run while the line is idle


def test_write_when_not_open_returns_false(received: Received) -> None:
    transport = transport_for("loop://", received)
    assert transport.write(b"x") is False
    assert transport.status().health is Health.DOWN


def test_pty_device_round_trip_through_the_stable_link(
    echo_device: PtyDevice, received: Received
) -> None:
    with started(transport_for(echo_device.port, received)) as transport:
        assert wait_until(lambda: transport.health is Health.OK)
        assert transport.write(b"\x00\r\n\xff")
        assert wait_until(lambda: bytes(received.data) == b">\x00\r\n\xff")


def test_a_code_sent_the_moment_start_returns_is_not_flushed(
    echo_device: PtyDevice, received: Received
) -> None:
    """pyserial flushes input on open: start() returns only after the first open."""
    for attempt in range(20):  # the race this guards against was one start in a few hundred
        with started(transport_for(echo_device.port, received)) as transport:
            assert transport.is_open, f"start {attempt} returned before the port was open"
            code = b"R-%04d\r" % attempt
            echo_device.send(code)
            assert wait_until(lambda code=code: bytes(received.data).endswith(code))


def test_start_does_not_wait_long_for_a_missing_device(tmp_path: Path, received: Received) -> None:
    transport = transport_for(str(tmp_path / "ttyABSENT"), received)
    transport.start(first_open_wait_s=5.0)
    try:
        assert transport.status().health is Health.DOWN  # the first try failed, start returned
        assert "cannot open" in transport.status().detail
    finally:
        transport.stop()


def test_missing_device_is_down_then_opens_when_it_appears(
    tmp_path: Path, received: Received
) -> None:
    link = tmp_path / "ttyLATE"
    transport = transport_for(str(link), received)
    transport.start()
    device = PtyDevice(lambda data: None, link_path=link)
    try:
        assert wait_until(lambda: int(transport.status().extra["failures"]) >= 2)
        status = transport.status()
        assert status.health is Health.DOWN
        assert "cannot open" in status.detail
        device.start()
        assert wait_until(lambda: transport.health is Health.OK, timeout_s=2.0)
    finally:
        transport.stop()
        device.stop()


def test_unplug_reports_down_with_the_error_and_replug_reopens(
    echo_device: PtyDevice, received: Received
) -> None:
    with started(transport_for(echo_device.port, received)) as transport:
        assert wait_until(lambda: transport.health is Health.OK)
        echo_device.unplug()
        assert wait_until(lambda: transport.health is Health.DOWN)
        down = [s.detail for s in received.statuses if s.health is Health.DOWN]
        assert down[0].startswith("read failed"), received.statuses  # EIO / hang-up
        assert transport.write(b"lost") is False
        echo_device.replug()
        assert wait_until(lambda: transport.health is Health.OK, timeout_s=2.0)
        assert received.opens == 2
        down_details = [s.detail for s in received.statuses if s.health is Health.DOWN]
        assert transport.status().extra["last_error"] == down_details[-1]  # kept after recovery
        assert transport.write(b"again")
        assert wait_until(lambda: bytes(received.data).endswith(b">again"))


def test_stop_joins_the_reader_thread(echo_device: PtyDevice, received: Received) -> None:
    before = {t.name for t in threading.enumerate()}
    transport = transport_for(echo_device.port, received)
    transport.start()
    assert wait_until(lambda: transport.health is Health.OK)
    assert "serial-test" in {t.name for t in threading.enumerate()}
    transport.stop()
    assert {t.name for t in threading.enumerate()} <= before
    status = transport.status()
    assert (status.health, status.detail) == (Health.DOWN, "stopped")


def test_a_failing_callback_takes_the_device_down_visibly(received: Received) -> None:
    def broken(_data: bytes) -> None:
        raise RuntimeError("bug in a listener")

    transport = SerialTransport("test", "loop://", baudrate=9600, on_bytes=broken)
    transport.start()
    try:
        assert wait_until(lambda: transport.is_open)
        transport.write(b"boom")
        assert wait_until(lambda: transport.health is Health.DOWN)
        assert "bug in a listener" in transport.status().detail
    finally:
        transport.stop()
