"""The outbox: the only store API the sync layer uses.

Every entry gets an outbox row in the transaction that records it. The publisher reads
``pending`` rows in order, publishes them, and marks them published; only the community
receiver's acknowledgement (``mark_acked``) makes an entry eligible for deletion, and only
``purge_acked`` deletes, once retention allows. Broker acceptance alone never counts: a broker
can lose queued messages, the receiver's ack means the entry is stored on the other side.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from edge.entry_document import DocumentError, epoch_us
from edge.model import Entry
from edge.store import Store
from edge.store.errors import StoreCorrupt
from edge.store.records import ENTRY_COLUMNS, document_from_row

log = logging.getLogger(__name__)

_ENTRY_SELECT = ", ".join(f"e.{column}" for column in ENTRY_COLUMNS)
_PENDING_SQL = f"""
    SELECT o.position, o.queued_at, o.published_at, o.publish_count, o.acked_at, {_ENTRY_SELECT}
    FROM outbox AS o JOIN entries AS e ON e.id = o.entry_id
    WHERE o.acked_at IS NULL AND o.position > ?
    ORDER BY o.position
    LIMIT ?
"""  # noqa: S608  (built from the column constant; the limit is a bound parameter)


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """One entry waiting for (or holding) the community receiver's acknowledgement."""

    position: int
    entry: Entry
    queued_at: datetime
    published_at: datetime | None
    publish_count: int
    acked_at: datetime | None

    @property
    def entry_id(self) -> str:
        return self.entry.id

    @property
    def gate(self) -> str:
        return self.entry.gate

    @property
    def seq(self) -> int:
        return self.entry.seq


def _optional_time(value: object) -> datetime | None:
    return None if value is None else datetime.fromisoformat(str(value))


def pending(store: Store, limit: int = 100, *, after_position: int = 0) -> list[OutboxRow]:
    """Unacknowledged rows, oldest first (within a gate that is seq order).

    Rows already published but not acknowledged are included: after a reconnect the publisher
    sends them again, and the receiver treats a repeated (gate, seq) as a duplicate.
    ``after_position`` starts after that outbox position: the publisher's cursor, so rows it
    already has in flight are not read and parsed again at every call.
    """
    if limit < 1:
        raise ValueError("limit must be 1 or more")
    rows = store._fetch(_PENDING_SQL, [after_position, limit])
    return [
        OutboxRow(
            position=int(row["position"] or 0),
            entry=store._entry(row),
            queued_at=datetime.fromisoformat(str(row["queued_at"])),
            published_at=_optional_time(row["published_at"]),
            publish_count=int(row["publish_count"] or 0),
            acked_at=_optional_time(row["acked_at"]),
        )
        for row in rows
    ]


@dataclass(frozen=True, slots=True)
class PendingDocument:
    """An unacknowledged entry as its JSON document (the payload contract), ready to send."""

    position: int
    entry_id: str
    community: str
    gate: str
    seq: int
    document: dict[str, Any]


def pending_documents(
    store: Store, limit: int = 100, *, after_position: int = 0
) -> list[PendingDocument]:
    """``pending`` for the publisher's hot path: each entry as its document, rebuilt from its
    row without the strict parse into an ``Entry`` (which is most of ``pending``'s cost).

    The rows were written from checked entries, and the receiver checks every document it gets,
    so sending them unparsed loses no safety; it lets one core drain a backlog several times
    faster. A row that cannot be rebuilt raises ``StoreCorrupt``, as ``pending`` does.
    """
    if limit < 1:
        raise ValueError("limit must be 1 or more")
    result = []
    for row in store._fetch(_PENDING_SQL, [after_position, limit]):
        try:
            document = document_from_row(row)
        except DocumentError as exc:
            raise StoreCorrupt(f"entry row {row.get('id')!r} is unreadable: {exc}") from exc
        result.append(
            PendingDocument(
                position=int(row["position"] or 0),
                entry_id=str(row["id"]),
                community=str(row["community"]),
                gate=str(row["gate"]),
                seq=int(row["seq"] or 0),
                document=document,
            )
        )
    return result


def pending_count(store: Store) -> int:
    """How many entries still wait for an acknowledgement (the sync backlog, for status)."""
    return int(store._scalar("SELECT count(*) FROM outbox WHERE acked_at IS NULL") or 0)


def mark_published(store: Store, entry_ids: Iterable[str], at: datetime) -> int:
    """Record that these entries were handed to the broker; returns rows still unacknowledged.

    Publishing is not acknowledgement: these rows stay pending until ``mark_acked``.
    """
    at_text = at.isoformat()
    with store._writing() as db:
        cursor = db.conn.executemany(
            """
            UPDATE outbox SET published_at = ?, publish_count = publish_count + 1
            WHERE entry_id = ? AND acked_at IS NULL
            """,
            [(at_text, entry_id) for entry_id in entry_ids],
        )
        return max(cursor.rowcount, 0)


def mark_acked(
    store: Store,
    gate: str,
    *,
    at: datetime,
    up_to_seq: int | None = None,
    entry_ids: Iterable[str] | None = None,
    after_seq: int = 0,
) -> int:
    """Record the receiver's acknowledgement for one gate; returns how many rows it newly acked.

    Give ``up_to_seq`` for a cumulative ack (the receiver holds every seq up to it, which it can
    prove because sequences have no gaps) or ``entry_ids`` for individual acks. Acks for a seq
    this edge never issued are logged: two devices configured with the same gate id look so.
    ``after_seq`` (with ``up_to_seq``) says everything up to it is already acknowledged, so only
    the newer range is visited: a cumulative ack otherwise walks every row from seq 1, and a
    publisher applying thousands of acks over a long backlog would pay for that each time.
    """
    if (up_to_seq is None) == (entry_ids is None):
        raise ValueError("give exactly one of up_to_seq or entry_ids")
    at_text = at.isoformat()
    community = store.community
    with store._writing() as db:
        if up_to_seq is not None:
            (last_seq,) = db.execute(
                "SELECT coalesce(max(last_seq), 0) FROM sequences WHERE community = ? AND gate = ?",
                [community, gate],
            ).fetchone()
            if up_to_seq > int(last_seq):
                log.warning(
                    "receiver acked %s/%s up to seq %d but this edge issued only %d",
                    community,
                    gate,
                    up_to_seq,
                    last_seq,
                )
            cursor = db.execute(
                """
                UPDATE outbox SET acked_at = ?
                WHERE community = ? AND gate = ? AND seq > ? AND seq <= ? AND acked_at IS NULL
                """,
                [at_text, community, gate, after_seq, up_to_seq],
            )
        else:
            assert entry_ids is not None  # narrowed by the check above
            cursor = db.conn.executemany(
                """
                UPDATE outbox SET acked_at = ?
                WHERE community = ? AND gate = ? AND entry_id = ? AND acked_at IS NULL
                """,
                [(at_text, community, gate, entry_id) for entry_id in entry_ids],
            )
        return max(cursor.rowcount, 0)


def purge_acked(store: Store, older_than: datetime) -> int:
    """Delete entries that are both acknowledged and recorded before ``older_than``.

    Unacknowledged entries are never deleted, whatever their age (the schema refuses it too).
    The sequences table keeps the numbers used, so a purge can never lead to a reused seq.
    """
    with store._writing() as db:
        cursor = db.execute(
            """
            DELETE FROM entries
            WHERE recorded_at_us < ?
              AND id IN (SELECT entry_id FROM outbox WHERE acked_at IS NOT NULL)
            """,
            [epoch_us(older_than, "older_than")],
        )
        return max(cursor.rowcount, 0)
