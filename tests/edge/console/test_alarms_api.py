"""Acknowledging an alarm with a note through the API: a fever needs one (422 without, the alarm
stays open), no note is longer than MAX_NOTE_CHARS, and the note is listed with the alarm."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from edge.bus import AlarmRaised
from edge.console.app import create_app
from edge.store.alarms import MAX_NOTE_CHARS, AlarmBook
from edge.store.guards import GuardBook
from tests.drivers.waiting import wait_until
from tests.edge.console.conftest import GUARD_NAME, HOST, WAIT_S, Console, console_context


def _open(console: Console) -> list[dict[str, Any]]:
    response = console.client.get("/api/v1/alarms")
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


def _raise(console: Console, kind: str, detail: str = "") -> dict[str, Any]:
    """An alarm as the lane announces it, once the board shows it."""
    console.gate.bus.publish(AlarmRaised(lane="in-1", kind=kind, detail=detail))
    assert wait_until(lambda: any(a["kind"] == kind for a in _open(console)), WAIT_S)
    return next(a for a in _open(console) if a["kind"] == kind)


def _ack(console: Console, alarm: dict[str, Any], note: Any) -> Any:
    return console.client.post(f"/api/v1/alarms/{alarm['id']}/ack", json={"note": note})


@pytest.mark.parametrize("note", ["", "   ", "\n\t"])
def test_a_fever_without_a_note_is_refused_and_stays_open(sim_console: Console, note: str) -> None:
    fever = _raise(sim_console, "fever", "王*明")
    refused = _ack(sim_console, fever, note)
    assert refused.status_code == 422, refused.text
    (problem,) = refused.json()["detail"]
    assert problem["type"] == "kakou.note_required"  # the console says it in the guard's words
    assert problem["loc"] == ["body", "note"]
    assert [a["id"] for a in _open(sim_console)] == [fever["id"]]
    stored = AlarmBook(sim_console.gate.store).get(fever["id"])
    assert stored is not None
    assert stored.is_open
    assert GuardBook(sim_console.gate.store).audit_log(action="alarm_ack") == []


def test_a_fever_with_a_note_is_acknowledged_and_the_note_listed(sim_console: Console) -> None:
    fever = _raise(sim_console, "fever", "王*明")
    acked = _ack(sim_console, fever, "  已复测；已上报社区 ")
    assert acked.status_code == 200, acked.text
    assert sim_console.guard is not None
    assert acked.json()["ack_note"] == "已复测；已上报社区"  # trimmed
    assert acked.json()["acked_by_name"] == GUARD_NAME
    stored = AlarmBook(sim_console.gate.store).get(fever["id"])
    assert stored is not None
    assert (stored.acked_by, stored.ack_note) == (sim_console.guard.id, "已复测；已上报社区")
    assert _open(sim_console) == []
    history = sim_console.client.get("/api/v1/alarms", params={"include_acked": True}).json()
    (listed,) = [a for a in history if a["id"] == fever["id"]]
    assert (listed["ack_note"], listed["acked_by_name"]) == ("已复测；已上报社区", GUARD_NAME)
    assert (listed["text_zh"], listed["text_en"]) == (
        "发热警报：请隔离复测并上报",
        "Fever: hold, re-measure, report",
    )
    (audit,) = GuardBook(sim_console.gate.store).audit_log(action="alarm_ack")
    assert audit.detail["note"] == "已复测；已上报社区"


def test_a_note_longer_than_the_cap_is_refused(sim_console: Console) -> None:
    door = _raise(sim_console, "door_forced")
    refused = _ack(sim_console, door, "门" * (MAX_NOTE_CHARS + 1))
    assert refused.status_code == 422, refused.text
    (problem,) = refused.json()["detail"]
    assert (problem["type"], problem["loc"]) == ("string_too_long", ["body", "note"])
    assert [a["id"] for a in _open(sim_console)] == [door["id"]]
    acked = _ack(sim_console, door, "门" * MAX_NOTE_CHARS)  # the cap itself is allowed
    assert acked.status_code == 200, acked.text
    assert acked.json()["ack_note"] == "门" * MAX_NOTE_CHARS


def test_other_kinds_need_no_note(sim_console: Console) -> None:
    for kind in ("door_held_open", "device_down", "sync_backlog"):
        alarm = _raise(sim_console, kind)
        acked = _ack(sim_console, alarm, "")
        assert acked.status_code == 200, acked.text
        assert acked.json()["ack_note"] == ""
    assert _open(sim_console) == []


def test_acknowledging_still_needs_a_session(sim_console: Console) -> None:
    fever = _raise(sim_console, "fever", "王*明")
    with TestClient(create_app(console_context(sim_console.gate)), base_url=HOST) as anonymous:
        for note in ("已复测", "", "复" * (MAX_NOTE_CHARS + 1)):  # the session is checked first
            response = anonymous.post(f"/api/v1/alarms/{fever['id']}/ack", json={"note": note})
            assert response.status_code == 401, response.text
    assert [a["id"] for a in _open(sim_console)] == [fever["id"]]


def test_the_board_says_how_each_kind_is_acknowledged(sim_console: Console) -> None:
    for kind in ("fever", "door_forced", "device_down", "sync_backlog", "emergency"):
        _raise(sim_console, kind)
    board = {a["kind"]: a for a in sim_console.client.get("/api/v1/live/state").json()["alarms"]}
    assert board["fever"]["note_required"] is True
    assert [zh for zh, _ in board["fever"]["quick_notes"]] == ["已复测", "已上报社区", "已劝返"]
    assert [zh for zh, _ in board["door_forced"]["quick_notes"]] == ["已查看现场", "误报"]
    assert [zh for zh, _ in board["device_down"]["quick_notes"]] == ["已报修"]
    assert [zh for zh, _ in board["sync_backlog"]["quick_notes"]] == ["已报告物业"]
    assert board["emergency"]["quick_notes"] == []
    for kind, alarm in board.items():
        assert alarm["note_required"] is (kind == "fever")
        assert alarm["note_max_chars"] == MAX_NOTE_CHARS
        assert all(zh != en for zh, en in alarm["quick_notes"])  # English to explain each pick


def _crowd_of_fevers(console: Console, count: int) -> list[dict[str, Any]]:
    for number in range(count):
        console.gate.bus.publish(AlarmRaised(lane="in-1", kind="fever", detail=f"第{number}位"))
    assert wait_until(lambda: len(_open(console)) == count, WAIT_S)
    return _open(console)


def test_a_group_of_fevers_is_acknowledged_with_one_note_each_logged(
    sim_console: Console,
) -> None:
    fevers = _crowd_of_fevers(sim_console, 4)
    door = _raise(sim_console, "door_forced")
    ids = [a["id"] for a in fevers[:3]]
    refused = sim_console.client.post("/api/v1/alarms/ack", json={"ids": ids, "note": " "})
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["type"] == "kakou.note_required"
    assert len(_open(sim_console)) == 5  # none of them acknowledged
    acked = sim_console.client.post(
        "/api/v1/alarms/ack", json={"ids": ids, "note": "已复测；已上报社区"}
    )
    assert acked.status_code == 200, acked.text
    assert sorted(a["id"] for a in acked.json()) == sorted(ids)
    assert {a["acked_by_name"] for a in acked.json()} == {GUARD_NAME}
    assert {a["id"] for a in _open(sim_console)} == {fevers[3]["id"], door["id"]}
    book = AlarmBook(sim_console.gate.store)
    assert {book.get(i).ack_note for i in ids} == {"已复测；已上报社区"}  # type: ignore[union-attr]
    audit = GuardBook(sim_console.gate.store).audit_log(action="alarm_ack")
    assert sorted(record.detail["alarm"] for record in audit) == sorted(ids)
    assert {record.detail["group"] for record in audit} == {3}


def test_a_kind_on_a_lane_is_acknowledged_together(sim_console: Console) -> None:
    _crowd_of_fevers(sim_console, 3)
    door = _raise(sim_console, "door_forced")
    acked = sim_console.client.post(
        "/api/v1/alarms/ack", json={"kind": "fever", "lane": "in-1", "note": "已劝返"}
    )
    assert acked.status_code == 200, acked.text
    assert len(acked.json()) == 3
    assert [a["id"] for a in _open(sim_console)] == [door["id"]]
    # Either ids or a kind: neither, or both, is no request.
    for body in ({"note": "x"}, {"ids": [door["id"]], "kind": "door_forced"}, {"lane": "in-1"}):
        assert sim_console.client.post("/api/v1/alarms/ack", json=body).status_code == 422
