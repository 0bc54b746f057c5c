"""The host names the console answers to: a request naming any other host gets 400.

DNS rebinding: a page on evil.example can re-point its own name at the gate's LAN address and
then read the console as if it were its own origin; the browser still sends ``Host:
evil.example``. The console answers only to localhost, IP address literals (a rebinding page
cannot send one), this machine's host name, and the names in ``[console] allowed_hosts``.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable

from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send


def known_names(configured: Iterable[str], listen_host: str = "") -> frozenset[str]:
    """localhost, the machine's name (and its mDNS ``.local``), the listen host, ``configured``."""
    machine = socket.gethostname().lower()
    names = {"localhost", machine, f"{machine}.local", listen_host.lower(), *configured}
    return frozenset(name for name in names if name)


def host_name(header: str) -> str:
    """``Host`` without its port, lower-case, no trailing dot; an IPv6 literal without brackets."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1 : header.find("]")] if "]" in header else ""
    name, colon, port = header.rpartition(":")
    if colon and port.isdigit():
        header = name
    return header.rstrip(".")


def allowed(header: str | None, names: frozenset[str]) -> bool:
    if not header:
        return False
    name = host_name(header)
    if name in names or name.endswith(".localhost"):
        return True
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


class HostAllowList:
    """Refuses HTTP requests whose Host the console does not answer to."""

    def __init__(self, app: ASGIApp, names: frozenset[str]) -> None:
        self.app = app
        self.names = names

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not allowed(Headers(scope=scope).get("host"), self.names):
            response = PlainTextResponse("unknown host name", status_code=400)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
