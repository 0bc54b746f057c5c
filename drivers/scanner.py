"""SerialScanner: a serial QR scanner module (GM65 family, or any line-mode scanner) as a Scanner.

Codes end at CR, LF or CRLF, or, when no tail arrives (the GM65 factory default), when the line
has been idle for ``idle_gap_s``. Input longer than ``max_code_bytes`` is dropped to its end and
reported once as a truncated Scan, so a flood can neither grow memory nor pass for a pass token.
Text is decoded as UTF-8, then GBK (the GM65 factory encoding), then with replacement characters:
the driver never raises on what it receives. A code seen again within ``reread_window_s`` is the
same presentation, not a second scan.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from enum import StrEnum

from drivers.base import (
    DeviceStatus,
    RereadWindow,
    Scan,
    ScanListener,
    StatusListener,
)
from drivers.frames import gm65, honeywell
from drivers.frames.code_text import CodeChunk, decode_text, flush_idle, split_codes
from drivers.gm65_setup import Gm65Setup
from drivers.serialdevice import SerialDevice
from drivers.status import counted


class ScannerFamily(StrEnum):
    GM65 = "gm65"  # GM65, GM60-S, GM812: command frames 7E 00 …, replies 02 00 …
    HONEYWELL = "honeywell"  # serial trigger SYN T CR / SYN U CR; text lines
    LINE = "line"  # any scanner that just sends text lines


_TRIGGER_FRAMES = {ScannerFamily.GM65: gm65.TRIGGER, ScannerFamily.HONEYWELL: honeywell.TRIGGER}


class SerialScanner(SerialDevice):
    """A serial QR scanner, implementing drivers.base.Scanner."""

    def __init__(
        self,
        name: str,
        url: str,
        *,
        family: ScannerFamily | str = ScannerFamily.GM65,
        baud: int = 9600,
        terminators: bytes = b"\r\n",
        idle_gap_s: float = 0.08,
        max_code_bytes: int = 2048,
        reread_window_s: float = 1.0,
        encodings: Sequence[str] = ("utf-8", "gbk"),
        configure_gm65: bool = False,
        gm65_settings: Sequence[str] = gm65.STARTUP_SETTINGS,
        gm65_read_mode: gm65.ReadMode | None = None,
        config_reply_timeout_s: float = 0.5,
        on_status: StatusListener | None = None,
        reopen_min_s: float = 0.2,
        reopen_max_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(name, url, baud, on_status, (reopen_min_s, reopen_max_s), self._on_tick)
        self.family = ScannerFamily(family)
        self._terminators = terminators
        self._idle_gap_s = idle_gap_s
        self._max_code_bytes = max_code_bytes
        self._reread = RereadWindow(reread_window_s)
        self._encodings = tuple(encodings)
        self._clock = clock
        self._on_scan: ScanListener | None = None

        settings = [gm65.SETTINGS[setting] for setting in gm65_settings]
        if gm65_read_mode is not None:
            settings.append(gm65.read_mode_setting(gm65_read_mode))
        if configure_gm65 and self.family is not ScannerFamily.GM65:
            raise ValueError("configure_gm65 needs family='gm65'")
        self._setup = (
            Gm65Setup(settings, reply_timeout_s=config_reply_timeout_s) if configure_gm65 else None
        )
        self._unverified = sorted(s.name for s in settings if not s.verified)

        # Reader-thread state (only the reader thread touches these).
        self._rest = b""
        self._dropping = 0
        self._last_rx_s = 0.0

    # --- Scanner protocol ----------------------------------------------------------------

    def start(self, on_scan: ScanListener) -> None:
        self._on_scan = on_scan
        self._transport.start()

    def stop(self) -> None:
        self._transport.stop()

    def trigger(self) -> bool:
        """Start one scan (GM65 command mode, Honeywell trigger). False: unsupported or down."""
        frame = _TRIGGER_FRAMES.get(self.family)
        return frame is not None and self._transport.write(frame)

    def status(self) -> DeviceStatus:
        with self._lock:
            extra = counted(self._counts)
            extra["family"] = str(self.family)
            setup = self._setup
            if setup is not None:
                extra["config_applied"] = ",".join(setup.applied)
                extra["config_unchanged"] = ",".join(setup.unchanged)
                extra["config_unverified"] = ",".join(self._unverified)
        failure = setup.failure if setup is not None else None
        return self._transport.device_status(
            f"configuration: {failure}" if failure else None, extra
        )

    # --- reader thread -------------------------------------------------------------------

    def _on_open(self) -> None:
        self._rest, self._dropping = b"", 0
        if self._setup is not None:
            frame = self._setup.begin(self._clock())
            if frame is not None:
                self._transport.write(frame)
            self._status_changes.check()

    def _on_bytes(self, data: bytes) -> None:
        now_s = self._clock()
        self._last_rx_s = now_s
        buf = self._rest + data
        if self.family is ScannerFamily.GM65 and not self._dropping:
            # Command replies share the line with code text; they can only start at a code
            # boundary, and no code starts with STX 00.
            while buf.startswith(gm65.REPLY_HEADER[:1]):
                reply, used = gm65.take_reply(buf)
                if reply is None:
                    if gm65.reply_pending(buf):
                        self._rest = buf
                        return
                    break
                self._on_reply(reply, now_s)
                buf = buf[used:]
        split = split_codes(buf, self._terminators, self._max_code_bytes, dropping=self._dropping)
        self._rest, self._dropping = split.rest, split.dropping
        for chunk in split.codes:
            self._emit(chunk, now_s)

    def _on_tick(self) -> None:
        now_s = self._clock()
        if (self._rest or self._dropping) and now_s - self._last_rx_s >= self._idle_gap_s:
            rest, dropping = self._rest, self._dropping
            self._rest, self._dropping = b"", 0
            if self.family is ScannerFamily.GM65 and gm65.reply_pending(rest):
                self._count("broken_replies")
            else:
                for chunk in flush_idle(rest, dropping):
                    self._emit(chunk, now_s)
        if self._setup is not None and self._setup.active:
            self._setup.on_tick(now_s)
            if not self._setup.active:
                self._status_changes.check()

    def _on_reply(self, reply: gm65.Reply, now_s: float) -> None:
        self._count("replies")
        if self._setup is None or not self._setup.active:
            return  # e.g. the acknowledgement of a trigger()
        frame = self._setup.on_reply(reply, now_s)
        if frame is not None:
            self._transport.write(frame)
        if not self._setup.active:
            self._status_changes.check()

    def _emit(self, chunk: CodeChunk, now_s: float) -> None:
        if chunk.truncated:
            self._count("truncated")
            scan = Scan(text="", source=self.name, truncated=True, raw_length=chunk.raw_length)
        else:
            text = decode_text(chunk.data, self._encodings)
            scan = Scan(text=text, source=self.name, raw_length=chunk.raw_length)
            if self._reread.is_reread(scan, now_s):
                self._count("rereads")
                return
            self._count("scans")
        if self._on_scan is not None:
            self._on_scan(scan)

    def _count(self, key: str) -> None:
        with self._lock:
            self._counts[key] += 1
