"""What every office route is given: the database, the settings, the clock and the publisher.

Routes take it as ``context: ContextDep``; tests build one over a database of their own and a
clock they control. Nothing here does I/O at import: the signing key is read by the publisher
each time it signs, so a key replaced on disk is used without a restart and never sits in memory
between documents.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Protocol
from zoneinfo import ZoneInfo

from fastapi import Depends, Request

from edge import keys
from sync.contract import DownlinkDocument, DownlinkKind, KeysBody, PolicyBody, RevocationsBody
from sync.receiver import publishing
from sync.receiver.db import ReceiverDb
from sync.settings import OfficeSettings, ServerSettings

DownlinkBody = RevocationsBody | KeysBody | PolicyBody


class DownlinkPublisher(Protocol):
    """Signs ``body`` as the next version of ``kind`` for ``community`` and publishes it."""

    def __call__(
        self, *, community: str, kind: DownlinkKind, body: DownlinkBody, now: datetime
    ) -> DownlinkDocument: ...


class NoSigningKey(Exception):  # noqa: N818  (named for the condition)
    """``[office] signing_key`` is not set: the office cannot sign anything."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


def broker_publisher(settings: ServerSettings, db: ReceiverDb) -> DownlinkPublisher:
    """The real publisher: the office's key from ``[office] signing_key``, read at each use,
    then ``sync.receiver.publishing.publish_downlink`` (recorded, then published retained)."""

    def publish(
        *, community: str, kind: DownlinkKind, body: DownlinkBody, now: datetime
    ) -> DownlinkDocument:
        office = settings.office
        if office.signing_key is None or office.signing_kid is None:
            raise NoSigningKey("set [office] signing_key and signing_kid to sign documents")
        _, key = keys.load_private(office.signing_key)
        return publishing.publish_downlink(
            settings,
            db,
            community=community,
            kind=kind,
            body=body,
            key=key,
            kid=office.signing_kid,
            now=now,
        )

    return publish


@dataclass
class OfficeContext:
    db: ReceiverDb
    settings: ServerSettings
    now: Callable[[], datetime] = field(default=_utc_now)
    """An aware UTC datetime; tests pass a clock they move."""
    publish: DownlinkPublisher | None = None
    """Signs and publishes downlink documents; None: ``broker_publisher`` over these settings."""

    def __post_init__(self) -> None:
        if self.publish is None:
            self.publish = broker_publisher(self.settings, self.db)

    @property
    def office(self) -> OfficeSettings:
        return self.settings.office

    @property
    def zone(self) -> ZoneInfo:
        """The office's time zone (``[receiver] timezone``): days and times are read in it."""
        return ZoneInfo(self.settings.receiver.timezone)

    def downlink(self) -> DownlinkPublisher:
        assert self.publish is not None  # set in __post_init__
        return self.publish


def get_context(request: Request) -> OfficeContext:
    context: OfficeContext = request.app.state.office
    return context


ContextDep = Annotated[OfficeContext, Depends(get_context)]
