"""SerialTransport: owns one serial port, its reader thread, and reopening after an unplug.

The only module that imports pyserial. Ports open through ``serial.serial_for_url`` so a device
path, a udev ``/dev/serial/by-id`` link, a pseudo-terminal, ``loop://`` or ``spy://`` (field
debugging) all work unchanged. Received bytes go to a callback on the reader thread; protocol
decoding belongs to the device classes and drivers.frames.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import Protocol, cast

import serial

from drivers.base import DeviceStatus, Health, StatusListener
from drivers.status import HealthRecord
from drivers.threads import Backoff, Worker

log = logging.getLogger(__name__)

BytesListener = Callable[[bytes], None]
Hook = Callable[[], None]

# Errors that mean "the port is not usable now": unplugged (EIO, ENODEV, ENOENT), busy, or a pty
# whose master side closed. SerialException subclasses OSError in pyserial 3.5; named for clarity.
PORT_ERRORS = (serial.SerialException, OSError)


class _Port(Protocol):
    """What the transport uses of a pyserial port (every concrete port class has in_waiting)."""

    @property
    def in_waiting(self) -> int: ...
    def read(self, size: int = 1) -> bytes: ...
    def write(self, data: bytes, /) -> int | None: ...
    def close(self) -> None: ...


class SerialTransport:
    """One serial port with a reader thread, health reporting and paced reopening.

    On a read error or a hang-up (pyserial raises when a device reports readiness but returns no
    data, and a pty whose master closed gives EIO) the port is closed, health goes DOWN with the
    error, and the thread reopens the same URL with backoff from ``reopen_min_s`` doubling up to
    ``reopen_max_s``: the caller never restarts anything.
    """

    def __init__(
        self,
        name: str,
        url: str,
        *,
        baudrate: int,
        on_bytes: BytesListener,
        on_open: Hook | None = None,
        on_tick: Hook | None = None,
        on_status: StatusListener | None = None,
        read_timeout_s: float = 0.02,
        write_timeout_s: float = 1.0,
        reopen_min_s: float = 0.2,
        reopen_max_s: float = 5.0,
        read_size: int = 4096,
    ) -> None:
        self.name = name
        self.url = url
        self.baudrate = baudrate
        self._on_bytes = on_bytes
        self._on_open = on_open
        self._on_tick = on_tick
        self._on_status = on_status
        self._read_timeout_s = read_timeout_s
        self._write_timeout_s = write_timeout_s
        self._reopen = Backoff(reopen_min_s, reopen_max_s)
        self._read_size = read_size

        self._port_lock = threading.Lock()  # guards _port against write() racing a close
        self._port: _Port | None = None
        self._status_lock = threading.Lock()
        self._record = HealthRecord(name, self._status_lock)
        self._opens = 0
        self._failures = 0
        self._first_try = threading.Event()
        self._reader = Worker(f"serial-{name}", self._run, on_crash=self._crashed)

    # --- lifecycle -------------------------------------------------------------------------

    def start(self, first_open_wait_s: float = 2.0) -> None:
        """Start the reader thread; it opens the port (and keeps trying) on its own.

        Returns once the first open has succeeded or failed (at most ``first_open_wait_s``):
        pyserial flushes input on open, so a code scanned before that would be lost, and a gate
        reported started should not lose the first resident's scan.
        """
        if self._reader.alive:
            return
        self._first_try = threading.Event()
        self._reader.start()
        self._first_try.wait(first_open_wait_s)

    def stop(self, timeout_s: float = 2.0) -> None:
        """Stop the reader thread, join it and close the port."""
        self._reader.stop(timeout_s)
        self._close_port()
        self._set_status(Health.DOWN, "stopped", quiet=True)

    # --- I/O -------------------------------------------------------------------------------

    def write(self, data: bytes) -> bool:
        """Send ``data`` whole; safe from any thread. False (never an exception) if it failed."""
        error: Exception | None = None
        with self._port_lock:
            port = self._port
            if port is None:
                return False
            try:
                port.write(data)
            except PORT_ERRORS as exc:
                error = exc
        if error is not None:
            self._set_status(Health.DEGRADED, f"write failed: {error}")
            return False
        return True

    # --- status ----------------------------------------------------------------------------

    @property
    def health(self) -> Health:
        with self._status_lock:
            return self._record.health

    @property
    def is_open(self) -> bool:
        with self._port_lock:
            return self._port is not None

    def status(self) -> DeviceStatus:
        with self._status_lock:
            return DeviceStatus(
                name=self.name,
                health=self._record.health,
                detail=self._record.detail,
                extra={
                    "url": self.url,
                    "baudrate": str(self.baudrate),
                    "opens": str(self._opens),
                    "failures": str(self._failures),
                    "last_error": self._record.last_error,
                },
            )

    def device_status(self, problem: str | None, extra: Mapping[str, str]) -> DeviceStatus:
        """The status of the device on this port. A port that is down makes it DOWN whatever
        else; otherwise the device's own ``problem`` (a bad frame, a failed setup), if any,
        makes it DEGRADED. Its ``extra`` (counters, model) goes beside the port's figures."""
        port = self.status()
        if port.health is Health.DOWN:
            health, detail = Health.DOWN, port.detail
        elif problem is not None:
            health, detail = Health.DEGRADED, problem
        else:
            health, detail = port.health, port.detail
        return DeviceStatus(
            name=self.name, health=health, detail=detail, extra={**port.extra, **extra}
        )

    # --- reader thread ---------------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._reopen.reset()
            while not self._reader.stopping:
                port = self._open_port()
                if port is None:
                    self._first_try.set()
                    if self._reader.wait(self._reopen.next_s()):
                        break
                    continue
                self._reopen.reset()
                if self._on_open is not None:
                    self._on_open()  # before announcing OK, so the device can reset its state
                self._set_status(Health.OK, f"open at {self.baudrate} baud")
                self._first_try.set()
                self._pump(port)
                self._close_port()
                # A device that just vanished is rarely back at once: pause before reopening.
                if self._reader.wait(self._reopen.min_s):
                    break
        finally:
            self._first_try.set()
            self._close_port()

    def _crashed(self, exc: Exception) -> None:
        """The reader thread's code raised: the device is down, the process goes on."""
        self._set_status(Health.DOWN, f"internal error: {exc!r}")

    def _open_port(self) -> _Port | None:
        try:
            port = cast(
                _Port,
                serial.serial_for_url(
                    self.url,
                    baudrate=self.baudrate,
                    timeout=self._read_timeout_s,
                    write_timeout=self._write_timeout_s,
                ),
            )
        except (*PORT_ERRORS, ValueError) as exc:
            self._failures += 1
            self._set_status(Health.DOWN, f"cannot open {self.url}: {exc}")
            return None
        with self._port_lock:
            self._port = port
        self._opens += 1
        return port

    def _pump(self, port: _Port) -> None:
        """Read until the port fails or stop is requested."""
        while not self._reader.stopping:
            try:
                data = port.read(1)  # returns at the first byte, or empty after the read timeout
                if data:
                    waiting = port.in_waiting
                    if waiting:
                        data += port.read(min(waiting, self._read_size))
            except PORT_ERRORS as exc:
                self._failures += 1
                self._set_status(Health.DOWN, f"read failed: {exc}")
                return
            if data:
                if self.health is not Health.OK:
                    self._set_status(Health.OK, f"open at {self.baudrate} baud")
                self._on_bytes(data)
            if self._on_tick is not None:
                self._on_tick()

    def _close_port(self) -> None:
        with self._port_lock:
            port, self._port = self._port, None
            if port is not None:
                try:
                    port.close()
                except PORT_ERRORS as exc:
                    log.warning("%s: close failed: %s", self.name, exc)

    def _set_status(self, health: Health, detail: str, *, quiet: bool = False) -> None:
        if self._record.set(health, detail, quiet=quiet) and self._on_status is not None:
            self._on_status(self.status())
