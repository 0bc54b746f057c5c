"""edge/entry_document.py: the entry document's exact shape, exact round trips, strict parsing of
bad input, and the JSON Schema file generated from the same definition."""

from __future__ import annotations

import contextlib
import copy
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge.entry_document import (
    ENTRY,
    ENTRY_KEYS,
    GUARD_KEYS,
    PASS_KEYS,
    TEMPERATURE_KEYS,
    DocumentError,
    entry_from_document,
    entry_to_document,
    json_schema,
)
from edge.model import (
    ENTRY_SCHEMA_VERSION,
    Direction,
    EntryDraft,
    GateMode,
    Outcome,
    PassKind,
)
from tests.edge.store.drafts import drafts, extras, full_draft, texts
from tests.edge.store.entries import make_entry


def test_document_shape() -> None:
    doc = entry_to_document(make_entry(full_draft(), {"camera": "北门"}))
    assert list(doc) == [
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
    ]
    assert doc["pass"] == {"id": "P-2026-000123", "kind": "temporary", "key_id": "community-2026a"}
    assert doc["guard"] == {"id": "guard-07", "note": "复测37.6℃，已报社区"}
    assert doc["answers"] == {"travel_14d": "否，一直在小区", "symptoms": "有点咳嗽"}
    assert doc["started_at"] == "2026-11-23T08:00:00.125000+08:00"
    assert doc["temperatures"][0] == {
        "body_c": 37.81,
        "value_c": 37.31,
        "object_c": 37.31,
        "ambient_c": -3.5,
        "sensor": "gy-mcu90614",
        "manual": False,
        "plausible": True,
        "fever": True,
        "at": "2026-11-23T08:00:20.125000+08:00",
        "raw_hex": "5a5a45040e930e6e7b",
    }
    assert doc["temperatures"][1]["object_c"] is None
    assert doc["outcome"] == "fever"
    assert doc["gate_mode"] == "lockdown"
    assert doc["clock_synced"] is False
    assert doc["extra"] == {"camera": "北门"}
    assert list(doc) == [key for key, _ in ENTRY.fields]
    assert set(doc["pass"]) == PASS_KEYS
    assert set(doc["guard"]) == GUARD_KEYS
    assert all(set(measured) == TEMPERATURE_KEYS for measured in doc["temperatures"])
    # Strict JSON, and the same document after a trip through text.
    assert json.loads(json.dumps(doc, allow_nan=False)) == doc


def test_full_entry_round_trips_exactly() -> None:
    entry = make_entry(full_draft(), {"camera": "北门"})
    doc = entry_to_document(entry)
    back = entry_from_document(json.loads(json.dumps(doc)))
    assert back == entry
    assert back.draft.started_at.utcoffset() == timedelta(hours=8)


@given(draft=drafts, extra=extras)
def test_any_draft_round_trips_through_json_text(draft: EntryDraft, extra: dict[str, str]) -> None:
    entry = make_entry(draft, extra)
    text = json.dumps(entry_to_document(entry), ensure_ascii=False, allow_nan=False)
    back = entry_from_document(json.loads(text))
    assert back == entry
    assert back.draft.decided_at.utcoffset() == draft.decided_at.utcoffset()
    assert entry_to_document(back) == entry_to_document(entry)


def test_unrepresentable_entries_are_refused() -> None:
    with pytest.raises(ValueError, match="answers has 'q' twice"):
        entry_to_document(make_entry(full_draft(answers=(("q", "yes"), ("q", "no")))))
    with pytest.raises(ValueError, match="extra keys and values must be strings"):
        entry_to_document(make_entry(full_draft(), {"attempt": 2}))  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="answers keys and values"):
        entry_to_document(make_entry(full_draft(answers=(("q", None),))))
    with pytest.raises(ValueError, match="UTC offset"):
        entry_to_document(make_entry(full_draft(started_at=datetime(2026, 1, 1))))
    nan_draft = full_draft()
    bad_temperature = nan_draft.temperatures[0]
    with pytest.raises(ValueError, match="finite"):
        entry_to_document(
            make_entry(
                replace(nan_draft, temperatures=(replace(bad_temperature, body_c=float("nan")),))
            )
        )


