"""Logging for the journal: each record at its syslog priority, with the gate's fields.

Under systemd (``JOURNAL_STREAM`` names our stderr) records go to journald's native socket as
``PRIORITY=``, ``MESSAGE=`` and fields ``KAKOU_GATE``, ``KAKOU_LANE`` and ``KAKOU_SEQ``, so
``journalctl -p warning -u kakou-edge`` shows what matters and ``journalctl KAKOU_LANE=in-1``
one lane. Without the socket, each stderr line starts with ``<N>``, the priority prefix journald
reads from a service's output (sd-daemon(3)). Anywhere else: plain lines with time and level.

The lane comes from ``extra={"lane": ...}`` or else from the thread's name (``lane-<id>``,
``serial-<id>/scanner``, ``camera-<id>/camera``); the entry's sequence number from
``extra={"seq": ...}``.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import struct
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

JOURNAL_SOCKET = Path("/run/systemd/journal/socket")
IDENTIFIER = "kakou"
PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# syslog(3) priorities: err 3, warning 4, notice 5, info 6, debug 7.
_PRIORITIES = ((logging.CRITICAL, 2), (logging.ERROR, 3), (logging.WARNING, 4), (logging.INFO, 6))
_THREAD_LANE = re.compile(r"^(?:lane|serial|camera)-([^/]+)(?:/|$)")


def priority(levelno: int) -> int:
    """The syslog priority of a logging level (anything below INFO is debug, 7)."""
    for level, value in _PRIORITIES:
        if levelno >= level:
            return value
    return 7


def record_fields(record: logging.LogRecord, gate: str | None) -> dict[str, str]:
    """The structured fields of one record: gate, lane and entry sequence where known."""
    fields = {}
    if gate:
        fields["KAKOU_GATE"] = gate
    lane = getattr(record, "lane", None)
    if lane is None and (match := _THREAD_LANE.match(record.threadName or "")):
        lane = match.group(1)
    if lane is not None:
        fields["KAKOU_LANE"] = str(lane)
    seq = getattr(record, "seq", None)
    if seq is not None:
        fields["KAKOU_SEQ"] = str(seq)
    return fields


def journal_datagram(fields: Mapping[str, str]) -> bytes:
    """journald's native protocol: ``KEY=value`` lines; a value with a newline is sent as
    ``KEY``, a 64-bit little-endian length and the raw bytes (systemd.journal-fields(7))."""
    out = bytearray()
    for key, value in fields.items():
        data = value.encode("utf-8", "replace")
        if b"\n" in data:
            out += key.encode() + b"\n" + struct.pack("<Q", len(data)) + data + b"\n"
        else:
            out += key.encode() + b"=" + data + b"\n"
    return bytes(out)


class JournalHandler(logging.Handler):
    """Sends each record to journald's socket with its priority and fields."""

    def __init__(self, gate: str | None = None, path: Path | None = None) -> None:
        super().__init__()
        self.gate = gate
        self.path = path if path is not None else JOURNAL_SOCKET
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._lock_send = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
            if record.exc_info:
                message += "\n" + logging.Formatter().formatException(record.exc_info)
            fields = {
                "MESSAGE": message,
                "PRIORITY": str(priority(record.levelno)),
                "SYSLOG_IDENTIFIER": IDENTIFIER,
                "LOGGER": record.name,
                "CODE_FILE": record.pathname,
                "CODE_LINE": str(record.lineno),
                **record_fields(record, self.gate),
            }
            if record.funcName:
                fields["CODE_FUNC"] = record.funcName
            with self._lock_send:
                self._socket.sendto(journal_datagram(fields), str(self.path))
        except Exception:  # a log line must never take the gate down: logging's own fallback
            self.handleError(record)

    def close(self) -> None:
        self._socket.close()
        super().close()


class PriorityPrefixFormatter(logging.Formatter):
    """``<N>logger: message key=value…``: journald takes N as the line's priority."""

    def __init__(self, gate: str | None = None) -> None:
        super().__init__("%(name)s: %(message)s")
        self.gate = gate

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        fields = record_fields(record, self.gate)
        if fields:
            text += " " + " ".join(f"{key.lower()[6:]}={value}" for key, value in fields.items())
        prefix = f"<{priority(record.levelno)}>"
        return "\n".join(prefix + line for line in text.splitlines())


def under_journal(stream: TextIO | None = None) -> bool:
    """True when ``stream`` (stderr) is the journal stream systemd gave us
    (``JOURNAL_STREAM=dev:inode``; a child whose stderr was redirected inherits the variable)."""
    expected = os.environ.get("JOURNAL_STREAM", "")
    try:
        info = os.fstat((stream if stream is not None else sys.stderr).fileno())
    except (OSError, ValueError):
        return False
    return expected == f"{info.st_dev}:{info.st_ino}"


def configure(level: str = "INFO", *, gate: str | None = None) -> logging.Handler | None:
    """Install the root handler for a long-running command (``kakou run``) and return it.

    Like ``logging.basicConfig``, it changes nothing when the root logger already has a handler
    (a test's log capture, an embedding program's own set-up), and returns None then.
    """
    root = logging.getLogger()
    if root.handlers:
        return None
    handler: logging.Handler
    if under_journal() and JOURNAL_SOCKET.is_socket():
        handler = JournalHandler(gate)
    else:
        handler = logging.StreamHandler(sys.stderr)
        if under_journal():
            handler.setFormatter(PriorityPrefixFormatter(gate))
        else:
            handler.setFormatter(logging.Formatter(PLAIN_FORMAT))
    root.addHandler(handler)
    root.setLevel(level.upper())
    return handler
