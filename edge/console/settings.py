"""The console's own settings ([console]): where it listens and what a stranger may make it hold."""

from __future__ import annotations

import re

from pydantic import Field, field_validator

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

    @field_validator("allowed_hosts")
    @classmethod
    def _host_names(cls, names: list[str]) -> list[str]:
        cleaned = [name.strip().lower().rstrip(".") for name in names]
        bad = [n for n in cleaned if not re.fullmatch(r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?", n)]
        if bad:
            raise ValueError(f"not a host name (no scheme, port or path): {bad}")
        return cleaned
