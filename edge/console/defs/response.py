"""What the console answers: the signed-in guard, the duty roster, alarms, the audit log."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from edge.store.guards import AuditRecord


class GuardView(BaseModel):
    id: str
    name: str
    role: str


class DutyView(BaseModel):
    guard: GuardView
    since: datetime


class MeView(BaseModel):
    guard: GuardView
    on_duty: list[DutyView]


class HandOverView(BaseModel):
    on_duty: list[DutyView]
    relieved: list[GuardView]


class AlarmView(BaseModel):
    id: str
    lane: str
    kind: str = Field(
        description="fever, fever_unconfirmed, store_failed, lane_down, device_down, "
        "door_forced, door_held_open, disk_filling, sync_backlog, emergency"
    )
    detail: str = Field(description="As stored (the evidence).")
    detail_zh: str = Field(default="", description="The detail in Chinese words.")
    detail_en: str = Field(default="", description="The detail in English words.")
    raised_at: datetime
    raised_at_local: str = Field(default="", description="When, in the gate's time zone.")
    text_zh: str = Field(description="What the alarm means, in Chinese.")
    text_en: str = Field(description="What the alarm means, in English.")
    acked_by: str | None = None
    acked_by_name: str | None = Field(default=None, description="The acknowledging guard's name.")
    acked_at: datetime | None = None
    acked_at_local: str | None = Field(default=None, description="When, in the gate's zone.")
    ack_note: str | None = Field(default=None, description="What the guard did about it.")


class AuditView(AuditRecord):
    pass  # no docstring: the API's schema stays the record's fields, undescribed
