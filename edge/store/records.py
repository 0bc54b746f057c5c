"""Entries as JSON documents and as table rows.

The document is the contract: it is what the sync layer publishes over MQTT, what the community
receiver stores and what ``kakou entries --json`` prints. A table row is the same document
flattened: the fields the store queries are real columns, the nested ones (answers, temperatures,
reasons, extra) are JSON text. Both directions go through the document, so there is one mapping
to keep right, and ``entry_from_document(entry_to_document(e)) == e`` for every valid entry.

Documents are strict JSON: times are ISO 8601 with an explicit UTC offset, floats are finite, and
``entry_from_document`` rejects unknown keys, because any change to the contract comes with a
new ``schema_version``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

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

SqlValue = str | int | float | bytes | None
"""A value SQLite hands back for one column."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)

ENTRY_COLUMNS: tuple[str, ...] = (
    "id",
    "community",
    "gate",
    "seq",
    "schema_version",
    "lane",
    "direction",
    "outcome",
    "started_at",
    "decided_at",
    "recorded_at",
    "decided_at_us",
    "recorded_at_us",
    "clock_synced",
    "boot_id",
    "pass_id",
    "pass_kind",
    "key_id",
    "holder",
    "household",
    "answers",
    "temperatures",
    "reasons",
    "guard_id",
    "guard_note",
    "gate_mode",
    "extra",
)
"""Columns of the ``entries`` table, in the order ``entry_to_row`` fills them."""


MAX_SEQ = 2**63 - 1  # SQLite's and PostgreSQL's BIGINT: a larger seq could not be stored


class DocumentError(ValueError):
    """A document (or stored row) is not a valid entry; the message names the field."""


# ---------------------------------------------------------------------------------- to JSON


def epoch_us(moment: datetime, name: str = "time") -> int:
    """Microseconds since the Unix epoch, exact (integer arithmetic), for indexed time columns."""
    _require_aware(moment, name)
    return (moment - _EPOCH) // _ONE_US


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

_E = TypeVar("_E", bound=StrEnum)


class _Fields:
    """Typed, strict access to one JSON object; every failure names the field's path."""

    def __init__(self, value: object, where: str) -> None:
        if not isinstance(value, Mapping):
            raise DocumentError(f"{where or 'document'}: expected an object")
        self._doc: Mapping[object, object] = value
        self._where = where
        self._used: set[str] = set()

    def _path(self, key: str) -> str:
        return f"{self._where}.{key}" if self._where else key

    def _get(self, key: str) -> object:
        self._used.add(key)
        if key not in self._doc:
            raise DocumentError(f"{self._path(key)}: missing")
        return self._doc[key]

    def text(self, key: str) -> str:
        value = self._get(key)
        if not isinstance(value, str):
            raise DocumentError(f"{self._path(key)}: expected a string")
        return value

    def optional_text(self, key: str) -> str | None:
        value = self._get(key)
        if value is not None and not isinstance(value, str):
            raise DocumentError(f"{self._path(key)}: expected a string or null")
        return value

    def integer(self, key: str) -> int:
        value = self._get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise DocumentError(f"{self._path(key)}: expected an integer")
        return value

    def flag(self, key: str) -> bool:
        value = self._get(key)
        if not isinstance(value, bool):
            raise DocumentError(f"{self._path(key)}: expected true or false")
        return value

    def number(self, key: str) -> float:
        value = self.optional_number(key)
        if value is None:
            raise DocumentError(f"{self._path(key)}: expected a number")
        return value

    def optional_number(self, key: str) -> float | None:
        value = self._get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise DocumentError(f"{self._path(key)}: expected a number")
        try:
            number = float(value)  # a 400-digit integer overflows here, not in math.isfinite
        except OverflowError:
            raise DocumentError(f"{self._path(key)}: number out of range") from None
        if not math.isfinite(number):
            raise DocumentError(f"{self._path(key)}: expected a finite number")
        return number

    def moment(self, key: str) -> datetime:
        text = self.text(key)
        try:
            value = datetime.fromisoformat(text)
        except ValueError as exc:
            raise DocumentError(f"{self._path(key)}: not an ISO 8601 time: {text!r}") from exc
        if value.tzinfo is None:
            raise DocumentError(f"{self._path(key)}: time without a UTC offset: {text!r}")
        return value

    def choice(self, key: str, kind: type[_E]) -> _E:
        return self._to_enum(key, self.text(key), kind)

    def optional_choice(self, key: str, kind: type[_E]) -> _E | None:
        text = self.optional_text(key)
        return None if text is None else self._to_enum(key, text, kind)

    def _to_enum(self, key: str, text: str, kind: type[_E]) -> _E:
        try:
            return kind(text)
        except ValueError as exc:
            raise DocumentError(f"{self._path(key)}: unknown value {text!r}") from exc

    def child(self, key: str) -> _Fields:
        return _Fields(self._get(key), self._path(key))

    def array(self, key: str) -> list[object]:
        value = self._get(key)
        if not isinstance(value, list):
            raise DocumentError(f"{self._path(key)}: expected a list")
        return value

    def text_map(self, key: str) -> dict[str, str]:
        value = self._get(key)
        if not isinstance(value, Mapping):
            raise DocumentError(f"{self._path(key)}: expected an object")
        result: dict[str, str] = {}
        for name, item in value.items():
            if not isinstance(name, str) or not isinstance(item, str):
                raise DocumentError(f"{self._path(key)}: keys and values must be strings")
            result[name] = item
        return result

    def finish(self) -> None:
        """Refuse keys the contract does not name (a changed contract needs a new version)."""
        unknown = sorted(str(key) for key in self._doc if key not in self._used)
        if unknown:
            raise DocumentError(f"{self._where or 'document'}: unknown keys {unknown}")


