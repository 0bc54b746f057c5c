"""edge.console.serving: the consoles' server on a thread, awaited until it serves."""

from __future__ import annotations

import socket
import urllib.request

import pytest
from fastapi import FastAPI

from edge.configmodel import WebListenerSettings
from edge.console.serving import serve_in_thread
from tests.edge.console.conftest import free_port


def _app() -> FastAPI:
    app = FastAPI()

    @app.get("/ping")
    def ping() -> dict[str, str]:
        return {"ok": "yes"}

    return app


def test_serves_until_stopped() -> None:
    listener = WebListenerSettings(port=free_port())
    served = serve_in_thread(_app(), listener, name="test console")
    try:
        assert served.alive()
        with urllib.request.urlopen(f"http://127.0.0.1:{listener.port}/ping", timeout=5) as reply:
            assert reply.read() == b'{"ok":"yes"}'
    finally:
        served.stop()
    assert not served.alive()


def test_a_taken_port_is_an_error_at_once_not_a_dead_thread() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        listener = WebListenerSettings(port=taken.getsockname()[1])
        with pytest.raises(OSError, match=r"test console could not listen on 127\.0\.0\.1"):
            serve_in_thread(_app(), listener, name="test console", start_timeout_s=10)
