"""The base of every settings model, and the settings shapes more than one part shares.

Each part of the gate owns its settings model beside its code (edge.retention, edge.visitors,
edge.voice, edge.health, the console); the composition root (edge.app.settings) puts them
together under one TOML file. The gate console and the office console listen for browsers the
same way, so both extend ``WebListenerSettings`` here, below the two of them.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

_HOST_NAME_RE = re.compile(r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?")

TcpPort = Annotated[int, Field(ge=1, le=65535)]
"""A TCP port to listen on or to connect to."""


class ConfigModel(BaseModel):
    """A section of the configuration file: extra keys refused (typos caught), immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


def require_pair(model: BaseModel, first: str, second: str) -> None:
    """Two settings that work only together: both given, or neither (a certificate and its key)."""
    if (getattr(model, first) is None) != (getattr(model, second) is None):
        raise ValueError(f"{first} and {second} go together")


def require_at_least(model: BaseModel, upper: str, lower: str) -> None:
    """A bound that must not fall below its partner (a longest wait and a first wait)."""
    if getattr(model, upper) < getattr(model, lower):
        raise ValueError(f"{upper} must be at least {lower}")


class WebListenerSettings(ConfigModel):
    """Where a web console listens and who may reach it.

    Loopback by default; any other address serves the LAN, and then needs HTTPS (so sign-ins
    and sessions never cross the network in clear) and the networks that may connect.
    """

    enabled: bool = True
    """Serve the console and API."""
    host: str = "127.0.0.1"
    """Listen address; loopback by default."""
    port: TcpPort = 8080
    """Listen port."""
    allowed_hosts: list[str] = []
    """Names the console answers to besides localhost, any IP address and this machine's host name
    (and host.local): a request for another name is refused with 400 (DNS rebinding). E.g.
    ['gate-north.example.org'].
    """
    max_body_bytes: int = Field(default=64 * 1024, ge=1024, le=16 * 1024 * 1024)
    """Largest request body (bytes); a larger one is refused with 413 unread."""
    tls_cert: Path | None = None
    """Certificate (PEM) to serve the console over HTTPS; `kakou console cert` makes one. Needed,
    with tls_key, whenever host is not a loopback address.
    """
    tls_key: Path | None = None
    """The certificate's private key (PEM, mode 0600 or 0640)."""
    allowed_clients: list[str] = []
    """Networks whose devices may connect, e.g. ['192.168.10.0/24'] for the guard post's Wi-Fi or
    the office LAN; others get 403. Required when host is not a loopback address; empty with a
    loopback host (only this machine can connect anyway).
    """

    @field_validator("allowed_hosts")
    @classmethod
    def _host_names(cls, names: list[str]) -> list[str]:
        cleaned = [name.strip().lower().rstrip(".") for name in names]
        bad = [name for name in cleaned if not _HOST_NAME_RE.fullmatch(name)]
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
        require_pair(self, "tls_cert", "tls_key")
        if self.enabled and not is_loopback(self.host):
            if self.tls_cert is None:
                raise ValueError(
                    f"host {self.host!r} serves the LAN: set tls_cert and tls_key (kakou console "
                    "cert makes them) so sign-ins and sessions never cross the network in clear"
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
