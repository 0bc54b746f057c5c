"""The console's own settings ([console]): where it listens and what a stranger may make it hold."""

from __future__ import annotations

from pydantic import Field

from edge.configmodel import WebListenerSettings


class ConsoleSettings(WebListenerSettings):
    """The guard console: a web listener (on by default, port 8080) and its live streams."""

    max_streams: int = Field(default=16, ge=1, le=1000)
    """Live streams open at once, all clients."""
    max_streams_per_client: int = Field(default=4, ge=1, le=100)
    """Live streams one client address may hold open."""
