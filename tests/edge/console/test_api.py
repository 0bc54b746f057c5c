"""The console's JSON API (/api/v1) against a running gate: health, lanes, the entry log, guard
actions and the simulation controls, and the OpenAPI document that describes them."""

from __future__ import annotations

import base64
from typing import Any

from fastapi.routing import APIRoute

from edge.console.routes import entries as entry_routes
from edge.console.routes import health as health_routes
from edge.console.routes import lanes as lane_routes
from edge.console.routes import sim as sim_routes
from edge.model import PassKind
from tests.drivers.waiting import wait_until
from tests.edge.console.conftest import WAIT_S, Console, TokenMaker

EVERY_ROUTE = {
    ("GET", "/api/v1/health"),
    ("GET", "/api/v1/lanes"),
    ("GET", "/api/v1/lanes/{lane_id}"),
    ("POST", "/api/v1/lanes/{lane_id}/answers"),
    ("POST", "/api/v1/lanes/{lane_id}/manual-reading"),
    ("POST", "/api/v1/lanes/{lane_id}/override"),
    ("POST", "/api/v1/lanes/{lane_id}/cancel"),
    ("POST", "/api/v1/lanes/{lane_id}/mode"),
    ("GET", "/api/v1/entries"),
    ("POST", "/api/v1/sim/present"),
    ("POST", "/api/v1/sim/temperature"),
    ("POST", "/api/v1/sim/crowd"),
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
