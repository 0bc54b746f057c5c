"""Signed downlink from the office: revocation lists, pass keys and policy, each the next
version of its kind, recorded then published retained to every gate (``kakou server publish``).
"""

from __future__ import annotations

import logging
import tomllib
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edge import keys as key_files
from edge.policy import Policy
from sync.contract import (
    DownlinkDocument,
    DownlinkKind,
    KeysBody,
    Malformed,
    PolicyBody,
    RevocationsBody,
    SignedEnvelope,
    downlink_topic,
    parse_payload,
)
from sync.downlink import sign_document
from sync.mqtt import publish_once
from sync.receiver.db import ReceiverDb
from sync.settings import ServerSettings

log = logging.getLogger(__name__)


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
        # Its own id each time: two officers publishing at once must not take each other's
        # connection (a broker drops the older client of an id).
        client_id=f"kakou-{settings.receiver.name}-publish-{uuid.uuid4().hex[:8]}",
        topic=downlink_topic(community, kind),
        payload=envelope,
        retain=True,
    )
    log.info("published %s version %d for %s", kind, version, community)
    return document


def last_document(db: ReceiverDb, community: str, kind: DownlinkKind) -> DownlinkDocument | None:
    """The newest document of ``kind`` this database published for ``community``, read back
    from its signed envelope; None if none (or if the stored envelope no longer parses)."""
    with db.reading() as q:
        row = q.one(
            "SELECT envelope FROM downlink WHERE community = ? AND kind = ? "
            "ORDER BY version DESC LIMIT 1",
            [community, kind.value],
        )
    if row is None:
        return None
    envelope = parse_payload(SignedEnvelope, str(row[0]))
    if isinstance(envelope, Malformed):
        log.error("stored %s envelope for %s does not parse: %s", kind, community, envelope.reason)
        return None
    document = parse_payload(DownlinkDocument, envelope.payload)
    if isinstance(document, Malformed):
        log.error("stored %s document for %s does not parse: %s", kind, community, document.reason)
        return None
    return document


def published_versions(
    db: ReceiverDb, communities: Sequence[str]
) -> dict[tuple[str, DownlinkKind], tuple[int, datetime]]:
    """(community, kind) → (last version published, when it was issued), for ``communities``."""
    if not communities:
        return {}
    with db.reading() as q:
        rows = q.all_within(
            "SELECT d.community, d.kind, d.version, d.issued_at FROM downlink d "
            "JOIN (SELECT community, kind, max(version) AS version FROM downlink "
            "WHERE community {within} GROUP BY community, kind) m "
            "ON m.community = d.community AND m.kind = d.kind AND m.version = d.version",
            communities,
        )
    versions: dict[tuple[str, DownlinkKind], tuple[int, datetime]] = {}
    for community, kind, version, issued_at in rows:
        try:
            versions[(str(community), DownlinkKind(kind))] = (
                int(version),
                datetime.fromisoformat(str(issued_at)),
            )
        except ValueError:  # a kind of a later release; nothing this office can show
            continue
    return versions
