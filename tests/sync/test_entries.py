"""sync/receiver/entries.py: the receiver's entry check refuses every document the parser
(edge.entry_document.entry_from_document) refuses, with the parser's reason, and gives for valid
ones exactly the columns of the entry the parser reads."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge.entry_document import (
    MAX_SEQ,
    DocumentError,
    EntryColumns,
    canonical_document,
    entry_from_document,
    entry_to_document,
    epoch_us,
)
from edge.model import ENTRY_SCHEMA_VERSION, Entry, EntryDraft, Outcome
from sync.contract import parse_gate_topic
from sync.receiver.db import IncomingEntry
from sync.receiver.entries import check_entry
from sync.receiver.receiver import parse_entries_message
from tests.edge.store.drafts import T0, drafts, extras, full_draft, simple_draft, texts
from tests.edge.store.entries import make_entry
from tests.edge.test_entry_document import document_paths, json_values

TOPIC = "kakou/v1/hxy/north/entries"


def wire(entry: Entry) -> dict[str, Any]:
    """The document as the receiver gets it: through JSON, as the gate sends it."""
    document: dict[str, Any] = json.loads(json.dumps(entry_to_document(entry), ensure_ascii=False))
    return document


def strict_verdict(document: object) -> IncomingEntry | str:
    """What the parser says, in check_entry's terms: the columns read from the parsed Entry."""
    try:
        entry = entry_from_document(document)
    except DocumentError as exc:
        return str(exc)
    assert isinstance(document, dict)
    draft = entry.draft
    plausible = [t.body_c for t in draft.temperatures if t.plausible]
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
        document=canonical_document(document),
        pass_id=draft.pass_id,
        holder=draft.holder,
        household=draft.household,
        max_body_c=max(plausible) if plausible else None,
        fever=draft.outcome is Outcome.FEVER or any(t.fever for t in draft.temperatures),
    )


def test_valid_documents_are_read_as_the_parser_reads_them() -> None:
    for entry in (
        make_entry(full_draft(), extra={"camera": "北门"}),
        make_entry(simple_draft(), seq=1),
        make_entry(simple_draft(pass_kind=None, pass_id=None, key_id=None, holder=None)),
    ):
        document = wire(entry)
        checked = check_entry(document)
        assert checked == strict_verdict(document)
        assert isinstance(checked, EntryColumns)
        assert (checked.id, checked.seq, checked.outcome) == (
            entry.id,
            entry.seq,
            entry.draft.outcome.value,
        )
        assert checked.decided_at == entry.draft.decided_at.isoformat()


def test_whole_numbers_as_temperatures_are_valid_and_stored_as_sent() -> None:
    document = wire(make_entry(full_draft()))
    document["temperatures"][0]["body_c"] = 37
    checked = check_entry(document)
    assert isinstance(checked, EntryColumns)
    assert json.loads(checked.document)["temperatures"][0]["body_c"] == 37


Change = Callable[[dict[str, Any]], object]

MALFORMED: list[tuple[str, Change]] = [
    ("missing seq", lambda d: d.pop("seq")),
    ("seq as text", lambda d: d.update(seq="17")),
    ("seq as boolean", lambda d: d.update(seq=True)),
    ("seq as float", lambda d: d.update(seq=17.0)),
    ("seq zero", lambda d: d.update(seq=0)),
    ("seq negative", lambda d: d.update(seq=-3)),
    ("newer schema", lambda d: d.update(schema_version=ENTRY_SCHEMA_VERSION + 1)),
    ("schema as text", lambda d: d.update(schema_version="1")),
    ("schema as boolean", lambda d: d.update(schema_version=True)),
    ("unknown outcome", lambda d: d.update(outcome="waved_through")),
    ("outcome as list", lambda d: d.update(outcome=["passed"])),
    ("unknown direction", lambda d: d.update(direction="sideways")),
    ("direction null", lambda d: d.update(direction=None)),
    ("unknown gate mode", lambda d: d.update(gate_mode="party")),
    ("naive decided_at", lambda d: d.update(decided_at="2026-11-23T08:00:00")),
    ("decided_at not a time", lambda d: d.update(decided_at="yesterday")),
    ("started_at as number", lambda d: d.update(started_at=1_700_000_000)),
    ("naive recorded_at", lambda d: d.update(recorded_at="2026-11-23T08:01:36")),
    ("unknown pass kind", lambda d: d["pass"].update(kind="vip")),
    ("pass kind as number", lambda d: d["pass"].update(kind=3)),
    ("extra pass key", lambda d: d["pass"].update(colour="red")),
    ("missing pass key_id", lambda d: d["pass"].pop("key_id")),
    ("pass as list", lambda d: d.update({"pass": ["P-1", "resident", "k1"]})),
    ("pass id as number", lambda d: d["pass"].update(id=123)),
    ("unknown top-level key", lambda d: d.update(note="added field")),
    ("missing extra", lambda d: d.pop("extra")),
    ("temperature as text", lambda d: d["temperatures"][0].update(body_c="37")),
    ("temperature as boolean", lambda d: d["temperatures"][0].update(value_c=True)),
    ("temperature NaN", lambda d: d["temperatures"][0].update(value_c=float("nan"))),
    ("temperature infinite", lambda d: d["temperatures"][0].update(body_c=float("inf"))),
    ("object_c as text", lambda d: d["temperatures"][0].update(object_c="36")),
    ("ambient_c infinite", lambda d: d["temperatures"][0].update(ambient_c=float("-inf"))),
    ("temperature missing fever", lambda d: d["temperatures"][1].pop("fever")),
    ("temperature extra key", lambda d: d["temperatures"][1].update(unit="F")),
    ("temperature naive at", lambda d: d["temperatures"][0].update(at="2026-11-23T08:00:20")),
    ("manual as number", lambda d: d["temperatures"][1].update(manual=1)),
    ("sensor null", lambda d: d["temperatures"][0].update(sensor=None)),
    ("raw_hex as number", lambda d: d["temperatures"][0].update(raw_hex=5)),
    ("temperature as list", lambda d: d["temperatures"].append([36.5])),
    ("temperatures as object", lambda d: d.update(temperatures={})),
    ("answers as pairs", lambda d: d.update(answers=[["q", "a"]])),
    ("answer as number", lambda d: d["answers"].update(q=1)),
    ("reasons with a number", lambda d: d.update(reasons=["fever", 3])),
    ("reasons as text", lambda d: d.update(reasons="fever")),
    ("extra value as number", lambda d: d.update(extra={"k": 1})),
    ("guard null", lambda d: d.update(guard=None)),
    ("guard note as number", lambda d: d["guard"].update(note=5)),
    ("guard extra key", lambda d: d["guard"].update(rank="chief")),
    ("lane null", lambda d: d.update(lane=None)),
    ("holder as number", lambda d: d.update(holder=7)),
    ("id as number", lambda d: d.update(id=17)),
    ("community null", lambda d: d.update(community=None)),
    ("boot_id missing", lambda d: d.pop("boot_id")),
    ("clock_synced as number", lambda d: d.update(clock_synced=1)),
]


