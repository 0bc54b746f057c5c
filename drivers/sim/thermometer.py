"""Simulated infrared thermometer modules on pseudo-terminals, one per supported protocol.

Each speaks its real protocol through the drivers.frames encoders: SimGyMcu90614 (query or
continuous), SimLu90614 (body/material modes), SimHtpa (streams ASCII or binary) and SimTextLine
(a configurable text line, asked or streamed). All share the value queue, the ambient value and
the fault modes field modules show, switchable while they run.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final, TypedDict, Unpack

from drivers.frames import gy_mcu90614, htpa, lu90614
from drivers.sim.pty import OnPty, PtyDevice, line_noise


class ThermometerFault(StrEnum):
    """How a simulated module misbehaves; switchable while it runs."""

    NONE = "none"
    GARBAGE_BEFORE = "garbage_before"  # noise bytes, then the frame
    PARTIAL_BEFORE = "partial_before"  # a cut-off frame, then the frame
    BAD_CHECKSUM = "bad_checksum"  # a corrupted frame (wrong SUM; a broken digit for text)
    SILENT = "silent"  # no answer at all
    STREAM = "stream"  # streams frames unasked (auto-output left on), ignores commands
    WRONG_BAUD = "wrong_baud"  # what a baud mismatch looks like: frame-sized garbage
    WRONG_MODE = "wrong_mode"  # LU90614: answers in the other mode than the one selected


class ModuleOptions(TypedDict, total=False):
    """What every simulated module takes beside its own settings: where its port appears (a
    link that follows the pty across replugs), what it reads with nobody in front of it, how
    often it sends a frame while streaming, and the seed of its line noise. A module left
    without one takes its model's default (``SimThermometerModule``'s unless it says)."""

    link_path: str | os.PathLike[str] | None
    ambient_c: float
    stream_interval_s: float
    seed: int


class SimThermometerModule(OnPty):
    """What every simulated module shares; subclasses supply the protocol.

    ``present`` queues what the next answers measure: each frame sent consumes one value; when
    the queue is empty the module reports ``then_c`` if given, else the ambient temperature (what
    an IR sensor sees when nobody stands in front of it: an implausible body temperature).
    """

    # Bytes the generated noise never contains, so noise cannot fake the start of a frame.
    noise_excludes: bytes = b""

    def __init__(
        self,
        *,
        link_path: str | os.PathLike[str] | None = None,
        ambient_c: float = 20.0,
        stream_interval_s: float = 0.07,
        streaming: bool = False,
        seed: int = 90614,
        name: str = "thermometer",
    ) -> None:
        self._lock = threading.Lock()
        self._values: deque[float] = deque()
        self._then_c: float | None = None
        self._ambient_c = ambient_c
        self._stream_interval_s = stream_interval_s
        self._streams_at_power_on = streaming
        self._streaming = streaming
        self._fault = ThermometerFault.NONE
        self._next_stream_s = 0.0
        self._inbox = b""
        self._random = random.Random(seed)
        self.commands: list[int] = []
        self.frames_sent = 0
        self._pty = PtyDevice(
            self._on_receive, link_path=link_path, on_tick=self._on_tick, name=name
        )

    # --- plugging (the rest of the plumbing is OnPty's) -------------------------------

    def unplug(self) -> None:
        super().unplug()
        with self._lock:
            self._streaming = self._streams_at_power_on  # a power cycle forgets the mode
        self._power_cycled()

    # --- what the module measures and how it misbehaves ----------------------------------

    def present(self, values_c: Sequence[float], then_c: float | None = None) -> None:
        """Queue the temperatures of the next answers, then report ``then_c`` (or ambient)."""
        with self._lock:
            self._values.extend(values_c)
            self._then_c = then_c

    def clear(self) -> None:
        """Drop what ``present`` queued and not yet measured: the person has gone."""
        with self._lock:
            self._values.clear()
            self._then_c = None

    @property
    def ambient_c(self) -> float:
        with self._lock:
            return self._ambient_c

    @ambient_c.setter
    def ambient_c(self, value_c: float) -> None:
        with self._lock:
            self._ambient_c = value_c

    @property
    def fault(self) -> ThermometerFault:
        with self._lock:
            return self._fault

    @fault.setter
    def fault(self, fault: ThermometerFault) -> None:
        with self._lock:
            self._fault = fault

    @property
    def continuous(self) -> bool:
        """True while the module streams frames on its own."""
        with self._lock:
            return self._streaming

    # --- protocol hooks for subclasses -----------------------------------------------------

    def _decode_commands(self, buf: bytes) -> tuple[list[int], bytes]:
        return [], b""  # a module that takes no commands

    def _on_command(self, code: int) -> None:
        """Handle one host command; call self._answer() to reply with a frame."""

    def _frame(self, object_c: float, ambient_c: float) -> bytes:
        raise NotImplementedError

    def _corrupt(self, frame: bytes) -> bytes:
        """The frame with a wrong checksum byte (the last one)."""
        return frame[:-1] + bytes(((frame[-1] + 1) & 0xFF,))

    def _noise(self, length: int) -> bytes:
        return line_noise(self._random, length, self.noise_excludes)

    def _garbage_before(self) -> bytes:
        return self._noise(7)

    def _power_cycled(self) -> None:
        """Reset protocol state that a power cycle loses."""

    def _set_streaming(self, streaming: bool) -> None:
        with self._lock:
            self._streaming = streaming

    # --- shared behaviour --------------------------------------------------------------------

    def _on_receive(self, data: bytes) -> None:
        codes, self._inbox = self._decode_commands(self._inbox + data)
        for code in codes:
            self.commands.append(code)
            if self.fault is not ThermometerFault.STREAM:
                self._on_command(code)

    def _on_tick(self) -> None:
        fault = self.fault
        if not (self.continuous or fault is ThermometerFault.STREAM):
            return
        now_s = time.monotonic()
        if now_s < self._next_stream_s:
            return
        self._next_stream_s = now_s + self._stream_interval_s
        self._answer()

    def _answer(self) -> None:
        """Send the next frame, misbehaving as the current fault says."""
        fault = self.fault
        if fault is ThermometerFault.SILENT:
            return
        with self._lock:
            if self._values:
                object_c = self._values.popleft()
            elif self._then_c is not None:
                object_c = self._then_c
            else:
                object_c = self._ambient_c
            ambient_c = self._ambient_c
        frame = self._frame(object_c, ambient_c)
        if fault is ThermometerFault.GARBAGE_BEFORE:
            frame = self._garbage_before() + frame
        elif fault is ThermometerFault.PARTIAL_BEFORE:
            frame = frame[: len(frame) // 2 + 1] + frame
        elif fault is ThermometerFault.BAD_CHECKSUM:
            frame = self._corrupt(frame)
        elif fault is ThermometerFault.WRONG_BAUD:
            frame = self._noise(len(frame))
        self._pty.send(frame)
        self.frames_sent += 1


class SimGyMcu90614(SimThermometerModule):
    """GY-MCU90614: ``A5 15 BA`` answers one frame, ``A5 45 EA`` starts a ~14 Hz stream."""

    noise_excludes = bytes((gy_mcu90614.HEADER[0],))

    def __init__(self, *, object_first: bool = True, **options: Unpack[ModuleOptions]) -> None:
        super().__init__(name="gy-mcu90614", **options)
        self._object_first = object_first

    def _decode_commands(self, buf: bytes) -> tuple[list[int], bytes]:
        return gy_mcu90614.decode_commands(buf)

    def _on_command(self, code: int) -> None:
        if code == gy_mcu90614.QUERY[1]:
            self._set_streaming(False)
            self._answer()
        elif code == gy_mcu90614.CONTINUOUS[1]:
            self._set_streaming(True)

    def _frame(self, object_c: float, ambient_c: float) -> bytes:
        return gy_mcu90614.encode_reading(object_c, ambient_c, object_first=self._object_first)


class SimLu90614(SimThermometerModule):
    """LU90614: mode commands select body/material, ``FA CA C4`` measures and answers."""

    noise_excludes = lu90614.HEADER

    def __init__(
        self, *, mode: lu90614.LuMode = lu90614.LuMode.BODY, **options: Unpack[ModuleOptions]
    ) -> None:
        super().__init__(name="lu90614", **options)
        self._power_on_mode = mode
        self._mode = mode

    @property
    def mode(self) -> lu90614.LuMode:
        with self._lock:
            return self._mode

    def _decode_commands(self, buf: bytes) -> tuple[list[int], bytes]:
        return lu90614.decode_commands(buf)

    def _on_command(self, code: int) -> None:
        if code == lu90614.BODY_MODE[1]:
            with self._lock:
                self._mode = lu90614.LuMode.BODY
        elif code == lu90614.MATERIAL_MODE[1]:
            with self._lock:
                self._mode = lu90614.LuMode.MATERIAL
        elif code == lu90614.MEASURE[1]:
            self._answer()

    def _frame(self, object_c: float, ambient_c: float) -> bytes:
        mode = self.mode
        if self.fault is ThermometerFault.WRONG_MODE:
            mode = lu90614.LuMode.MATERIAL if mode is lu90614.LuMode.BODY else lu90614.LuMode.BODY
        return lu90614.encode_reading(object_c, mode)

    def _power_cycled(self) -> None:
        with self._lock:
            self._mode = self._power_on_mode


class SimHtpa(SimThermometerModule):
    """An HTPA32x32 board: streams ``{36.7}`` or ``AA 55 06 …`` frames, takes no commands."""

    def __init__(self, *, binary: bool = True, **options: Unpack[ModuleOptions]) -> None:
        options.setdefault("stream_interval_s", 0.5)
        options.setdefault("seed", 32)
        super().__init__(name="htpa", streaming=True, **options)
        self._binary = binary
        self.noise_excludes = bytes((htpa.BINARY_HEADER[0],)) if binary else b"{}"

    def _frame(self, object_c: float, ambient_c: float) -> bytes:
        return htpa.encode_binary(object_c) if self._binary else htpa.encode_ascii(object_c)

    def _corrupt(self, frame: bytes) -> bytes:
        if self._binary:
            return super()._corrupt(frame)
        return frame.replace(b"{", b"{x", 1)


class SimTextLine(SimThermometerModule):
    """A module that prints a text line per measurement, when asked (``query``) or streaming."""

    noise_excludes = b"\r\n"

    def __init__(
        self,
        *,
        template: str = "T={value:.2f} A={ambient:.2f}",
        query: bytes | None = b"READ\r\n",
        **options: Unpack[ModuleOptions],
    ) -> None:
        options.setdefault("stream_interval_s", 0.1)
        options.setdefault("seed", 7)
        super().__init__(name="text-line", streaming=query is None, **options)
        self._template = template
        self._query = query

    def _decode_commands(self, buf: bytes) -> tuple[list[int], bytes]:
        if not self._query:
            return [], b""
        count = buf.count(self._query)
        tail = buf.rsplit(self._query, 1)[-1]
        keep = next(
            (
                n
                for n in range(min(len(tail), len(self._query) - 1), 0, -1)
                if self._query.startswith(tail[-n:])
            ),
            0,
        )
        return [0] * count, tail[len(tail) - keep :]

    def _on_command(self, code: int) -> None:
        self._answer()

    def _frame(self, object_c: float, ambient_c: float) -> bytes:
        line = self._template.format(value=object_c, ambient=ambient_c)
        return (line + "\r\n").encode("ascii")

    def _corrupt(self, frame: bytes) -> bytes:
        return frame.replace(b"=", b"=x", 1)

    def _garbage_before(self) -> bytes:
        return self._noise(7) + b"\r\n"  # line noise arrives as a junk line of its own


# What SimTextLine prints by default, and the pattern that reads it back (the sim config's).
TEXT_LINE_PATTERN: Final = r"T=(?P<value>-?\d+(?:\.\d+)?)"


@dataclass(frozen=True, slots=True)
class SimOptions:
    """What a simulated module is built from: where its port appears and how it is wired."""

    link_path: str | os.PathLike[str] | None = None
    ambient_c: float = 20.0
    object_first: bool = True
    line_query: bytes | None = b"READ\r\n"


def _lu(mode: lu90614.LuMode) -> Callable[[SimOptions], SimThermometerModule]:
    def build(options: SimOptions) -> SimThermometerModule:
        return SimLu90614(link_path=options.link_path, ambient_c=options.ambient_c, mode=mode)

    return build


# Model name → simulator, keyed like drivers.thermometer.CODECS (a test keeps the two in step):
# every protocol the driver speaks can run simulated from the configuration.
SIMULATORS: Final[Mapping[str, Callable[[SimOptions], SimThermometerModule]]] = MappingProxyType(
    {
        "gy-mcu90614": lambda o: SimGyMcu90614(
            link_path=o.link_path, ambient_c=o.ambient_c, object_first=o.object_first
        ),
        "lu90614-body": _lu(lu90614.LuMode.BODY),
        "lu90614-material": _lu(lu90614.LuMode.MATERIAL),
        "htpa-binary": lambda o: SimHtpa(link_path=o.link_path, ambient_c=o.ambient_c),
        "htpa-ascii": lambda o: SimHtpa(link_path=o.link_path, ambient_c=o.ambient_c, binary=False),
        "text-line": lambda o: SimTextLine(
            link_path=o.link_path, ambient_c=o.ambient_c, query=o.line_query
        ),
    }
)
