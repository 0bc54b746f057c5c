"""The receiver's check of entry documents: ``entry_from_document``'s rules in one quick pass.

Why a second reading of the same rules: ``edge.store.records.entry_from_document`` checks a
document field by field through a helper object and builds the whole ``Entry`` (about 45 µs an
entry), and draining a backlog into the receiver was bound by it (bench/bench_sync.py). The
receiver needs only a verdict, ten columns and the canonical text. So ``check_entry`` first runs
the same checks inline on the shapes JSON produces (exact key sets, ``type`` tests); only a
document that this quick pass does not find plainly valid goes to ``entry_from_document``, which
stays the authority: it gives the verdict and the reason. The quick pass can therefore make a
document slower to accept, never accept one the strict parser refuses; tests/sync/test_entries.py
holds the two to the same verdicts on valid, malformed and fuzzed documents.
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any

from edge.model import ENTRY_SCHEMA_VERSION, Direction, Entry, GateMode, Outcome, PassKind
from edge.store.records import MAX_SEQ, DocumentError, entry_from_document, epoch_us
from sync.receiver.db import IncomingEntry

_ENTRY_KEYS = frozenset(
    {
        "id",
        "schema_version",
        "community",
        "gate",
        "lane",
        "direction",
        "seq",
        "started_at",
        "decided_at",
        "recorded_at",
        "clock_synced",
        "boot_id",
        "pass",
        "holder",
        "household",
        "answers",
        "temperatures",
        "outcome",
        "reasons",
        "guard",
        "gate_mode",
        "extra",
    }
)
_PASS_KEYS = frozenset({"id", "kind", "key_id"})
_GUARD_KEYS = frozenset({"id", "note"})
_TEMPERATURE_KEYS = frozenset(
    {
        "body_c",
        "value_c",
        "object_c",
        "ambient_c",
        "sensor",
        "manual",
        "plausible",
        "fever",
        "at",
        "raw_hex",
    }
)
_DIRECTIONS = frozenset(member.value for member in Direction)
_OUTCOMES = frozenset(member.value for member in Outcome)
_GATE_MODES = frozenset(member.value for member in GateMode)
_PASS_KINDS = frozenset(member.value for member in PassKind)
_SAFE_INT = 2**1000
"""Integers below this convert to a finite float; larger ones go to the strict parser, which
decides (and may overflow)."""


_CANONICAL = json.JSONEncoder(
    ensure_ascii=False, allow_nan=False, sort_keys=True, separators=(",", ":")
)


def canonical_document(document: dict[str, Any]) -> str:
    """The text stored and compared for an entry: sorted keys, compact, UTF-8 as is."""
    return _CANONICAL.encode(document)


def check_entry(document: object) -> IncomingEntry | str:
    """The columns and canonical text of a valid entry document, or why it is refused.

    Never raises on bad input: the reason is ``entry_from_document``'s message.
    """
    incoming = _quick(document)
    if incoming is None:
        try:
            entry = entry_from_document(document)
        except DocumentError as exc:
            return str(exc)
        assert isinstance(document, dict)  # entry_from_document accepted it: a JSON object
        incoming = incoming_from_entry(entry, canonical_document(document))
    return incoming


def incoming_from_entry(entry: Entry, document: str) -> IncomingEntry:
    """The receiver's columns of a parsed entry (the strict path, and tests)."""
    draft = entry.draft
    return IncomingEntry(
        id=entry.id,
        seq=entry.seq,
        community=entry.community,
        gate=entry.gate,
        lane=draft.lane,
        direction=draft.direction.value,
        outcome=draft.outcome.value,
        pass_kind=None if draft.pass_kind is None else draft.pass_kind.value,
        decided_at=draft.decided_at.isoformat(),
        decided_at_us=epoch_us(draft.decided_at),
        clock_synced=draft.clock_synced,
        document=document,
    )


