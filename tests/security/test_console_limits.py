"""What a stranger can make the console hold, and where it may send a browser, tried for real
against uvicorn on a free port: huge and endless bodies, piles of live streams, a starved thread
pool, a rebinding host name, and sign-in redirects to another site (issue #10 part 4).

Figures before the fix: a 200 MB body was read whole (the process grew by hundreds of MB) and
answered 422; an anonymous stream was served; any Host was answered; ``next=/%5Cevil`` sent the
browser to ``/\\evil``, which browsers read as the host ``evil``; with the shared pool busy the
alarm watcher raised nothing.
"""

from __future__ import annotations

import asyncio
import re
import select
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anyio.to_thread
import httpx
import psutil
import pytest
from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from edge.app.boot import Gate
from edge.app.settings import ConsoleSettings
from edge.console.app import create_app
from edge.store.alarms import AlarmBook
from edge.store.guards import GuardBook, Role, SignInFailure
from tests.drivers.waiting import wait_until
from tests.edge.console.conftest import console_context, running_gate, serving

HUGE = 200 * 2**20
CHUNK = b"x" * 2**16
LIMITS = ConsoleSettings(max_streams=6, max_streams_per_client=4, allowed_hosts=["gate.example"])


@pytest.fixture
def gate(tmp_path: Path) -> Iterator[Gate]:
    yield from running_gate(tmp_path / "state")


class LoopSpy:
    """The app as served, remembering the event loop it runs on (to starve its thread pool)."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.loop: asyncio.AbstractEventLoop | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.loop = asyncio.get_running_loop()
        await self.app(scope, receive, send)


@pytest.fixture
def served(gate: Gate) -> Iterator[tuple[str, LoopSpy]]:
    spy = LoopSpy(create_app(console_context(gate), LIMITS))
    with serving(spy) as url:  # type: ignore[arg-type]
        yield url, spy


@pytest.fixture
def url(served: tuple[str, LoopSpy]) -> str:
    return served[0]


def bearer(gate: Gate) -> dict[str, str]:
    book = GuardBook(gate.store)
    book.add("李卫", Role.GUARD, "246813", now=datetime.now(UTC))
    signed = book.sign_in("李卫", "246813", now=datetime.now(UTC))
    assert not isinstance(signed, SignInFailure)
    return {"Authorization": f"Bearer {signed[1]}"}


# ----------------------------------------------------------------------------------- bodies


def _post_huge(url: str, *, chunked: bool) -> tuple[str, int]:
    """POST up to ``HUGE`` bytes to the open sign-in, stopping once the server answers; the
    status line and how many body bytes went out."""
    parts = urlsplit(url)
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {HUGE}"
    head = (
        f"POST /api/v1/auth/sign-in HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        f"Content-Type: application/json\r\n{framing}\r\n\r\n"
    )
    piece = b"%x\r\n%s\r\n" % (len(CHUNK), CHUNK) if chunked else CHUNK
    sent = 0
    with socket.create_connection((parts.hostname, parts.port), timeout=60) as sock:
        sock.sendall(head.encode())
        try:
            while sent < HUGE:
                if select.select([sock], [], [], 0)[0]:
                    break  # the server has answered
                sock.sendall(piece)
                sent += len(CHUNK)
            if chunked and sent >= HUGE:
                sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = b""
        try:
            while b"\r\n" not in answer:
                got = sock.recv(4096)
                if not got:
                    break
                answer += got
        except ConnectionResetError:
            pass
    return answer.split(b"\r\n", 1)[0].decode(), sent


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_200_mb_body_is_refused_without_being_held(url: str, chunked: bool) -> None:
    process = psutil.Process()
    before = process.memory_info().rss
    status, sent = _post_huge(url, chunked=chunked)
    grown = process.memory_info().rss - before
    print(f"200 MB body ({'chunked' if chunked else 'declared'}): {status!r} after")
    print(f"  {sent / 2**20:.1f} MB sent; memory grew {grown / 2**20:.1f} MB")
    assert status.split(" ")[1:2] == ["413"], status
    assert grown < 8 * 2**20
    assert sent < HUGE


def test_every_route_refuses_an_oversized_body(gate: Gate, url: str) -> None:
    big = b"{" + b" " * (LIMITS.max_body_bytes + 1) + b"}"
    with httpx.Client(base_url=url, headers=bearer(gate)) as http:
        for path in (
            "/api/v1/auth/sign-in",
            "/api/v1/lanes/in-1/override",
            "/api/v1/visitors",
            "/api/v1/sim/present",
            "/api/v1/nothing-here",
        ):
            response = http.post(path, content=big, headers={"Content-Type": "application/json"})
            assert response.status_code == 413, (path, response.status_code)
        small = http.post("/api/v1/auth/sign-in", json={"name": "李卫", "secret": "246813"})
    assert small.status_code == 200  # a body under the limit goes through


# ----------------------------------------------------------------------------------- streams


def test_an_anonymous_live_stream_is_refused(url: str) -> None:
    with httpx.Client(base_url=url) as http:
        response = http.get("/api/v1/live/stream")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/json")


def _open_stream(stack: ExitStack, url: str, headers: dict[str, str], source: str) -> int:
    """A live stream from ``source`` kept open in ``stack``; its status once the first event
    arrived (or at once when refused)."""
    transport = httpx.HTTPTransport(local_address=source)
    http = stack.enter_context(httpx.Client(base_url=url, headers=headers, transport=transport))
    response = stack.enter_context(http.stream("GET", "/api/v1/live/stream", timeout=30))
    if response.status_code == 200:
        lines = response.iter_lines()
        stack.callback(lines.close)  # kept open with the stream (closing it closes the stream)
        assert next(lines).startswith("retry:")
        assert next(line for line in lines if line.startswith("data:"))
    return response.status_code


def test_streams_are_capped_per_client_and_in_all(gate: Gate, url: str) -> None:
    headers = bearer(gate)
    with ExitStack() as stack:
        mine = [_open_stream(stack, url, headers, "127.0.0.1") for _ in range(5)]
        assert mine == [200, 200, 200, 200, 429]  # four per client
        others = [_open_stream(stack, url, headers, "127.0.0.2") for _ in range(3)]
        assert others == [200, 200, 503]  # six in all
    # Closed streams give their slots back.
    assert wait_until(lambda: _open_stream(ExitStack(), url, headers, "127.0.0.3") == 200, 10)


def _anonymous_streams(url: str, count: int) -> list[socket.socket]:
    """``count`` connections asking for the live stream without a session, left unread."""
    parts = urlsplit(url)
    request = f"GET /api/v1/live/stream HTTP/1.1\r\nHost: {parts.netloc}\r\n\r\n".encode()
    sockets = []
    for _ in range(count):
        sock = socket.create_connection((parts.hostname, parts.port), timeout=10)
        sock.sendall(request)
        sockets.append(sock)
    return sockets


def test_alarms_are_raised_while_streams_are_open_and_the_pools_are_busy(
    gate: Gate, served: tuple[str, LoopSpy]
) -> None:
    """200 anonymous streams, two guards' streams, and every shared worker thread busy (anyio's
    pool the sync routes use, asyncio's the old watcher used): a device still raises its alarm."""
    url, spy = served
    headers = bearer(gate)
    assert spy.loop is not None
    release = threading.Event()

    async def hog() -> None:
        limiter = anyio.to_thread.current_default_thread_limiter()
        holders = [object() for _ in range(int(limiter.total_tokens))]
        for holder in holders:
            await limiter.acquire_on_behalf_of(holder)
        loop = asyncio.get_running_loop()
        busy = [loop.run_in_executor(None, release.wait) for _ in range(64)]
        try:
            while not release.is_set():
                await asyncio.sleep(0.05)
        finally:
            for holder in holders:
                limiter.release_on_behalf_of(holder)
            await asyncio.gather(*busy)

    with ExitStack() as stack:
        for sock in _anonymous_streams(url, 200):
            stack.callback(sock.close)
        for source in ("127.0.0.1", "127.0.0.2"):
            assert _open_stream(stack, url, headers, source) == 200
        starved = asyncio.run_coroutine_threadsafe(hog(), spy.loop)
        try:
            assert gate.simulation is not None
            thermometer: Any = gate.simulation.lanes["in-1"].thermometer
            thermometer.unplug()
            book = AlarmBook(gate.store)
            raised = wait_until(lambda: "device_down" in [a.kind for a in book.open_alarms()], 15)
            print(f"device_down raised with the shared pools busy: {raised}")
            assert raised
        finally:
            release.set()
            starved.result(timeout=10)


