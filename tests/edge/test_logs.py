"""edge/logs.py: journal priorities and the gate's fields, on a real datagram socket."""

from __future__ import annotations

import logging
import os
import socket
import struct
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge import logs


def parse_datagram(data: bytes) -> dict[str, str]:
    """journald's side of the native protocol (text and length-prefixed binary fields)."""
    fields: dict[str, str] = {}
    while data:
        line, _, rest = data.partition(b"\n")
        if b"=" in line:
            key, _, value = line.partition(b"=")
            fields[key.decode()] = value.decode()
            data = rest
        else:
            (size,) = struct.unpack("<Q", rest[:8])
            fields[line.decode()] = rest[8 : 8 + size].decode()
            assert rest[8 + size : 9 + size] == b"\n"
            data = rest[9 + size :]
    return fields


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[socket.socket]:
    """A datagram socket standing in for /run/systemd/journal/socket."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(tmp_path / "journal.socket"))
    sock.settimeout(5)
    yield sock
    sock.close()


def record(level: int, message: str, **extra: object) -> logging.LogRecord:
    return logging.getLogger("edge.lane").makeRecord(
        "edge.lane", level, __file__, 1, message, (), None, extra=extra
    )


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        (logging.CRITICAL, 2),
        (logging.ERROR, 3),
        (logging.WARNING, 4),
        (logging.INFO, 6),
        (logging.DEBUG, 7),
    ],
)
def test_levels_map_to_syslog_priorities(level: int, expected: int) -> None:
    assert logs.priority(level) == expected


def test_a_record_reaches_the_journal_with_priority_gate_lane_and_seq(
    tmp_path: Path, journal: socket.socket
) -> None:
    handler = logs.JournalHandler("north", path=tmp_path / "journal.socket")
    handler.emit(record(logging.WARNING, "fever on lane in-1", lane="in-1", seq=42))
    fields = parse_datagram(journal.recv(65536))
    handler.close()
    assert fields["MESSAGE"] == "fever on lane in-1"
    assert fields["PRIORITY"] == "4"
    assert fields["SYSLOG_IDENTIFIER"] == "kakou"
    assert (fields["KAKOU_GATE"], fields["KAKOU_LANE"], fields["KAKOU_SEQ"]) == (
        "north",
        "in-1",
        "42",
    )
    assert fields["LOGGER"] == "edge.lane"


def test_the_lane_comes_from_the_thread_and_a_traceback_stays_one_entry(
    tmp_path: Path, journal: socket.socket
) -> None:
    handler = logs.JournalHandler(None, path=tmp_path / "journal.socket")
    logger = logging.getLogger("kakou.test.logs")
    logger.propagate = False
    logger.addHandler(handler)

    def fail_in_a_lane() -> None:
        try:
            raise RuntimeError("scanner gone")
        except RuntimeError:
            logger.exception("reader died")

    thread = threading.Thread(target=fail_in_a_lane, name="serial-out-2/scanner")
    thread.start()
    thread.join()
    logger.removeHandler(handler)
    handler.close()
    fields = parse_datagram(journal.recv(65536))
    assert fields["PRIORITY"] == "3"
    assert fields["KAKOU_LANE"] == "out-2"
    assert "KAKOU_GATE" not in fields
    assert fields["MESSAGE"].startswith("reader died\nTraceback")
    assert "RuntimeError: scanner gone" in fields["MESSAGE"]


def test_without_the_socket_each_stderr_line_carries_its_priority_prefix() -> None:
    formatter = logs.PriorityPrefixFormatter("north")
    line = formatter.format(record(logging.ERROR, "store failed\nsecond line", lane="in-1"))
    assert line.splitlines() == [
        "<3>edge.lane: store failed",
        "<3>second line gate=north lane=in-1",
    ]
    assert formatter.format(record(logging.INFO, "started")) == "<6>edge.lane: started gate=north"


def test_under_journal_only_when_journal_stream_names_this_stream(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with (tmp_path / "err").open("w") as stream:
        info = os.fstat(stream.fileno())
        monkeypatch.delenv("JOURNAL_STREAM", raising=False)
        assert not logs.under_journal(stream)
        monkeypatch.setenv("JOURNAL_STREAM", f"{info.st_dev}:{info.st_ino + 1}")
        assert not logs.under_journal(stream)  # inherited by a child whose stderr moved
        monkeypatch.setenv("JOURNAL_STREAM", f"{info.st_dev}:{info.st_ino}")
        assert logs.under_journal(stream)


def test_configure_picks_the_journal_under_systemd_and_leaves_a_configured_root_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, journal: socket.socket
) -> None:
    root = logging.getLogger()
    saved = root.handlers[:]
    for handler in saved:
        root.removeHandler(handler)
    try:
        with (tmp_path / "err").open("w") as stream:
            info = os.fstat(stream.fileno())
            monkeypatch.setattr(sys, "stderr", stream)
            monkeypatch.setenv("JOURNAL_STREAM", f"{info.st_dev}:{info.st_ino}")
            monkeypatch.setattr(logs, "JOURNAL_SOCKET", tmp_path / "journal.socket")
            handler = logs.configure("WARNING", gate="north")
            assert isinstance(handler, logs.JournalHandler)
            assert logs.configure("INFO") is None  # a second call changes nothing
            logging.getLogger("edge.health").warning("disk filling")
            fields = parse_datagram(journal.recv(65536))
            assert (fields["MESSAGE"], fields["PRIORITY"]) == ("disk filling", "4")
            root.removeHandler(handler)
            handler.close()
    finally:
        for handler in saved:
            root.addHandler(handler)
