"""sync/contract.py: topics, payload parsing of hostile bytes, and the JSON Schema files."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from referencing import Registry, Resource

from edge.entry_document import entry_to_document
from edge.model import Entry, EntryDraft
from edge.store import Store
from sync import contract
from sync.contract import (
    Ack,
    AlertKind,
    Channel,
    DownlinkKind,
    EntryBatch,
    Malformed,
    Status,
    alert_topic,
    downlink_topic,
    encode_entry_batch,
    entries_share_filter,
    gate_topic,
    parse_downlink_topic,
    parse_gate_topic,
    parse_payload,
)
from sync.status import offline_status
from tests.edge.store.drafts import drafts, extras, full_draft

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def test_topics_are_built_in_one_shape() -> None:
    assert gate_topic("hxy", "north", Channel.ENTRIES) == "kakou/v1/hxy/north/entries"
    assert gate_topic("hxy", "north", Channel.ACK) == "kakou/v1/hxy/north/ack"
    assert alert_topic("hxy", "north", AlertKind.FEVER) == "kakou/v1/hxy/north/alerts/fever"
    assert downlink_topic("hxy", DownlinkKind.POLICY) == "kakou/v1/hxy/downlink/policy"
    assert entries_share_filter("office") == "$share/office/kakou/v1/+/+/entries"


@pytest.mark.parametrize(
    ("community", "gate"),
    [("hxy", "a/b"), ("hxy", "+"), ("h#", "north"), ("hxy", ""), ("hxy", "downlink"), ("$", "x")],
)
def test_ids_that_would_break_a_topic_are_refused(community: str, gate: str) -> None:
    with pytest.raises(ValueError, match="id"):
        gate_topic(community, gate, Channel.ENTRIES)


def test_topics_parse_back() -> None:
    for channel in (Channel.ENTRIES, Channel.STATUS, Channel.ACK):
        parsed = parse_gate_topic(gate_topic("hxy", "north", channel))
        assert parsed is not None
        assert (parsed.community, parsed.gate, parsed.channel) == (
            "hxy",
            "north",
            channel,
        )
    parsed = parse_gate_topic(alert_topic("hxy", "north", AlertKind.DOOR_FORCED))
    assert parsed is not None
    assert parsed.alert is AlertKind.DOOR_FORCED
    assert parse_downlink_topic(downlink_topic("hxy", DownlinkKind.KEYS)) == (
        "hxy",
        DownlinkKind.KEYS,
    )


@given(st.text(max_size=80))
def test_any_topic_string_parses_or_is_none(topic: str) -> None:
    result = parse_gate_topic(topic)
    assert result is None or gate_topic(result.community, result.gate, result.channel) in topic
    parse_downlink_topic(topic)


@given(st.binary(max_size=2000))
@settings(max_examples=300)
def test_parsers_never_raise_on_bytes(payload: bytes) -> None:
    for model in (EntryBatch, Ack, Status):
        result = parse_payload(model, payload)
        assert isinstance(result, Malformed | model)


_JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@given(
    st.dictionaries(
        st.sampled_from(
            [
                "v",
                "type",
                "community",
                "gate",
                "log_id",
                "up_to_seq",
                "ids",
                "server_time",
                "receiver",
                "extra",
            ]
        ),
        _JSONISH,
    )
)
@settings(max_examples=150)
def test_ack_parser_refuses_malformed_objects_with_a_reason(data: dict[str, Any]) -> None:
    result = parse_payload(Ack, json.dumps(data))
    if isinstance(result, Malformed):
        assert result.reason
        assert len(result.reason) < 1000


def test_malformed_reasons_name_the_field_and_never_echo_input() -> None:
    secret = "hunter2-not-for-logs"
    result = parse_payload(Ack, json.dumps({"v": 1, "type": "ack", "community": secret}))
    assert isinstance(result, Malformed)
    assert "gate" in result.reason
    assert secret not in result.reason
    assert isinstance(parse_payload(Ack, b"\xff\xfe"), Malformed)
    assert isinstance(parse_payload(Ack, b"[]"), Malformed)
    big = b"{" + b" " * (contract.MAX_PAYLOAD_BYTES + 1) + b"}"
    assert "over" in parse_payload(Ack, big).reason  # type: ignore[union-attr]


def test_a_newer_contract_version_is_refused() -> None:
    ack = Ack(
        community="hxy", gate="north", log_id="l1", up_to_seq=3, server_time=NOW, receiver="r"
    )
    data = json.loads(contract.to_json(ack))
    assert isinstance(parse_payload(Ack, json.dumps(data)), Ack)
    data["v"] = 2
    assert "v" in parse_payload(Ack, json.dumps(data)).reason  # type: ignore[union-attr]
    data["v"] = 1
    data["new_field"] = True
    assert isinstance(parse_payload(Ack, json.dumps(data)), Malformed)


# ------------------------------------------------------------------------------ schema files

SCHEMAS = Path(contract.__file__).with_name("schemas")


def _registry() -> Registry:
    resources = []
    for path in SCHEMAS.glob("*.json"):
        document = json.loads(path.read_text())
        resources.append((path.name, Resource.from_contents(document)))
        resources.append((document["$id"], Resource.from_contents(document)))
    return Registry().with_resources(resources)


def _validator(name: str) -> jsonschema.Draft202012Validator:
    schema = json.loads((SCHEMAS / name).read_text())
    return jsonschema.Draft202012Validator(
        schema, registry=_registry(), format_checker=jsonschema.FormatChecker()
    )


@pytest.mark.parametrize("name", sorted(contract.PAYLOAD_SCHEMAS))
def test_schema_files_are_what_the_models_generate(name: str) -> None:
    on_disk = json.loads((SCHEMAS / name).read_text())
    assert on_disk == contract.json_schema(name), (
        f"{name} is stale: run python -c 'from sync.contract import write_schemas; write_schemas()'"
    )
    jsonschema.Draft202012Validator.check_schema(on_disk)


def test_every_schema_file_is_known() -> None:
    names = {path.name for path in SCHEMAS.glob("*.json")}
    assert names == {*contract.PAYLOAD_SCHEMAS, contract.ENTRY_SCHEMA_FILE}


@given(draft=drafts, extra=extras, seq=st.integers(min_value=1, max_value=2**53))
@settings(max_examples=150, deadline=None)
def test_every_entry_document_matches_the_entry_schema(
    draft: EntryDraft, extra: dict[str, str], seq: int
) -> None:
    entry = Entry(
        id=str(uuid.uuid4()),
        seq=seq,
        schema_version=1,
        community="hxy",
        gate="north",
        boot_id="b",
        recorded_at=NOW,
        draft=draft,
        extra=extra,
    )
    _validator(contract.ENTRY_SCHEMA_FILE).validate(entry_to_document(entry))


def _entry_documents(tmp_path: Path) -> list[dict[str, Any]]:
    with Store.open(tmp_path / "s.db", community="hxy", gate="north") as store:
        entry = store.record_entry(full_draft(), boot_id="b", recorded_at=NOW)
        return [entry_to_document(entry)]


def test_batches_from_the_publisher_match_the_schemas(tmp_path: Path) -> None:
    documents = _entry_documents(tmp_path)
    message = encode_entry_batch(
        community="hxy", gate="north", log_id="abc", sent_at=NOW, documents=documents
    )
    _validator("entries.v1.json").validate(json.loads(message))
    assert isinstance(parse_payload(EntryBatch, message), EntryBatch)
    broken = json.loads(message)
    broken["entries"][0]["surprise"] = 1
    assert not _validator("entries.v1.json").is_valid(broken)


def test_payloads_match_their_schemas() -> None:
    ack = Ack(
        community="hxy",
        gate="north",
        log_id="l1",
        up_to_seq=3,
        ids=["x"],
        server_time=NOW,
        receiver="r",
    )
    _validator("ack.v1.json").validate(json.loads(contract.to_json(ack)))
    _validator("status.v1.json").validate(
        json.loads(contract.to_json(offline_status("hxy", "north")))
    )
