"""A console's web server on a thread of its own: the gate's console and the office's.

Off the main thread uvicorn installs no signal handlers, so SIGTERM stays with the process's
own loop (the gate's watchdog, the receiver's drain), and the start is awaited so that a port
already taken is an error at once, not a thread that silently died.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from edge.configmodel import WebListenerSettings

if TYPE_CHECKING:
    import uvicorn
    from fastapi import FastAPI

log = logging.getLogger(__name__)

START_TIMEOUT_S = 30.0


@dataclass(frozen=True, slots=True)
class WebServer:
    """uvicorn serving on ``thread``; ``stop`` ends it."""

    server: uvicorn.Server
    thread: threading.Thread

    def alive(self) -> bool:
        return self.thread.is_alive()

    def stop(self, timeout_s: float = 10.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout_s)


def _run(server: uvicorn.Server) -> None:
    # uvicorn exits the thread (SystemExit) when it cannot listen; it has logged why, and
    # serve_in_thread raises OSError for it, so the thread ends without a traceback.
    with contextlib.suppress(SystemExit):
        server.run()


def serve_in_thread(
    app: FastAPI,
    listener: WebListenerSettings,
    *,
    name: str,
    start_timeout_s: float = START_TIMEOUT_S,
    **options: Any,
) -> WebServer:
    """Serve ``app`` on ``listener``'s address (HTTPS with its certificate), without an access
    log (it would hold who looked up whom, outside the audit); ``options`` go to uvicorn.
    Raises ``OSError`` if it is not serving within ``start_timeout_s`` (e.g. the port is taken).
    """
    import uvicorn  # only a process that serves a console needs it loaded

    config = uvicorn.Config(
        app,
        host=listener.host,
        port=listener.port,
        log_level="warning",
        access_log=False,
        ssl_certfile=None if listener.tls_cert is None else str(listener.tls_cert),
        ssl_keyfile=None if listener.tls_key is None else str(listener.tls_key),
        **options,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=_run, args=(server,), name=name, daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout_s
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise OSError(f"the {name} could not listen on {listener.host}:{listener.port}")
        time.sleep(0.05)
    scheme = "https" if listener.tls else "http"
    log.info("%s on %s://%s:%d/", name, scheme, listener.host, listener.port)
    return WebServer(server, thread)
