"""The console's JSON API (/api/v1) against a running gate: health, lanes, the entry log, guard
actions, the simulation controls, alarms that outlive a restart, the status document, the
security headers, and the OpenAPI document that describes them."""

from __future__ import annotations

import base64
import re
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from drivers.base import Health as DeviceHealth
from drivers.sim.thermometer import SimGyMcu90614
from edge.app.boot import build_gate
from edge.bus import AlarmRaised, BusEvent
from edge.clock import SystemClock
from edge.console import messages
from edge.console.app import CONTENT_SECURITY_POLICY, STATIC_DIR, create_app
from edge.console.hub import ALARM_KINDS
from edge.console.routes import entries as entry_routes
from edge.console.routes import health as health_routes
from edge.console.routes import lanes as lane_routes
from edge.console.routes import sim as sim_routes
from edge.model import PassKind
from edge.store.alarms import AlarmBook
from edge.store.guards import GuardBook, Role
from tests.drivers.waiting import wait_until
from tests.edge.console.conftest import (
    GUARD_NAME,
    HOST,
    WAIT_S,
    Console,
    DoorContact,
    TokenMaker,
    add_guard,
    console_context,
    gate_settings,
    serve,
)

EVERY_ROUTE = {
    ("GET", "/api/v1/health"),
    ("GET", "/api/v1/status"),
    ("GET", "/api/v1/trust"),
    ("GET", "/api/v1/lanes"),
    ("GET", "/api/v1/lanes/{lane_id}"),
    ("POST", "/api/v1/lanes/{lane_id}/answers"),
    ("POST", "/api/v1/lanes/{lane_id}/manual-reading"),
    ("POST", "/api/v1/lanes/{lane_id}/override"),
    ("POST", "/api/v1/lanes/{lane_id}/cancel"),
    ("POST", "/api/v1/lanes/{lane_id}/mode"),
    ("POST", "/api/v1/lanes/{lane_id}/occupants"),
    ("GET", "/api/v1/entries"),
    ("POST", "/api/v1/sim/present"),
    ("POST", "/api/v1/sim/temperature"),
    ("POST", "/api/v1/sim/crowd"),
    ("POST", "/api/v1/sim/sample"),
    ("POST", "/api/v1/sim/door"),
    ("GET", "/api/v1/sim/crowd/{crowd_id}"),
}
SIM_ROUTES = {route for route in EVERY_ROUTE if route[1].startswith("/api/v1/sim/")}


def _mode(console: Console, mode: str, reason: str) -> list[str]:
    response = console.client.post("/api/v1/lanes/in-1/mode", json={"mode": mode, "reason": reason})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["accepted"] is True, body
    ids: list[str] = body["entry_ids"]
    return ids


# ------------------------------------------------------------------------- health, lanes


def test_health_is_ok_once_the_devices_are_up(sim_console: Console) -> None:
    client = sim_console.client
    assert wait_until(lambda: client.get("/api/v1/health").json()["status"] == "ok", WAIT_S)
    health = client.get("/api/v1/health").json()
    assert health["integrity"] == "ok"
    assert health["entries_stored"] == 0
    assert {(d["name"], d["health"]) for d in health["devices"]} == {
        ("in-1/scanner", "ok"),
        ("in-1/thermometer", "ok"),
    }
    (lane,) = health["lanes"]
    assert (lane["lane"], lane["alive"], lane["step"]) == ("in-1", True, "stop")


def test_health_is_down_when_a_lane_worker_has_stopped(sim_console: Console) -> None:
    sim_console.gate.lanes["in-1"].stop()
    health = sim_console.client.get("/api/v1/health").json()
    assert health["status"] == "down"
    assert health["lanes"][0]["alive"] is False


def test_lanes_are_listed_and_an_unknown_lane_is_404(sim_console: Console) -> None:
    client = sim_console.client
    lanes = client.get("/api/v1/lanes").json()
    assert [(v["lane"], v["gate"], v["direction"], v["mode"]) for v in lanes] == [
        ("in-1", "north", "in", "normal")
    ]
    assert lanes[0]["relay_energised"] is False
    assert lanes[0]["visit"] is None
    assert client.get("/api/v1/lanes/in-1").json() == lanes[0]
    for method, path, body in [
        ("GET", "/api/v1/lanes/out-9", None),
        ("POST", "/api/v1/lanes/out-9/override", {"reason": "r"}),
        ("POST", "/api/v1/lanes/out-9/cancel", {}),
        ("POST", "/api/v1/lanes/out-9/answers", {"answers": {}}),
        ("POST", "/api/v1/lanes/out-9/manual-reading", {"body_c": 36.5}),
        ("POST", "/api/v1/lanes/out-9/mode", {"mode": "normal", "reason": "r"}),
        ("POST", "/api/v1/sim/present", {"lane": "out-9", "text": "x"}),
        ("POST", "/api/v1/sim/temperature", {"lane": "out-9", "values_c": [36.5]}),
        ("POST", "/api/v1/sim/crowd", {"lane": "out-9", "count": 1}),
    ]:
        response = client.request(method, path, json=body)
        assert response.status_code == 404, (path, response.text)
        assert "out-9" in response.json()["detail"]
    assert sim_console.entries() == []  # nothing happened on any lane


