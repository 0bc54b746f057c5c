"""Guard accounts, sign-in sessions, who is on duty, and the audit log of guard actions.

Secrets are hashed with scrypt (stdlib, memory-hard) and a per-account salt; session tokens are
kept only as their SHA-256, so a copied database file signs nobody in. Repeated failures lock
an account for a while: a PIN has few digits and the gate tablet is within anyone's reach.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from edge.store import Store

SCRYPT_N = 2**14  # 16 MiB per hash: about 50 ms on a Raspberry Pi 4, slow enough for guessing
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 16
MIN_SECRET_CHARS = 4
MAX_FAILURES = 5
LOCK_FOR = timedelta(minutes=5)
SESSION_FOR = timedelta(hours=12)  # longer than a shift (field notes: a few hours), not a week


class Role(StrEnum):
    GUARD = "guard"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class Guard:
    id: str
    name: str
    role: Role


@dataclass(frozen=True, slots=True)
class SignInFailure:
    """Why a sign-in failed: ``unknown`` and ``wrong_secret`` are shown alike to the user."""

    code: str
    locked_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class AuditRecord:
    id: int
    at: datetime
    guard_id: str | None
    action: str
    lane: str | None
    detail: dict[str, Any]


def hash_secret(secret: str, *, salt: bytes | None = None) -> str:
    """``scrypt$n$r$p$salt$hash``: the parameters travel with the hash so they can be raised."""
    salt = secrets.token_bytes(SALT_BYTES) if salt is None else salt
    digest = hashlib.scrypt(
        secret.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32
    )
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def verify_secret(secret: str, stored: str) -> bool:
    """Constant-time check of ``secret`` against a ``hash_secret`` string."""
    try:
        scheme, n, r, p, salt_hex, digest_hex = stored.split("$")
        if scheme != "scrypt":
            return False
        digest = hashlib.scrypt(
            secret.encode("utf-8"),
            salt=bytes.fromhex(salt_hex),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(digest_hex) // 2,
        )
    except ValueError:
        return False
    return hmac.compare_digest(digest.hex(), digest_hex)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def _guard(row: dict[str, Any]) -> Guard:
    return Guard(id=str(row["id"]), name=str(row["name"]), role=Role(str(row["role"])))


class GuardBook:
    """The store's guard tables; every method is one transaction."""

    def __init__(self, store: Store) -> None:
        self._store = store

    # -------------------------------------------------------------------- accounts

    def add(self, name: str, role: Role, secret: str, *, now: datetime) -> Guard:
        """Create an account; ValueError for a duplicate name or a too-short secret."""
        name = name.strip()
        if not name:
            raise ValueError("a guard needs a name")
        if len(secret) < MIN_SECRET_CHARS:
            raise ValueError(f"a PIN or password needs at least {MIN_SECRET_CHARS} characters")
        if self.by_name(name) is not None:
            raise ValueError(f"there is already a guard named {name!r}")
        guard = Guard(id=f"g-{uuid.uuid4().hex[:10]}", name=name, role=role)
        with self._store._writing() as db:
            db.execute(
                "INSERT INTO guards (id, name, role, secret_hash, created_at) VALUES (?,?,?,?,?)",
                [guard.id, guard.name, guard.role.value, hash_secret(secret), now.isoformat()],
            )
            self._audit_locked(db, now, None, "guard_added", None, {"guard": guard.id})
        return guard

    def by_name(self, name: str) -> Guard | None:
        rows = self._store._fetch("SELECT * FROM guards WHERE name = ? AND active = 1", [name])
        return _guard(rows[0]) if rows else None

    def get(self, guard_id: str) -> Guard | None:
        rows = self._store._fetch("SELECT * FROM guards WHERE id = ? AND active = 1", [guard_id])
        return _guard(rows[0]) if rows else None

    def all(self) -> list[Guard]:
        rows = self._store._fetch("SELECT * FROM guards WHERE active = 1 ORDER BY name")
        return [_guard(row) for row in rows]

    # -------------------------------------------------------------------- sign-in

    def sign_in(
        self, name: str, secret: str, *, now: datetime
    ) -> tuple[Guard, str] | SignInFailure:
        """Check the secret; on success a new session token (shown once, stored hashed)."""
        rows = self._store._fetch("SELECT * FROM guards WHERE name = ? AND active = 1", [name])
        if not rows:
            hash_secret(secret)  # same work as a real check: the answer time names nobody
            self.audit(now, None, "sign_in_failed", None, {"name": name[:64], "code": "unknown"})
            return SignInFailure("unknown")
        row = rows[0]
        guard = _guard(row)
        locked_until = (
            datetime.fromisoformat(str(row["locked_until"])) if row["locked_until"] else None
        )
        if locked_until is not None and now < locked_until:
            self.audit(now, guard.id, "sign_in_failed", None, {"code": "locked"})
            return SignInFailure("locked", locked_until)
        if not verify_secret(secret, str(row["secret_hash"])):
            failures = int(str(row["failed_count"])) + 1
            lock = now + LOCK_FOR if failures >= MAX_FAILURES else None
            with self._store._writing() as db:
                db.execute(
                    "UPDATE guards SET failed_count = ?, locked_until = ? WHERE id = ?",
                    [0 if lock else failures, lock.isoformat() if lock else None, guard.id],
                )
                self._audit_locked(
                    db, now, guard.id, "sign_in_failed", None, {"code": "wrong_secret"}
                )
            return SignInFailure("locked", lock) if lock else SignInFailure("wrong_secret")
        token = secrets.token_urlsafe(32)
        with self._store._writing() as db:
            db.execute(
                "UPDATE guards SET failed_count = 0, locked_until = NULL WHERE id = ?", [guard.id]
            )
            db.execute(
                "INSERT INTO guard_sessions (token_hash, guard_id, created_at, expires_at) "
                "VALUES (?, ?, ?, ?)",
                [_token_hash(token), guard.id, now.isoformat(), (now + SESSION_FOR).isoformat()],
            )
            self._audit_locked(db, now, guard.id, "signed_in", None, {})
        return guard, token

    def session(self, token: str, *, now: datetime) -> Guard | None:
        """The guard a live session token belongs to, or None (unknown, ended or expired)."""
        rows = self._store._fetch(
            "SELECT g.* , s.expires_at AS expires_at FROM guard_sessions s "
            "JOIN guards g ON g.id = s.guard_id "
            "WHERE s.token_hash = ? AND s.ended_at IS NULL AND g.active = 1",
            [_token_hash(token)],
        )
        if not rows or datetime.fromisoformat(str(rows[0]["expires_at"])) <= now:
            return None
        return _guard(rows[0])

    def sign_out(self, token: str, *, now: datetime) -> None:
        guard = self.session(token, now=now)
        with self._store._writing() as db:
            db.execute(
                "UPDATE guard_sessions SET ended_at = ? WHERE token_hash = ? AND ended_at IS NULL",
                [now.isoformat(), _token_hash(token)],
            )
            if guard is not None:
                self._audit_locked(db, now, guard.id, "signed_out", None, {})

    # -------------------------------------------------------------------- duty

    def on_duty(self) -> list[tuple[Guard, datetime]]:
        """Who is on duty now, and since when."""
        rows = self._store._fetch(
            "SELECT g.*, d.started_at AS started_at FROM duty d JOIN guards g ON g.id = d.guard_id "
            "WHERE d.ended_at IS NULL ORDER BY d.started_at"
        )
        return [(_guard(r), datetime.fromisoformat(str(r["started_at"]))) for r in rows]

    def take_duty(self, guard: Guard, *, now: datetime, note: str = "") -> list[Guard]:
        """Shift hand-over: ``guard`` takes the duty, whoever held it is relieved (returned)."""
        relieved = [g for g, _ in self.on_duty() if g.id != guard.id]
        already = any(g.id == guard.id for g, _ in self.on_duty())
        with self._store._writing() as db:
            db.execute(
                "UPDATE duty SET ended_at = ? WHERE ended_at IS NULL AND guard_id != ?",
                [now.isoformat(), guard.id],
            )
            if not already:
                db.execute(
                    "INSERT INTO duty (guard_id, started_at) VALUES (?, ?)",
                    [guard.id, now.isoformat()],
                )
            self._audit_locked(
                db,
                now,
                guard.id,
                "hand_over",
                None,
                {"relieved": [g.id for g in relieved], "note": note},
            )
        return relieved

    # -------------------------------------------------------------------- audit

    def audit(
        self,
        at: datetime,
        guard_id: str | None,
        action: str,
        lane: str | None,
        detail: dict[str, Any],
    ) -> None:
        """Append one record of what a guard did (or tried to do)."""
        with self._store._writing() as db:
            self._audit_locked(db, at, guard_id, action, lane, detail)

    def audit_log(self, *, limit: int = 100, action: str | None = None) -> list[AuditRecord]:
        """Newest first."""
        where, params = ("WHERE action = ?", [action]) if action else ("", [])
        rows = self._store._fetch(
            f"SELECT * FROM audit {where} ORDER BY id DESC LIMIT ?",  # noqa: S608 fixed clause
            [*params, limit],
        )
        return [
            AuditRecord(
                id=int(str(r["id"])),
                at=datetime.fromisoformat(str(r["at"])),
                guard_id=None if r["guard_id"] is None else str(r["guard_id"]),
                action=str(r["action"]),
                lane=None if r["lane"] is None else str(r["lane"]),
                detail=json.loads(str(r["detail"])),
            )
            for r in rows
        ]

    @staticmethod
    def _audit_locked(
        db: Any,
        at: datetime,
        guard_id: str | None,
        action: str,
        lane: str | None,
        detail: dict[str, Any],
    ) -> None:
        db.execute(
            "INSERT INTO audit (at, guard_id, action, lane, detail) VALUES (?, ?, ?, ?, ?)",
            [at.isoformat(), guard_id, action, lane, json.dumps(detail, ensure_ascii=False)],
        )
