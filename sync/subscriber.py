"""The edge's downlink: signed revocation lists, trusted keys and policy, verified, then stored.

Nothing the network sends changes what the gate trusts unless a key it already trusts signed it
(architecture.md, trust rule), and a version only ever moves forward: anything malformed,
unsigned, signed by an unknown key, stale or replayed is logged and ignored. The applied version
of each kind is kept in the store's meta table, written after the change itself, so a crash in
between re-applies the same (idempotent) document at the next start.

Applying a change tells the running lanes through the bus: topic ``trust`` after revocations or
keys (the lanes reload their trust material) and ``policy`` with the new ``Policy``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import asdict
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from edge import keys as key_files
from edge.bus import Bus
from edge.policy import Policy
from edge.store import Store
from sync.contract import (
    DownlinkDocument,
    DownlinkKind,
    KeysBody,
    PolicyBody,
    RevocationsBody,
    describe_errors,
)
from sync.downlink import Applied, Opened, Refusal, Rejected, judge_version, open_envelope

log = logging.getLogger(__name__)

META_PREFIX = "sync.downlink."
META_POLICY = "sync.policy"
REVOCATION_SOURCE = "downlink"


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


class Downlink:
    """Verifies and applies downlink messages for one community's gate."""

    def __init__(
        self, store: Store, *, community: str, bus: Bus, signers: Sequence[str] = ()
    ) -> None:
        self._store = store
        self._community = community
        self._bus = bus
        self._signers = frozenset(signers)
        self.refused: dict[str, int] = {}

    def handle(self, kind: DownlinkKind, message: bytes) -> Opened | Rejected:
        """Verify ``message`` from ``kind``'s topic and apply it if it is new; never raises on
        bad input. Returns what happened, for the caller's counters and the tests."""
        trusted = self._store.trusted_keys()
        if self._signers:
            trusted = {kid: key for kid, key in trusted.items() if kid in self._signers}
        result = open_envelope(message, keys=trusted, community=self._community, kind=kind)
        if isinstance(result, Opened):
            refusal = judge_version(load_applied(self._store, kind), result)
            if refusal is None:
                refusal = self._apply(result)
            if refusal is None:
                return result
            result = refusal
        self.refused[result.reason] = self.refused.get(result.reason, 0) + 1
        if result.reason is Refusal.REPLAYED:
            log.debug("downlink %s: %s", kind, result.detail)
        else:
            log.warning("downlink %s ignored (%s): %s", kind, result.reason, result.detail)
        return result

    def _apply(self, opened: Opened) -> Rejected | None:
        document = opened.document
        try:
            if document.type is DownlinkKind.REVOCATIONS:
                self._apply_revocations(document)
            elif document.type is DownlinkKind.KEYS:
                self._apply_keys(document)
            else:
                self._apply_policy(document)
        except _BadBodyError as exc:
            return Rejected(Refusal.BAD_BODY, str(exc))
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
        self._bus.publish("trust", "", kind=str(document.type), version=document.version)

    def _apply_keys(self, document: DownlinkDocument) -> None:
        body = _body(KeysBody, document)
        pems: dict[str, bytes] = {}
        for kid, pem in body.keys.items():  # check every key before trusting any
            try:
                key_files.load_public_pem(kid, pem.encode("ascii"))
            except (ValueError, UnicodeError) as exc:
                raise _BadBodyError(f"key {kid!r}: {exc}") from None
            pems[kid] = pem.encode("ascii")
        source = f"downlink:v{document.version}"
        for kid, pem_bytes in sorted(pems.items()):
            self._store.put_trusted_key(kid, pem_bytes, source=source)
        for kid in body.revoked:
            if self._store.revoke_trusted_key(kid):
                log.warning("trusted key %s revoked by downlink v%d", kid, document.version)
        self._bus.publish("trust", "", kind=str(document.type), version=document.version)

    def _apply_policy(self, document: DownlinkDocument) -> None:
        body = _body(PolicyBody, document)
        try:
            policy = Policy.model_validate(body.policy)
        except ValidationError as exc:
            raise _BadBodyError(f"policy: {describe_errors(exc)}") from None
        self._store.set_meta(META_POLICY, policy.model_dump_json())
        self._bus.publish("policy", "", version=document.version, policy=policy)


_B = TypeVar("_B", bound=BaseModel)


class _BadBodyError(Exception):
    """A signed document whose body is not what its type promises (a signer's mistake)."""


def _body(model: type[_B], document: DownlinkDocument) -> _B:
    try:
        return model.model_validate(document.body)
    except ValidationError as exc:
        raise _BadBodyError(f"body: {describe_errors(exc)}") from None
