"""The entry document: one visit as JSON, the contract between a gate and the office.

It is what the sync layer publishes over MQTT, what the office receiver checks and stores, what
``kakou entries --json`` prints, and what the gate's store flattens into a row. This module is the
one place its shape is written down: ``ENTRY`` below names every key and the type of its value,
and the strict parser (``entry_from_document``), the receiver's check (``check_document``), the key
sets and the JSON Schema (``json_schema``, kept in ``sync/schemas/entry.v1.json`` for receivers
written in other languages) are all read from it, so they cannot disagree.

Documents are strict JSON: times are ISO 8601 with an explicit UTC offset, floats are finite, and
unknown keys are refused, because any change to the contract comes with a new ``schema_version``.
``entry_from_document(entry_to_document(e)) == e`` for every valid entry.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, NamedTuple, Protocol

from drivers.base import Reading
from edge.model import (
    ENTRY_SCHEMA_VERSION,
    Direction,
    Entry,
    EntryDraft,
    GateMode,
    MeasuredTemperature,
    Outcome,
    PassKind,
)

MAX_SEQ = 2**63 - 1  # SQLite's and PostgreSQL's BIGINT: a larger seq could not be stored

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)


class DocumentError(ValueError):
    """A document (or stored row) is not a valid entry; the message names the field."""


def epoch_us(moment: datetime, name: str = "time") -> int:
    """Microseconds since the Unix epoch, exact (integer arithmetic), for indexed time columns."""
    _require_aware(moment, name)
    return (moment - _EPOCH) // _ONE_US


_CANONICAL = json.JSONEncoder(
    ensure_ascii=False, allow_nan=False, sort_keys=True, separators=(",", ":")
)


def canonical_document(document: dict[str, Any]) -> str:
    """The text an office stores and compares for an entry: sorted keys, compact, UTF-8 as is."""
    return _CANONICAL.encode(document)


# ------------------------------------------------------------------------------- the shape


class _RefusedError(Exception):
    """A value does not fit its shape; ``path`` collects the keys outward as it propagates.

    Raised, not returned, so that checking a valid document (the common case) pays nothing for
    the bookkeeping of where a failure was.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.path: list[str | int] = []

    def reason(self) -> str:
        where = ""
        for step in reversed(self.path):
            where += f"[{step}]" if isinstance(step, int) else f".{step}" if where else step
        return f"{where or 'document'}: {self.message}"


class Shape(Protocol):
    """One JSON value of the document: how it is checked and how the JSON Schema states it."""

    def check(self, value: object) -> None:
        """Raise ``_RefusedError`` if ``value`` does not fit."""

    def schema(self) -> dict[str, Any]:
        """This value's JSON Schema (draft 2020-12)."""


def _described(schema: dict[str, Any], description: str | None) -> dict[str, Any]:
    return schema if description is None else {**schema, "description": description}


def _json_type(name: str, nullable: bool) -> dict[str, Any]:
    return {"type": [name, "null"] if nullable else name}


@dataclass(frozen=True, slots=True)
class Text:
    nullable: bool = False
    description: str | None = None

    def check(self, value: object) -> None:
        if not isinstance(value, str) and not (self.nullable and value is None):
            raise _RefusedError(
                "expected a string or null" if self.nullable else "expected a string"
            )

    def schema(self) -> dict[str, Any]:
        return _described(_json_type("string", self.nullable), self.description)


@dataclass(frozen=True, slots=True)
class Flag:
    description: str | None = None

    def check(self, value: object) -> None:
        if not isinstance(value, bool):
            raise _RefusedError("expected true or false")

    def schema(self) -> dict[str, Any]:
        return _described({"type": "boolean"}, self.description)


