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
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlite_utils import Database

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


class AccountState(StrEnum):
    """Only an active account signs in. A disabled one may be enabled again; a removed one
    never: its secret is erased, but its row stays, so the audit log and the ledgers still
    name whoever it was."""

    ACTIVE = "active"
    DISABLED = "disabled"
    REMOVED = "removed"


# What a removed account keeps in place of its secret's hash: no scrypt string, so
# verify_secret refuses every secret, and enable() knows the account for removed.
REMOVED_SECRET = "removed"


@dataclass(frozen=True, slots=True)
class Guard:
    id: str
    name: str
    role: Role
    state: AccountState = AccountState.ACTIVE


@dataclass(frozen=True, slots=True)
class SignInFailure:
    """Why a sign-in failed: ``unknown`` and ``wrong_secret`` are shown alike to the user."""

    code: str
    locked_until: datetime | None = None


class AuditRecord(BaseModel):
    """One line of the audit log. A pydantic model so that the console's API view of the log
    extends this one definition rather than repeating its fields."""

    model_config = ConfigDict(frozen=True)

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


class AccountRefused(ValueError):  # noqa: N818  (named for the condition, like WeakSecret)
    """An account change that may not be made; ``code`` says why: ``unknown`` (no such
    account), ``removed`` (a removed account cannot change), ``last_admin`` (the gate would
    be left with no active admin), ``wrong_secret`` (the old PIN given is not the account's)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


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


def _state(row: dict[str, Any]) -> AccountState:
    if row["secret_hash"] == REMOVED_SECRET:
        return AccountState.REMOVED
    return AccountState.ACTIVE if row["active"] else AccountState.DISABLED


def _guard(row: dict[str, Any]) -> Guard:
    return Guard(
        id=str(row["id"]), name=str(row["name"]), role=Role(str(row["role"])), state=_state(row)
    )


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
        if self._store._fetch("SELECT id FROM guards WHERE name = ?", [name]):
            # a disabled or removed account keeps its name: the ledgers and the audit show it
            raise ValueError(f"there is already a guard named {name!r}")
        guard = Guard(id=f"g-{uuid.uuid4().hex[:10]}", name=name, role=role)
        with self._store._writing() as db:
            db.execute(
                "INSERT INTO guards (id, name, role, secret_hash, created_at) VALUES (?,?,?,?,?)",
                [guard.id, guard.name, guard.role.value, hash_secret(secret), now.isoformat()],
            )
            self.audit(now, None, "guard_added", None, {"guard": guard.id}, within=db)
        return guard

    def by_name(self, name: str) -> Guard | None:
        rows = self._store._fetch("SELECT * FROM guards WHERE name = ? AND active = 1", [name])
        return _guard(rows[0]) if rows else None

    def get(self, guard_id: str) -> Guard | None:
        rows = self._store._fetch("SELECT * FROM guards WHERE id = ? AND active = 1", [guard_id])
        return _guard(rows[0]) if rows else None

    def all(self) -> list[Guard]:
        """Every account ever made, disabled and removed ones too (each with its ``state``):
        the ledgers and the audit log name them all."""
        rows = self._store._fetch("SELECT * FROM guards ORDER BY name")
        return [_guard(row) for row in rows]

    def active(self) -> list[Guard]:
        """The accounts that may sign in."""
        return [g for g in self.all() if g.state is AccountState.ACTIVE]

    def account_named(self, name: str) -> Guard | None:
        """An account by its name whatever its state (``by_name`` finds only an active one)."""
        rows = self._store._fetch("SELECT * FROM guards WHERE name = ?", [name.strip()])
        return _guard(rows[0]) if rows else None

    def account(self, guard_id: str) -> Guard | None:
        """An account whatever its state (``get`` finds only an active one)."""
        rows = self._store._fetch("SELECT * FROM guards WHERE id = ?", [guard_id])
        return _guard(rows[0]) if rows else None

    # -------------------------------------------------------------------- managing accounts

    def disable(self, guard_id: str, *, by: Guard | None, now: datetime) -> Guard:
        """Stop an account signing in (its sessions and duty end); ``enable`` undoes it.
        ``by`` is the admin who did it (None: on the gate itself, the ``kakou`` command)."""
        target = self._changeable(guard_id)
        self._keep_an_admin(target)
        return self._shut_out(
            target,
            "UPDATE guards SET active = 0 WHERE id = ?",
            [],
            by=by,
            now=now,
            action="guard_disabled",
            detail={"guard": target.id},
        )

    def enable(self, guard_id: str, *, by: Guard | None, now: datetime) -> Guard:
        """Let a disabled account sign in again (with its old secret; no lock-out left)."""
        target = self._changeable(guard_id)
        with self._store._writing() as db:
            db.execute(
                "UPDATE guards SET active = 1, failed_count = 0, locked_until = NULL WHERE id = ?",
                [target.id],
            )
            self.audit(now, _id(by), "guard_enabled", None, {"guard": target.id}, within=db)
        return self._known(target.id)

    def remove(self, guard_id: str, *, by: Guard | None, now: datetime) -> Guard:
        """Remove an account for good: its secret is erased and it cannot be enabled again;
        its row stays, so the audit log, the alarms and the ledgers still name it."""
        target = self._changeable(guard_id)
        self._keep_an_admin(target)
        return self._shut_out(
            target,
            "UPDATE guards SET active = 0, secret_hash = ?, failed_count = 0, "
            "locked_until = NULL WHERE id = ?",
            [REMOVED_SECRET],
            by=by,
            now=now,
            action="guard_removed",
            detail={"guard": target.id, "name": target.name},
        )

    def reset_secret(self, guard_id: str, secret: str, *, by: Guard | None, now: datetime) -> Guard:
        """An admin sets a new PIN or password (the PIN rules apply); the account's sessions
        end and any lock-out is lifted: whoever knew the old one is signed out."""
        target = self._changeable(guard_id)
        problem = secret_problem(target.role, secret)
        if problem is not None:
            raise WeakSecret(problem)
        return self._shut_out(
            target,
            "UPDATE guards SET secret_hash = ?, failed_count = 0, locked_until = NULL WHERE id = ?",
            [hash_secret(secret)],
            by=by,
            now=now,
            action="secret_reset",
            detail={"guard": target.id},
        )

    def change_own_secret(
        self, guard: Guard, old: str, new: str, *, now: datetime, keep_token: str | None = None
    ) -> None:
        """A guard changes their own PIN, giving the old one: a wrong old one counts as a
        failed sign-in (five lock the account), so a session left open on the post's tablet
        does not let anyone find the PIN out. The guard's other sessions end;
        ``keep_token``'s (the one asking) stays."""
        problem = secret_problem(guard.role, new)
        if problem is not None:
            raise WeakSecret(problem)
        with _account_lock(guard.id):
            rows = self._store._fetch(
                "SELECT * FROM guards WHERE id = ? AND active = 1", [guard.id]
            )
            if not rows:
                raise AccountRefused("unknown", "no such active account")
            locked = rows[0]["locked_until"]
            if locked is not None and now < datetime.fromisoformat(str(locked)):
                raise AccountRefused("locked", "too many failures; try again later")
            if not verify_secret(old, str(rows[0]["secret_hash"])):
                failure = self._count_failure(guard, now)
                raise AccountRefused(failure.code, "the old PIN or password is wrong")
            secret_hash = hash_secret(new)
            with self._store._writing() as db:
                db.execute(
                    "UPDATE guards SET secret_hash = ?, failed_count = 0 WHERE id = ?",
                    [secret_hash, guard.id],
                )
                db.execute(
                    "UPDATE guard_sessions SET ended_at = ? "
                    "WHERE guard_id = ? AND ended_at IS NULL AND token_hash != ?",
                    [now.isoformat(), guard.id, _token_hash(keep_token or "")],
                )
                self.audit(now, guard.id, "secret_changed", None, {"guard": guard.id}, within=db)

    def _shut_out(
        self,
        target: Guard,
        update: str,
        values: list[Any],
        *,
        by: Guard | None,
        now: datetime,
        action: str,
        detail: dict[str, Any],
    ) -> Guard:
        """Change ``target``'s row (``update`` ends ``WHERE id = ?``), end its sessions and duty
        and log who did it, in one transaction: whoever held the account is signed out at once."""
        with self._store._writing() as db:
            db.execute(update, [*values, target.id])
            self._end_sessions_locked(db, target.id, now)
            self.audit(now, _id(by), action, None, detail, within=db)
        return self._known(target.id)

    def _known(self, guard_id: str) -> Guard:
        found = self.account(guard_id)
        if found is None:
            raise AccountRefused("unknown", f"no guard account {guard_id!r}")
        return found

    def _changeable(self, guard_id: str) -> Guard:
        target = self._known(guard_id)
        if target.state is AccountState.REMOVED:
            raise AccountRefused("removed", f"{target.name!r} was removed and cannot change")
        return target

    def _keep_an_admin(self, target: Guard) -> None:
        """Refuse to take the last active admin away: nobody could manage accounts after."""
        if target.role is not Role.ADMIN or target.state is not AccountState.ACTIVE:
            return
        if not any(g.role is Role.ADMIN and g.id != target.id for g in self.active()):
            raise AccountRefused("last_admin", "the gate needs at least one active admin")

    @staticmethod
    def _end_sessions_locked(db: Any, guard_id: str, now: datetime) -> None:
        db.execute(
            "UPDATE guard_sessions SET ended_at = ? WHERE guard_id = ? AND ended_at IS NULL",
            [now.isoformat(), guard_id],
        )
        db.execute(
            "UPDATE duty SET ended_at = ? WHERE guard_id = ? AND ended_at IS NULL",
            [now.isoformat(), guard_id],
        )

    # -------------------------------------------------------------------- sign-in

    def sign_in(
        self, name: str, secret: str, *, now: datetime
    ) -> tuple[Guard, str] | SignInFailure:
        """Check the secret; on success a new session token (shown once, stored hashed).

        The account's lock is held from reading its lock-out to counting the failure, so of
        any number of parallel guesses at most ``MAX_FAILURES`` are checked before it locks."""
        found = self.by_name(name)
        if found is None:  # no account, or one disabled or removed
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
            self.audit(now, guard.id, "sign_in_failed", None, {"code": "wrong_secret"}, within=db)
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
            self.audit(now, guard.id, "signed_in", None, {}, within=db)
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
                self.audit(now, guard.id, "signed_out", None, {}, within=db)

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
            self.audit(
                now,
                guard.id,
                "hand_over",
                None,
                {"relieved": [g.id for g in relieved], "note": note},
                within=db,
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
        *,
        within: Database | None = None,
    ) -> None:
        """Append one record of what a guard did (or tried to do). ``within``: the write
        transaction the change it records is made in, so that both commit or neither."""
        if within is None:
            with self._store._writing() as db:
                self.audit(at, guard_id, action, lane, detail, within=db)
            return
        within.execute(
            "INSERT INTO audit (at, guard_id, action, lane, detail) VALUES (?, ?, ?, ?, ?)",
            # in UTC, so the audit page's time filters compare the text
            [
                at.astimezone(UTC).isoformat(),
                guard_id,
                action,
                lane,
                json.dumps(detail, ensure_ascii=False),
            ],
        )

    def audit_log(
        self,
        *,
        limit: int = 100,
        action: str | None = None,
        guard_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        before_id: int | None = None,
    ) -> list[AuditRecord]:
        """Newest first, paged by id (``before_id``: the last id of the page before).
        ``guard_id`` finds what an account did and what was done to it (``detail.guard``);
        ``since`` and ``until`` bound the time, ``until`` not included."""
        clauses: list[str] = []
        params: list[Any] = []
        if action:
            clauses.append("action = ?")
            params.append(action)
        if guard_id:
            clauses.append("(guard_id = ? OR json_extract(detail, '$.guard') = ?)")
            params += [guard_id, guard_id]
        # Times are stored as ISO text in UTC with its offset, so they compare as text.
        if since is not None:
            clauses.append("at >= ?")
            params.append(since.astimezone(UTC).isoformat())
        if until is not None:
            clauses.append("at < ?")
            params.append(until.astimezone(UTC).isoformat())
        if before_id is not None:
            clauses.append("id < ?")
            params.append(before_id)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self._store._fetch(
            f"SELECT * FROM audit {where} ORDER BY id DESC LIMIT ?",  # noqa: S608 fixed clauses
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


def _id(guard: Guard | None) -> str | None:
    return None if guard is None else guard.id
