"""Every gate at a glance: what its retained status says, what it last sent, what is wrong.

A gate is known from its status (``gate_status``) or its logs (``logs``). Its state is the
retained status's (the broker publishes the gate's last will, ``offline``, when its link dies);
a status older than ``STALE_AFTER`` is ``stale`` (a gate refreshes it every minute). The last
entry is the newest entry of its logs, found through the log's own index (one row per log, not a
scan of the year). Problems are worked out here, so the page only says them: the gates with the
most come first.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from sync.contract import Malformed, Status, parse_payload
from sync.office.alerts import FEVER_KINDS, open_by_gate
from sync.receiver.db import ReceiverDb

STALE_AFTER = timedelta(minutes=5)
BACKLOG_LIMIT = 100
CLOCK_LIMIT_S = 30.0
REVOCATIONS_MAX_AGE = timedelta(hours=24)
DISK_LIMIT = 0.9
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

PROBLEMS = (
    "offline",
    "stale",
    "never_reported",
    "fevers",
    "alarms",
    "backlog",
    "clock",
    "revocations",
    "disk",
)
"""Every problem a gate can show, most serious first (message ids ``gates.problem.<name>``)."""


@dataclass(frozen=True, slots=True)
class GateView:
    community: str
    gate: str
    state: str
    """``online``, ``offline``, ``stale`` or ``unknown`` (entries but never a status)."""
    status_at: datetime | None = None
    backlog: int | None = None
    last_seq: int | None = None
    last_entry_at: datetime | None = None
    clock_offset_s: float | None = None
    clock_synced: bool | None = None
    revocations_version: int | None = None
    revocations_age_s: float | None = None
    disk_used_fraction: float | None = None
    software: str | None = None
    alarms: Counter[str] = field(default_factory=Counter)
    """Open device alarms by kind."""
    fevers: int = 0
    """Open fever alerts."""
    problems: tuple[str, ...] = ()


def _from_us(value: object) -> datetime | None:
    return None if value is None else _EPOCH + timedelta(microseconds=int(str(value)))


def _problems(view: GateView) -> tuple[str, ...]:
    found: set[str] = set()
    if view.state in ("offline", "stale"):
        found.add(view.state)
    if view.state == "unknown":
        found.add("never_reported")
    if view.fevers:
        found.add("fevers")
    if view.alarms:
        found.add("alarms")
    if view.backlog is not None and view.backlog >= BACKLOG_LIMIT:
        found.add("backlog")
    if view.clock_synced is False or (
        view.clock_offset_s is not None and abs(view.clock_offset_s) >= CLOCK_LIMIT_S
    ):
        found.add("clock")
    if view.state != "unknown" and (
        view.revocations_version is None
        or (
            view.revocations_age_s is not None
            and view.revocations_age_s > REVOCATIONS_MAX_AGE.total_seconds()
        )
    ):
        found.add("revocations")
    if view.disk_used_fraction is not None and view.disk_used_fraction >= DISK_LIMIT:
        found.add("disk")
    return tuple(name for name in PROBLEMS if name in found)


def _from_status(community: str, gate: str, payload: str, now: datetime) -> GateView:
    status = parse_payload(Status, payload)
    if isinstance(status, Malformed):
        return GateView(community, gate, "unknown")
    state = status.state.value
    if state == "online" and status.at is not None and now - status.at > STALE_AFTER:
        state = "stale"
    age_s = None
    revocations = status.revocations
    if revocations.issued_at is not None:
        if revocations.age_s is not None and status.at is not None:
            age_s = revocations.age_s + (now - status.at).total_seconds()
        else:
            age_s = (now - revocations.issued_at).total_seconds()
    return GateView(
        community=community,
        gate=gate,
        state=state,
        status_at=status.at,
        backlog=status.backlog,
        last_seq=status.last_seq,
        clock_offset_s=status.clock.offset_s,
        clock_synced=status.clock.synced,
        revocations_version=revocations.version,
        revocations_age_s=age_s,
        disk_used_fraction=status.disk_used_fraction,
        software=status.software,
    )


def at_a_glance(db: ReceiverDb, communities: Sequence[str], now: datetime) -> list[GateView]:
    """Every gate of ``communities``, the ones with the most serious problems first."""
    if not communities:
        return []
    with db.reading() as q:
        statuses = q.all_within(
            "SELECT community, gate, payload, backlog FROM gate_status WHERE community {within}",
            communities,
        )
        last_entries = q.all_within(
            "SELECT l.community, l.gate, (SELECT e.decided_at_us FROM entries e "
            "WHERE e.community = l.community AND e.gate = l.gate AND e.log_id = l.log_id "
            "ORDER BY e.seq DESC LIMIT 1) FROM logs l WHERE l.community {within}",
            communities,
        )
    views: dict[tuple[str, str], GateView] = {}
    for community, gate, payload, _ in statuses:
        views[(str(community), str(gate))] = _from_status(
            str(community), str(gate), str(payload), now
        )
    last: dict[tuple[str, str], datetime] = {}
    for community, gate, decided_us in last_entries:
        key = (str(community), str(gate))
        moment = _from_us(decided_us)
        if moment is not None and (key not in last or moment > last[key]):
            last[key] = moment
        views.setdefault(key, GateView(key[0], key[1], "unknown"))
    alarms = open_by_gate(db, communities)
    result = []
    for key, view in views.items():
        open_kinds = alarms.get(key, Counter())
        device = Counter({k: n for k, n in open_kinds.items() if k not in FEVER_KINDS})
        fevers = sum(n for k, n in open_kinds.items() if k in FEVER_KINDS)
        counted = replace(view, last_entry_at=last.get(key), alarms=device, fevers=fevers)
        result.append(replace(counted, problems=_problems(counted)))
    severity = {name: index for index, name in enumerate(PROBLEMS)}
    result.sort(
        key=lambda v: (
            min((severity[p] for p in v.problems), default=len(PROBLEMS)),
            -len(v.problems),
            v.community,
            v.gate,
        )
    )
    return result