# ---------------------------------------------------------------------------- entry log


def test_entries_page_by_sequence_number(sim_console: Console) -> None:
    ids = []
    for number in range(5):
        ids += _mode(sim_console, "lockdown" if number % 2 == 0 else "normal", f"drill {number}")
    client = sim_console.client

    seen: list[dict[str, Any]] = []
    after: int | None = None
    pages = 0
    while True:
        params: dict[str, int] = {"limit": 2} if after is None else {"limit": 2, "after_seq": after}
        page = client.get("/api/v1/entries", params=params).json()
        seen += page["entries"]
        pages += 1
        after = page["next_after_seq"]
        if after is None:
            break
        assert after == page["entries"][-1]["seq"]
    assert pages == 3
    assert [e["seq"] for e in seen] == [1, 2, 3, 4, 5]
    assert [e["id"] for e in seen] == ids
    assert [e["guard"]["note"] for e in seen] == [f"drill {n}" for n in range(5)]

    exact = client.get("/api/v1/entries", params={"limit": 5}).json()
    assert exact["next_after_seq"] == 5  # a full page says where to go on...
    rest = client.get("/api/v1/entries", params={"limit": 5, "after_seq": 5}).json()
    assert rest == {"entries": [], "next_after_seq": None}  # ...and the next one is empty
    modes = client.get("/api/v1/entries", params={"outcome": "mode_change"}).json()
    assert len(modes["entries"]) == 5
    assert client.get("/api/v1/entries", params={"outcome": "passed"}).json()["entries"] == []


def test_entries_since_needs_a_utc_offset(sim_console: Console) -> None:
    _mode(sim_console, "lockdown", "drill")
    client = sim_console.client
    naive = client.get("/api/v1/entries", params={"since": "2026-01-01T08:00:00"})
    assert naive.status_code == 422
    assert "offset" in naive.json()["detail"][0]["msg"]  # FastAPI's own 422 shape
    old = client.get("/api/v1/entries", params={"since": "2020-01-01T08:00:00+08:00"})
    assert [e["seq"] for e in old.json()["entries"]] == [1]
    future = client.get("/api/v1/entries", params={"since": "2999-01-01T00:00:00Z"})
    assert future.json()["entries"] == []
    for bad in ({"since": "yesterday"}, {"limit": 0}, {"limit": 1001}, {"outcome": "maybe"}):
        assert client.get("/api/v1/entries", params=bad).status_code == 422, bad


# ------------------------------------------------------------------------ guard actions


def test_missing_answers_are_refused_with_a_code(
    sim_console: Console, make_token: TokenMaker
) -> None:
    client = sim_console.client
    not_asking = client.post(
        "/api/v1/lanes/in-1/answers", json={"answers": {"symptoms": "no"}}
    ).json()
    assert (not_asking["accepted"], not_asking["rejected_code"]) == (False, "not_asking")

    sent = client.post("/api/v1/sim/present", json={"text": make_token("T-1", PassKind.TEMPORARY)})
    assert sent.status_code == 202
    sim_console.wait_step("ask")
    missing = client.post("/api/v1/lanes/in-1/answers", json={"answers": {"travel_14d": "no"}})
    assert missing.status_code == 200
    assert missing.json() == {
        "accepted": False,
        "rejected_code": "answers_missing",
        "rejected_detail": "symptoms",
        "entry_ids": [],
    }
    assert sim_console.lane()["step"] == "ask"

    answered = client.post(
        "/api/v1/lanes/in-1/answers",
        json={"answers": {"travel_14d": "no", "symptoms": "no"}},
    ).json()
    assert answered == {
        "accepted": True,
        "rejected_code": None,
        "rejected_detail": None,
        "entry_ids": [],
    }
    sim_console.wait_step("measure")


def test_override_needs_a_reason_and_then_records_and_opens(
    sim_console: Console, make_token: TokenMaker
) -> None:
    client = sim_console.client
    url = "/api/v1/lanes/in-1/override"
    for body in (
        {},
        {"reason": ""},
        {"guard_id": "", "reason": "known resident"},
        {"reason": "known resident", "note": "extra field"},
    ):
        response = client.post(url, json=body)
        assert response.status_code == 422, body
    blank = client.post(url, json={"reason": "   "}).json()
    assert (blank["accepted"], blank["rejected_code"]) == (False, "reason_required")
    assert sim_console.entries() == []
    assert not sim_console.of("relay")

    client.post("/api/v1/sim/present", json={"text": make_token("T-2", PassKind.TEMPORARY)})
    sim_console.wait_step("ask")
    response = client.post(url, json={"reason": "known resident, no phone"})
    assert response.status_code == 200
    body = response.json()
    assert body["accepted"] is True
    (entry_id,) = body["entry_ids"]

    pulses = sim_console.of("relay", action="pulse")
    assert [p.data["entry_id"] for p in pulses] == [entry_id]
    assert sim_console.lane()["relay_energised"] is True  # open for open_s (3 s)
    (entry,) = sim_console.entries()
    assert (entry["id"], entry["outcome"]) == (entry_id, "overridden")
    # The guard comes from the session (the body's guard_id is gone from the contract).
    assert sim_console.guard is not None
    assert entry["guard"] == {"id": sim_console.guard.id, "note": "known resident, no phone"}
    assert entry["pass"]["id"] == "T-2"


