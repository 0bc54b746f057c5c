"""Which gate has applied which version of each signed downlink kind.

Every gate's retained status (``gate_status``, kept by the receiver) names the versions it has
applied: ``revocations.version``, and from this release ``keys.version`` and ``policy.version``.
Set beside what the office last published for the community (the ``downlink`` table), a gate is
*stale* for a kind when it has applied less than the last version, or cannot say (offline: its
last will carries no versions). A gate of an earlier release does not report keys and policy at
all; that is shown as not reported, not as stale, since nothing is known to be wrong.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sync.contract import DownlinkKind, GateState, Malformed, Status, parse_payload
from sync.receiver.db import ReceiverDb
from sync.receiver.publishing import published_versions

KINDS = tuple(DownlinkKind)


@dataclass(frozen=True, slots=True)
class Applied:
    """One gate's applied version of one kind, judged against the last published."""

    version: int | None
    reported: bool
    """False when the gate's release does not report this kind (older than the field)."""
    stale: bool


@dataclass(frozen=True, slots=True)
class GateVersions:
    community: str
    gate: str
    online: bool
    at: datetime | None
    """When the gate sent the status (its clock); None in a last will."""
    applied: dict[DownlinkKind, Applied]

    @property
    def stale(self) -> bool:
        return any(applied.stale for applied in self.applied.values())


@dataclass(frozen=True, slots=True)
class CommunityVersions:
    community: str
    published: dict[DownlinkKind, tuple[int, datetime]]
    gates: list[GateVersions] = field(default_factory=list)

    def stale_count(self, kind: DownlinkKind) -> int:
        return sum(1 for gate in self.gates if gate.applied[kind].stale)


def _applied_versions(
    payload: str,
) -> tuple[Status | None, dict[DownlinkKind, tuple[int | None, bool]]]:
    status = parse_payload(Status, payload)
    if isinstance(status, Malformed):  # stored by a receiver of another release; say nothing
        return None, {kind: (None, False) for kind in KINDS}
    raw: dict[str, Any] = json.loads(payload)
    return status, {
        DownlinkKind.REVOCATIONS: (status.revocations.version, True),
        DownlinkKind.KEYS: (status.keys.version, "keys" in raw),
        DownlinkKind.POLICY: (status.policy.version, "policy" in raw),
    }


def _stale(
    last: tuple[int, datetime] | None, version: int | None, *, online: bool, reported: bool
) -> bool:
    if last is None:
        return False  # nothing published: nothing to be behind
    if not online:
        return True  # it receives nothing while offline: it cannot be shown current
    if not reported:
        return False  # a release that does not report this kind: unknown, not wrong
    return version is None or version < last[0]


def gate_versions(db: ReceiverDb, communities: Sequence[str]) -> list[CommunityVersions]:
    """Per community (of ``communities``), the last published version of each kind and every
    gate's applied versions, gates by id."""
    if not communities:
        return []
    published = published_versions(db, communities)
    with db.reading() as q:
        rows = q.all_within(
            "SELECT community, gate, state, payload FROM gate_status "
            "WHERE community {within} ORDER BY community, gate",
            communities,
        )
    result = {
        community: CommunityVersions(
            community=community,
            published={
                kind: published[(community, kind)]
                for kind in KINDS
                if (community, kind) in published
            },
        )
        for community in sorted(set(communities))
    }
    for community, gate, state, payload in rows:
        entry = result[str(community)]
        status, applied = _applied_versions(str(payload))
        online = state == GateState.ONLINE.value
        judged: dict[DownlinkKind, Applied] = {}
        for kind in KINDS:
            version, reported = applied[kind]
            stale = _stale(entry.published.get(kind), version, online=online, reported=reported)
            judged[kind] = Applied(version=version, reported=reported, stale=stale)
        entry.gates.append(
            GateVersions(
                community=str(community),
                gate=str(gate),
                online=online,
                at=None if status is None else status.at,
                applied=judged,
            )
        )
    return list(result.values())