@pytest.mark.parametrize(("what", "change"), MALFORMED, ids=[what for what, _ in MALFORMED])
def test_malformed_documents_are_refused_with_the_strict_reason(what: str, change: Change) -> None:
    document = wire(make_entry(full_draft(), extra={"k": "v"}))
    change(document)
    expected = strict_verdict(document)
    assert isinstance(expected, str), f"the strict parser accepts {what}: fix the test"
    assert check_entry(document) == expected


@pytest.mark.parametrize("junk", [None, [], "entry", 17, 1.5, True, {}, {"seq": 1}])
def test_things_that_are_not_entry_documents_are_refused(junk: object) -> None:
    refused = check_entry(junk)
    assert isinstance(refused, str)
    assert refused == strict_verdict(junk)


def test_numbers_the_strict_parser_cannot_hold_are_refused_not_raised() -> None:
    document = wire(make_entry(full_draft()))
    document["temperatures"][0]["body_c"] = 10**400  # JSON allows it; no float does
    assert check_entry(document) == "temperatures[0].body_c: number out of range"
    document = wire(make_entry(full_draft()))
    document["temperatures"][0]["body_c"] = 10**300  # large, but a finite float: valid
    assert isinstance(check_entry(document), EntryColumns)


def test_a_seq_beyond_the_database_column_is_refused() -> None:
    assert isinstance(check_entry(wire(make_entry(simple_draft(), seq=MAX_SEQ))), EntryColumns)
    refused = check_entry(wire(make_entry(simple_draft(), seq=MAX_SEQ + 1)))
    assert refused == f"seq: must be 1 to {MAX_SEQ}"


def test_malformed_entries_in_a_batch_are_kept_as_rejects_and_the_rest_stored() -> None:
    good = [wire(make_entry(simple_draft(), seq=seq)) for seq in (1, 2, 3)]
    bad = []
    for _, change in MALFORMED:
        document = wire(make_entry(full_draft(), seq=9))
        change(document)
        bad.append(document)
    where = parse_gate_topic(TOPIC)
    assert where is not None
    # Built by hand, not with encode_entry_batch: a broken gate may send NaN, which it refuses.
    batch = {
        "v": 1,
        "type": "entries",
        "community": "hxy",
        "gate": "north",
        "log_id": "log-a",
        "sent_at": T0.isoformat(),
        "entries": [good[0], *bad[:20], good[1], *bad[20:], good[2]],
    }
    payload = json.dumps(batch, ensure_ascii=False).encode()
    parsed = parse_entries_message(where, TOPIC, payload)
    assert parsed.batch is not None
    assert [entry.seq for entry in parsed.batch.entries] == [1, 2, 3]
    assert len(parsed.rejects) == len(MALFORMED)
    assert all(reject.reason.startswith("entries[") for reject in parsed.rejects)


@given(draft=drafts, extra=extras)
def test_any_valid_document_gets_the_strict_verdict(
    draft: EntryDraft, extra: dict[str, str]
) -> None:
    document = wire(make_entry(draft, extra=extra))
    checked = check_entry(document)
    assert isinstance(checked, EntryColumns)
    assert checked == strict_verdict(document)


@given(data=st.data(), replacement=json_values, how=st.sampled_from(["replace", "drop", "add"]))
def test_any_corrupted_document_gets_the_strict_verdict(
    data: st.DataObject, replacement: object, how: str
) -> None:
    document = copy.deepcopy(wire(make_entry(full_draft(), extra={"k": "v"})))
    paths = [path for path in document_paths(document) if path]
    path = data.draw(st.sampled_from(paths))
    parent: Any = document
    for step in path[:-1]:
        parent = parent[step]
    if how == "replace":
        parent[path[-1]] = replacement
    elif how == "drop":
        del parent[path[-1]]
    elif isinstance(parent, dict):
        parent[data.draw(texts)] = replacement
    else:
        parent.append(replacement)
    assert check_entry(document) == strict_verdict(document)