def test_cancel_and_mode_changes(sim_console: Console, make_token: TokenMaker) -> None:
    client = sim_console.client
    nothing = client.post("/api/v1/lanes/in-1/cancel", json={}).json()
    assert (nothing["accepted"], nothing["rejected_code"]) == (False, "no_visit")

    client.post("/api/v1/sim/present", json={"text": make_token("T-3", PassKind.TEMPORARY)})
    sim_console.wait_step("ask")
    cancelled = client.post("/api/v1/lanes/in-1/cancel", json={}).json()
    assert cancelled["accepted"] is True
    assert len(cancelled["entry_ids"]) == 1
    assert sim_console.lane()["step"] == "stop"

    (emergency,) = _mode(sim_console, "emergency", "fire alarm")
    assert sim_console.lane()["mode"] == "emergency"
    assert sim_console.lane()["relay_energised"] is True
    same = client.post(
        "/api/v1/lanes/in-1/mode",
        json={"mode": "emergency", "reason": "again"},
    ).json()
    assert (same["accepted"], same["rejected_code"]) == (False, "same_mode")
    _mode(sim_console, "normal", "all clear")
    assert sim_console.lane()["relay_energised"] is False
    bad_mode = client.post("/api/v1/lanes/in-1/mode", json={"mode": "party", "reason": "r"})
    assert bad_mode.status_code == 422
    outcomes = [(e["outcome"], e["reasons"]) for e in sim_console.entries()]
    assert outcomes == [
        ("abandoned", ["guard_cancelled"]),
        ("mode_change", ["mode_emergency"]),
        ("mode_change", ["mode_normal"]),
    ]
    assert sim_console.entries()[1]["id"] == emergency


def test_a_manual_reading_completes_the_visit(sim_console: Console, make_token: TokenMaker) -> None:
    client = sim_console.client
    # Nobody in front of the sensor: it reads ambient, which never counts as a body temperature.
    client.post("/api/v1/sim/present", json={"text": make_token("R-1")})
    sim_console.wait_step("measure")
    too_hot = client.post("/api/v1/lanes/in-1/manual-reading", json={"body_c": 50.0})
    assert too_hot.status_code == 422
    response = client.post("/api/v1/lanes/in-1/manual-reading", json={"body_c": 36.4})
    assert response.json()["accepted"] is True
    (entry,) = sim_console.wait_entries(1)
    assert entry["outcome"] == "passed"
    assert "manual_reading" in entry["reasons"]
    assert [t["body_c"] for t in entry["temperatures"] if t["manual"]] == [36.4]


# --------------------------------------------------------------------------- simulation


def test_sim_present_text_and_temperature_make_a_passed_entry(
    sim_console: Console, make_token: TokenMaker
) -> None:
    client = sim_console.client
    temperature = client.post("/api/v1/sim/temperature", json={"values_c": [36.7]})
    assert temperature.status_code == 202
    assert temperature.json() == {"lane": "in-1", "status": "set"}
    present = client.post("/api/v1/sim/present", json={"lane": "in-1", "text": make_token("R-7")})
    assert present.status_code == 202
    assert present.json() == {"lane": "in-1", "status": "presented"}
    (entry,) = sim_console.wait_entries(1)
    assert (entry["outcome"], entry["pass"]["id"]) == ("passed", "R-7")
    assert [t["body_c"] for t in entry["temperatures"]] == [36.7]
    assert sim_console.of("relay", action="pulse", entry_id=entry["id"])


def test_sim_present_binary_payload_is_denied(sim_console: Console) -> None:
    junk = bytes(range(1, 256)).replace(b"\r", b"").replace(b"\n", b"")
    response = sim_console.client.post(
        "/api/v1/sim/present", json={"payload_b64": base64.b64encode(junk).decode()}
    )
    assert response.status_code == 202
    (entry,) = sim_console.wait_entries(1)
    assert (entry["outcome"], entry["reasons"]) == ("denied", ["bad_encoding"])
    assert not sim_console.of("relay")


def test_sim_requests_are_validated(sim_console: Console) -> None:
    client = sim_console.client
    for path, body in [
        ("/api/v1/sim/present", {}),
        ("/api/v1/sim/present", {"text": "a", "payload_b64": "YQ=="}),
        ("/api/v1/sim/present", {"payload_b64": "not base64!"}),
        ("/api/v1/sim/temperature", {"values_c": []}),
        ("/api/v1/sim/crowd", {"count": 0}),
    ]:
        response = client.post(path, json=body)
        assert response.status_code == 422, (path, body, response.text)
    assert client.get("/api/v1/sim/crowd/nope").status_code == 404


