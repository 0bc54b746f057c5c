"""Officers: the office's own accounts, their communities, sign-in, lock-out and sessions.

An officer sees only the communities named on the account; a district admin's account names
none and sees them all. Secrets are hashed with the gate's KDF (``edge.store.guards.hash_secret``,
scrypt with a salt); session tokens are kept only as their SHA-256, so a copied database signs
nobody in.

Lock-out is counted by the database, before the secret is checked: a sign-in first claims one
of the account's ``MAX_FAILURES`` tries with a single conditional UPDATE (no read-then-write),
and only a claimed try is hashed and compared. However many guesses arrive at once, from however
many processes sharing the database, at most ``MAX_FAILURES`` are checked before the account
locks for ``LOCK_FOR``; a right secret gives the tries back.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from fastapi import HTTPException

from edge.entry_document import epoch_us
from edge.store.guards import MIN_ADMIN_SECRET_CHARS, hash_secret, verify_secret
from sync.contract import ID_PATTERN
from sync.office import audit
from sync.receiver.db import Query, ReceiverDb

MAX_FAILURES = 5
LOCK_FOR = timedelta(minutes=15)
MIN_SECRET_CHARS = MIN_ADMIN_SECRET_CHARS
"""Every officer reads people's movements: a pass phrase of 10 characters or more, not a PIN."""
MAX_NAME_CHARS = 32
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # what epoch_us counts from
ALL = "*"
"""What ``communities`` holds for a district admin: every community."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS office_officers (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    communities TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1,
    failures INTEGER NOT NULL DEFAULT 0,
    locked_until_us BIGINT,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS office_sessions (
    token_hash TEXT PRIMARY KEY,
    officer_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at_us BIGINT NOT NULL,
    ended_at TEXT
);
CREATE INDEX IF NOT EXISTS office_sessions_by_officer ON office_sessions (officer_id)
"""


def ensure_schema(db: ReceiverDb) -> None:
    db.ensure_tables(SCHEMA)


class Role(StrEnum):
    OFFICER = "officer"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class Officer:
    """A signed-in officer (or an account as listed). ``communities`` is None for a district
    admin, who sees every community; ``known`` is every community the database knows of,
    filled in at sign-in so ``scope(None)`` can name them."""

    id: str
    name: str
    role: Role
    communities: tuple[str, ...] | None
    active: bool = True
    known: tuple[str, ...] = ()

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    def sees(self, community: str) -> bool:
        return self.communities is None or community in self.communities

    def scope(self, requested: str | None = None) -> list[str]:
        """The communities a query may touch: ``requested`` alone (403 if not this officer's),
        or every community the officer sees."""
        if requested:
            if not self.sees(requested):
                raise HTTPException(status_code=403, detail="not one of your communities")
            return [requested]
        if self.communities is None:
            return list(self.known)
        return list(self.communities)

    def covers(self, other: Officer) -> bool:
        """Whether this admin's communities include all of ``other``'s (who they may manage)."""
        if self.communities is None:
            return True
        if other.communities is None:
            return False
        return set(other.communities) <= set(self.communities)

    @property
    def communities_text(self) -> str:
        return ALL if self.communities is None else ", ".join(self.communities)


@dataclass(frozen=True, slots=True)
class SignInFailure:
    """``unknown`` and ``wrong_secret`` are answered alike; ``locked`` says until when."""

    code: str
    locked_until: datetime | None = None