def _integer(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _RefusedError("expected an integer")
    return value


@dataclass(frozen=True, slots=True)
class Integer:
    minimum: int
    maximum: int
    description: str | None = None

    def check(self, value: object) -> None:
        if not self.minimum <= _integer(value) <= self.maximum:
            raise _RefusedError(f"must be {self.minimum} to {self.maximum}")

    def schema(self) -> dict[str, Any]:
        schema = {"type": "integer", "minimum": self.minimum, "maximum": self.maximum}
        return _described(schema, self.description)


@dataclass(frozen=True, slots=True)
class Version:
    """The one ``schema_version`` this code reads; any other is a contract it does not know."""

    version: int

    def check(self, value: object) -> None:
        if _integer(value) != self.version:
            raise _RefusedError(f"{value} is not supported (expected {self.version})")

    def schema(self) -> dict[str, Any]:
        return {"const": self.version}


@dataclass(frozen=True, slots=True)
class Number:
    nullable: bool = False

    def check(self, value: object) -> None:
        if type(value) is float and math.isfinite(value):  # what JSON gives, most of the time
            return
        if value is None and self.nullable:
            return
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _RefusedError("expected a number")
        try:
            number = float(value)  # a 400-digit integer overflows here, not in math.isfinite
        except OverflowError:
            raise _RefusedError("number out of range") from None
        if not math.isfinite(number):
            raise _RefusedError("expected a finite number")

    def schema(self) -> dict[str, Any]:
        return _json_type("number", self.nullable)


def _moment(text: str) -> datetime:
    """A checked time (see ``Moment``) as the aware datetime it states."""
    return datetime.fromisoformat(text)


@dataclass(frozen=True, slots=True)
class Moment:
    """An ISO 8601 time with its UTC offset: the offset is the gate's, kept as written."""

    def check(self, value: object) -> None:
        if not isinstance(value, str):
            raise _RefusedError("expected a string")
        try:
            moment = _moment(value)
        except ValueError:
            raise _RefusedError(f"not an ISO 8601 time: {value!r}") from None
        if moment.tzinfo is None:
            raise _RefusedError(f"time without a UTC offset: {value!r}")

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "format": "date-time"}


@dataclass(frozen=True, slots=True)
class Choice:
    """One value of a ``StrEnum`` of the domain model, by its value."""

    kind: type[StrEnum]
    nullable: bool = False
    values: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", frozenset(member.value for member in self.kind))

    def check(self, value: object) -> None:
        if value is None and self.nullable:
            return
        if not isinstance(value, str):
            raise _RefusedError(
                "expected a string or null" if self.nullable else "expected a string"
            )
        if value not in self.values:
            raise _RefusedError(f"unknown value {value!r}")

    def schema(self) -> dict[str, Any]:
        values: list[str | None] = [member.value for member in self.kind]
        return {"enum": [*values, None] if self.nullable else values}


@dataclass(frozen=True, slots=True)
class TextMap:
    """Questions to answers, or a lane's extra fields: strings to strings."""

    def check(self, value: object) -> None:
        if not isinstance(value, dict):
            raise _RefusedError("expected an object")
        for key, item in value.items():
            if not isinstance(key, str) or not isinstance(item, str):
                raise _RefusedError("keys and values must be strings")

    def schema(self) -> dict[str, Any]:
        return {"type": "object", "additionalProperties": {"type": "string"}}


@dataclass(frozen=True, slots=True)
class TextList:
    def check(self, value: object) -> None:
        if not isinstance(value, list):
            raise _RefusedError("expected a list")
        if not all(isinstance(item, str) for item in value):
            raise _RefusedError("expected a list of strings")

    def schema(self) -> dict[str, Any]:
        return {"type": "array", "items": {"type": "string"}}


class Object:
    """A JSON object with exactly these keys, in the order ``entry_to_document`` writes them."""

    __slots__ = ("_checks", "fields", "keys")

    def __init__(self, fields: dict[str, Shape]) -> None:
        self.fields = tuple(fields.items())
        self.keys = frozenset(fields)
        self._checks = tuple((key, shape.check) for key, shape in self.fields)  # bound once

    def check(self, value: object) -> None:
        if not isinstance(value, dict):
            raise _RefusedError("expected an object")
        if value.keys() != self.keys:
            self._refuse_keys(value)
        for key, check in self._checks:
            try:
                check(value[key])
            except _RefusedError as refused:
                refused.path.append(key)
                raise

    def _refuse_keys(self, value: dict[object, object]) -> None:
        for key, _ in self.fields:
            if key not in value:
                refused = _RefusedError("missing")
                refused.path.append(key)
                raise refused
        unknown = sorted(str(key) for key in value if key not in self.keys)
        raise _RefusedError(f"unknown keys {unknown}")

    def schema(self) -> dict[str, Any]:
        return {
            "type": "object",
            "additionalProperties": False,
            "required": [key for key, _ in self.fields],
            "properties": {key: shape.schema() for key, shape in self.fields},
        }