def test_sim_crowd_starts_and_reports_its_progress(sim_console: Console) -> None:
    client = sim_console.client
    # Seed 5's first five: questions, a cold morning, a forged pass, two residents.
    started = client.post("/api/v1/sim/crowd", json={"count": 5, "seed": 5})
    assert started.status_code == 202
    crowd = started.json()
    assert crowd["total"] == 5
    assert crowd["state"] in ("running", "done")

    def status() -> dict[str, Any]:
        body: dict[str, Any] = client.get(f"/api/v1/sim/crowd/{crowd['id']}").json()
        return body

    assert wait_until(lambda: status()["state"] != "running", timeout_s=30)
    final = status()
    assert final["state"] == "done", final
    assert (final["presented"], final["recorded"], final["matched"]) == (5, 5, 5)
    assert final["mismatches"] == []
    assert final["by_actual"] == {"passed": 4, "denied": 1}
    assert len(sim_console.entries()) == 5


def test_sim_routes_are_absent_when_simulation_is_off(plain_console: Console) -> None:
    client = plain_console.client
    for method, path, body in [
        ("POST", "/api/v1/sim/present", {"text": "x"}),
        ("POST", "/api/v1/sim/temperature", {"values_c": [36.5]}),
        ("POST", "/api/v1/sim/crowd", {"count": 1}),
        ("GET", "/api/v1/sim/crowd/abc", None),
    ]:
        assert client.request(method, path, json=body).status_code == 404, path
    paths = client.get("/openapi.json").json()["paths"]
    assert not [p for p in paths if p.startswith("/api/v1/sim")]
    # The rest of the API serves as usual; the lane has no thermometer to report.
    health = client.get("/api/v1/health").json()
    assert [d["name"] for d in health["devices"]] == ["in-1/scanner"]
    assert client.get("/api/v1/lanes").json()[0]["lane"] == "in-1"


# ------------------------------------------------------------------------------ OpenAPI


def test_openapi_lists_every_route(sim_console: Console) -> None:
    client = sim_console.client
    document = client.get("/openapi.json").json()
    listed = {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
    }
    served = {
        (method, route.path)
        for module in (health_routes, lane_routes, entry_routes, sim_routes)
        for route in module.router.routes
        if isinstance(route, APIRoute)
        for method in route.methods or ()
    }
    # The JSON API of these modules; auth, live, ledgers and metrics routes are listed besides.
    assert served == EVERY_ROUTE
    assert listed >= EVERY_ROUTE
    schemas = document["components"]["schemas"]
    for name in ("OverrideRequest", "ActionResponse", "EntriesPage", "Health", "CrowdStatus"):
        assert name in schemas
    assert schemas["OverrideRequest"]["required"] == ["reason"]  # guard from the session
    assert listed >= SIM_ROUTES


# ------------------------------------------------------------------------------- alarms


def _alarms(console: Console, **params: Any) -> list[dict[str, Any]]:
    response = console.client.get("/api/v1/alarms", params=params)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


def _wait_alarm(console: Console, kind: str, timeout_s: float = WAIT_S) -> dict[str, Any]:
    assert wait_until(
        lambda: any(a["kind"] == kind for a in _alarms(console)), timeout_s, step_s=0.05
    ), _alarms(console)
    return next(a for a in _alarms(console) if a["kind"] == kind)


def _bearer(console: Console, name: str, pin: str) -> dict[str, str]:
    signed = GuardBook(console.gate.store).sign_in(name, pin, now=datetime.now(UTC))
    assert isinstance(signed, tuple), signed
    return {"Authorization": f"Bearer {signed[1]}"}


def test_a_forced_door_is_stored_shown_and_acknowledged_once(door_console: Console) -> None:
    door = DoorContact(door_console.gate)
    door.open()
    alarm = _wait_alarm(door_console, "door_forced")
    assert alarm["lane"] == "in-1"
    assert alarm["acked_by"] is None
    book = AlarmBook(door_console.gate.store)
    assert [a.id for a in book.open_alarms()] == [alarm["id"]]  # in the store, not just memory
    board = door_console.client.get("/api/v1/live/state").json()["alarms"]
    assert [(a["kind"], a["text_zh"], a["text_en"]) for a in board] == [
        ("door_forced", "门被强行打开", "Door forced open")
    ]
    door.shut()
    door.open()  # forced again while the first alarm shows: the same alarm
    assert wait_until(lambda: len(door_console.of("alarm", kind="door_forced")) == 2, WAIT_S)
    assert [a["id"] for a in _alarms(door_console)] == [alarm["id"]]

    acked = door_console.client.post(
        f"/api/v1/alarms/{alarm['id']}/ack", json={"note": "门锁正常，住户忘带卡，已登记"}
    )
    assert acked.status_code == 200, acked.text
    assert door_console.guard is not None
    assert acked.json()["acked_by"] == door_console.guard.id
    assert acked.json()["ack_note"] == "门锁正常，住户忘带卡，已登记"
    stored = book.get(alarm["id"])
    assert stored is not None
    assert (stored.acked_by, stored.ack_note) == (
        door_console.guard.id,
        "门锁正常，住户忘带卡，已登记",
    )
    (audit,) = GuardBook(door_console.gate.store).audit_log(action="alarm_ack")
    assert audit.detail["kind"] == "door_forced"
    # Final: another guard acknowledging later leaves the first acknowledgement in place.
    add_guard(door_console.gate, "值班员八号", Role.GUARD, "975310")
    again = door_console.client.post(
        f"/api/v1/alarms/{alarm['id']}/ack",
        json={"note": "x"},
        headers=_bearer(door_console, "值班员八号", "975310"),
    )
    assert again.status_code == 200, again.text
    assert (again.json()["acked_by"], again.json()["acked_at"]) == (
        acked.json()["acked_by"],
        acked.json()["acked_at"],
    )
    assert _alarms(door_console) == []
    assert [a["id"] for a in _alarms(door_console, include_acked=True)] == [alarm["id"]]
    missing = door_console.client.post("/api/v1/alarms/no-such-alarm/ack", json={"note": ""})
    assert missing.status_code == 404


