"""Visitor and vehicle registration through the real API on a real simulated gate: field
checks, masking, the gate-signed pass verified by the lane, vehicles measured per occupant."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import cv2
import pytest

from drivers.qr import decode
from edge import passes
from edge.app.boot import build_gate, ensure_gate_key
from edge.app.settings import Settings
from edge.console import messages
from edge.identity import id_check_char
from edge.model import PassKind, VerifyReason
from edge.policy import Finding
from edge.rule import Reason
from edge.store.guards import GuardBook
from edge.store.registrations import RegistrationBook
from tests.drivers.waiting import wait_until
from tests.edge.console.conftest import WAIT_S, Console, serve
from tests.edge.console.visitor_gate import all_day_settings
from tests.tokens import signed_token, sim_token

FIRST17 = "11010519900307123"
ID_NUMBER = FIRST17 + id_check_char(FIRST17)
PHONE = "13812345678"


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Console]:
    yield from serve(build_gate(all_day_settings(tmp_path / "state")))


def visitor_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "张三丰",
        "phone": PHONE,
        "id_number": ID_NUMBER,
        "host_household": "3-2-501",
        "reason": "探亲访友",
        "hours": 4,
        "lane": "in-1",
    }
    body.update(changes)
    return body


def register(console: Console, **changes: Any) -> dict[str, Any]:
    response = console.client.post("/api/v1/visitors", json=visitor_body(**changes))
    assert response.status_code == 201, response.text
    issued: dict[str, Any] = response.json()
    return issued


def test_a_visitor_gets_a_gate_signed_pass_that_the_lane_admits(desk: Console) -> None:
    issued = register(desk)
    view = issued["registration"]
    token = view["token"]
    assert view["kind"] == "visitor"
    assert view["people"] == [
        {"name": "张三丰", "phone": "138****5678", "id_number": "1101**********" + ID_NUMBER[-4:]}
    ]
    keys = {kid: key for kid, key in desk.gate.store.trusted_keys().items()}
    verdict = passes.verify(
        token,
        keys=keys,
        revoked=frozenset(),
        community="demo",
        gate="north",
        now=datetime.now(UTC),
    )
    assert verdict.valid, verdict
    assert verdict.claims is not None
    assert verdict.claims.kind is PassKind.VISITOR
    assert verdict.claims.holder == "张*"
    assert verdict.claims.unit == "3-2-501"
    assert verdict.claims.gates == ("north",)
    assert verdict.claims.key_id == "gate-north"
    assert verdict.claims.expires - verdict.claims.not_before == timedelta(hours=4)
    # The QR code served for the screen carries exactly that token.
    svg = desk.client.get(view["qr_svg_url"])
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert svg.text.startswith("<svg")

    present = desk.client.post(f"/api/v1/registrations/{view['id']}/present", json={"lane": "in-1"})
    assert present.json()["lane_accepted"] is True
    desk.wait_step("ask")
    desk.client.post(
        "/api/v1/lanes/in-1/answers", json={"answers": {"travel_14d": "no", "symptoms": "no"}}
    )
    desk.wait_step("measure")
    assert desk.gate.simulation is not None
    desk.gate.simulation.temperature("in-1", [36.6], 36.6)
    (entry,) = desk.wait_entries(1)
    assert entry["outcome"] == "passed"
    assert entry["pass"]["id"] == view["pass_id"]
    assert desk.of("relay", action="pulse")


def test_the_database_keeps_numbers_only_as_the_policy_allows(tmp_path: Path) -> None:
    settings = all_day_settings(tmp_path / "state", store_phone="full", store_id_number="none")
    for console in serve(build_gate(settings)):
        view = register(console)["registration"]
        (stored,) = RegistrationBook(console.gate.store).get(view["id"]).people  # type: ignore[union-attr]
        assert stored.phone == PHONE
        assert stored.id_number is None
        # Lists mask whatever is stored.
        listed = console.client.get("/api/v1/registrations").json()
        assert listed[0]["people"][0]["phone"] == "138****5678"
        assert listed[0]["token"] is None


def test_masked_by_default_nothing_whole_is_written_to_the_file(desk: Console) -> None:
    register(desk)
    desk.gate.store.close()
    raw = Path(desk.gate.settings.db_path).read_bytes()
    wal = Path(f"{desk.gate.settings.db_path}-wal")
    raw += wal.read_bytes() if wal.exists() else b""
    assert PHONE.encode() not in raw
    assert ID_NUMBER.encode() not in raw


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"id_number": FIRST17 + ("0" if id_check_char(FIRST17) != "0" else "1")}, "id_number"),
        ({"id_number": "99" + FIRST17[2:] + "0"}, "id_number"),
        ({"phone": "12345"}, "phone"),
        ({"host_household": " " * 3}, "host_household"),
        ({"hours": 24 * 8}, "hours"),
        ({"name": "a" * 40}, "name"),
    ],
)
def test_each_bad_field_is_named_and_nothing_is_stored(
    desk: Console, changes: dict[str, Any], field: str
) -> None:
    response = desk.client.post("/api/v1/visitors", json=visitor_body(**changes))
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    locations = [".".join(str(p) for p in e["loc"]) for e in detail]
    assert any(loc.endswith(field) for loc in locations), locations
    assert RegistrationBook(desk.gate.store).count() == 0


def test_a_registration_is_audited_with_the_guard(desk: Console) -> None:
    view = register(desk)["registration"]
    (record,) = GuardBook(desk.gate.store).audit_log(action="visitor_registered")
    assert desk.guard is not None
    assert record.guard_id == desk.guard.id
    assert record.detail["pass_id"] == view["pass_id"]
    assert PHONE not in str(record.detail)


def test_a_revoked_visitor_pass_is_refused(desk: Console) -> None:
    view = register(desk)["registration"]
    revoked = desk.client.post(
        f"/api/v1/registrations/{view['id']}/revoke", json={"reason": "left early"}
    )
    assert revoked.json()["revoked"] is True
    desk.client.post(f"/api/v1/registrations/{view['id']}/present", json={"lane": "in-1"})
    (entry,) = desk.wait_entries(1)
    assert entry["outcome"] == "denied"
    assert entry["reasons"] == ["revoked"]


def test_a_vehicle_pass_goes_to_the_lane_and_every_occupant_is_measured(desk: Console) -> None:
    assert desk.gate.simulation is not None
    desk.gate.simulation.temperature("in-1", [36.5], 36.5)  # the driver at the window
    response = desk.client.post(
        "/api/v1/vehicles",
        json={
            "plate": "京a·12345",
            "occupants": [
                {"name": "李四", "phone": PHONE},
                {"name": "王五"},
                {"name": "赵六", "id_number": ID_NUMBER},
            ],
            "host_household": "5-1-302",
            "reason": "维修施工",
            "hours": 2,
            "lane": "in-1",
        },
    )
    assert response.status_code == 201, response.text
    issued = response.json()
    assert issued["lane_accepted"] is True
    assert issued["registration"]["plate"] == "京A12345"
    desk.wait_step("measure")
    lane = desk.lane()
    assert lane["visit"]["plate"] == "京A12345"
    assert lane["visit"]["occupants"] == 3
    for cleared, value in ((1, 36.8), (2, 36.4)):
        assert wait_until(lambda n=cleared: desk.lane()["visit"]["occupants_cleared"] == n, WAIT_S)
        assert not desk.entries()
        # The next occupant, primed while the lane waits out the gap after the previous one.
        desk.gate.simulation.temperature("in-1", [value], value)
    (entry,) = desk.wait_entries(1)
    assert entry["outcome"] == "passed"
    assert [t["body_c"] for t in entry["temperatures"]] == [36.5, 36.8, 36.4]
    assert entry["extra"]["plate"] == "京A12345"
    assert entry["extra"]["occupants"] == "3"
    assert len(desk.of("relay", action="pulse")) == 1


def test_the_guard_can_count_occupants_of_a_scanned_vehicle_pass(desk: Console) -> None:
    assert desk.gate.simulation is not None
    token = sim_token(
        desk.gate.settings,
        "CAR-1",
        PassKind.VEHICLE,
        holder="陈*",
        unit="1-1-101",
        plate="沪A54321",
    )
    desk.gate.simulation.present("in-1", token.encode())
    desk.wait_step("measure")
    counted = desk.client.post("/api/v1/lanes/in-1/occupants", json={"count": 2})
    assert counted.json()["accepted"] is True
    desk.gate.simulation.temperature("in-1", [36.5], 36.5)
    assert wait_until(lambda: desk.lane()["visit"]["occupants_cleared"] == 1, WAIT_S)
    desk.gate.simulation.temperature("in-1", [36.6], 36.6)
    (entry,) = desk.wait_entries(1)
    assert entry["extra"]["occupants"] == "2"


def test_a_gate_key_cannot_sign_a_resident_pass(desk: Console, tmp_path: Path) -> None:
    """Even the gate's own key is refused outside its scope (a stolen gate key mints little)."""
    gate_key = ensure_gate_key(desk.gate.settings, desk.gate.store)
    forged = signed_token(
        gate_key.key,
        key_id=gate_key.key_id,
        community="demo",
        pass_id="R-FAKE",
        holder="某*",
        unit="9-9-909",
        valid_days=(-1, 365),
        gates=("north",),
    )
    assert desk.gate.simulation is not None
    desk.gate.simulation.present("in-1", forged.encode())
    (entry,) = desk.wait_entries(1)
    assert entry["outcome"] == "denied"
    assert entry["reasons"] == ["key_scope"]
    assert not desk.of("relay", action="pulse")