class AccountProblem(ValueError):  # noqa: N818  (named for the condition)
    """An account change that cannot be made; ``code`` names why (for the page's words)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def secret_problem(secret: str) -> str | None:
    if len(secret) < MIN_SECRET_CHARS:
        return f"a password needs at least {MIN_SECRET_CHARS} characters"
    return None


def parse_communities(values: Iterable[str]) -> tuple[str, ...] | None:
    """Community ids as an account keeps them: sorted, unique; ``*`` alone means all."""
    cleaned = sorted({value.strip() for value in values if value.strip()})
    if cleaned == [ALL]:
        return None
    if not cleaned:
        raise AccountProblem("no_community", "name at least one community (or * for all)")
    bad = [value for value in cleaned if not ID_PATTERN.fullmatch(value)]
    if bad:
        raise AccountProblem("bad_community", f"not a community id: {', '.join(bad)}")
    return tuple(cleaned)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def _communities(text: str) -> tuple[str, ...] | None:
    return None if text == ALL else tuple(part for part in text.split(",") if part)


def _stored(communities: tuple[str, ...] | None) -> str:
    return ALL if communities is None else ",".join(communities)


_COLUMNS = "id, name, role, communities, active"


def _officer(row: Sequence[Any]) -> Officer:
    return Officer(
        id=str(row[0]),
        name=str(row[1]),
        role=Role(str(row[2])),
        communities=_communities(str(row[3])),
        active=bool(row[4]),
    )


# ------------------------------------------------------------------------------ accounts


def add(
    db: ReceiverDb,
    *,
    name: str,
    role: Role,
    communities: tuple[str, ...] | None,
    secret: str,
    by: Officer | None,
    now: datetime,
) -> Officer:
    """Create an account; ``AccountProblem`` for a bad name, a taken one or a short secret.
    ``by`` is the admin who made it (None: the ``kakou server officer`` command)."""
    name = name.strip()
    if not name or len(name) > MAX_NAME_CHARS:
        raise AccountProblem("bad_name", f"a name is 1 to {MAX_NAME_CHARS} characters")
    problem = secret_problem(secret)
    if problem is not None:
        raise AccountProblem("weak_secret", problem)
    officer = Officer(f"o-{uuid.uuid4().hex[:10]}", name, role, communities)
    if by is not None and not by.covers(officer):
        raise AccountProblem("not_yours", "you may only give communities you see yourself")
    secret_hash = hash_secret(secret)
    with db.writing() as q:
        if q.scalar("SELECT id FROM office_officers WHERE name = ?", [name]) is not None:
            # a disabled account keeps its name: the audit log shows it
            raise AccountProblem("name_taken", f"there is already an officer named {name!r}")
        q.run(
            "INSERT INTO office_officers (id, name, role, communities, secret_hash, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [officer.id, name, role.value, _stored(communities), secret_hash, now.isoformat()],
        )
        audit.record(
            q,
            officer=by,
            action="officer_added",
            detail=f"{name} ({role.value}; {officer.communities_text})",
            now=now,
        )
    return officer


def every(db: ReceiverDb) -> list[Officer]:
    """Every account, disabled ones too, by name."""
    with db.reading() as q:
        rows = q.all(f"SELECT {_COLUMNS} FROM office_officers ORDER BY name")  # noqa: S608
    return [_officer(row) for row in rows]


def named(db: ReceiverDb, name: str) -> Officer | None:
    with db.reading() as q:
        row = q.one(
            f"SELECT {_COLUMNS} FROM office_officers WHERE name = ?",  # noqa: S608
            [name.strip()],
        )
    return None if row is None else _officer(row)


def get(db: ReceiverDb, officer_id: str) -> Officer | None:
    with db.reading() as q:
        row = q.one(
            f"SELECT {_COLUMNS} FROM office_officers WHERE id = ?",  # noqa: S608
            [officer_id],
        )
    return None if row is None else _officer(row)


def _changeable(q: Query, officer_id: str, by: Officer | None) -> Officer:
    row = q.one(
        f"SELECT {_COLUMNS} FROM office_officers WHERE id = ?",  # noqa: S608
        [officer_id],
    )
    if row is None:
        raise AccountProblem("unknown", "no such account")
    target = _officer(row)
    if by is not None and not by.covers(target):
        raise AccountProblem("not_yours", "that account sees communities you do not")
    return target


def _keep_an_admin(q: Query, target: Officer) -> None:
    if target.role is not Role.ADMIN or not target.active:
        return
    others = q.scalar(
        "SELECT count(*) FROM office_officers WHERE role = 'admin' AND active = 1 AND id != ?",
        [target.id],
    )
    if not others:
        raise AccountProblem("last_admin", "the office needs at least one active admin")


def set_active(
    db: ReceiverDb, officer_id: str, *, active: bool, by: Officer | None, now: datetime
) -> Officer:
    """Disable an account (its sessions end) or enable it again (its lock-out lifted)."""
    with db.writing() as q:
        target = _changeable(q, officer_id, by)
        if not active:
            _keep_an_admin(q, target)
            _end_sessions(q, target.id, now)
        q.run(
            "UPDATE office_officers SET active = ?, failures = 0, locked_until_us = NULL "
            "WHERE id = ?",
            [int(active), target.id],
        )
        action = "officer_enabled" if active else "officer_disabled"
        audit.record(q, officer=by, action=action, detail=target.name, now=now)
    return Officer(target.id, target.name, target.role, target.communities, active)


def reset_secret(
    db: ReceiverDb, officer_id: str, secret: str, *, by: Officer | None, now: datetime
) -> Officer:
    """Set a new password: the account's sessions end and any lock-out is lifted."""
    problem = secret_problem(secret)
    if problem is not None:
        raise AccountProblem("weak_secret", problem)
    secret_hash = hash_secret(secret)
    with db.writing() as q:
        target = _changeable(q, officer_id, by)
        q.run(
            "UPDATE office_officers SET secret_hash = ?, failures = 0, locked_until_us = NULL "
            "WHERE id = ?",
            [secret_hash, target.id],
        )
        _end_sessions(q, target.id, now)
        audit.record(q, officer=by, action="secret_reset", detail=target.name, now=now)
    return target