def test_every_alarm_kind_is_shown_with_chinese_and_english_words(sim_console: Console) -> None:
    kinds = sorted(ALARM_KINDS)
    assert {
        "door_forced",
        "door_held_open",
        "disk_filling",
        "sync_backlog",
        "fever_unconfirmed",
        "emergency",
    } <= set(kinds)
    for kind in kinds:
        sim_console.gate.bus.publish(AlarmRaised(lane="in-1", kind=kind, detail=f"test {kind}"))
    sim_console.gate.bus.publish(AlarmRaised(lane="in-1", kind="door_held_open_cleared", detail=""))
    board = sim_console.client.get("/api/v1/live/state").json()["alarms"]
    assert sorted(a["kind"] for a in board) == kinds  # a cleared door is no alarm
    for alarm in board:
        zh, en = messages.words(f"alarm.{alarm['kind']}")
        assert (alarm["text_zh"], alarm["text_en"]) == (zh, en)
        assert zh != en
        assert alarm["kind"] not in (zh, en)
    assert len(AlarmBook(sim_console.gate.store).open_alarms()) == len(kinds)


def test_reading_alarms_needs_a_session(sim_console: Console) -> None:
    sim_console.gate.bus.publish(AlarmRaised(lane="in-1", kind="fever", detail="张*"))
    with TestClient(create_app(console_context(sim_console.gate)), base_url=HOST) as anonymous:
        assert anonymous.get("/api/v1/alarms").status_code == 401  # a fever alarm names people
        status = anonymous.get("/api/v1/status").json()
        assert [a["kind"] for a in status["alarms"]] == ["fever"]
        assert "detail" not in status["alarms"][0]


def test_open_alarms_survive_a_gate_restart(tmp_path: Path) -> None:
    settings = gate_settings(tmp_path / "state")
    first = serve(build_gate(settings))
    console = next(first)
    console.gate.bus.publish(
        AlarmRaised(lane="in-1", kind="door_held_open", detail="open longer than 30 s")
    )
    console.gate.bus.publish(AlarmRaised(lane="", kind="disk_filling", detail="120 MiB free"))
    held = _wait_alarm(console, "door_held_open")
    disk = _wait_alarm(console, "disk_filling")
    response = console.client.post(f"/api/v1/alarms/{disk['id']}/ack", json={"note": "已清理"})
    assert response.status_code == 200, response.text
    first.close()  # the console and the gate stop, the store closes

    second = serve(build_gate(settings))
    restarted = next(second)
    try:
        assert [(a["id"], a["kind"], a["detail"]) for a in _alarms(restarted)] == [
            (held["id"], "door_held_open", "open longer than 30 s")
        ]
        board = restarted.client.get("/api/v1/live/state").json()["alarms"]
        assert [a["id"] for a in board] == [held["id"]]
        history = {a["kind"]: a for a in _alarms(restarted, include_acked=True)}
        assert history["disk_filling"]["acked_by"] == response.json()["acked_by"]
        # The board after the restart still takes acknowledgements for the old alarm.
        acked = restarted.client.post(f"/api/v1/alarms/{held['id']}/ack", json={"note": "门已关"})
        assert acked.status_code == 200, acked.text
        assert _alarms(restarted) == []
    finally:
        second.close()


def _fail_writes(console: Console, failing: bool) -> None:
    """Make every write to the gate's SQLite connection fail (SQLITE_READONLY), or stop that."""
    with console.gate.store._reading() as conn:
        conn.execute(f"PRAGMA query_only = {'ON' if failing else 'OFF'}")


def test_a_failing_store_still_shows_its_alarm_and_logs_it_once_it_can(
    sim_console: Console,
) -> None:
    _fail_writes(sim_console, True)
    try:
        sim_console.client.post("/api/v1/sim/present", json={"text": "not a pass"})
        alarm = _wait_alarm(sim_console, "store_failed")
        book = AlarmBook(sim_console.gate.store)
        assert book.open_alarms() == []  # shown from memory: the store takes nothing now
        refused = sim_console.client.post(f"/api/v1/alarms/{alarm['id']}/ack", json={"note": ""})
        assert refused.status_code == 503  # an acknowledgement that cannot be logged is refused
        assert [a["id"] for a in _alarms(sim_console)] == [alarm["id"]]
        assert sim_console.lane()["unsaved_entries"] == 1
    finally:
        _fail_writes(sim_console, False)
    sim_console.wait_entries(1)  # the lane stores its entry once the store recovers
    assert [a["id"] for a in _alarms(sim_console)] == [alarm["id"]]
    assert [a.id for a in book.open_alarms()] == [alarm["id"]]  # written at the next refresh
    acked = sim_console.client.post(f"/api/v1/alarms/{alarm['id']}/ack", json={"note": "已恢复"})
    assert acked.status_code == 200, acked.text
    assert book.open_alarms() == []


