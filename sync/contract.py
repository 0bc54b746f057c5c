"""The MQTT contract, version 1: every topic string and every payload shape (docs/mqtt.md).

This module is the only place topic strings are built or taken apart. Payloads are JSON; each
carries ``"v": 1`` and a ``"type"``, so a receiver can refuse a message from a newer contract
instead of misreading it. Parsers here take bytes from the network and never raise on bad input:
they return the parsed value or a ``Malformed`` saying why (style.md §6). The JSON Schema files in
``sync/schemas/`` describe the same shapes for tools outside this code base; a test keeps the two
in step.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)

CONTRACT_VERSION = 1
TOPIC_ROOT = f"kakou/v{CONTRACT_VERSION}"
DOWNLINK_LEVEL = "downlink"
"""The topic level that holds a community's signed documents; never a gate id (see ``check_id``)."""

ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,32}")
"""Community and gate ids, as the edge settings allow: never '/', '+', '#' or '$'."""

MAX_PAYLOAD_BYTES = 4 * 1024 * 1024
"""Anything larger is refused unread; a batch of 500 entries with long notes is under 1 MiB."""

MAX_ACK_IDS = 5_000


class Channel(StrEnum):
    """The last topic level of a gate's topics."""

    ENTRIES = "entries"
    ALERTS = "alerts"
    STATUS = "status"
    ACK = "ack"


class DownlinkKind(StrEnum):
    """Signed documents the community publishes to every gate, retained."""

    REVOCATIONS = "revocations"
    KEYS = "keys"
    POLICY = "policy"


class AlertKind(StrEnum):
    """What an alert is about; also its topic level. ``other`` carries a kind we do not name yet."""

    FEVER = "fever"
    FEVER_UNCONFIRMED = "fever_unconfirmed"
    DOOR_FORCED = "door_forced"
    DEVICE_DOWN = "device_down"
    DISK_FILLING = "disk_filling"
    LANE_DOWN = "lane_down"
    STORE_FAILED = "store_failed"
    EMERGENCY = "emergency"
    OTHER = "other"


class GateState(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"


# ------------------------------------------------------------------------------------ topics


def check_id(kind: str, value: str) -> str:
    """Return ``value`` if it may stand in a topic as a community or gate id, else raise.

    A wrong id here is a configuration or programming error, never network input.
    """
    if not ID_PATTERN.fullmatch(value):
        raise ValueError(f"{kind} id {value!r} must match [A-Za-z0-9_-]{{1,32}}")
    if kind == "gate" and value == DOWNLINK_LEVEL:
        raise ValueError(f"gate id {DOWNLINK_LEVEL!r} is reserved for the community's downlink")
    return value


def gate_topic(community: str, gate: str, channel: Channel) -> str:
    """``kakou/v1/<community>/<gate>/<channel>`` for entries, status and ack."""
    return f"{TOPIC_ROOT}/{check_id('community', community)}/{check_id('gate', gate)}/{channel}"


def alert_topic(community: str, gate: str, kind: AlertKind) -> str:
    """``kakou/v1/<community>/<gate>/alerts/<kind>``: one level per kind, so the office can
    subscribe to fevers alone."""
    return f"{gate_topic(community, gate, Channel.ALERTS)}/{kind}"


def downlink_topic(community: str, kind: DownlinkKind) -> str:
    """``kakou/v1/<community>/downlink/<kind>``, retained: the latest signed document of a kind."""
    return f"{TOPIC_ROOT}/{check_id('community', community)}/{DOWNLINK_LEVEL}/{kind}"


def downlink_filter(community: str) -> str:
    """What a gate subscribes to for its community's signed documents."""
    return f"{TOPIC_ROOT}/{check_id('community', community)}/{DOWNLINK_LEVEL}/+"


def entries_share_filter(group: str) -> str:
    """The receivers' MQTT v5 shared subscription: one copy of each batch per group."""
    check_id("group", group)
    return f"$share/{group}/{TOPIC_ROOT}/+/+/{Channel.ENTRIES}"


def status_filter() -> str:
    """Every gate's retained status (each receiver takes all of them, not a share)."""
    return f"{TOPIC_ROOT}/+/+/{Channel.STATUS}"


@dataclass(frozen=True, slots=True)
class GateTopic:
    """A gate topic taken apart."""

    community: str
    gate: str
    channel: Channel
    alert: AlertKind | None = None


def parse_gate_topic(topic: str) -> GateTopic | None:
    """The parts of a gate topic, or None for any other string (never raises)."""
    parts = topic.split("/")
    if len(parts) not in (5, 6) or "/".join(parts[:2]) != TOPIC_ROOT:
        return None
    community, gate, channel_text = parts[2], parts[3], parts[4]
    if not (ID_PATTERN.fullmatch(community) and ID_PATTERN.fullmatch(gate)):
        return None
    if gate == DOWNLINK_LEVEL:
        return None
    try:
        channel = Channel(channel_text)
    except ValueError:
        return None
    if len(parts) == 6:
        if channel is not Channel.ALERTS:
            return None
        try:
            return GateTopic(community, gate, channel, AlertKind(parts[5]))
        except ValueError:
            return None
    if channel is Channel.ALERTS:
        return None
    return GateTopic(community, gate, channel)


def parse_downlink_topic(topic: str) -> tuple[str, DownlinkKind] | None:
    """(community, kind) of a downlink topic, or None."""
    parts = topic.split("/")
    if len(parts) != 5 or "/".join(parts[:2]) != TOPIC_ROOT or parts[3] != DOWNLINK_LEVEL:
        return None
    if not ID_PATTERN.fullmatch(parts[2]):
        return None
    try:
        return parts[2], DownlinkKind(parts[4])
    except ValueError:
        return None


# ---------------------------------------------------------------------------------- payloads

CommunityId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,32}$")]
LogId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
EntryId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
ShortText = Annotated[str, StringConstraints(max_length=500)]


