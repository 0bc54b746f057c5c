"""The office console's routes: the one list of routers the app includes, and of the tables
its modules own. A feature adds its router (and its ``ensure_schema``) here, one line each.

Pages come last: a page path never shadows an API route.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter

from sync.office import accounts as officer_book
from sync.office import alerts as alert_book
from sync.office import audit as audit_log
from sync.office import passes as pass_records
from sync.office import roster as household_roster
from sync.office.routes import accounts, alerts, audit, auth, gaps, gates
from sync.office.routes import downlink as downlink_pages
from sync.office.routes import fevers as fever_pages
from sync.office.routes import households as household_pages
from sync.office.routes import notice as notice_pages
from sync.office.routes import passes as pass_pages
from sync.office.routes import register as register_pages
from sync.office.routes import reports as report_pages
from sync.receiver.db import ReceiverDb

SCHEMAS: list[Callable[[ReceiverDb], None]] = [
    audit_log.ensure_schema,
    officer_book.ensure_schema,
    alert_book.ensure_schema,
    household_roster.ensure_schema,
    pass_records.ensure_schema,
]
"""Each module's ``ensure_schema``: run when the app is made (``CREATE … IF NOT EXISTS``)."""

ROUTERS: list[APIRouter] = [
    auth.api,
    gates.api,
    alerts.api,
    gaps.api,
    auth.pages,
    gates.pages,
    alerts.pages,
    gaps.pages,
    accounts.pages,
    audit.pages,
    household_pages.api,
    downlink_pages.api,
    household_pages.pages,
    pass_pages.pages,
    downlink_pages.pages,
    report_pages.api,
    register_pages.api,
    report_pages.pages,
    fever_pages.pages,
    register_pages.pages,
    notice_pages.pages,
]
"""Every router, in the order the app includes them."""