def test_the_qr_on_screen_scans_back_to_the_token(desk: Console, tmp_path: Path) -> None:
    """Rendered to pixels and decoded by the gate's own QR decoder."""
    view = register(desk)["registration"]
    svg = tmp_path / "pass.svg"
    svg.write_text(desk.client.get(view["qr_svg_url"]).text)
    png = tmp_path / "pass.png"
    subprocess.run(
        [
            "/usr/bin/chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            f"--screenshot={png}",
            "--window-size=600,600",
            svg.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    image = cv2.imread(str(png), cv2.IMREAD_GRAYSCALE)
    texts = [scan.text for scan in decode(image)]
    assert texts == [view["token"]]


def test_refusals_carry_a_code_per_problem_for_translation(desk: Console) -> None:
    bad_check = FIRST17 + ("0" if id_check_char(FIRST17) != "0" else "1")
    response = desk.client.post(
        "/api/v1/visitors", json=visitor_body(id_number=bad_check, phone="123")
    )
    types = {e["loc"][-1]: e["type"] for e in response.json()["detail"]}
    assert types == {"id_number": "kakou.id_check", "phone": "kakou.phone"}


def test_every_reason_code_has_chinese_and_english_words() -> None:
    """A guard reads the reason, never a code: each the rule, policy or verifier can give."""
    codes = [c.value for enum in (VerifyReason, Reason, Finding) for c in enum]
    missing = [code for code in codes if code not in messages.table("reason")]
    assert missing == []


def test_the_log_page_finds_a_visitor_by_pass_and_lane(desk: Console) -> None:
    view = register(desk, present=True)["registration"]
    desk.wait_step("ask")
    desk.client.post("/api/v1/lanes/in-1/cancel", json={})
    desk.wait_entries(1)
    found = desk.client.get("/log", params={"pass_id": view["pass_id"], "lane": "in-1"})
    assert found.status_code == 200
    assert found.text.count("<tr><td data-label") == 1
    assert "3-2-501" in found.text
    other_lane = desk.client.get("/log", params={"pass_id": view["pass_id"], "lane": "in-2"})
    assert other_lane.text.count("<tr><td data-label") == 0
    by_api = desk.client.get("/api/v1/entries", params={"pass_id": view["pass_id"]}).json()
    assert [e["outcome"] for e in by_api["entries"]] == ["abandoned"]


# ------------------------------------------------------------ a pass outside its kind's hours


def _hours_from_now(start_in: timedelta, length: timedelta) -> tuple[str, datetime]:
    """Visitor hours that begin ``start_in`` from now (gate time, Asia/Shanghai by default)."""
    start = (datetime.now(ZoneInfo("Asia/Shanghai")) + start_in).replace(second=0, microsecond=0)
    return f"{start:%H:%M}-{start + length:%H:%M}", start


@pytest.fixture
def evening_desk(tmp_path: Path) -> Iterator[tuple[Console, datetime]]:
    """Visitor hours that begin two hours from now, as 07:00 does for a visitor at 05:00."""
    hours, opens_at = _hours_from_now(timedelta(hours=2), timedelta(hours=1))
    data = all_day_settings(tmp_path / "state").model_dump(mode="json")
    data["policy"]["kinds"]["visitor"]["hours"] = [hours]
    console = serve(build_gate(Settings.model_validate(data)))
    yield next(console), opens_at
    console.close()


def test_a_pass_outside_the_visitor_hours_says_when_it_first_works(
    evening_desk: tuple[Console, datetime],
) -> None:
    desk, opens_at = evening_desk
    issued = register(desk, hours=4, present=True)
    warning = issued["hours_warning"]
    assert warning["code"] == "outside_hours"
    assert warning["first_usable_local"] == f"{opens_at:%Y-%m-%d %H:%M}"
    assert datetime.fromisoformat(warning["first_usable_at"]) == opens_at
    assert "it first works at" in warning["message"]
    # What the warning foretells: the lane refuses the pass for its hours.
    [entry] = desk.wait_entries(1)
    assert entry["outcome"] == "denied"
    assert Finding.KIND_HOURS.value in entry["reasons"]


def test_a_pass_over_before_the_hours_begin_is_never_usable(
    evening_desk: tuple[Console, datetime],
) -> None:
    desk, _ = evening_desk
    warning = register(desk, hours=1)["hours_warning"]
    assert warning["code"] == "never_in_hours"
    assert warning["first_usable_at"] is None


def test_no_warning_for_a_pass_that_works_now(desk: Console) -> None:
    assert register(desk)["hours_warning"] is None


def test_the_registration_script_shows_the_warning() -> None:
    script = (Path(messages.__file__).parent / "static" / "registration.js").read_text("utf-8")
    assert script.count("warnHours(res.data)") == 2  # the visitor and the vehicle form
    for message_id in ("js.register.outside_hours", "js.register.never_in_hours"):
        assert f'T("{message_id}")' in script