def test_a_device_down_alarm_is_raised_once_per_outage(sim_console: Console) -> None:
    gate = sim_console.gate
    assert gate.simulation is not None
    thermometer = gate.simulation.lanes["in-1"].thermometer
    assert isinstance(thermometer, SimGyMcu90614)

    def health() -> DeviceHealth:
        return next(s.health for s in gate.device_status() if s.name == "in-1/thermometer")

    assert wait_until(lambda: health() is DeviceHealth.OK, WAIT_S)
    thermometer.unplug()
    assert wait_until(lambda: health() is DeviceHealth.DOWN, WAIT_S)
    first = _wait_alarm(sim_console, "device_down")
    assert first["detail"].startswith("in-1/thermometer: ")
    ack = sim_console.client.post(f"/api/v1/alarms/{first['id']}/ack", json={"note": "已报修"})
    assert ack.status_code == 200, ack.text
    for _ in range(5):  # still down: acknowledged, so no new alarm at each refresh
        assert sim_console.client.get("/api/v1/live/state").json()["alarms"] == []
    cleared: list[BusEvent] = []
    gate.bus.subscribe(lambda event: event.topic == "cleared" and cleared.append(event))
    thermometer.replug()
    assert wait_until(lambda: health() is DeviceHealth.OK, 10)
    assert wait_until(lambda: cleared, 15)  # edge.health saw it back
    assert _alarms(sim_console) == []
    thermometer.unplug()
    assert wait_until(lambda: health() is DeviceHealth.DOWN, WAIT_S)
    second = _wait_alarm(sim_console, "device_down")
    assert second["id"] != first["id"]  # a new outage is a new alarm


def test_a_device_down_is_stored_with_no_browser_looking(sim_console: Console) -> None:
    """The console watches on its own: the alarm is in the store before anyone opens a page."""
    gate = sim_console.gate
    assert gate.simulation is not None
    thermometer = gate.simulation.lanes["in-1"].thermometer
    assert isinstance(thermometer, SimGyMcu90614)
    book = AlarmBook(gate.store)
    thermometer.unplug()
    assert wait_until(lambda: [a.kind for a in book.open_alarms()] == ["device_down"], 15)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_a_silent_receiver_raises_the_sync_backlog_alarm(tmp_path: Path) -> None:
    port = _closed_port()  # no broker listens: entries wait, no acknowledgement comes
    settings = gate_settings(
        tmp_path / "state",
        mqtt={
            "host": "127.0.0.1",
            "port": port,
            "reconnect_max_s": 1,
            "downlink_signers": ["office"],
        },
        alarms={"sync_backlog_entries": 1000, "sync_silent_s": 0.5},
    )
    served = serve(build_gate(settings))
    console = next(served)
    try:
        assert console.gate.sync is not None
        console.client.post("/api/v1/sim/present", json={"text": "not a pass"})
        console.wait_entries(1)
        alarm = _wait_alarm(console, "sync_backlog", timeout_s=15)
        assert alarm["lane"] == ""
        assert alarm["detail"].startswith("backlog 1; no acknowledgement for ")
        sync = console.client.get("/api/v1/status").json()["sync"]
        assert sync["enabled"] is True
        assert sync["connected"] is False
        assert sync["broker"] == f"127.0.0.1:{port}"
        assert sync["backlog"] == 1
        assert sync["last_ack_at"] is None
        assert sync["last_error"]
    finally:
        served.close()


# ------------------------------------------------------------------------------ status


def test_status_shows_devices_sync_clock_storage_and_alarms(
    sim_console: Console, make_token: TokenMaker
) -> None:
    client = sim_console.client
    sim_console.visit(make_token("R-77"), 36.7, entries=1)
    sim_console.gate.bus.publish(AlarmRaised(lane="in-1", kind="door_forced", detail="opened"))
    status = client.get("/api/v1/status").json()
    devices = {d["name"]: d for d in status["devices"]}
    thermometer = devices["in-1/thermometer"]
    assert thermometer["health"] == "ok"
    assert thermometer["last_reading_c"] == 36.7
    reading_at = datetime.fromisoformat(thermometer["last_reading_at"])
    assert abs(datetime.now(UTC) - reading_at) < timedelta(minutes=1)
    assert thermometer["last_frame_age_s"] is not None
    assert devices["in-1/scanner"]["last_reading_c"] is None
    assert status["sync"] == {
        "enabled": False,  # no [mqtt]: the entry waits in the outbox
        "connected": None,
        "broker": None,
        "backlog": 1,
        "last_ack_seq": None,
        "last_ack_at": None,
        "last_error": None,
    }
    assert isinstance(status["clock"]["synced"], bool)
    assert status["clock"]["offset_s"] is None  # only sync measures it
    storage = status["storage"]
    assert (storage["integrity"], storage["entries_stored"], storage["last_seq"]) == ("ok", 1, 1)
    assert storage["db_bytes"] >= sim_console.gate.store.path.stat().st_size > 0
    assert 0 < storage["disk_free_bytes"] <= storage["disk_total_bytes"]
    assert [(a["kind"], a["text_zh"]) for a in status["alarms"]] == [
        ("door_forced", "门被强行打开")
    ]
    (lane,) = status["lanes"]
    assert lane["lane"] == "in-1"

    page = client.get("/status").text
    for element in ("integrity", "db-size", "disk-free", "sync-state", "sync-backlog"):
        assert f'id="{element}"' in page
    assert "同步未启用" in page
    assert "36.7 °C" in page
    assert "门被强行打开" in page