def _valid_document() -> dict[str, Any]:
    return entry_to_document(make_entry(full_draft(), {"k": "v"}))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("seq"), "seq: missing"),
        (lambda d: d.update(seq="17"), "seq: expected an integer"),
        (lambda d: d.update(seq=True), "seq: expected an integer"),
        (lambda d: d.update(seq=0), "seq: must be 1 to"),
        (lambda d: d.update(seq=2**63), "seq: must be 1 to"),  # no BIGINT column holds it
        (lambda d: d["temperatures"][0].update(body_c=10**400), "body_c: number out of range"),
        (lambda d: d.update(schema_version=ENTRY_SCHEMA_VERSION + 1), "not supported"),
        (lambda d: d.update(outcome="waved_through"), "outcome: unknown value"),
        (lambda d: d.update(decided_at="2026-11-23T08:00:00"), "without a UTC offset"),
        (lambda d: d.update(decided_at="yesterday"), "not an ISO 8601 time"),
        (lambda d: d["pass"].update(kind="vip"), "pass.kind: unknown value"),
        (lambda d: d["pass"].update(colour="red"), "pass: unknown keys"),
        (lambda d: d.update(note="added field"), "unknown keys"),
        (lambda d: d["temperatures"][0].update(body_c="37"), r"temperatures\[0\].body_c"),
        (lambda d: d["temperatures"][1].pop("fever"), r"temperatures\[1\].fever: missing"),
        (lambda d: d.update(answers=[["q", "a"]]), "answers: expected an object"),
        (lambda d: d.update(reasons=["fever", 3]), "reasons"),
        (lambda d: d.update(extra={"k": 1}), "extra"),
        (lambda d: d.update(guard=None), "guard: expected an object"),
    ],
)
def test_bad_documents_name_the_field(change: Any, message: str) -> None:
    doc = _valid_document()
    change(doc)
    with pytest.raises(DocumentError, match=message):
        entry_from_document(doc)


def test_whole_numbers_are_accepted_as_temperatures() -> None:
    doc = _valid_document()
    doc["temperatures"][0]["body_c"] = 37
    assert entry_from_document(doc).draft.temperatures[0].body_c == 37.0


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=8,
)


def document_paths(value: object, prefix: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """Every place in a JSON value (keys and indexes from the top), for corrupting one of them."""
    found: list[tuple[object, ...]] = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += document_paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += document_paths(item, (*prefix, index))
    return found


@given(data=st.data(), replacement=json_values)
def test_a_corrupted_document_raises_only_document_error(
    data: st.DataObject, replacement: object
) -> None:
    doc = copy.deepcopy(_valid_document())
    paths = [path for path in document_paths(doc) if path]
    path = data.draw(st.sampled_from(paths))
    parent: Any = doc
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = replacement
    with contextlib.suppress(DocumentError):  # anything else escaping fails the test
        entry_from_document(doc)


@given(junk=json_values)
def test_junk_raises_only_document_error(junk: object) -> None:
    with pytest.raises(DocumentError):
        entry_from_document(junk)


def test_times_in_utc_keep_their_offset() -> None:
    entry = make_entry(full_draft(decided_at=datetime(2026, 11, 23, 0, 0, tzinfo=UTC)))
    doc = entry_to_document(entry)
    assert doc["decided_at"] == "2026-11-23T00:00:00+00:00"


# ------------------------------------------------------------------------------ the JSON Schema

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "sync" / "schemas" / "entry.v1.json"


def test_the_schema_file_is_what_the_module_generates() -> None:
    on_disk = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert on_disk == json_schema(), (
        "sync/schemas/entry.v1.json is stale: run .venv/bin/python -c 'from edge.entry_document "
        'import schema_text; print(schema_text(), end="")\' > sync/schemas/entry.v1.json'
    )
    jsonschema.Draft202012Validator.check_schema(on_disk)


def test_the_schema_states_the_key_sets_and_enums_of_the_model() -> None:
    schema = json_schema()
    properties = schema["properties"]
    assert set(schema["required"]) == set(properties) == ENTRY_KEYS
    assert set(properties["pass"]["required"]) == PASS_KEYS
    assert set(properties["guard"]["required"]) == GUARD_KEYS
    assert set(properties["temperatures"]["items"]["required"]) == TEMPERATURE_KEYS
    assert properties["outcome"]["enum"] == [member.value for member in Outcome]
    assert properties["direction"]["enum"] == [member.value for member in Direction]
    assert properties["gate_mode"]["enum"] == [member.value for member in GateMode]
    assert properties["pass"]["properties"]["kind"]["enum"] == [
        *(member.value for member in PassKind),
        None,
    ]
    assert properties["schema_version"] == {"const": ENTRY_SCHEMA_VERSION}


@given(draft=drafts, extra=extras)
def test_the_schema_accepts_every_document_the_parser_accepts(
    draft: EntryDraft, extra: dict[str, str]
) -> None:
    document = json.loads(json.dumps(entry_to_document(make_entry(draft, extra))))
    jsonschema.Draft202012Validator(json_schema()).validate(document)


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d.update(note="added field"),
        lambda d: d.pop("seq"),
        lambda d: d.update(seq=0),
        lambda d: d.update(outcome="waved_through"),
        lambda d: d["pass"].update(kind="vip"),
        lambda d: d["guard"].update(rank="chief"),
        lambda d: d["temperatures"][0].update(body_c="37"),
        lambda d: d["temperatures"][1].pop("fever"),
        lambda d: d.update(answers={"q": 1}),
        lambda d: d.update(schema_version=ENTRY_SCHEMA_VERSION + 1),
    ],
)
def test_the_schema_refuses_what_the_parser_refuses(change: Any) -> None:
    document = _valid_document()
    change(document)
    with pytest.raises(DocumentError):
        entry_from_document(document)
    assert not jsonschema.Draft202012Validator(json_schema()).is_valid(document)
