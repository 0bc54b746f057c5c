"""The edge's downlink: signed revocation lists, trusted keys and policy, verified, then stored.

Nothing the network sends changes what the gate trusts unless one of its configured downlink
signers signed it (never a gate key, never a key the downlink delivered; architecture.md, trust
rule), and a version only ever moves forward within what the clock makes plausible: anything
malformed, unsigned, signed by another key, implausible, stale or replayed is logged and
ignored, and a misused or forged signature raises an alarm. The applied version
of each kind is kept in the store's meta table, written after the change itself, so a crash in
between re-applies the same (idempotent) document at the next start.

Applying a change tells the running lanes through the bus: topic ``trust`` after revocations or
keys (the lanes reload their trust material) and ``policy`` with the new ``Policy``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from edge import keys as key_files
from edge.bus import AlarmRaised, Bus, PolicyReceived, TrustChanged
from edge.passes import is_gate_key
from edge.policy import Policy
from edge.store import Store, TrustedKey
from sync.contract import (
    DownlinkDocument,
    DownlinkKind,
    KeysBody,
    PolicyBody,
    RevocationsBody,
    describe_errors,
)
from sync.downlink import (
    ALARMING,
    Applied,
    Opened,
    Refusal,
    Rejected,
    judge_plausible,
    judge_version,
    open_envelope,
)

log = logging.getLogger(__name__)

META_PREFIX = "sync.downlink."
META_POLICY = "sync.policy"
REVOCATION_SOURCE = "downlink"
ALARM_KIND = "downlink_refused"
"""The alarm raised for a refusal in ``sync.downlink.ALARMING`` (an 'other' alert to the office)."""


def applied_meta_key(kind: DownlinkKind) -> str:
    return f"{META_PREFIX}{kind}"


def load_applied(store: Store, kind: DownlinkKind) -> Applied | None:
    """What the gate last applied for ``kind``, from the store; None if nothing (or unreadable)."""
    text = store.get_meta(applied_meta_key(kind))
    if text is None:
        return None
    try:
        data = json.loads(text)
        return Applied(
            version=int(data["version"]),
            issued_at=str(data["issued_at"]),
            sha256=str(data["sha256"]),
            kid=str(data["kid"]),
        )
    except (ValueError, KeyError, TypeError):
        log.error(
            "unreadable %s in the store; the next signed %s applies", applied_meta_key(kind), kind
        )
        return None


def _utc_now() -> datetime:
    return datetime.now(UTC)


def may_sign_downlink(key: TrustedKey, signers: Collection[str]) -> bool:
    """A downlink signer: named in ``[mqtt] downlink_signers`` and put on this gate by its
    operator. Never a gate's visitor key, and never a key the downlink itself delivered, so a
    leaked signer cannot name a successor of its own."""
    return (
        key.kid in signers
        and not key.revoked
        and not is_gate_key(key.kid)
        and key.source != key_files.GATE_KEY_SOURCE
        and not key.source.startswith(key_files.DOWNLINK_SOURCE_PREFIX)
    )


class Downlink:
    """Verifies and applies downlink messages for one community's gate."""

    def __init__(
        self,
        store: Store,
        *,
        community: str,
        bus: Bus,
        signers: Sequence[str] = (),
        wall_now: Callable[[], datetime] = _utc_now,
        max_future_s: float = 600.0,
    ) -> None:
        self._store = store
        self._community = community
        self._bus = bus
        self._signers = frozenset(signers)
        self._wall_now = wall_now
        self._max_future_s = max_future_s
        self.refused: dict[str, int] = {}
        if not self._signers:
            log.error("no downlink signer is configured: every downlink document is refused")

    def handle(self, kind: DownlinkKind, message: bytes) -> Opened | Rejected:
        """Verify ``message`` from ``kind``'s topic and apply it if it is new; never raises on
        bad input. Returns what happened, for the caller's counters and the tests."""
        rows = self._store.trusted_key_list()
        signer_ids = {row.kid for row in rows if may_sign_downlink(row, self._signers)}
        trusted = self._store.trusted_keys()
        result = open_envelope(
            message,
            keys={kid: key for kid, key in trusted.items() if kid in signer_ids},
            pass_keys=trusted.keys() - signer_ids,
            community=self._community,
            kind=kind,
        )
        if isinstance(result, Opened):
            refusal = judge_plausible(
                result, now=self._wall_now(), max_future_s=self._max_future_s
            ) or judge_version(load_applied(self._store, kind), result, signers=signer_ids)
            if refusal is None:
                refusal = self._apply(result, rows)
            if refusal is None:
                return result
            result = refusal
        self._refused(kind, result)
        return result

    def _refused(self, kind: DownlinkKind, result: Rejected) -> None:
        self.refused[result.reason] = self.refused.get(result.reason, 0) + 1
        if result.reason is Refusal.REPLAYED:
            log.debug("downlink %s: %s", kind, result.detail)
            return
        log.warning("downlink %s ignored (%s): %s", kind, result.reason, result.detail)
        if result.reason in ALARMING:
            detail = f"{kind} refused ({result.reason}): {result.detail}"
            self._bus.publish(AlarmRaised(kind=ALARM_KIND, detail=detail))

    def _apply(self, opened: Opened, rows: Sequence[TrustedKey]) -> Rejected | None:
        document = opened.document
        try:
            if document.type is DownlinkKind.REVOCATIONS:
                self._apply_revocations(document)
            elif document.type is DownlinkKind.KEYS:
                self._apply_keys(document, rows)
            else:
                self._apply_policy(document)
        except _BadBodyError as exc:
            return Rejected(Refusal.BAD_BODY, str(exc))
        except _ForbiddenKeyError as exc:
            return Rejected(Refusal.FORBIDDEN_KEY, f"{exc}; signed by {opened.kid!r}")
        applied = Applied(
            version=document.version,
            issued_at=document.issued_at.isoformat(),
            sha256=opened.sha256,
            kid=opened.kid,
        )
        self._store.set_meta(applied_meta_key(document.type), json.dumps(asdict(applied)))
        log.info(
            "downlink %s version %d (issued %s, signed by %s) applied",
            document.type,
            document.version,
            applied.issued_at,
            opened.kid,
        )
        return None

    def _apply_revocations(self, document: DownlinkDocument) -> None:
        body = _body(RevocationsBody, document)
        change = self._store.replace_revocations(body.pass_ids, source=REVOCATION_SOURCE)
        log.info(
            "revocation list v%d: %d revoked, %d added, %d removed",
            document.version,
            len(body.pass_ids),
            change.added,
            change.removed,
        )
        self._bus.publish(TrustChanged(kind=str(document.type), version=document.version))

    def _apply_keys(self, document: DownlinkDocument, rows: Sequence[TrustedKey]) -> None:
        """Pass keys only: a keys document never adds, changes or revokes a downlink signer or
        this gate's own visitor key, nor changes a key this gate's operator configured (it may
        revoke one: that is how the office pulls a leaked pass key, or a stolen gate's key).
        Naming a key with the very key the gate already holds is a no-op (an office's folder
        holds its own .pub). Everything is checked before anything changes."""
        body = _body(KeysBody, document)
        held = {row.kid: row for row in rows}
        pems: dict[str, bytes] = {}
        for kid, pem in body.keys.items():
            try:
                key = key_files.load_public_pem(kid, pem.encode("ascii"))
            except (ValueError, UnicodeError) as exc:
                raise _BadBodyError(f"key {kid!r}: {exc}") from None
            row = held.get(kid)
            if row is not None and row.fingerprint == key_files.fingerprint(key):
                continue
            if self._guarded(kid, row) or (row is not None and not _from_downlink(row)):
                raise _ForbiddenKeyError(f"key {kid!r} is not the downlink's to change")
            pems[kid] = pem.encode("ascii")
        for kid in body.revoked:
            if self._guarded(kid, held.get(kid)):
                raise _ForbiddenKeyError(f"key {kid!r} is not the downlink's to revoke")
        source = f"{key_files.DOWNLINK_SOURCE_PREFIX}v{document.version}"
        for kid, pem_bytes in sorted(pems.items()):
            self._store.put_trusted_key(kid, pem_bytes, source=source)
        for kid in body.revoked:
            self._store.revoke_trusted_key(kid, source=source)
        self._bus.publish(TrustChanged(kind=str(document.type), version=document.version))

    def _guarded(self, kid: str, row: TrustedKey | None) -> bool:
        """Keys whose trust only the gate's operator sets: the signers and the gate's own key."""
        return kid in self._signers or (row is not None and row.source == key_files.GATE_KEY_SOURCE)

    def _apply_policy(self, document: DownlinkDocument) -> None:
        body = _body(PolicyBody, document)
        try:
            policy = Policy.model_validate(body.policy)
        except ValidationError as exc:
            raise _BadBodyError(f"policy: {describe_errors(exc)}") from None
        self._store.set_meta(META_POLICY, policy.model_dump_json())
        self._bus.publish(PolicyReceived(version=document.version, policy=policy))


_B = TypeVar("_B", bound=BaseModel)


class _BadBodyError(Exception):
    """A signed document whose body is not what its type promises (a signer's mistake)."""


class _ForbiddenKeyError(Exception):
    """A keys document reaching for a key only the gate's operator may set."""


def _from_downlink(row: TrustedKey) -> bool:
    return row.source.startswith(key_files.DOWNLINK_SOURCE_PREFIX)


def _body(model: type[_B], document: DownlinkDocument) -> _B:
    try:
        return model.model_validate(document.body)
    except ValidationError as exc:
        raise _BadBodyError(f"body: {describe_errors(exc)}") from None