def _moment(value: object) -> datetime | None:
    """An ISO 8601 time with its offset, as ``_Fields.moment`` reads it; None if not plainly one."""
    if type(value) is not str:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return None if moment.tzinfo is None else moment


def _number(value: object) -> bool:
    """A finite JSON number (not a boolean), as ``_Fields.number`` wants."""
    kind = type(value)
    if kind is float:
        return math.isfinite(value)  # type: ignore[arg-type]
    return kind is int and -_SAFE_INT < value < _SAFE_INT  # type: ignore[operator]


def _text_map(value: object) -> bool:
    return type(value) is dict and all(
        type(key) is str and type(item) is str for key, item in value.items()
    )


def _one_of(value: object, values: frozenset[str]) -> bool:
    return type(value) is str and value in values


def _optional_text(value: object) -> bool:
    return value is None or type(value) is str


def _temperatures(value: object) -> bool:
    if type(value) is not list:
        return False
    for item in value:
        if type(item) is not dict or item.keys() != _TEMPERATURE_KEYS:
            return False
        if not (
            _number(item["value_c"])
            and _number(item["body_c"])
            and (item["object_c"] is None or _number(item["object_c"]))
            and (item["ambient_c"] is None or _number(item["ambient_c"]))
            and type(item["sensor"]) is str
            and type(item["raw_hex"]) is str
            and type(item["manual"]) is bool
            and type(item["plausible"]) is bool
            and type(item["fever"]) is bool
            and _moment(item["at"]) is not None
        ):
            return False
    return True


def _quick(doc: object) -> IncomingEntry | None:
    """Every check of ``entry_from_document`` on the shapes JSON gives; None when not plainly
    valid (the strict parser then decides), never a document that parser would refuse."""
    if type(doc) is not dict or doc.keys() != _ENTRY_KEYS:
        return None
    seq = doc["seq"]
    pass_part = doc["pass"]
    guard = doc["guard"]
    reasons = doc["reasons"]
    direction = doc["direction"]
    outcome = doc["outcome"]
    clock_synced = doc["clock_synced"]
    if not (
        type(doc["schema_version"]) is int
        and doc["schema_version"] == ENTRY_SCHEMA_VERSION
        and type(seq) is int
        and 1 <= seq <= MAX_SEQ
        and type(pass_part) is dict
        and pass_part.keys() == _PASS_KEYS
        and _optional_text(pass_part["id"])
        and _optional_text(pass_part["key_id"])
        and (pass_part["kind"] is None or _one_of(pass_part["kind"], _PASS_KINDS))
        and type(guard) is dict
        and guard.keys() == _GUARD_KEYS
        and _optional_text(guard["id"])
        and _optional_text(guard["note"])
        and type(reasons) is list
        and all(type(reason) is str for reason in reasons)
        and type(doc["lane"]) is str
        and _one_of(direction, _DIRECTIONS)
        and _one_of(outcome, _OUTCOMES)
        and _one_of(doc["gate_mode"], _GATE_MODES)
        and type(clock_synced) is bool
        and _optional_text(doc["holder"])
        and _optional_text(doc["household"])
        and _text_map(doc["answers"])
        and _text_map(doc["extra"])
        and type(doc["id"]) is str
        and type(doc["community"]) is str
        and type(doc["gate"]) is str
        and type(doc["boot_id"]) is str
        and _temperatures(doc["temperatures"])
        and _moment(doc["started_at"]) is not None
        and _moment(doc["recorded_at"]) is not None
    ):
        return None
    decided_at = _moment(doc["decided_at"])
    if decided_at is None:
        return None
    return IncomingEntry(
        id=doc["id"],
        seq=seq,
        community=doc["community"],
        gate=doc["gate"],
        lane=doc["lane"],
        direction=direction,
        outcome=outcome,
        pass_kind=pass_part["kind"],
        decided_at=decided_at.isoformat(),
        decided_at_us=epoch_us(decided_at),
        clock_synced=clock_synced,
        document=canonical_document(doc),
    )