@dataclass(frozen=True, slots=True)
class ListOf:
    item: Shape

    def check(self, value: object) -> None:
        if not isinstance(value, list):
            raise _RefusedError("expected a list")
        for index, item in enumerate(value):
            try:
                self.item.check(item)
            except _RefusedError as refused:
                refused.path.append(index)
                raise

    def schema(self) -> dict[str, Any]:
        return {"type": "array", "items": self.item.schema()}


PASS = Object(
    {
        "id": Text(nullable=True),
        "kind": Choice(PassKind, nullable=True),
        "key_id": Text(nullable=True),
    }
)
GUARD = Object({"id": Text(nullable=True), "note": Text(nullable=True)})
TEMPERATURE = Object(
    {
        "body_c": Number(),
        "value_c": Number(),
        "object_c": Number(nullable=True),
        "ambient_c": Number(nullable=True),
        "sensor": Text(),
        "manual": Flag(),
        "plausible": Flag(),
        "fever": Flag(),
        "at": Moment(),
        "raw_hex": Text(),
    }
)
ENTRY = Object(
    {
        "id": Text(description="UUIDv7; unique across every gate."),
        "schema_version": Version(ENTRY_SCHEMA_VERSION),
        "community": Text(),
        "gate": Text(),
        "lane": Text(),
        "direction": Choice(Direction),
        "seq": Integer(1, MAX_SEQ, description="The gate log's gap-free sequence number."),
        "started_at": Moment(),
        "decided_at": Moment(),
        "recorded_at": Moment(),
        "clock_synced": Flag(
            description="False: the gate's clock was not NTP-synchronised when it decided."
        ),
        "boot_id": Text(),
        "pass": PASS,
        "holder": Text(nullable=True),
        "household": Text(nullable=True),
        "answers": TextMap(),
        "temperatures": ListOf(TEMPERATURE),
        "outcome": Choice(Outcome),
        "reasons": TextList(),
        "guard": GUARD,
        "gate_mode": Choice(GateMode),
        "extra": TextMap(),
    }
)
"""The entry document, key by key, in the order ``entry_to_document`` writes it."""

ENTRY_KEYS = ENTRY.keys
PASS_KEYS = PASS.keys
GUARD_KEYS = GUARD.keys
TEMPERATURE_KEYS = TEMPERATURE.keys


def document_problem(document: object) -> str | None:
    """Why ``document`` is not a valid entry document (naming the field), or None if it is."""
    try:
        ENTRY.check(document)
    except _RefusedError as refused:
        return refused.reason()
    return None


