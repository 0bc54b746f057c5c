"""The office's pages: Jinja2 templates with auto-escaping, the catalogue's words, the layout.

``render`` puts a template in the layout (``base.html``: the navigation, who is signed in, the
language switch) and answers ``Cache-Control: no-store``: pages hold people's data. ``PageRoute``
makes a page's bad query a page saying so, never FastAPI's JSON. Times are shown in the office's
zone by the ``local`` filter.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, pass_context
from jinja2.runtime import Context

from edge.console.page_kit import LanguageCookie, back_from, local_path, page_route, size_text
from edge.console.templating import environment, layout_page
from sync.office import messages
from sync.office.accounts import Officer
from sync.office.auth import optional_officer
from sync.office.context import get_context

TEMPLATE_DIR = Path(__file__).parent / "templates"
LANG = LanguageCookie("kakou_office_lang")
LANG_COOKIE = LANG.name
lang_of = LANG.of

NAV: tuple[tuple[str, str, bool], ...] = (
    ("/", "nav.gates", False),
    ("/alerts", "nav.alerts", False),
    ("/gaps", "nav.gaps", False),
    ("/households", "nav.households", False),
    ("/passes", "nav.passes", False),
    ("/downlink", "nav.downlink", False),
    ("/reports", "nav.reports", False),
    ("/fever", "nav.fever", False),
    ("/register", "nav.register", False),
    ("/notice", "nav.notice", False),
    ("/accounts", "nav.accounts", True),
    ("/audit", "nav.audit", True),
)
"""(path, message id, admins only): the navigation every page shows, in this order."""


@pass_context
def _ago(context: Context, moment: datetime | None) -> str:
    """How long ago ``moment`` was, from the page's ``now``, in words; "never" for none."""
    if moment is None:
        return messages.text(context["lang"], "common.never")
    seconds = max(0, int((context["now"] - moment).total_seconds()))
    for limit, unit, message_id in (
        (120, 1, "common.s_ago"),
        (7200, 60, "common.min_ago"),
        (172_800, 3600, "common.h_ago"),
    ):
        if seconds < limit:
            return messages.text(context["lang"], message_id, n=seconds // unit)
    return messages.text(context["lang"], "common.d_ago", n=seconds // 86_400)


def _seconds(count: float) -> timedelta:
    return timedelta(seconds=count)


@pass_context
def _local(context: Context, moment: datetime | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """A time in the office's zone; "" for none."""
    if moment is None:
        return ""
    return moment.astimezone(context["zone"]).strftime(fmt)


def _environment() -> Environment:
    env = environment(TEMPLATE_DIR, messages.BOOK)
    env.globals.update(nav=NAV, ago=_ago, timedelta_s=_seconds)
    env.filters["local"] = _local
    return env


templates = Jinja2Templates(env=_environment())


def render(
    request: Request,
    template: str,
    title: str,
    *,
    officer: Officer | None = None,
    current: str = "",
    status_code: int = 200,
    assets: tuple[str, ...] = (),
    **values: Any,
) -> HTMLResponse:
    """``template`` in the layout; ``title`` is a message id, ``current`` the nav path lit,
    ``assets`` extra files under /static (``.css`` and ``.js``) the page needs."""
    context = get_context(request)
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return layout_page(
        templates,
        request,
        template,
        {
            "title": title,
            "officer": officer,
            "current": current,
            "assets": assets,
            "zone": context.zone,
            "now": context.now(),
            **values,
        },
        lang=lang_of(request),
        back_to=local_path(here),
        status_code=status_code,
    )


def message_page(
    request: Request,
    title: str,
    text_id: str,
    *,
    status_code: int,
    back: str = "/",
    **params: object,
) -> HTMLResponse:
    """A page that only says something (``title``, ``text_id`` with ``params``), and the way
    back; the navigation too when the officer is signed in."""
    officer = optional_officer(request, get_context(request))
    return render(
        request,
        "message.html",
        title,
        officer=officer,
        text_id=text_id,
        text_params=params,
        back=back,
        status_code=status_code,
    )


def bad_request_page(request: Request) -> HTMLResponse:
    return message_page(request, "page.bad_request", "page.bad_request_text", status_code=400)


def too_large_page(request: Request, max_bytes: int) -> HTMLResponse:
    """What an officer is shown for a form's body over ``[office] max_body_bytes`` (413): a
    roster upload without the page's script, which refuses such a file before sending it."""
    return message_page(
        request,
        "page.too_large",
        "page.too_large_text",
        status_code=413,
        back=back_from(request),
        size=size_text(max_bytes),
    )


PageRoute = page_route(bad_request_page)
"""A page's route: a query it cannot take gets a page saying so (400), never FastAPI's JSON
422 (officers read pages; the API under /api/v1 keeps its JSON errors)."""
