"""Signed downlink from the office: revocation lists, pass keys and policy, each the next
version of its kind, recorded then published retained to every gate (``kakou server publish``).
"""

from __future__ import annotations

import logging
import tomllib
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
    PolicyBody,
    RevocationsBody,
    downlink_topic,
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
        client_id=f"kakou-{settings.receiver.name}-publish",
        topic=downlink_topic(community, kind),
        payload=envelope,
        retain=True,
    )
    log.info("published %s version %d for %s", kind, version, community)
    return document
