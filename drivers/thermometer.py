"""SerialThermometer: an infrared thermometer module on a serial port, as a Thermometer.

The transport (drivers.serialport) owns the port; a codec from drivers.frames turns bytes into
frames. Each ``request()`` opens a window: the first good frame within ``query_timeout_s`` goes to
``on_reading``. Checksum faults, garbage and timeouts are counted and shown in ``status()``
(DEGRADED until the next good frame), never raised. The driver judges nothing: an implausible
value (0 °C, 85 °C, 33 °C outdoors in winter) is passed on as measured, for the rule to judge.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from drivers.base import (
    DeviceStatus,
    Reading,
    ReadingFault,
    ReadingListener,
    StatusListener,
)
from drivers.frames import gy_mcu90614, htpa, lu90614
from drivers.frames.common import FrameResult
from drivers.frames.text_line import TextLineCodec
from drivers.serialdevice import SerialDevice
from drivers.status import counted

FaultListener = Callable[[ReadingFault, str], None]
Decoder = Callable[[bytes], tuple[list[FrameResult], bytes]]


class ThermometerMode(StrEnum):
    QUERY = "query"  # send the module's query frame on each request
    CONTINUOUS = "continuous"  # the module streams; a request takes the next frame


@dataclass(frozen=True, slots=True)
class CodecOptions:
    """Per-model options a codec may need."""

    object_first: bool = True  # GY-MCU90614: one public sample sends ambient first
    line_pattern: str | None = None  # text-line: a regex with a named group "value"
    line_query: bytes | None = None  # text-line: what to send to ask; None: it streams


@dataclass(frozen=True, slots=True)
class ThermometerCodec:
    """How to talk to one module model: a decoder and the frames that drive it."""

    decode: Decoder
    query_frame: bytes | None  # None: the module cannot be asked, it only streams
    continuous_frame: bytes | None = None  # sent after each open in continuous mode
    startup_frame: bytes | None = None  # sent after each open (e.g. select the LU90614 mode)


def _gy_mcu90614(options: CodecOptions) -> ThermometerCodec:
    def decode(buf: bytes) -> tuple[list[FrameResult], bytes]:
        return gy_mcu90614.decode(buf, object_first=options.object_first)

    return ThermometerCodec(decode, gy_mcu90614.QUERY, gy_mcu90614.CONTINUOUS)


def _lu90614(mode: lu90614.LuMode) -> Callable[[CodecOptions], ThermometerCodec]:
    def build(_options: CodecOptions) -> ThermometerCodec:
        def decode(buf: bytes) -> tuple[list[FrameResult], bytes]:
            return lu90614.decode(buf, mode=mode)

        return ThermometerCodec(decode, lu90614.MEASURE, startup_frame=lu90614.MODE_COMMANDS[mode])

    return build


def _htpa_binary(_options: CodecOptions) -> ThermometerCodec:
    return ThermometerCodec(htpa.decode_binary, query_frame=None)


def _htpa_ascii(_options: CodecOptions) -> ThermometerCodec:
    return ThermometerCodec(htpa.decode_ascii, query_frame=None)


def _text_line(options: CodecOptions) -> ThermometerCodec:
    if options.line_pattern is None:
        raise ValueError("model 'text-line' needs line_pattern (a regex with a group 'value')")
    codec = TextLineCodec.from_pattern(options.line_pattern)
    return ThermometerCodec(codec.decode, query_frame=options.line_query)


# Model name → codec builder: the one place a new module type is added.
CODECS: Final[Mapping[str, Callable[[CodecOptions], ThermometerCodec]]] = MappingProxyType(
    {
        "gy-mcu90614": _gy_mcu90614,
        "lu90614-body": _lu90614(lu90614.LuMode.BODY),
        "lu90614-material": _lu90614(lu90614.LuMode.MATERIAL),
        "htpa-binary": _htpa_binary,
        "htpa-ascii": _htpa_ascii,
        "text-line": _text_line,
    }
)


class SerialThermometer(SerialDevice):
    """A serial IR thermometer module, implementing drivers.base.Thermometer.

    ``model`` picks the codec from CODECS. Modules that cannot be asked (HTPA boards, streaming
    text modules) always run in continuous mode: a request takes the next frame they send.
    """

    def __init__(
        self,
        name: str,
        url: str,
        *,
        model: str = "gy-mcu90614",
        baud: int = 9600,
        mode: ThermometerMode | str = ThermometerMode.QUERY,
        object_first: bool = True,
        line_pattern: str | None = None,
        line_query: bytes | None = None,
        query_timeout_s: float = 1.0,
        on_fault: FaultListener | None = None,
        on_status: StatusListener | None = None,
        reopen_min_s: float = 0.2,
        reopen_max_s: float = 5.0,
        codecs: Mapping[str, Callable[[CodecOptions], ThermometerCodec]] = CODECS,
    ) -> None:
        if model not in codecs:
            raise ValueError(f"unknown thermometer model {model!r}; known: {sorted(codecs)}")
        super().__init__(name, url, baud, on_status, (reopen_min_s, reopen_max_s))
        self.model = model
        self._codec = codecs[model](
            CodecOptions(
                object_first=object_first, line_pattern=line_pattern, line_query=line_query
            )
        )
        self.mode = (
            ThermometerMode(mode)
            if self._codec.query_frame is not None
            else ThermometerMode.CONTINUOUS
        )
        self._query_timeout_s = query_timeout_s
        self._on_fault = on_fault
        self._on_reading: ReadingListener | None = None

        self._rest = b""  # touched only on the reader thread
        self._pending = False
        self._request_id = 0
        self._timer: threading.Timer | None = None
        self._last_fault: tuple[ReadingFault, str] | None = None
        self._last_reading: Reading | None = None
        self._last_frame_s: float | None = None

    # --- Thermometer protocol --------------------------------------------------------------

    def start(self, on_reading: ReadingListener) -> None:
        self._on_reading = on_reading
        self._transport.start()

    def request(self) -> None:
        """Ask for one measurement; a reading (or a TIMEOUT fault) follows asynchronously."""
        with self._lock:
            self._request_id += 1
            self._counts["requests"] += 1
            self._pending = True
            timer = threading.Timer(
                self._query_timeout_s, self._on_timeout, args=(self._request_id,)
            )
            timer.daemon = True
            previous, self._timer = self._timer, timer
        if previous is not None:
            previous.cancel()
        timer.start()
        if self.mode is ThermometerMode.QUERY and self._codec.query_frame is not None:
            # A port that is down makes write() return False: the timer then reports TIMEOUT.
            self._transport.write(self._codec.query_frame)

    def stop(self) -> None:
        with self._lock:
            timer, self._timer = self._timer, None
            self._pending = False
        if timer is not None:
            timer.cancel()
        self._transport.stop()

    def status(self) -> DeviceStatus:
        with self._lock:
            fault = self._last_fault
            extra = counted(self._counts)
            extra.update({"model": self.model, "mode": str(self.mode)})
            if self._last_reading is not None:
                extra["last_raw_hex"] = self._last_reading.raw_hex
            if self._last_fault is not None:
                extra["last_fault_raw_hex"] = self._last_fault[1][:64]
            if self._last_frame_s is not None:
                extra["last_frame_age_s"] = f"{time.monotonic() - self._last_frame_s:.1f}"
        return self._transport.device_status(
            None if fault is None else f"last frame: {fault[0]}", extra
        )

    # --- reader thread -------------------------------------------------------------------

    def _on_open(self) -> None:
        self._rest = b""
        with self._lock:
            self._last_fault = None  # a fresh connection starts with a clean record
        if self._codec.startup_frame is not None:
            self._transport.write(self._codec.startup_frame)
        if self.mode is ThermometerMode.CONTINUOUS and self._codec.continuous_frame is not None:
            self._transport.write(self._codec.continuous_frame)

    def _on_bytes(self, data: bytes) -> None:
        results, self._rest = self._codec.decode(self._rest + data)
        for result in results:
            if result.ok:
                self._on_frame(result)
            else:
                self._on_bad_frame(result)

    def _on_frame(self, result: FrameResult) -> None:
        assert result.value_c is not None  # FrameResult.ok guarantees it
        reading = Reading(
            value_c=result.value_c,
            sensor=self.name,
            object_c=result.object_c,
            ambient_c=result.ambient_c,
            raw_hex=result.raw.hex(),
        )
        with self._lock:
            self._counts["frames"] += 1
            self._last_reading = reading
            self._last_frame_s = time.monotonic()
            deliver = self._pending
            timer = None
            if deliver:
                self._pending = False
                timer, self._timer = self._timer, None
                self._last_fault = None
                self._counts["readings"] += 1
            elif self.mode is ThermometerMode.QUERY:
                # Frames nobody asked for: the module streams (auto-output left on). Not an error,
                # but worth seeing; they are never forwarded, so a stale value cannot slip in.
                self._counts["unsolicited"] += 1
            else:
                self._last_fault = None
        if timer is not None:
            timer.cancel()
        if deliver and self._on_reading is not None:
            self._on_reading(reading)
        self._status_changes.check()

    def _on_bad_frame(self, result: FrameResult) -> None:
        fault = result.fault or ReadingFault.MALFORMED
        raw_hex = result.raw.hex()
        with self._lock:
            self._counts[str(fault)] += 1
            self._last_fault = (fault, raw_hex)
        if self._on_fault is not None:
            self._on_fault(fault, raw_hex)
        self._status_changes.check()

    # --- timer thread --------------------------------------------------------------------

    def _on_timeout(self, request_id: int) -> None:
        with self._lock:
            if request_id != self._request_id or not self._pending:
                return
            self._pending = False
            self._timer = None
            self._counts[str(ReadingFault.TIMEOUT)] += 1
            self._last_fault = (ReadingFault.TIMEOUT, "")
        if self._on_fault is not None:
            self._on_fault(ReadingFault.TIMEOUT, "")
        self._status_changes.check()
