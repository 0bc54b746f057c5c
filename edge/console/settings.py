"""The console's own settings ([console]): where it listens and what a stranger may make it hold."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Self

from pydantic import Field, field_validator, model_validator

from edge.configmodel import ConfigModel


class ConsoleSettings(ConfigModel):
    enabled: bool = Field(default=True, description="Serve the console and API.")
    host: str = Field(default="127.0.0.1", description="Listen address; loopback by default.")
    port: int = Field(default=8080, ge=1, le=65535, description="Listen port.")
    allowed_hosts: list[str] = Field(
        default=[],
        description="Names the console answers to besides localhost, any IP address and this "
        "machine's host name (and host.local): a request for another name is refused with 400 "
        "(DNS rebinding). E.g. ['gate-north.example.org'].",
    )
    max_body_bytes: int = Field(
        default=64 * 1024,
        ge=1024,
        le=16 * 1024 * 1024,
        description="Largest request body (bytes); a larger one is refused with 413 unread.",
    )
    max_streams: int = Field(
        default=16, ge=1, le=1000, description="Live streams open at once, all clients."
    )
    max_streams_per_client: int = Field(
        default=4, ge=1, le=100, description="Live streams one client address may hold open."
    )
    tls_cert: Path | None = Field(
        default=None,
        description="Certificate (PEM) to serve the console over HTTPS; `kakou console cert` "
        "makes one. Needed, with tls_key, whenever host is not a loopback address.",
    )
    tls_key: Path | None = Field(
        default=None, description="The certificate's private key (PEM, mode 0600)."
    )
    allowed_clients: list[str] = Field(
        default=[],
        description="Networks whose devices may connect, e.g. ['192.168.10.0/24'] for the guard "
        "post's Wi-Fi; others get 403. Required when host is not a loopback address; empty "
        "with a loopback host (only this machine can connect anyway).",
    )

    @field_validator("allowed_hosts")
    @classmethod
    def _host_names(cls, names: list[str]) -> list[str]:
        cleaned = [name.strip().lower().rstrip(".") for name in names]
        bad = [n for n in cleaned if not re.fullmatch(r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?", n)]
        if bad:
            raise ValueError(f"not a host name (no scheme, port or path): {bad}")
        return cleaned

    @field_validator("allowed_clients")
    @classmethod
    def _networks(cls, networks: list[str]) -> list[str]:
        for network in networks:
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError:
                raise ValueError(f"{network!r} is not a network (e.g. 192.168.10.0/24)") from None
        return networks

    @model_validator(mode="after")
    def _lan_needs_tls_and_clients(self) -> Self:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert and tls_key go together")
        if self.enabled and not is_loopback(self.host):
            if self.tls_cert is None:
                raise ValueError(
                    f"host {self.host!r} serves the LAN: set tls_cert and tls_key (kakou console "
                    "cert makes them) so PINs and sessions never cross the network in clear"
                )
            if not self.allowed_clients:
                raise ValueError(
                    f"host {self.host!r} serves the LAN: set allowed_clients to the networks "
                    "that may connect, e.g. ['192.168.10.0/24']"
                )
        return self

    @property
    def tls(self) -> bool:
        return self.tls_cert is not None


def is_loopback(host: str) -> bool:
    """Whether a listen address is reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