def _temperature_from_document(value: object, where: str) -> MeasuredTemperature:
    fields = _Fields(value, where)
    measured = MeasuredTemperature(
        reading=Reading(
            value_c=fields.number("value_c"),
            sensor=fields.text("sensor"),
            object_c=fields.optional_number("object_c"),
            ambient_c=fields.optional_number("ambient_c"),
            manual=fields.flag("manual"),
            raw_hex=fields.text("raw_hex"),
        ),
        body_c=fields.number("body_c"),
        at=fields.moment("at"),
        plausible=fields.flag("plausible"),
        fever=fields.flag("fever"),
    )
    fields.finish()
    return measured


def entry_from_document(doc: object) -> Entry:
    """Parse a document made by ``entry_to_document``; raises ``DocumentError`` if it is not one.

    Only ``DocumentError`` escapes, whatever the input, so a receiver can reject a bad message
    and carry on.
    """
    fields = _Fields(doc, "")
    schema_version = fields.integer("schema_version")
    if schema_version != ENTRY_SCHEMA_VERSION:
        raise DocumentError(
            f"schema_version: {schema_version} is not supported (expected {ENTRY_SCHEMA_VERSION})"
        )
    seq = fields.integer("seq")
    if not 1 <= seq <= MAX_SEQ:
        raise DocumentError(f"seq: must be 1 to {MAX_SEQ}")
    pass_fields = fields.child("pass")
    guard_fields = fields.child("guard")
    reasons = fields.array("reasons")
    if not all(isinstance(reason, str) for reason in reasons):
        raise DocumentError("reasons: expected a list of strings")
    draft = EntryDraft(
        lane=fields.text("lane"),
        direction=fields.choice("direction", Direction),
        outcome=fields.choice("outcome", Outcome),
        started_at=fields.moment("started_at"),
        decided_at=fields.moment("decided_at"),
        reasons=tuple(str(reason) for reason in reasons),
        pass_id=pass_fields.optional_text("id"),
        pass_kind=pass_fields.optional_choice("kind", PassKind),
        holder=fields.optional_text("holder"),
        household=fields.optional_text("household"),
        key_id=pass_fields.optional_text("key_id"),
        answers=tuple(fields.text_map("answers").items()),
        temperatures=tuple(
            _temperature_from_document(item, f"temperatures[{index}]")
            for index, item in enumerate(fields.array("temperatures"))
        ),
        guard_id=guard_fields.optional_text("id"),
        guard_note=guard_fields.optional_text("note"),
        gate_mode=fields.choice("gate_mode", GateMode),
        clock_synced=fields.flag("clock_synced"),
    )
    entry = Entry(
        id=fields.text("id"),
        seq=seq,
        schema_version=schema_version,
        community=fields.text("community"),
        gate=fields.text("gate"),
        boot_id=fields.text("boot_id"),
        recorded_at=fields.moment("recorded_at"),
        draft=draft,
        extra=fields.text_map("extra"),
    )
    pass_fields.finish()
    guard_fields.finish()
    fields.finish()
    return entry