# ----------------------------------------------------------------------------------- hosts


def test_only_known_host_names_are_answered(url: str) -> None:
    port = urlsplit(url).port
    with httpx.Client(base_url=url) as http:
        for host in ("evil.example", f"evil.example:{port}", "gate.example.evil.example"):
            response = http.get("/api/v1/health", headers={"Host": host})
            assert response.status_code == 400, host
            assert "ok" not in response.text
        for host in (f"127.0.0.1:{port}", f"localhost:{port}", "gate.example", "[::1]:8080"):
            assert http.get("/api/v1/health", headers={"Host": host}).status_code == 200, host


# ----------------------------------------------------------------------------------- redirects

EVIL_NEXT = [
    "/\\evil.example",
    "//evil.example",
    "/%5Cevil.example",
    "https://evil.example",
    "/%09/evil.example",
    "/\\/evil.example",
    "http:/evil.example",
]


@pytest.mark.parametrize("raw", EVIL_NEXT)
def test_next_never_leaves_the_console(url: str, raw: str) -> None:
    with httpx.Client(base_url=url, follow_redirects=False) as http:
        switched = http.get(f"/lang/en?next={raw}")
        login = http.get(f"/login?next={raw}")
    assert switched.status_code == 303
    assert switched.headers["location"] == "/"
    found = re.search(r'id="sign-in-form" data-next="([^"]*)"', login.text)
    assert found is not None, login.text
    assert found.group(1) == "/"


def test_next_keeps_a_local_page(url: str) -> None:
    with httpx.Client(base_url=url, follow_redirects=False) as http:
        switched = http.get("/lang/en", params={"next": "/log?day=2026-11-23"})
        login = http.get("/login", params={"next": "/visitors"})
    assert switched.headers["location"] == "/log?day=2026-11-23"
    assert 'data-next="/visitors"' in login.text


def test_the_sign_in_script_goes_only_where_the_server_said() -> None:
    script = (Path(__file__).parents[2] / "edge/console/static/console.js").read_text()
    assert "signIn.dataset.next" in script
    assert 'get("next")' not in script  # the script no longer reads next from the address
    assert time.monotonic() > 0
