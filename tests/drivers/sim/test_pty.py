"""drivers.sim.pty.PtyDevice: raw bytes, the stable link across replugs, clean file descriptors."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import serial

from drivers.base import Health
from drivers.serialport import SerialTransport
from drivers.sim.pty import PtyDevice
from tests.drivers.waiting import wait_until

EVERY_BYTE = bytes(range(256))


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_every_byte_passes_unchanged_in_both_directions(tmp_path: Path) -> None:
    received = bytearray()
    device = PtyDevice(received.extend, link_path=tmp_path / "ttyRAW")
    device.start()
    try:
        port = serial.serial_for_url(device.port, baudrate=9600, timeout=1.0)
        try:
            port.write(EVERY_BYTE)
            assert wait_until(lambda: bytes(received) == EVERY_BYTE)
            device.send(EVERY_BYTE)
            assert port.read(256) == EVERY_BYTE  # CR stays CR: the slave is raw
        finally:
            port.close()
    finally:
        device.stop()


def test_the_link_follows_the_device_across_replugs(tmp_path: Path) -> None:
    link = tmp_path / "ttyLINK"
    device = PtyDevice(lambda data: None, link_path=link)
    device.start()
    try:
        first = device.slave_path
        assert device.port == str(link)
        assert os.readlink(link) == first
        device.unplug()
        assert not link.exists()
        assert not device.plugged
        device.replug()
        assert device.plugged
        assert os.readlink(link) == device.slave_path
    finally:
        device.stop()
    assert not link.exists()


def test_without_a_link_the_port_is_the_slave_path() -> None:
    device = PtyDevice(lambda data: None)
    device.start()
    try:
        assert device.port == device.slave_path
        assert device.port.startswith("/dev/pts/")
    finally:
        device.stop()


def test_bytes_sent_while_unplugged_are_lost(tmp_path: Path) -> None:
    device = PtyDevice(lambda data: None, link_path=tmp_path / "ttyX")
    device.start()
    try:
        device.unplug()
        device.send(b"into the void")
        assert device.wait_sent(0.5)
    finally:
        device.stop()


def plug_cycle(link: Path) -> None:
    """Start a device and a transport, unplug, replug, stop both."""
    device = PtyDevice(lambda data: None, link_path=link)
    device.start()
    transport = SerialTransport(
        "leak", device.port, baudrate=9600, on_bytes=lambda data: None, reopen_min_s=0.02
    )
    transport.start()
    try:
        assert wait_until(lambda: transport.health is Health.OK)
        device.unplug()
        assert wait_until(lambda: transport.health is Health.DOWN)
        device.replug()
        assert wait_until(lambda: transport.health is Health.OK, timeout_s=2.0)
    finally:
        transport.stop()
        device.stop()


def test_no_fd_or_thread_leaks_over_many_cycles(tmp_path: Path) -> None:
    baseline_fds = open_fds()
    baseline_threads = threading.active_count()
    for cycle in range(10):
        plug_cycle(tmp_path / f"ttyC{cycle}")
    assert open_fds() == baseline_fds
    assert threading.active_count() == baseline_threads
