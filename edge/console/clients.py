"""Which devices may talk to the console at all: ``[console] allowed_clients``, by network.

Listening on the LAN puts the console within reach of everything on that network, a visitor's
phone on the guest Wi-Fi included. The operator names the networks the guard post's own devices
use; a connection from anywhere else gets 403 before any route runs.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def networks(texts: Iterable[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(text, strict=False) for text in texts)


def client_allowed(host: str | None, allowed: tuple[Network, ...]) -> bool:
    """Whether a client address is inside one of the ``allowed`` networks."""
    if host is None:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:192.168.10.5 is 192.168.10.5
    return any(address in network for network in allowed)


class ClientAllowList:
    """Refuses HTTP and WebSocket connections from outside the allowed networks (403)."""

    def __init__(self, app: ASGIApp, allowed: tuple[Network, ...]) -> None:
        self.app = app
        self.allowed = allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            client = scope.get("client")
            if not client_allowed(client[0] if client else None, self.allowed):
                if scope["type"] == "http":
                    response = PlainTextResponse("not from this network", status_code=403)
                    await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
