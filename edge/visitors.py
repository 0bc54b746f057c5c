"""The visitor desk: registers visitors and vehicles and signs their one-gate passes."""

from __future__ import annotations


class VisitorDesk:
    """Filled in below."""
