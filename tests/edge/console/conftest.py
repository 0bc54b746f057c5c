"""A real gate behind the real console app: build_gate on a tmp state_dir (pty simulators,
serial drivers, lanes, SQLite, gpiozero MockFactory), served through FastAPI's TestClient."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from drivers.door import GpioDoor
from drivers.sim.scanner import SimGm65
from edge.app.boot import Gate, build_gate
from edge.app.settings import Settings, load_settings
from edge.bus import BusEvent
from edge.configmodel import WebListenerSettings
from edge.console.app import create_app
from edge.console.deps import ConsoleContext
from edge.console.serving import serve_in_thread
from edge.model import PassKind
from edge.store.guards import Guard, GuardBook, Role
from tests.drivers.waiting import wait_until
from tests.tokens import sim_token

WAIT_S = 5.0
HOST = "http://localhost"
"""The tests' origin: the console answers only to names it knows (DNS rebinding)."""


def gate_settings(state_dir: Path, **changes: Any) -> Settings:
    """The embedded default with state in ``state_dir`` and the console served by the test."""
    data = load_settings(None).model_dump(mode="json")
    data["site"]["state_dir"] = str(state_dir)
    data["console"]["enabled"] = False
    data.update(changes)
    return Settings.model_validate(data)


@dataclass
class Console:
    """A running gate, a client for its API, and everything the gate announced."""

    gate: Gate
    client: TestClient
    events: list[BusEvent] = field(default_factory=list)
    guard: Guard | None = None

    def lane(self, lane_id: str = "in-1") -> dict[str, Any]:
        response = self.client.get(f"/api/v1/lanes/{lane_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def entries(self, **params: Any) -> list[dict[str, Any]]:
        response = self.client.get("/api/v1/entries", params={"limit": 1000, **params})
        assert response.status_code == 200, response.text
        found: list[dict[str, Any]] = response.json()["entries"]
        return found

    def wait_entries(self, count: int) -> list[dict[str, Any]]:
        assert wait_until(lambda: len(self.entries()) >= count, WAIT_S), self.entries()
        return self.entries()

    def visit(self, token: str, *temperatures_c: float, entries: int) -> list[dict[str, Any]]:
        """The simulated lane in-1 measures ``temperatures_c`` in turn and is shown ``token``;
        returns once the log holds ``entries`` entries."""
        self.client.post("/api/v1/sim/temperature", json={"values_c": list(temperatures_c)})
        self.client.post("/api/v1/sim/present", json={"text": token})
        return self.wait_entries(entries)

    def wait_step(self, step: str, lane_id: str = "in-1") -> None:
        assert wait_until(lambda: self.lane(lane_id)["step"] == step, WAIT_S), self.lane(lane_id)

    def of(self, topic: str, **data: Any) -> list[BusEvent]:
        return [
            e
            for e in list(self.events)
            if e.topic == topic and all(e.data.get(k) == v for k, v in data.items())
        ]


GUARD_NAME = "值班员七号"
GUARD_PIN = "2468013579"  # 10 digits: long enough for the admin this account is


def assert_too_large_page(page: httpx.Response, size: str, back: str) -> None:
    """A body over a console's limit gets a page (not JSON), in Chinese unless asked otherwise,
    naming the limit and a way back, and the connection closed: the rest is never read."""
    assert page.status_code == 413
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["connection"] == "close"
    assert "内容太大" in page.text
    assert size in page.text
    assert f'href="{back}"' in page.text


def console_context(gate: Gate) -> ConsoleContext:
    """The gate's console context with its bus (the live view listens on it)."""
    return replace(gate.console_context(), bus=gate.bus)


def add_guard(gate: Gate, name: str, role: Role = Role.GUARD, pin: str = GUARD_PIN) -> Guard:
    return GuardBook(gate.store).add(name, role, pin, now=datetime.now(UTC))


def serve(gate: Gate) -> Iterator[Console]:
    """The app on a TestClient signed in as an admin guard (actions need a session); a gate
    restarted on the same state directory keeps its guard."""
    console = Console(gate, TestClient(create_app(console_context(gate)), base_url=HOST))
    gate.bus.subscribe(console.events.append)
    console.guard = GuardBook(gate.store).by_name(GUARD_NAME) or add_guard(
        gate, GUARD_NAME, Role.ADMIN
    )
    try:
        with console.client:
            signed_in = console.client.post(
                "/api/v1/auth/sign-in", json={"name": GUARD_NAME, "secret": GUARD_PIN}
            )
            assert signed_in.status_code == 200, signed_in.text
            yield console
    finally:  # also when the caller closes the generator early: no gate left running
        gate.stop()


@pytest.fixture
def sim_console(tmp_path: Path) -> Iterator[Console]:
    """The embedded simulated gate (sim routes mounted) behind its console."""
    yield from serve(build_gate(gate_settings(tmp_path / "state")))


@pytest.fixture
def plain_console(tmp_path: Path) -> Iterator[Console]:
    """A gate with simulation off: a serial scanner (a GM65 simulator on a pty the gate knows
    nothing about) and no thermometer, so no sim routes are mounted."""
    scanner = SimGm65(link_path=tmp_path / "ttySCANNER")
    scanner.start()
    lane = {
        "id": "in-1",
        "scanner": {"kind": "serial", "url": scanner.port, "configure": False},
        "thermometer": {"kind": "none"},
    }
    settings = gate_settings(tmp_path / "state", lanes=[lane], sim={"enabled": False})
    try:
        yield from serve(build_gate(settings))
    finally:
        scanner.stop()


DOOR_CONTACT_PIN = 5


def door_lane(lane_id: str = "in-1") -> dict[str, Any]:
    """A simulated lane with a door contact on a MockFactory pin (no chatter filter)."""
    return {"id": lane_id, "door": {"contact_pin": DOOR_CONTACT_PIN, "bounce_s": 0}}


class DoorContact:
    """The door contact of a running gate, driven through its gpiozero MockFactory pin."""

    def __init__(self, gate: Gate, lane_id: str = "in-1") -> None:
        name = f"{lane_id}/door"
        doors = [
            getattr(source, "__self__", None)
            for source in gate.status_sources
            if isinstance(getattr(source, "__self__", None), GpioDoor)
        ]
        found = [door for door in doors if isinstance(door, GpioDoor) and door.name == name]
        assert found, f"the gate has no {name}"
        self.door = found[0]
        self.pin = self.door._contact.pin  # gpiozero's MockPin behind the contact's Button

    def shut(self) -> None:
        self.pin.drive_low()  # the contact closes to ground while the door is shut

    def open(self) -> None:
        self.pin.drive_high()


@pytest.fixture
def door_console(tmp_path: Path) -> Iterator[Console]:
    """The simulated gate with a door contact on its lane, shut at the start."""
    gate = build_gate(gate_settings(tmp_path / "state", lanes=[door_lane()]))
    DoorContact(gate).shut()  # the mock pin idles high (open): close it before the held timer
    yield from serve(gate)


TokenMaker = Callable[..., str]


@pytest.fixture
def make_token(sim_console: Console) -> TokenMaker:
    """Passes signed with the simulated gate's own issuer key (trusted by its lane)."""

    def make(pass_id: str, kind: PassKind = PassKind.RESIDENT) -> str:
        return sim_token(sim_console.gate.settings, pass_id, kind, holder="张*")

    return make


def running_gate(state_dir: Path, **changes: Any) -> Iterator[Gate]:
    """A gate on ``gate_settings(state_dir, **changes)``, stopped when the caller is done."""
    gate = build_gate(gate_settings(state_dir, **changes))
    try:
        yield gate
    finally:
        gate.stop()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """``app`` served by uvicorn on a free loopback port; yields its base URL."""
    listener = WebListenerSettings(host="127.0.0.1", port=free_port())
    server = serve_in_thread(
        app, listener, name="console", start_timeout_s=10, timeout_graceful_shutdown=1
    )
    try:
        yield f"http://{listener.host}:{listener.port}"
    finally:
        server.stop()
