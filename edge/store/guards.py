"""Guard accounts, sign-in sessions, who is on duty, and the audit log of guard actions.

Secrets are hashed with scrypt (stdlib, memory-hard) and a per-account salt; session tokens are
kept only as their SHA-256, so a copied database file signs nobody in. Repeated failures lock
an account for a while: a PIN has few digits and the gate tablet is within anyone's reach.
The failure count is checked and raised under a per-account lock by one UPDATE, so parallel
guesses cannot slip past it, and at most ``KDF_SLOTS`` hashes run at once (16 MiB each).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
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
KDF_SLOTS = 2  # hashes at once: 40 parallel sign-ins once took the gate to ~875 MB
MIN_GUARD_PIN_CHARS = 6  # a 6-digit PIN: 10^6 guesses at 5 per lock-out
MIN_ADMIN_SECRET_CHARS = 10  # an admin manages accounts: a pass phrase, not a PIN
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


_kdf_slots = threading.BoundedSemaphore(KDF_SLOTS)
_account_locks: dict[str, threading.Lock] = {}
_account_locks_guard = threading.Lock()


class WeakSecret(ValueError):  # noqa: N818  (named for the condition, like StoreCorrupt)
    """The secret is too short for the account's role."""


def secret_problem(role: Role, secret: str) -> str | None:
    """Why ``secret`` may not be ``role``'s secret, or None when it may."""
    least = MIN_ADMIN_SECRET_CHARS if role is Role.ADMIN else MIN_GUARD_PIN_CHARS
    if len(secret) < least:
        what = "an admin's password" if role is Role.ADMIN else "a guard's PIN or password"
        return f"{what} needs at least {least} characters"
    return None


def _scrypt(secret: str, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    """The one place the KDF runs: callers beyond ``KDF_SLOTS`` wait their turn."""
    with _kdf_slots:
        return hashlib.scrypt(secret.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=dklen)


def _account_lock(guard_id: str) -> threading.Lock:
    """The lock held across one account's check-and-count (one per account, kept)."""
    with _account_locks_guard:
        return _account_locks.setdefault(guard_id, threading.Lock())


def hash_secret(secret: str, *, salt: bytes | None = None) -> str:
    """``scrypt$n$r$p$salt$hash``: the parameters travel with the hash so they can be raised."""
    salt = secrets.token_bytes(SALT_BYTES) if salt is None else salt
    digest = _scrypt(secret, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P, 32)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def verify_secret(secret: str, stored: str) -> bool:
    """Constant-time check of ``secret`` against a ``hash_secret`` string."""
    try:
        scheme, n, r, p, salt_hex, digest_hex = stored.split("$")
        if scheme != "scrypt":
            return False
        digest = _scrypt(
            secret, bytes.fromhex(salt_hex), int(n), int(r), int(p), len(digest_hex) // 2
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
        """Create an account; ValueError for a duplicate name, WeakSecret for a short secret."""
        name = name.strip()
        if not name:
            raise ValueError("a guard needs a name")
        problem = secret_problem(role, secret)
        if problem is not None:
            raise WeakSecret(problem)
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
        """Check the secret; on success a new session token (shown once, stored hashed).

        The account's lock is held from reading its lock-out to counting the failure, so of
        any number of parallel guesses at most ``MAX_FAILURES`` are checked before it locks."""
        found = self.by_name(name)
        if found is None:
            hash_secret(secret)  # same work as a real check: the answer time names nobody
            self.audit(now, None, "sign_in_failed", None, {"name": name[:64], "code": "unknown"})
            return SignInFailure("unknown")
        with _account_lock(found.id):
            rows = self._store._fetch(
                "SELECT * FROM guards WHERE id = ? AND active = 1", [found.id]
            )
            if not rows:
                return SignInFailure("unknown")
            row = rows[0]
            guard = _guard(row)
            locked = str(row["locked_until"]) if row["locked_until"] else None
            if locked is not None and now < datetime.fromisoformat(locked):
                self.audit(now, guard.id, "sign_in_failed", None, {"code": "locked"})
                return SignInFailure("locked", datetime.fromisoformat(locked))
            if not verify_secret(secret, str(row["secret_hash"])):
                return self._count_failure(guard, now)
            return guard, self._start_session(guard, now)

    def _count_failure(self, guard: Guard, now: datetime) -> SignInFailure:
        """One more failure, counted by the database itself (old values on the right of SET):
        the fifth in a row locks the account and starts the count again."""
        with self._store._writing() as db:
            locked = db.execute(
                "UPDATE guards SET "
                "failed_count = CASE WHEN failed_count + 1 >= ? THEN 0 ELSE failed_count + 1 END, "
                "locked_until = CASE WHEN failed_count + 1 >= ? THEN ? ELSE NULL END "
                "WHERE id = ? RETURNING locked_until",
                [MAX_FAILURES, MAX_FAILURES, (now + LOCK_FOR).isoformat(), guard.id],
            ).fetchone()[0]
            self._audit_locked(db, now, guard.id, "sign_in_failed", None, {"code": "wrong_secret"})
        if locked is None:
            return SignInFailure("wrong_secret")
        return SignInFailure("locked", datetime.fromisoformat(str(locked)))

    def _start_session(self, guard: Guard, now: datetime) -> str:
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
        return token

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