class _Payload(BaseModel):
    """Strict: an unknown field means a newer contract, which needs a new version."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    v: Literal[1] = Field(default=1, description="Contract version.")


class EntryBatch(_Payload):
    """A gate's entries, several per message, on ``…/<gate>/entries`` (QoS 1, never retained).

    Each element of ``entries`` is the entry document of ``edge.entry_document`` (the payload
    contract of the entry log), checked strictly by the receiver one by one.
    """

    type: Literal["entries"] = "entries"
    community: CommunityId = Field(description="Must equal the topic's community.")
    gate: CommunityId = Field(description="Must equal the topic's gate.")
    log_id: LogId = Field(
        description="Identity of the gate's database; a new SD card starts a new log at seq 1."
    )
    sent_at: AwareDatetime = Field(description="When the gate sent this batch (its clock).")
    entries: list[dict[str, Any]] = Field(min_length=1, max_length=1000)


class Ack(_Payload):
    """The receiver's acknowledgement on ``…/<gate>/ack`` (QoS 1, retained).

    ``up_to_seq`` is the highest seq of ``log_id`` up to which every entry is stored (0 when
    none). ``ids`` names entries stored beyond it (out of order, or behind a gap). An edge applies
    ``up_to_seq`` only to its own log; ``ids`` are unique anywhere.
    """

    type: Literal["ack"] = "ack"
    community: CommunityId
    gate: CommunityId
    log_id: LogId
    up_to_seq: int = Field(ge=0)
    ids: list[EntryId] = Field(default_factory=list, max_length=MAX_ACK_IDS)
    server_time: AwareDatetime = Field(description="The receiver's clock when it sent the ack.")
    receiver: ShortText = Field(description="Which receiver stored the entries.")


class RevocationStatus(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int | None = Field(default=None, description="Applied revocation list version.")
    issued_at: AwareDatetime | None = Field(default=None, description="When it was signed.")
    age_s: float | None = Field(default=None, description="How old it is, by the gate's clock.")


class AppliedStatus(BaseModel):
    """The version of a signed downlink kind (keys, policy) a gate has applied."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int | None = Field(default=None, description="Applied version; None if none yet.")
    issued_at: AwareDatetime | None = Field(default=None, description="When it was signed.")


class ClockStatus(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    synced: bool | None = Field(default=None, description="Whether NTP has synchronised.")
    offset_s: float | None = Field(
        default=None, description="Receiver clock minus gate clock at the last ack."
    )


class Status(_Payload):
    """A gate's state on ``…/<gate>/status`` (QoS 1, retained; the last will says offline)."""

    type: Literal["status"] = "status"
    community: CommunityId
    gate: CommunityId
    state: GateState
    at: AwareDatetime | None = Field(default=None, description="None in the last will.")
    log_id: LogId | None = None
    last_seq: int | None = Field(default=None, ge=0, description="Last seq the gate issued.")
    backlog: int | None = Field(default=None, ge=0, description="Entries not yet acknowledged.")
    oldest_pending_at: AwareDatetime | None = None
    revocations: RevocationStatus = Field(default_factory=RevocationStatus)
    keys: AppliedStatus = Field(
        default_factory=AppliedStatus,
        description="Applied keys document; absent from gates before it was reported.",
    )
    policy: AppliedStatus = Field(
        default_factory=AppliedStatus,
        description="Applied policy document; absent from gates before it was reported.",
    )
    clock: ClockStatus = Field(default_factory=ClockStatus)
    disk_used_fraction: float | None = Field(default=None, ge=0, le=1)
    software: ShortText | None = None


class Alert(_Payload):
    """Something the office should see now, on ``…/<gate>/alerts/<kind>`` (QoS 1, not retained).

    Alerts are notifications: the entry log stays the record of every visit.
    """

    type: Literal["alert"] = "alert"
    id: EntryId = Field(description="Unique per alert, so a repeat delivery can be recognised.")
    community: CommunityId
    gate: CommunityId
    lane: ShortText | None = None
    kind: AlertKind
    source_kind: ShortText | None = Field(
        default=None, description="The gate's own name for the alarm when kind is 'other'."
    )
    detail: ShortText = ""
    at: AwareDatetime
    clock_synced: bool | None = None


class SignedEnvelope(_Payload):
    """A signed downlink document: Ed25519 over the exact bytes of ``payload`` (see downlink.py)."""

    type: Literal["signed"] = "signed"
    kid: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,32}$")]
    payload: Annotated[str, StringConstraints(min_length=2, max_length=MAX_PAYLOAD_BYTES)]
    sig: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{86}$")]


