"""Visitor and vehicle registration: the JSON API and its pages (filled in below)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