def test_the_trust_store_and_its_audit_are_shown_to_a_signed_in_guard_only(
    sim_console: Console,
) -> None:
    trust = sim_console.client.get("/api/v1/trust")
    assert trust.status_code == 200, trust.text
    body = trust.json()
    assert {(k["kid"], k["revoked"]) for k in body["keys"]} == {
        ("sim", False),
        ("gate-north", False),
    }
    assert {(c["kid"], c["action"]) for c in body["changes"]} >= {
        ("sim", "added"),
        ("gate-north", "added"),
    }
    page = sim_console.client.get("/status").text
    assert 'id="trusted-keys"' in page
    assert 'data-kid="gate-north"' in page
    assert 'id="trust-changes"' in page
    with TestClient(create_app(console_context(sim_console.gate)), base_url=HOST) as anonymous:
        assert anonymous.get("/api/v1/trust").status_code == 401
        assert 'id="trusted-keys"' not in anonymous.get("/status").text


def test_status_shows_the_clock_as_boot_sees_it(tmp_path: Path) -> None:
    settings = gate_settings(tmp_path / "state", clock={"assume_synced": True})
    served = serve(build_gate(settings))
    console = next(served)
    try:
        clock = console.client.get("/api/v1/status").json()["clock"]
        assert (clock["synced"], clock["last_trusted_at"]) == (True, None)
        keeper = console.gate.time_keeper
        assert keeper is not None
        seen = SystemClock(assume_synced=True).now()
        keeper.observe(seen)  # what the main loop's chore does every few seconds
        clock = console.client.get("/api/v1/status").json()["clock"]
        assert datetime.fromisoformat(clock["last_trusted_at"]) == seen.wall
        assert "最后可信时间" in console.client.get("/status").text
    finally:
        served.close()


# -------------------------------------------------------------------------------- security

INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE), "inline script"),
    (re.compile(r"<[^>]+\sstyle\s*=", re.IGNORECASE), "style attribute"),
    (re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE), "inline event handler"),
    (re.compile(r"<style[\s>]", re.IGNORECASE), "style element"),
    (re.compile(r"javascript:", re.IGNORECASE), "javascript: URL"),
]
PAGES = ["/login", "/", "/log", "/report", "/status", "/kiosk"]


def test_every_response_carries_the_security_headers(sim_console: Console) -> None:
    client = sim_console.client
    for path in [*PAGES, "/api/v1/health", "/static/console.js", "/no-such-page"]:
        response = client.get(path, follow_redirects=False)
        headers = response.headers
        assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY, path
        assert headers["x-content-type-options"] == "nosniff", path
        assert headers["referrer-policy"] == "no-referrer", path
        assert headers["x-frame-options"] == "DENY", path
    assert "script-src 'self';" in CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY
    with client.stream("GET", "/api/v1/exports/entries.csv") as streamed:  # a streamed body
        assert streamed.headers["content-security-policy"] == CONTENT_SECURITY_POLICY


def test_no_page_or_script_needs_what_the_policy_blocks(sim_console: Console) -> None:
    sim_console.gate.bus.publish(AlarmRaised(lane="in-1", kind="fever", detail="张*"))
    for path in PAGES:
        html = sim_console.client.get(path).text
        for pattern, what in INLINE:
            assert not pattern.search(html), (path, what)
    for script in STATIC_DIR.glob("*.js"):
        # Markup the scripts build goes through innerHTML: the same rules apply to it.
        source = script.read_text(encoding="utf-8")
        for pattern, what in INLINE:
            assert not pattern.search(source), (script.name, what)
        assert '.setAttribute("style"' not in source


def test_each_feverish_person_is_an_alarm_of_their_own(sim_console: Console) -> None:
    """A second fever while the first is unacknowledged is a second person to report, not a
    repeat: both are on the board and in the store, each naming its household."""
    bus = sim_console.gate.bus
    bus.publish(
        AlarmRaised(lane="in-1", kind="fever", detail="张*, household 1-1-101; readings °C: 38.2")
    )
    bus.publish(
        AlarmRaised(lane="in-1", kind="fever", detail="李*, household 2-2-202; readings °C: 38.5")
    )
    bus.publish(AlarmRaised(lane="in-1", kind="door_held_open", detail="open 31 s"))
    bus.publish(
        AlarmRaised(lane="in-1", kind="door_held_open", detail="open 62 s")
    )  # the same door
    assert wait_until(lambda: len(_alarms(sim_console)) == 3, WAIT_S), _alarms(sim_console)
    fevers = [a["detail"] for a in _alarms(sim_console) if a["kind"] == "fever"]
    assert sorted(fevers) == sorted(
        [
            "张*, household 1-1-101; readings °C: 38.2",
            "李*, household 2-2-202; readings °C: 38.5",
        ]
    )
    stored = AlarmBook(sim_console.gate.store).open_alarms()
    assert sorted(a.kind for a in stored) == ["door_held_open", "fever", "fever"]


