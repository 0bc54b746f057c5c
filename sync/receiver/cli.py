"""What ``kakou server`` does, as plain functions: the click commands in ``edge.cli.server`` only
parse options and print (style.md §4). Tests and the fault campaign call these directly."""

from __future__ import annotations

import csv
import io
import json
import logging
import signal
import threading
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from datetime import UTC, date, datetime
from pathlib import Path
from types import FrameType
from typing import Any
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edge import keys as key_files
from edge.policy import Policy
from sync.contract import (
    DownlinkDocument,
    DownlinkKind,
    KeysBody,
    PolicyBody,
    RevocationsBody,
    downlink_topic,
)
from sync.downlink import sign_document
from sync.mqtt import publish_once
from sync.receiver.db import DayCounts, LogGaps, ReceiverDb, open_db
from sync.receiver.receiver import Receiver
from sync.settings import DatabaseSettings, ServerSettings

log = logging.getLogger(__name__)

REPORT_COLUMNS = (
    "day",
    "community",
    "gate",
    "total",
    "passed",
    "overridden",
    "denied",
    "fevers",
    "abandoned",
    "visitors",
    "clock_unsynced",
)


def open_database(database: DatabaseSettings, *, receiver: str = "receiver") -> ReceiverDb:
    return open_db(path=database.path, dsn=database.read_dsn(), receiver=receiver)


# ----------------------------------------------------------------------------------- run


def run_server(settings: ServerSettings, stop: threading.Event | None = None) -> int:
    """Run one receiver until SIGTERM/SIGINT (or ``stop`` is set); returns the exit code."""
    stop = stop or threading.Event()
    db = open_database(settings.database, receiver=settings.receiver.name)
    receiver = Receiver(settings, db)

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
    receiver.start()
    try:
        stop.wait()
    finally:
        receiver.stop()
        db.close()
        stats = receiver.stats
        log.info(
            "receiver stopped: %d messages, %d stored, %d duplicates, %d conflicts, %d rejects "
            "(%d more over their gate's limit, not stored)",
            stats.messages,
            stats.stored,
            stats.duplicates,
            stats.conflicts,
            stats.rejects,
            stats.rejects_dropped,
        )
    return 0


# ---------------------------------------------------------------------------------- gaps


def format_gaps(gaps: Sequence[LogGaps]) -> str:
    """One line per gate log; 'complete' when nothing is missing or still on the way."""
    if not gaps:
        return "no entries received yet"
    lines = []
    for item in gaps:
        where = f"{item.community}/{item.gate} log {item.log_id[:12]}"
        problems = []
        if item.missing:
            ranges = ", ".join(
                str(first) if first == last else f"{first}-{last}" for first, last in item.missing
            )
            problems.append(f"missing {item.missing_count} (seq {ranges})")
        if item.unreceived is not None:
            first, last = item.unreceived
            problems.append(f"not yet received {last - first + 1} (seq {first}-{last})")
        state = "; ".join(problems) if problems else "complete"
        lines.append(f"{where}: stored 1-{item.max_seq}, contiguous {item.contiguous_seq}: {state}")
    return "\n".join(lines)


def gaps_json(gaps: Sequence[LogGaps]) -> str:
    return json.dumps([asdict(item) for item in gaps], indent=2)


def has_gaps(gaps: Iterable[LogGaps]) -> bool:
    return any(item.missing or item.unreceived for item in gaps)


# -------------------------------------------------------------------------------- report


def daily_report(db: ReceiverDb, day: date, timezone: str) -> list[DayCounts]:
    return db.daily_counts(day, ZoneInfo(timezone))


def report_rows(rows: Sequence[DayCounts]) -> list[list[str]]:
    return [[str(getattr(row, column)) for column in REPORT_COLUMNS] for row in rows]


def format_report(rows: Sequence[DayCounts]) -> str:
    table = [list(REPORT_COLUMNS), *report_rows(rows)]
    widths = [max(len(line[index]) for line in table) for index in range(len(REPORT_COLUMNS))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in table
    )


def report_csv(rows: Sequence[DayCounts]) -> str:
    """CSV with a header row, UTF-8; opens in the office's spreadsheet as it is."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(REPORT_COLUMNS)
    writer.writerows(report_rows(rows))
    return buffer.getvalue()


# ------------------------------------------------------------------------------- publish


def revocations_body(path: Path) -> RevocationsBody:
    """The full revocation list from a text file (one pass id a line, as the gates read it)."""
    return RevocationsBody(pass_ids=sorted(key_files.load_revocations(path)))


def keys_body(key_dir: Path, revoked: Sequence[str] = ()) -> KeysBody:
    """Every ``*.pub`` in ``key_dir`` to trust, and key ids to stop trusting."""
    loaded = key_files.load_public_dir(key_dir)
    return KeysBody(
        keys={kid: key_files.public_pem_of(key).decode("ascii") for kid, key in loaded.items()},
        revoked=list(revoked),
    )


def policy_body(path: Path) -> PolicyBody:
    """A policy from a TOML file (the same keys as ``[policy]`` in the gate's configuration)."""
    data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    policy = Policy.model_validate(data.get("policy", data))
    return PolicyBody(policy=policy.model_dump(mode="json"))


def publish_downlink(
    settings: ServerSettings,
    db: ReceiverDb,
    *,
    community: str,
    kind: DownlinkKind,
    body: RevocationsBody | KeysBody | PolicyBody,
    key: Ed25519PrivateKey,
    kid: str,
    version: int | None = None,
    now: datetime | None = None,
) -> DownlinkDocument:
    """Sign ``body`` as the next version of ``kind`` and publish it retained to every gate.

    The version is one more than the last this database recorded unless given; a version that
    is not newer is refused here, since every gate would refuse it anyway.
    """
    now = now or datetime.now(UTC)
    last = db.last_downlink_version(community, kind.value)
    version = last + 1 if version is None else version
    if version <= last:
        raise ValueError(f"version {version} is not newer than the last published ({last})")
    document = DownlinkDocument(
        type=kind,
        community=community,
        version=version,
        issued_at=now,
        body=body.model_dump(mode="json"),
    )
    envelope = sign_document(document, key=key, kid=kid)
    # Recorded first: if publishing then fails, this number is used up and the next try takes
    # a higher one, so no two different documents ever share a version.
    db.record_downlink(
        community=community,
        kind=kind.value,
        version=version,
        issued_at=now,
        kid=kid,
        envelope=envelope.decode("utf-8"),
        now=now,
    )
    publish_once(
        settings.broker,
        client_id=f"kakou-{settings.receiver.name}-publish",
        topic=downlink_topic(community, kind),
        payload=envelope,
        retain=True,
    )
    log.info("published %s version %d for %s", kind, version, community)
    return document
