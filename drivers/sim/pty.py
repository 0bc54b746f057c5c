"""PtyDevice: a pseudo-terminal pair with a simulator thread on the master side.

The slave side is the "device node" a driver opens. Unplugging closes the pair, so a driver holding
the slave sees EIO (Linux) and must report the device down; replugging opens a new pair, whose
slave path differs, so an optional stable symlink (``link_path``) always points at the current
slave, like a udev ``/dev/serial/by-id`` link that vanishes on unplug and returns on replug.
``OnPty`` (the plug and lifecycle) and ``line_noise`` serve every simulator built on it.
"""

from __future__ import annotations

import logging
import os
import random
import select
import threading
import tty
from collections.abc import Callable
from pathlib import Path

from drivers.threads import Worker

log = logging.getLogger(__name__)

ReceiveListener = Callable[[bytes], None]
TickListener = Callable[[], None]


class PtyDevice:
    """A pty pair whose master side is driven by callbacks on one simulator thread.

    ``on_receive`` gets the bytes the driver wrote; ``on_tick`` runs about every ``tick_s`` for
    spontaneous output (a streaming sensor). ``send`` queues bytes for the driver without blocking,
    so a simulator can emit a megabyte while the driver reads it at its own pace.
    """

    def __init__(
        self,
        on_receive: ReceiveListener,
        *,
        link_path: str | os.PathLike[str] | None = None,
        on_tick: TickListener | None = None,
        tick_s: float = 0.005,
        name: str = "pty",
    ) -> None:
        self.name = name
        self._on_receive = on_receive
        self._on_tick = on_tick
        self._tick_s = tick_s
        self._link_path = Path(link_path) if link_path is not None else None

        self._lock = threading.Condition()
        self._master: int | None = None
        self._slave: int | None = None
        self._slave_path = ""
        self._out = bytearray()
        self._requests: list[tuple[str, threading.Event]] = []
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        self._sim = Worker(f"sim-{name}", self._run, on_crash=self._crashed)
        self._closed = False

    # --- public API ------------------------------------------------------------------------

    @property
    def port(self) -> str:
        """The path a driver should open: the stable link if configured, else the slave path."""
        if self._link_path is not None:
            return str(self._link_path)
        return self._slave_path

    @property
    def slave_path(self) -> str:
        return self._slave_path

    @property
    def plugged(self) -> bool:
        with self._lock:
            return self._master is not None

    def start(self) -> None:
        """Open the pair and start the simulator thread."""
        if self._sim.alive:
            return
        self._plug()
        self._sim.start()

    def stop(self) -> None:
        """Close the pair, stop the thread and release every file descriptor."""
        if self._closed:
            return
        if self._sim.alive:
            self._request("stop")
            self._sim.stop(2.0)
        else:
            self._unplug()
        os.close(self._wake_r)
        os.close(self._wake_w)
        self._closed = True

    def send(self, data: bytes) -> None:
        """Queue bytes for the driver; dropped if the device is unplugged (as on a real line)."""
        with self._lock:
            if self._master is None:
                return
            self._out += data
        self._wake()

    def wait_sent(self, timeout_s: float = 5.0) -> bool:
        """Wait until every queued byte has been written to the pty."""
        with self._lock:
            return self._lock.wait_for(lambda: not self._out, timeout_s)

    def unplug(self) -> None:
        """Pull the cable: close the pair and remove the link."""
        self._request("unplug")

    def replug(self) -> None:
        """Plug back in: a new pair (new slave path) and the link pointing at it."""
        self._request("plug")

    # --- simulator thread ------------------------------------------------------------------

    def _run(self) -> None:
        while self._loop_once():
            pass

    def _crashed(self, exc: Exception) -> None:
        """The simulator thread raised (it is logged): leave the device unplugged."""
        self._unplug()

    def _loop_once(self) -> bool:
        with self._lock:
            master = self._master
            want_write = master is not None and bool(self._out)
        readers = [self._wake_r] if master is None else [self._wake_r, master]
        writers = [master] if want_write and master is not None else []
        ready_r, ready_w, _ = select.select(readers, writers, [], self._tick_s)
        if self._wake_r in ready_r:
            os.read(self._wake_r, 4096)
            # Start over after serving requests: the pair may have changed under the fds above.
            return self._serve_requests()
        if master is not None and master in ready_r:
            data = self._read_master(master)
            if data:
                self._on_receive(data)
        if master is not None and master in ready_w:
            self._write_master(master)
        if self._on_tick is not None:
            self._on_tick()
        return True

    def _serve_requests(self) -> bool:
        with self._lock:
            requests, self._requests = self._requests, []
        running = True
        for kind, done in requests:
            if kind == "plug":
                self._plug()
            elif kind in ("unplug", "stop"):
                self._unplug()
                running = running and kind != "stop"
            done.set()
        return running

    def _read_master(self, master: int) -> bytes:
        try:
            return os.read(master, 65536)
        except BlockingIOError:
            return b""
        except OSError as exc:  # EIO while no slave is open; the next select retries
            log.debug("%s: master read: %s", self.name, exc)
            return b""

    def _write_master(self, master: int) -> None:
        with self._lock:
            chunk = bytes(self._out[:65536])
        try:
            written = os.write(master, chunk)
        except BlockingIOError:
            return
        with self._lock:
            del self._out[:written]
            if not self._out:
                self._lock.notify_all()

    # --- pair management (start() before the thread exists, then only on the thread) --------

    def _plug(self) -> None:
        if self._master is not None:
            return
        master, slave = os.openpty()
        tty.setraw(slave)  # no CR/LF translation and no echo, even before a driver configures it
        os.set_blocking(master, False)
        slave_path = os.ttyname(slave)
        if self._link_path is not None:
            temporary = self._link_path.with_name(self._link_path.name + ".new")
            temporary.unlink(missing_ok=True)
            temporary.symlink_to(slave_path)
            temporary.replace(self._link_path)
        with self._lock:
            self._master, self._slave, self._slave_path = master, slave, slave_path

    def _unplug(self) -> None:
        with self._lock:
            master, slave = self._master, self._slave
            self._master = self._slave = None
            self._out.clear()
            self._lock.notify_all()
        if self._link_path is not None:
            self._link_path.unlink(missing_ok=True)
        for fd in (master, slave):
            if fd is not None:
                os.close(fd)

    def _request(self, kind: str) -> None:
        if not self._sim.alive:
            if kind == "plug":
                self._plug()
            else:
                self._unplug()
            return
        done = threading.Event()
        with self._lock:
            self._requests.append((kind, done))
        self._wake()
        done.wait(2.0)

    def _wake(self) -> None:
        try:
            os.write(self._wake_w, b"\x00")
        except BlockingIOError:  # pipe full: the thread has plenty of wake-ups pending already
            pass
        except OSError as exc:
            log.debug("%s: wake after stop: %s", self.name, exc)


def line_noise(rng: random.Random, length: int, exclude: bytes) -> bytes:
    """``length`` random bytes, as a line picks up; none of ``exclude``, so the noise cannot
    fake a frame's start or a code's end."""
    allowed = [b for b in range(256) if b not in exclude]
    return bytes(rng.choice(allowed) for _ in range(length))


class OnPty:
    """A simulated device living on a ``PtyDevice`` (set as ``_pty``): the plug and lifecycle
    every simulator offers a test."""

    _pty: PtyDevice

    @property
    def port(self) -> str:
        return self._pty.port

    def start(self) -> None:
        self._pty.start()

    def stop(self) -> None:
        self._pty.stop()

    def unplug(self) -> None:
        self._pty.unplug()

    def replug(self) -> None:
        self._pty.replug()

    def wait_sent(self, timeout_s: float = 5.0) -> bool:
        return self._pty.wait_sent(timeout_s)