def test_the_language_link_sets_the_cookie_and_returns_to_the_page(sim_console: Console) -> None:
    client = sim_console.client
    page = client.get("/log", params={"lane": "in-1"}).text
    assert 'id="lang-switch" href="/lang/en?next=%2Flog"' in page  # console.js adds the query
    back = client.get("/lang/en", params={"next": "/log?lane=in-1"}, follow_redirects=False)
    assert back.status_code == 303
    assert back.headers["location"] == "/log?lane=in-1"
    assert "kakou_lang=en" in back.headers["set-cookie"]
    assert "samesite=strict" in back.headers["set-cookie"].lower()
    assert '<html lang="en">' in client.get("/log").text
    for elsewhere in ("//evil.example/", "https://evil.example/", "/\\evil.example", "log"):
        away = client.get("/lang/zh", params={"next": elsewhere}, follow_redirects=False)
        assert away.headers["location"] == "/", elsewhere  # never a redirect off the console
    unknown = client.get("/lang/fr", follow_redirects=False)  # a page, never the JSON 422
    assert unknown.status_code == 400
    assert unknown.headers["content-type"].startswith("text/html")
    assert 'id="bad-request"' in unknown.text


# ---------------------------------------------------------------- a guard's shift (issue #12)


def test_the_log_searches_by_any_subset_of_its_fields(
    sim_console: Console, make_token: TokenMaker
) -> None:
    """The search form sends every field, empty ones included: each empty one is no filter."""
    client = sim_console.client
    sim_console.visit(make_token("R-31"), 36.5, entries=1)
    zone = sim_console.client.app.state.context.zone
    today = datetime.now(UTC).astimezone(zone).date().isoformat()
    empty = {"day": "", "outcome": "", "household": "", "pass_id": "", "lane": ""}
    for search in (
        {},
        {"pass_id": "R-31"},
        {"household": "3-2-501"},
        {"day": today},
        {"outcome": "passed", "lane": "in-1"},
    ):
        page = client.get("/log", params={**empty, **search})
        assert page.status_code == 200, (search, page.text[:200])
        assert '<td data-label="通行证号">R-31</td>' in page.text, search
    assert client.get("/report", params={"day": ""}).status_code == 200
    assert "<td data-label" not in client.get("/log", params={**empty, "pass_id": "R-99"}).text


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/log", {"day": "2024-13-45"}, "day"),
        ("/log", {"outcome": "teleported"}, "outcome"),
        ("/log", {"household": "x" * 65}, "household"),
        ("/log", {"before_seq": "-3"}, "before_seq"),
        ("/report", {"day": "tomorrow"}, "day"),
    ],
)
def test_a_bad_search_value_gets_the_page_back_with_its_problem(
    sim_console: Console, path: str, params: dict[str, str], field: str
) -> None:
    page = sim_console.client.get(path, params=params)
    assert page.status_code == 422
    assert page.headers["content-type"].startswith("text/html")
    assert f'id="problem-{field}"' in page.text
    assert '"detail"' not in page.text


def test_lockdown_is_an_admins_and_emergency_any_guards(sim_console: Console) -> None:
    add_guard(sim_console.gate, "值班员", Role.GUARD, "135792")
    guard = TestClient(sim_console.client.app, base_url=HOST)
    signed_in = guard.post("/api/v1/auth/sign-in", json={"name": "值班员", "secret": "135792"})
    assert signed_in.status_code == 200
    mode = "/api/v1/lanes/in-1/mode"
    refused = guard.post(mode, json={"mode": "lockdown", "reason": "区里通知"})
    assert refused.status_code == 403
    emergency = guard.post(mode, json={"mode": "emergency", "reason": "消防通道"})
    assert emergency.json()["accepted"] is True
    assert "紧急放行" in guard.get("/log").text  # the banner, on every page
    back = guard.post(mode, json={"mode": "normal", "reason": "火情解除"})
    assert back.json()["accepted"] is True
    admin = sim_console.client
    assert admin.post(mode, json={"mode": "lockdown", "reason": "区里通知"}).json()["accepted"]
    banner = guard.get("/visitors").text
    assert 'id="mode-banner"' in banner
    assert "区里通知" in banner  # why, and who put it in force
    assert GUARD_NAME in banner
    assert guard.post(mode, json={"mode": "normal", "reason": "解封"}).status_code == 403
    assert admin.post(mode, json={"mode": "normal", "reason": "解封"}).json()["accepted"]
    assert 'id="mode-banner" ' in guard.get("/mode-banner").text
    assert " hidden>" in guard.get("/mode-banner").text