class RevocationsBody(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    pass_ids: list[Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,32}$")]] = Field(
        description="The community's full list of revoked pass ids."
    )


class KeysBody(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    keys: dict[Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,32}$")], str] = Field(
        description="Public keys (SubjectPublicKeyInfo PEM) to trust, by key id."
    )
    revoked: list[Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,32}$")]] = Field(
        default_factory=list, description="Key ids to stop trusting."
    )


class PolicyBody(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    policy: dict[str, Any] = Field(description="An edge.policy.Policy, as in the TOML [policy].")


class DownlinkDocument(_Payload):
    """A signed envelope's payload. ``version`` only ever grows, per community and kind, and is
    never more than ``issued_at`` in Unix seconds; ``issued_at`` is never ahead of the gate's
    clock by more than its allowed skew (docs/mqtt.md, "Versions")."""

    type: DownlinkKind
    community: CommunityId
    version: int = Field(ge=1)
    issued_at: AwareDatetime
    body: dict[str, Any]


# ------------------------------------------------------------------------------------ parsing


@dataclass(frozen=True, slots=True)
class Malformed:
    """Why a payload was refused: one line for the log, never the payload itself."""

    reason: str


_P = TypeVar("_P", bound=BaseModel)


def parse_payload(model: type[_P], payload: bytes | str) -> _P | Malformed:
    """Parse JSON into ``model``; a ``Malformed`` with the first problems for anything else."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        return Malformed(f"payload of {len(payload)} bytes is over {MAX_PAYLOAD_BYTES}")
    try:
        return model.model_validate_json(payload)
    except ValidationError as exc:
        return Malformed(describe_errors(exc))


def describe_errors(exc: ValidationError, limit: int = 3) -> str:
    """The first few validation problems as 'field: message', without echoing input values."""
    problems = []
    for error in exc.errors(include_url=False, include_input=False)[:limit]:
        where = ".".join(str(part) for part in error["loc"]) or "payload"
        problems.append(f"{where}: {error['msg']}")
    more = exc.error_count() - limit
    if more > 0:
        problems.append(f"and {more} more")
    return "; ".join(problems)


def to_json(payload: BaseModel) -> bytes:
    """The wire form of a payload: compact JSON, UTF-8, times in ISO 8601 with their offset."""
    return payload.model_dump_json(exclude_none=False).encode("utf-8")


SCHEMA_DIR = Path(__file__).with_name("schemas")
ENTRY_SCHEMA_FILE = "entry.v1.json"
PAYLOAD_SCHEMAS: dict[str, type[BaseModel]] = {
    "entries.v1.json": EntryBatch,
    "ack.v1.json": Ack,
    "status.v1.json": Status,
    "alert.v1.json": Alert,
    "signed.v1.json": SignedEnvelope,
    "downlink-document.v1.json": DownlinkDocument,
    "revocations-body.v1.json": RevocationsBody,
    "keys-body.v1.json": KeysBody,
    "policy-body.v1.json": PolicyBody,
}
"""The schema files in ``sync/schemas/`` made from the payload models (``json_schema``)."""


def json_schema(name: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a payload model, as its file in sync/schemas/ holds it.

    Generated, so it cannot drift from the models; a test compares the files with this. The
    entries of a batch refer to the hand-written entry document schema.
    """
    model = PAYLOAD_SCHEMAS[name]
    schema = model.model_json_schema(mode="serialization")
    if model is EntryBatch:
        schema["properties"]["entries"]["items"] = {"$ref": ENTRY_SCHEMA_FILE}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://kakou.invalid/schemas/{name}",
        **schema,
    }


def write_schemas(directory: Path = SCHEMA_DIR) -> list[Path]:
    """Write every generated schema file (after a payload model changed, with a new version)."""
    written = []
    for name in PAYLOAD_SCHEMAS:
        path = directory / name
        path.write_text(json.dumps(json_schema(name), indent=2, ensure_ascii=False) + "\n")
        written.append(path)
    return written


def encode_entry_batch(
    *, community: str, gate: str, log_id: str, sent_at: datetime, documents: list[dict[str, Any]]
) -> bytes:
    """An ``EntryBatch`` message, built directly as JSON.

    The publisher's hot path: the documents come from ``entry_to_document`` and are valid by
    construction, so they are not validated a second time on the way out.
    """
    if sent_at.tzinfo is None:
        raise ValueError("sent_at must carry its UTC offset")
    batch = {
        "v": CONTRACT_VERSION,
        "type": "entries",
        "community": community,
        "gate": gate,
        "log_id": log_id,
        "sent_at": sent_at.isoformat(),
        "entries": documents,
    }
    return json.dumps(batch, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()
