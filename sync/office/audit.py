"""The office's audit log: every change, and every search of a person's movements.

``record`` writes in the caller's transaction, so a change and its audit line commit together or
not at all. Lines name the officer by id and by name (the name as it was then); ``community``
ties a line to a community, so an admin limited to some communities reads only their lines.
Secrets never reach it: a failed sign-in records the name tried, never what was typed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from edge.entry_document import epoch_us
from sync.office.where import Where
from sync.receiver.db import Query, ReceiverDb

if TYPE_CHECKING:
    from sync.office.accounts import Officer

MAX_DETAIL_CHARS = 500

ACTIONS = (
    "signed_in",
    "signed_out",
    "sign_in_failed",
    "officer_added",
    "officer_disabled",
    "officer_enabled",
    "secret_reset",
    "alert_acknowledged",
    "roster.import",
    "pass.issue",
    "pass.revoke",
    "pass.print",
    "downlink.revocations",
    "downlink.keys",
    "downlink.policy",
    "downlink.revocations.failed",
    "downlink.keys.failed",
    "downlink.policy.failed",
    "register_searched",
    "register_exported",
)
"""Every action the office audits, in the order the audit page offers them; each has its words
(``action.<code>``) in ``sync.office.messages`` (``tests/office/test_pages.py`` walks the code
for the actions it writes)."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS office_audit (
    row_id {serial},
    at TEXT NOT NULL,
    at_us BIGINT NOT NULL,
    officer_id TEXT,
    officer_name TEXT,
    action TEXT NOT NULL,
    community TEXT,
    detail TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS office_audit_by_time ON office_audit (at_us)
"""


def ensure_schema(db: ReceiverDb) -> None:
    db.ensure_tables(SCHEMA)


@dataclass(frozen=True, slots=True)
class AuditLine:
    row_id: int
    at: datetime
    officer_id: str | None
    officer_name: str | None
    action: str
    community: str | None
    detail: str


def record(
    q: Query,
    *,
    officer: Officer | None,
    action: str,
    detail: str,
    now: datetime,
    community: str | None = None,
) -> None:
    """One audit line, in ``q``'s transaction. ``officer`` None: the command line, or nobody
    signed in (a failed sign-in)."""
    q.run(
        "INSERT INTO office_audit (at, at_us, officer_id, officer_name, action, community, "
        "detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            now.isoformat(),
            epoch_us(now),
            None if officer is None else officer.id,
            None if officer is None else officer.name,
            action,
            community,
            detail[:MAX_DETAIL_CHARS],
        ],
    )


def read(
    db: ReceiverDb,
    *,
    communities: Sequence[str] | None,
    officers: Sequence[str] = (),
    officer_id: str | None = None,
    action: str | None = None,
    before: int | None = None,
    limit: int = 100,
) -> list[AuditLine]:
    """Newest first, paged by ``before`` (a row id). ``communities`` None: every line;
    otherwise the lines of those communities, and lines tied to no community (sign-ins,
    account changes) written by one of ``officers`` (ids: the accounts the reader covers)."""
    where = Where()
    with db.reading() as q:
        if communities is not None:
            either = ["1 = 0"]
            params: list[Any] = []
            if communities:
                in_list, values = q.in_list(list(communities))
                either.append(f"community {in_list}")
                params += values
            if officers:
                in_list, values = q.in_list(list(officers))
                either.append(f"(community IS NULL AND officer_id {in_list})")
                params += values
            where.add(f"({' OR '.join(either)})", *params)
        where.equal("officer_id", officer_id)
        where.equal("action", action)
        where.older_than(before)
        rows = q.all(
            "SELECT row_id, at, officer_id, officer_name, action, community, detail "  # noqa: S608
            f"FROM office_audit {where.clause()} ORDER BY row_id DESC LIMIT ?",
            [*where.params, limit],
        )
    return [
        AuditLine(
            row_id=int(row[0]),
            at=datetime.fromisoformat(str(row[1])),
            officer_id=None if row[2] is None else str(row[2]),
            officer_name=None if row[3] is None else str(row[3]),
            action=str(row[4]),
            community=None if row[5] is None else str(row[5]),
            detail=str(row[6]),
        )
        for row in rows
    ]
