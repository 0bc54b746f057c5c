"""Simulated serial QR scanners on pseudo-terminals: SimGm65 and SimHoneywell.

``present`` writes a code's bytes plus a tail, as a module does after decoding. SimGm65 answers
command frames (drivers.frames.gm65) from a register table, so start-up configuration can be
tested end to end; SimHoneywell sends its queued code when triggered (``16 54 0D``). Fault helpers
produce what field modules do: noise, no tail, floods, binary junk.
"""

from __future__ import annotations

import os
import random
import threading
from collections import deque
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Final

from drivers.frames import gm65, honeywell
from drivers.sim.pty import OnPty, PtyDevice, line_noise

# Factory defaults that matter here (GM65 manual §8.5 for 0x0000: LED on, sound on, standard aim
# and light, manual mode). The other registers read 0, like a module whose tail is NONE.
FACTORY_REGISTERS: Mapping[int, int] = {0x0000: 0b1101_0100}


class SimScanner(OnPty):
    """What every simulated scanner shares: the pty, presenting codes and the fault helpers."""

    def __init__(
        self,
        *,
        link_path: str | os.PathLike[str] | None = None,
        encoding: str = "utf-8",
        seed: int = 65,
        name: str = "scanner",
    ) -> None:
        self.encoding = encoding
        self._lock = threading.Lock()
        self._inbox = b""
        self._random = random.Random(seed)
        self._pty = PtyDevice(self._on_receive, link_path=link_path, name=name)

    # --- what the module sends ---------------------------------------------------------------

    def present(self, text: str | bytes, tail: bytes = b"\r") -> None:
        """Send a decoded code (str encoded with ``encoding``) followed by ``tail``."""
        self._pty.send(self._encode(text) + tail)

    def send_noise(self, length: int = 16) -> None:
        """Line noise (as at power-up): random bytes without any terminator."""
        self._pty.send(line_noise(self._random, length, exclude=b"\r\n\x02"))

    def send_binary_junk(self, length: int = 64, tail: bytes = b"\r") -> None:
        """A binary payload (a code that is not text), terminated like a code."""
        self._pty.send(line_noise(self._random, length, exclude=b"\r\n\x02") + tail)

    def present_huge(self, length: int = 1 << 20, tail: bytes = b"\r") -> None:
        """A flood: ``length`` printable bytes, then ``tail``."""
        self._pty.send(b"A" * length + tail)

    def _encode(self, text: str | bytes) -> bytes:
        return text.encode(self.encoding) if isinstance(text, str) else text

    def _on_receive(self, data: bytes) -> None:
        """Bytes from the host; a scanner without commands ignores them."""


class SimGm65(SimScanner):
    """A simulated GM65 scanner; open ``.port`` with the real driver."""

    def __init__(
        self,
        *,
        link_path: str | os.PathLike[str] | None = None,
        encoding: str = "utf-8",
        registers: Mapping[int, int] = FACTORY_REGISTERS,
        seed: int = 65,
    ) -> None:
        super().__init__(link_path=link_path, encoding=encoding, seed=seed, name="gm65")
        self.answer_commands = True  # False: a module that ignores commands (or a wrong baud)
        self._registers: dict[int, int] = dict(registers)
        self.commands: list[gm65.Command] = []
        self.saves = 0
        self.triggers = 0

    @property
    def configured_tail(self) -> bytes:
        """The tail the module appends given its registers (0x0060 bit 0: CR; else none)."""
        with self._lock:
            return b"\r" if self._registers.get(0x0060, 0) & 0x01 else b""

    def register(self, address: int) -> int:
        with self._lock:
            return self._registers.get(address, 0)

    # --- command protocol --------------------------------------------------------------------

    def _on_receive(self, data: bytes) -> None:
        commands, self._inbox = gm65.decode_commands(self._inbox + data)
        for command in commands:
            self.commands.append(command)
            if not self.answer_commands:
                continue
            reply = self._execute(command)
            if reply is not None:
                self._pty.send(reply)

    def _execute(self, command: gm65.Command) -> bytes | None:
        with self._lock:
            if command.command_type == gm65.CommandType.READ:
                count = command.data[0] or 256
                values = bytes(
                    self._registers.get(command.address + offset, 0) for offset in range(count)
                )
                return gm65.encode_reply(values)
            if command.command_type == gm65.CommandType.WRITE:
                for offset, value in enumerate(command.data):
                    self._registers[command.address + offset] = value
                if command.address == 0x0002 and command.data[:1] == b"\x01":
                    self.triggers += 1
                return gm65.ACK
            if command.command_type == gm65.CommandType.SAVE:
                self.saves += 1
                return gm65.ACK
        return None  # unknown type: the module stays silent


class SimHoneywell(SimScanner):
    """A Honeywell engine in serial trigger mode: a trigger sends the next queued code + CR."""

    def __init__(
        self,
        *,
        link_path: str | os.PathLike[str] | None = None,
        encoding: str = "utf-8",
        suffix: bytes = b"\r",
    ) -> None:
        super().__init__(link_path=link_path, encoding=encoding, name="honeywell")
        self._suffix = suffix
        self._queue: deque[bytes] = deque()
        self.triggers = 0
        self.stops = 0

    def queue(self, text: str | bytes) -> None:
        """A code in front of the engine, read at the next trigger."""
        with self._lock:
            self._queue.append(self._encode(text))

    def _on_receive(self, data: bytes) -> None:
        self._inbox += data
        while True:
            trigger = self._inbox.find(honeywell.TRIGGER)
            stop = self._inbox.find(honeywell.STOP)
            found = [i for i in (trigger, stop) if i >= 0]
            if not found:
                self._inbox = self._inbox[-2:]
                return
            first = min(found)
            self._inbox = self._inbox[first + 3 :]
            if first == trigger:
                self.triggers += 1
                with self._lock:
                    code = self._queue.popleft() if self._queue else None
                if code is not None:
                    self._pty.send(code + self._suffix)
            else:
                self.stops += 1


# Scanner family (drivers.scanner.ScannerFamily) → its simulator. A Honeywell engine in
# presentation mode, like a GM65 in continuous mode, sends what it reads at once (``present``).
SIMULATORS: Final[Mapping[str, Callable[[str | os.PathLike[str] | None], SimScanner]]] = (
    MappingProxyType(
        {
            "gm65": lambda link_path: SimGm65(link_path=link_path),
            "honeywell": lambda link_path: SimHoneywell(link_path=link_path),
            "line": lambda link_path: SimScanner(link_path=link_path, name="line-scanner"),
        }
    )
)