def json_schema() -> dict[str, Any]:
    """The entry document's JSON Schema (draft 2020-12): sync/schemas/entry.v1.json holds it."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://kakou.invalid/schemas/entry.v{ENTRY_SCHEMA_VERSION}.json",
        "title": f"Kakou entry document, schema_version {ENTRY_SCHEMA_VERSION}",
        "description": (
            "One visit at a gate, as edge.entry_document.entry_to_document writes it. The "
            "receiver checks every element of a batch against this contract; unknown keys are "
            "refused, a new key needs a new schema_version. Generated by "
            "edge.entry_document.json_schema: do not edit by hand."
        ),
        **ENTRY.schema(),
    }


def schema_text() -> str:
    """``json_schema`` as its file holds it (the other files in sync/schemas/ are laid out so)."""
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------------------------- to JSON


def _require_aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must carry a UTC offset, got naive {moment!r}")


def _iso(moment: datetime, name: str) -> str:
    _require_aware(moment, name)
    return moment.isoformat()


def _finite(value: float, name: str) -> float:
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return value


def _optional_finite(value: float | None, name: str) -> float | None:
    return None if value is None else _finite(value, name)


def _text_pairs(pairs: Iterable[tuple[object, object]], name: str) -> dict[str, str]:
    # Answers and extra fields come from forms and lanes at run time: check what the types
    # promise, so that nothing is stored that entry_from_document would refuse to read back.
    result: dict[str, str] = {}
    for key, value in pairs:
        if not isinstance(key, str) or not isinstance(value, str):
            raise ValueError(f"{name} keys and values must be strings, got {key!r}: {value!r}")
        if key in result:
            raise ValueError(f"{name} has {key!r} twice")
        result[key] = value
    return result


def _temperature_to_document(measured: MeasuredTemperature, index: int) -> dict[str, Any]:
    where = f"temperatures[{index}]"
    reading = measured.reading
    return {
        "body_c": _finite(measured.body_c, f"{where}.body_c"),
        "value_c": _finite(reading.value_c, f"{where}.value_c"),
        "object_c": _optional_finite(reading.object_c, f"{where}.object_c"),
        "ambient_c": _optional_finite(reading.ambient_c, f"{where}.ambient_c"),
        "sensor": reading.sensor,
        "manual": reading.manual,
        "plausible": measured.plausible,
        "fever": measured.fever,
        "at": _iso(measured.at, f"{where}.at"),
        "raw_hex": reading.raw_hex,
    }


def entry_to_document(entry: Entry) -> dict[str, Any]:
    """The JSON-ready document for one entry (see the module docstring for its rules).

    Raises ``ValueError`` for an entry that cannot be represented (a naive time, a non-finite
    temperature, the same question answered twice, a non-string answer): that is a bug upstream,
    not bad input, and ``record_entry`` refuses such an entry before it takes a sequence number.
    """
    draft = entry.draft
    answers = _text_pairs(draft.answers, "answers")
    extra = _text_pairs(entry.extra.items(), "extra")
    if not all(isinstance(reason, str) for reason in draft.reasons):
        raise ValueError(f"reasons must be strings, got {draft.reasons!r}")
    return {
        "id": entry.id,
        "schema_version": entry.schema_version,
        "community": entry.community,
        "gate": entry.gate,
        "lane": draft.lane,
        "direction": draft.direction.value,
        "seq": entry.seq,
        "started_at": _iso(draft.started_at, "started_at"),
        "decided_at": _iso(draft.decided_at, "decided_at"),
        "recorded_at": _iso(entry.recorded_at, "recorded_at"),
        "clock_synced": draft.clock_synced,
        "boot_id": entry.boot_id,
        "pass": {
            "id": draft.pass_id,
            "kind": None if draft.pass_kind is None else draft.pass_kind.value,
            "key_id": draft.key_id,
        },
        "holder": draft.holder,
        "household": draft.household,
        "answers": answers,
        "temperatures": [
            _temperature_to_document(measured, index)
            for index, measured in enumerate(draft.temperatures)
        ],
        "outcome": draft.outcome.value,
        "reasons": list(draft.reasons),
        "guard": {"id": draft.guard_id, "note": draft.guard_note},
        "gate_mode": draft.gate_mode.value,
        "extra": extra,
    }


# -------------------------------------------------------------------------------- from JSON


def _temperature_from_document(doc: dict[str, Any]) -> MeasuredTemperature:
    object_c, ambient_c = doc["object_c"], doc["ambient_c"]
    return MeasuredTemperature(
        reading=Reading(
            value_c=float(doc["value_c"]),
            sensor=doc["sensor"],
            object_c=None if object_c is None else float(object_c),
            ambient_c=None if ambient_c is None else float(ambient_c),
            manual=doc["manual"],
            raw_hex=doc["raw_hex"],
        ),
        body_c=float(doc["body_c"]),
        at=_moment(doc["at"]),
        plausible=doc["plausible"],
        fever=doc["fever"],
    )


def entry_from_document(document: object) -> Entry:
    """Parse a document made by ``entry_to_document``; raises ``DocumentError`` if it is not one.

    Only ``DocumentError`` escapes, whatever the input, so a receiver can reject a bad message
    and carry on.
    """
    problem = document_problem(document)
    if problem is not None:
        raise DocumentError(problem)
    assert isinstance(document, dict)  # ENTRY.check accepted it
    pass_part, guard, kind = document["pass"], document["guard"], document["pass"]["kind"]
    draft = EntryDraft(
        lane=document["lane"],
        direction=Direction(document["direction"]),
        outcome=Outcome(document["outcome"]),
        started_at=_moment(document["started_at"]),
        decided_at=_moment(document["decided_at"]),
        reasons=tuple(document["reasons"]),
        pass_id=pass_part["id"],
        pass_kind=None if kind is None else PassKind(kind),
        holder=document["holder"],
        household=document["household"],
        key_id=pass_part["key_id"],
        answers=tuple(document["answers"].items()),
        temperatures=tuple(_temperature_from_document(item) for item in document["temperatures"]),
        guard_id=guard["id"],
        guard_note=guard["note"],
        gate_mode=GateMode(document["gate_mode"]),
        clock_synced=document["clock_synced"],
    )
    return Entry(
        id=document["id"],
        seq=document["seq"],
        schema_version=document["schema_version"],
        community=document["community"],
        gate=document["gate"],
        boot_id=document["boot_id"],
        recorded_at=_moment(document["recorded_at"]),
        draft=draft,
        extra=dict(document["extra"]),
    )


# ----------------------------------------------------------------------- the office's columns


class EntryColumns(NamedTuple):
    """What an office keeps of one checked entry: the columns its reports query, and the
    document's canonical text (the entry itself, never rebuilt from the columns).

    A named tuple, not a frozen dataclass: as immutable, and built in a quarter of the time,
    which counts when a receiver drains a backlog (bench/bench_sync.py --only check).
    """

    id: str
    seq: int
    community: str
    gate: str
    lane: str
    direction: str
    outcome: str
    pass_kind: str | None
    decided_at: str
    decided_at_us: int
    clock_synced: bool
    document: str
    pass_id: str | None
    holder: str | None
    """As the pass carries it: masked at issue (``edge.passes.mask_holder``) unless the office
    chose otherwise, so the office masks it again wherever it lists it."""
    household: str | None
    """The pass's unit: the household in the office's roster."""
    max_body_c: float | None
    """The highest reading that could be a body temperature; None if none could."""
    fever: bool
    """A fever case of the ledger: the fever outcome, or any reading at or over the line."""


def check_document(document: object) -> EntryColumns | str:
    """The columns and canonical text of a valid entry document, or why it is refused.

    The receiver's path: the same check as ``entry_from_document`` without building the
    ``Entry`` it does not need. Never raises on bad input.
    """
    problem = document_problem(document)
    if problem is not None:
        return problem
    assert isinstance(document, dict)  # ENTRY.check accepted it
    decided_at = _moment(document["decided_at"])
    pass_id, holder, household, max_body_c, fever = ledger_columns(document)
    return EntryColumns(
        id=document["id"],
        seq=document["seq"],
        community=document["community"],
        gate=document["gate"],
        lane=document["lane"],
        direction=document["direction"],
        outcome=document["outcome"],
        pass_kind=document["pass"]["kind"],
        decided_at=decided_at.isoformat(),
        decided_at_us=epoch_us(decided_at),
        clock_synced=document["clock_synced"],
        document=canonical_document(document),
        pass_id=pass_id,
        holder=holder,
        household=household,
        max_body_c=max_body_c,
        fever=fever,
    )


LedgerColumns = tuple[str | None, str | None, str | None, float | None, bool]
"""pass id, holder, household, highest plausible body temperature, fever case."""


def ledger_columns(document: dict[str, Any]) -> LedgerColumns:
    """What the office's ledgers look up of a checked document (``EntryColumns``' last five):
    also how a receiver fills these columns for entries stored before it kept them."""
    max_body_c: float | None = None
    fever = document["outcome"] == "fever"
    for reading in document["temperatures"]:
        fever = fever or reading["fever"]
        if reading["plausible"] and (max_body_c is None or reading["body_c"] > max_body_c):
            max_body_c = reading["body_c"]
    return (
        document["pass"]["id"],
        document["holder"],
        document["household"],
        None if max_body_c is None else float(max_body_c),
        fever,
    )