# ------------------------------------------------------------------------------------ rows


def _json_text(value: object) -> str:
    # Compact, UTF-8 as is (answers are often Chinese), and strict: NaN never reaches the log.
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def entry_to_row(entry: Entry) -> dict[str, SqlValue]:
    """The ``entries`` row for an entry: the document flattened, plus UTC microsecond columns."""
    doc = entry_to_document(entry)
    return {
        "id": doc["id"],
        "community": doc["community"],
        "gate": doc["gate"],
        "seq": doc["seq"],
        "schema_version": doc["schema_version"],
        "lane": doc["lane"],
        "direction": doc["direction"],
        "outcome": doc["outcome"],
        "started_at": doc["started_at"],
        "decided_at": doc["decided_at"],
        "recorded_at": doc["recorded_at"],
        "decided_at_us": epoch_us(entry.draft.decided_at),
        "recorded_at_us": epoch_us(entry.recorded_at),
        "clock_synced": int(doc["clock_synced"]),
        "boot_id": doc["boot_id"],
        "pass_id": doc["pass"]["id"],
        "pass_kind": doc["pass"]["kind"],
        "key_id": doc["pass"]["key_id"],
        "holder": doc["holder"],
        "household": doc["household"],
        "answers": _json_text(doc["answers"]),
        "temperatures": _json_text(doc["temperatures"]),
        "reasons": _json_text(doc["reasons"]),
        "guard_id": doc["guard"]["id"],
        "guard_note": doc["guard"]["note"],
        "gate_mode": doc["gate_mode"],
        "extra": _json_text(doc["extra"]),
    }


def _json_column(row: Mapping[str, SqlValue], column: str) -> object:
    text = row.get(column)
    if not isinstance(text, str):
        raise DocumentError(f"{column}: expected JSON text")
    try:
        return json.loads(text)
    except ValueError as exc:
        raise DocumentError(f"{column}: not JSON: {exc}") from exc


def document_from_row(row: Mapping[str, SqlValue]) -> dict[str, Any]:
    """The document stored in an ``entries`` row, rebuilt but not re-checked.

    Raises ``DocumentError`` only for a row that cannot be rebuilt at all (a missing column,
    text that is not JSON). ``entry_from_row`` checks the result strictly; the sync publisher
    sends it as it is, since every row was written from a checked entry and the receiver checks
    each document again.
    """
    missing = [column for column in ENTRY_COLUMNS if column not in row]
    if missing:
        raise DocumentError(f"row lacks columns {missing}")
    clock_synced = row["clock_synced"]
    if clock_synced not in (0, 1):
        raise DocumentError("clock_synced: expected 0 or 1")
    return {
        "id": row["id"],
        "schema_version": row["schema_version"],
        "community": row["community"],
        "gate": row["gate"],
        "lane": row["lane"],
        "direction": row["direction"],
        "seq": row["seq"],
        "started_at": row["started_at"],
        "decided_at": row["decided_at"],
        "recorded_at": row["recorded_at"],
        "clock_synced": clock_synced == 1,
        "boot_id": row["boot_id"],
        "pass": {"id": row["pass_id"], "kind": row["pass_kind"], "key_id": row["key_id"]},
        "holder": row["holder"],
        "household": row["household"],
        "answers": _json_column(row, "answers"),
        "temperatures": _json_column(row, "temperatures"),
        "outcome": row["outcome"],
        "reasons": _json_column(row, "reasons"),
        "guard": {"id": row["guard_id"], "note": row["guard_note"]},
        "gate_mode": row["gate_mode"],
        "extra": _json_column(row, "extra"),
    }


def entry_from_row(row: Mapping[str, SqlValue]) -> Entry:
    """The entry stored in an ``entries`` row; raises ``DocumentError`` if the row is damaged."""
    return entry_from_document(document_from_row(row))