def _end_sessions(q: Query, officer_id: str, now: datetime) -> None:
    q.run(
        "UPDATE office_sessions SET ended_at = ? WHERE officer_id = ? AND ended_at IS NULL",
        [now.isoformat(), officer_id],
    )


# ------------------------------------------------------------------------------- sign-in

_CLAIM_TRY = """
UPDATE office_officers SET
    failures = CASE WHEN locked_until_us IS NOT NULL THEN 1 ELSE failures + 1 END,
    locked_until_us = CASE
        WHEN (CASE WHEN locked_until_us IS NOT NULL THEN 1 ELSE failures + 1 END) >= ?
        THEN ? ELSE NULL END
WHERE id = ? AND active = 1 AND (locked_until_us IS NULL OR locked_until_us <= ?)
"""
"""One try claimed, in one statement (old values on the right of SET): the try that reaches
``MAX_FAILURES`` locks the account at once, before its secret is even checked, so parallel
guesses find it locked; a lock that has run out starts the count again."""


def sign_in(
    db: ReceiverDb, name: str, secret: str, *, now: datetime, session_for: timedelta
) -> tuple[Officer, str] | SignInFailure:
    """Check the secret; on success a new session token (given once, stored hashed)."""
    found = named(db, name)
    if found is None or not found.active:
        hash_secret(secret)  # the same work as a real check: the answer's time names nobody
        with db.writing() as q:
            audit.record(
                q, officer=None, action="sign_in_failed", detail=f"unknown: {name[:64]}", now=now
            )
        return SignInFailure("unknown")
    now_us = epoch_us(now)
    with db.writing() as q:
        claimed = q.run(_CLAIM_TRY, [MAX_FAILURES, epoch_us(now + LOCK_FOR), found.id, now_us])
        if not claimed:
            locked_us = q.scalar(
                "SELECT locked_until_us FROM office_officers WHERE id = ?", [found.id]
            )
            audit.record(q, officer=found, action="sign_in_failed", detail="locked", now=now)
    if not claimed:
        until = now if locked_us is None else _from_us(int(locked_us))
        return SignInFailure("locked", until)
    with db.reading() as q:
        secret_hash = q.scalar("SELECT secret_hash FROM office_officers WHERE id = ?", [found.id])
    if secret_hash is None or not verify_secret(secret, str(secret_hash)):
        with db.writing() as q:
            audit.record(q, officer=found, action="sign_in_failed", detail="wrong secret", now=now)
        return SignInFailure("wrong_secret")
    token = secrets.token_urlsafe(32)
    with db.writing() as q:
        q.run(
            "UPDATE office_officers SET failures = 0, locked_until_us = NULL WHERE id = ?",
            [found.id],
        )
        q.run(
            "INSERT INTO office_sessions (token_hash, officer_id, created_at, expires_at_us) "
            "VALUES (?, ?, ?, ?)",
            [_token_hash(token), found.id, now.isoformat(), epoch_us(now + session_for)],
        )
        audit.record(q, officer=found, action="signed_in", detail="", now=now)
    return found, token


def _from_us(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)


def session(db: ReceiverDb, token: str, *, now: datetime) -> Officer | None:
    """The officer a live session token belongs to, or None (unknown, ended, expired,
    disabled), with every known community filled in for a district admin."""
    with db.reading() as q:
        row = q.one(
            "SELECT o.id, o.name, o.role, o.communities, o.active FROM office_sessions s "
            "JOIN office_officers o ON o.id = s.officer_id "
            "WHERE s.token_hash = ? AND s.ended_at IS NULL AND o.active = 1 "
            "AND s.expires_at_us > ?",
            [_token_hash(token), epoch_us(now)],
        )
        if row is None:
            return None
        officer = _officer(row)
        if officer.communities is not None:
            return officer
        known = known_communities(q)
    return Officer(officer.id, officer.name, officer.role, None, True, known)


def known_communities(q: Query) -> tuple[str, ...]:
    """Every community the database has heard of: gates' logs, statuses and alerts, and the
    accounts."""
    found = {
        str(row[0])
        for sql in (
            "SELECT DISTINCT community FROM logs",
            "SELECT DISTINCT community FROM gate_status",
            "SELECT DISTINCT community FROM office_alerts",
        )
        for row in q.all(sql)
    }
    for (text,) in q.all("SELECT DISTINCT communities FROM office_officers"):
        found.update(_communities(str(text)) or ())
    return tuple(sorted(found))


def sign_out(db: ReceiverDb, token: str, *, now: datetime) -> None:
    officer = session(db, token, now=now)
    with db.writing() as q:
        q.run(
            "UPDATE office_sessions SET ended_at = ? WHERE token_hash = ? AND ended_at IS NULL",
            [now.isoformat(), _token_hash(token)],
        )
        if officer is not None:
            audit.record(q, officer=officer, action="signed_out", detail="", now=now)
